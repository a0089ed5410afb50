"""Which file each diff in a reply changes, and how: its paths checked, one target per file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .base import PatchError, Problems
from .diffs import FileDiff, Hunk
from .feedback import no_diff_error, path_error
from .paths import PathRefused, check_path, hint_path, real_key, strip_git_prefix


@dataclass
class Target:
    """One file a reply changes, and its hunks."""

    op: str  # modify | new | delete | rename
    path: str  # the path after the change
    old_path: str | None  # the path before (None for a new file)
    hunks: list[Hunk] = field(default_factory=list)


def _checked_path(raw: str, root: Path, refuse: Callable[[str], str | None], out: Problems) -> str | None:
    try:
        return check_path(raw, root, refuse)
    except PathRefused as e:
        out.add(path_error(e.path, e.why))
        return None


def target_for(fd: FileDiff, root: Path, refuse: Callable[[str], str | None], out: Problems) -> Target | None:
    """The file a diff changes and how, or None with the problem added (a refused path, a binary patch)."""
    shown = fd.new_path or fd.old_path or "(unnamed)"
    if fd.binary:
        out.add(
            PatchError(
                "apply",
                f"{shown}: binary patches are not supported",
                f"{shown}: binary patches cannot be applied; change text files only.",
                path=shown,
            )
        )
        return None
    if fd.headerless:
        return _headerless_target(fd, root, refuse, out)
    old = strip_git_prefix(fd.old_path, root) if fd.old_path is not None and fd.prefixed else fd.old_path
    new = strip_git_prefix(fd.new_path, root) if fd.new_path is not None and fd.prefixed else fd.new_path
    if old is None and new is None:
        out.add(
            no_diff_error(
                "a diff names /dev/null on both sides",
                "A diff in your answer has /dev/null as both its old and new path.",
            )
        )
        return None
    if old is None and new is not None:
        created = _checked_path(new, root, refuse, out)
        return Target("new", created, None, fd.hunks) if created else None
    if new is None and old is not None:
        deleted = _checked_path(old, root, refuse, out)
        return Target("delete", deleted, deleted, fd.hunks) if deleted else None
    assert old is not None and new is not None  # both None returned above
    rel_old = _checked_path(old, root, refuse, out)
    rel_new = rel_old if new == old else _checked_path(new, root, refuse, out)
    if rel_old is None or rel_new is None:
        return None
    if rel_old == rel_new:
        return Target("modify", rel_new, rel_old, fd.hunks)
    if not fd.rename and not (root / rel_old).exists() and (root / rel_new).is_file():
        return Target("modify", rel_new, rel_new, fd.hunks)  # a wrong --- path, the +++ one is right
    return Target("rename", rel_new, rel_old, fd.hunks)


def _headerless_target(fd: FileDiff, root: Path, refuse: Callable[[str], str | None], out: Problems) -> Target | None:
    """Hunks written without a ---/+++ header change the first existing file the reply's hints name."""
    for hint in fd.hints:
        rel = hint_path(hint, root)
        if rel is not None and (root / rel).is_file():
            checked = _checked_path(rel, root, refuse, out)
            return Target("modify", checked, checked, fd.hunks) if checked else None
    out.add(
        no_diff_error(
            f"hunk at reply line {fd.hunks[0].reply_line if fd.hunks else fd.reply_line} has no ---/+++ file header",
            "A hunk in your answer has no `--- a/path` and `+++ b/path` lines before it, so it is unclear "
            "which file it changes.",
        )
    )
    return None


def _same_hunks(a: Target, b: Target) -> bool:
    return [h.lines for h in a.hunks] == [h.lines for h in b.hunks]


def merge_targets(targets: list[Target], root: Path, out: Problems) -> list[Target]:
    """One target per file: modifications of one file in separate blocks are joined."""
    merged: list[Target] = []
    by_key: dict[str, Target] = {}
    for t in targets:
        keys = {real_key(t.path, root)} | ({real_key(t.old_path, root)} if t.old_path else set())
        clash = next((by_key[k] for k in keys if k in by_key), None)
        if clash is None:
            merged.append(t)
            for k in keys:
                by_key[k] = t
        elif clash.op == t.op and clash.path == t.path and clash.old_path == t.old_path and _same_hunks(clash, t):
            continue  # the reply repeats a diff (an illustration, then the answer): one copy is enough
        elif clash.op == t.op == "modify" and clash.path == t.path:
            seen = [h.lines for h in clash.hunks]
            for h in t.hunks:
                if h.lines in seen:
                    continue  # the same hunk again
                h.number = len(clash.hunks) + 1
                clash.hunks.append(h)
        else:
            out.add(
                PatchError(
                    "apply",
                    f"{t.path}: changed by two conflicting diffs",
                    f"Your answer changes {t.path} in two diffs that conflict ({clash.op} and {t.op}); send one "
                    "diff per file.",
                    path=t.path,
                )
            )
    return merged
