"""plan_patch: from a model's reply to the complete new content of every file it changes.

Reads files under the root and writes nothing. All or nothing: every problem in the reply is
collected and raised as one PatchError, so the model's retry can fix them all at once.
"""

from __future__ import annotations

import ast
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from .base import FileChange, PatchError, no_veto
from .edits import edits_for, span
from .feedback import combine, hunk_error, no_diff_error, path_error
from .locate import Edit, Index, Miss, Placement, locate
from .near import already_applied
from .parse import FileDiff, Hunk, parse_reply
from .paths import PathRefused, check_path, real_key, strip_git_prefix
from .text import FileText, NotText, assemble

PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")


@dataclass
class _Target:
    op: str  # modify | new | delete | rename
    path: str  # the path after the change
    old_path: str | None  # the path before (None for a new file)
    hunks: list[Hunk] = field(default_factory=list)


class Problems:
    """Every refusal found while planning one reply (the planners are all or nothing)."""

    def __init__(self) -> None:
        self.problems: list[PatchError] = []

    def add(self, err: PatchError) -> None:
        self.problems.append(err)


# ---------------------------------------------------------------- checks shared with the whole-file fallback


def python_error(path: str, text: str) -> str | None:
    """The parse error of Python source, as 'line N: message', or None if it parses."""
    if not path.endswith(PYTHON_SUFFIXES):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename=path)
    except SyntaxError as e:
        where = f"line {e.lineno}" if e.lineno else "somewhere"
        return f"{where}: {e.msg}"
    except (ValueError, RecursionError, MemoryError) as e:
        return str(e) or type(e).__name__
    return None


def syntax_check(path: str, before: str | None, after: str) -> PatchError | None:
    """A refusal if Python source that parsed before (or a new file) does not parse after."""
    if not path.endswith(PYTHON_SUFFIXES):
        return None
    err = python_error(path, after)
    if err is None:
        return None
    if before is not None and python_error(path, before) is not None:
        return None  # it did not parse before either: not this patch's doing
    lines = after.splitlines()
    fb = [f"{path} would no longer parse as Python after the patch: {err}."]
    try:
        n = int(err.split(":")[0].split()[1])
    except (IndexError, ValueError):
        n = 0
    if n:
        width = len(str(min(len(lines), n + 2)))
        fb.append("The patched file around that line:")
        for k in range(max(1, n - 3), min(len(lines), n + 2) + 1):
            fb.append(f"{k:>{width}} | {lines[k - 1]}")
    fb.append("Fix the diff so the file stays valid Python (check indentation, brackets and colons).")
    return PatchError("syntax", f"{path}: does not parse after the patch ({err})", "\n".join(fb), path=path)


def read_text(root: Path, rel: str) -> FileText:
    return FileText.decode((root / rel).read_bytes())


# ---------------------------------------------------------------- resolving the reply's paths


def _check(raw: str, root: Path, refuse: Callable[[str], str | None], out: Problems) -> str | None:
    try:
        return check_path(raw, root, refuse)
    except PathRefused as e:
        out.add(path_error(e.path, e.why))
        return None


def _target_for(fd: FileDiff, root: Path, refuse: Callable[[str], str | None], out: Problems) -> _Target | None:
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
        for hint in fd.hints:
            cand = strip_git_prefix(hint, root)
            try:
                rel = check_path(cand, root, None)
            except PathRefused:
                continue
            if (root / rel).is_file():
                rel2 = _check(rel, root, refuse, out)
                return _Target("modify", rel2, rel2, fd.hunks) if rel2 else None
        out.add(
            no_diff_error(
                f"hunk at reply line {fd.hunks[0].reply_line if fd.hunks else fd.reply_line} has no ---/+++ file "
                "header",
                "A hunk in your answer has no `--- a/path` and `+++ b/path` lines before it, so it is unclear "
                "which file it changes.",
            )
        )
        return None
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
        created = _check(new, root, refuse, out)
        return _Target("new", created, None, fd.hunks) if created else None
    if new is None and old is not None:
        deleted = _check(old, root, refuse, out)
        return _Target("delete", deleted, deleted, fd.hunks) if deleted else None
    assert old is not None and new is not None  # both None returned above
    rel_old = _check(old, root, refuse, out)
    rel_new = rel_old if new == old else _check(new, root, refuse, out)
    if rel_old is None or rel_new is None:
        return None
    if rel_old == rel_new:
        return _Target("modify", rel_new, rel_old, fd.hunks)
    if not fd.rename and not (root / rel_old).exists() and (root / rel_new).is_file():
        return _Target("modify", rel_new, rel_new, fd.hunks)  # a wrong --- path, the +++ one is right
    return _Target("rename", rel_new, rel_old, fd.hunks)


def _same_hunks(a: _Target, b: _Target) -> bool:
    return [h.lines for h in a.hunks] == [h.lines for h in b.hunks]


def _merge(targets: list[_Target], root: Path, out: Problems) -> list[_Target]:
    """One target per file: modifications of one file in separate blocks are joined."""
    merged: list[_Target] = []
    by_key: dict[str, _Target] = {}
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


# ---------------------------------------------------------------- applying hunks to one file


def _conflicts(edits: list[Edit], placed: dict[int, Placement]) -> tuple[int, int, int, int] | None:
    """Two hunks that change the same lines, or where one changes lines the other needs as context."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end, e.hunk))
    for a, b in pairwise(ordered):
        if a.hunk == b.hunk:
            continue
        if b.start < a.end or (b.start == a.end and (a.start == a.end or b.start == b.end)):
            return a.hunk, b.hunk, b.start, max(a.end, b.end)
    for e in edits:
        for num, pl in placed.items():
            if num == e.hunk:
                continue
            hit = e.start < pl.end and pl.start < e.end if e.end > e.start else pl.start < e.start < pl.end
            if hit:
                return min(num, e.hunk), max(num, e.hunk), e.start, max(e.end, e.start + 1)
    return None


def apply_hunks(path: str, ft: FileText, hunks: list[Hunk], out: Problems) -> FileText | None:
    """The file with every hunk applied (each located in the original), or None with problems added."""
    ix = Index(ft.lines)
    edits: list[Edit] = []
    placed: dict[int, Placement] = {}
    by_number: dict[int, Hunk] = {}
    ok = True
    total = len(hunks)
    for h in hunks:
        by_number[h.number] = h
        if not h.changes:
            continue  # context only: nothing to do
        try:
            pl = locate(ix, h)
            es = edits_for(h, pl)
        except Miss as miss:
            if not miss.places and not miss.window:
                done = already_applied(ix, h)
                if done is not None:
                    miss = Miss(
                        f"the change is already in the file (lines {done[0] + 1}-{done[1]} hold the hunk's new side)",
                        advice="Write the change against the file as it is now: it already holds this change.",
                        window=done,
                    )
            out.add(hunk_error(path, h, total, miss, ix))
            ok = False
            continue
        placed[h.number] = pl
        edits.extend(es)
    if not ok:
        return None
    clash = _conflicts(edits, placed)
    if clash:
        a, b, lo, hi = clash
        what = "blocks" if hunks[0].search_replace else "hunks"
        out.add(
            PatchError(
                "apply",
                f"{path} {what} {a} and {b} overlap (at {span(lo, hi)})",
                f"{path}: {what} {a} and {b} change the same lines, or one changes lines the other shows as unchanged "
                f"(at {span(lo, hi)}). Merge them into one {what[:-1]}, written against the current file.",
                path=path,
            )
        )
        return None
    final_newline = ft.final_newline
    n = len(ft.lines)
    for num, pl in placed.items():
        h = by_number[num]
        if pl.end == n:
            if h.new_no_eol:
                final_newline = False
            elif h.old_no_eol:
                final_newline = True
    pieces: list[tuple[str, str]] = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        pieces.extend(zip(ft.lines[pos : e.start], ft.eols[pos : e.start], strict=True))
        pieces.extend((line, "") for line in e.lines)
        pos = max(pos, e.end)
    pieces.extend(zip(ft.lines[pos:], ft.eols[pos:], strict=True))
    return assemble(ft, pieces, final_newline)


def _new_file_text(t: _Target, out: Problems) -> FileText | None:
    lines: list[str] = []
    final_newline = True
    hunks = (
        sorted(t.hunks, key=lambda h: (h.new_start or 0, h.number)) if all(h.new_start for h in t.hunks) else t.hunks
    )
    for h in hunks:
        for tag, text in h.lines:
            if tag == "+" or (tag == " " and text == ""):
                lines.append(text)
            else:
                out.add(
                    PatchError(
                        "apply",
                        f"{t.path}: a new file's hunk holds a line that does not start with '+'",
                        f"{t.path} is a new file (--- /dev/null), so every line of its hunk must start with '+'; "
                        f"this one does not:\n    {tag}{text}",
                        path=t.path,
                    )
                )
                return None
        if h.new_no_eol:
            final_newline = False
    base = FileText([], [], "\n")
    return assemble(base, [(line, "") for line in lines], final_newline and bool(lines))


def _encode(t: _Target, ft: FileText, out: Problems) -> bytes | None:
    try:
        return ft.encode()
    except UnicodeEncodeError:
        out.add(
            PatchError(
                "apply",
                f"{t.path}: new text cannot be written as {ft.encoding}",
                f"{t.path} is a {ft.encoding} file; the new lines hold characters it cannot store.",
                path=t.path,
            )
        )
        return None


def _read(t: _Target, rel: str, root: Path, out: Problems) -> FileText | None:
    p = root / rel
    if not p.is_file():
        out.add(
            PatchError(
                "apply",
                f"{rel}: no such file",
                f"{rel} does not exist in the repository. To create it, use `--- /dev/null` and `+++ b/{rel}`; "
                "otherwise check the path.",
                path=rel,
            )
        )
        return None
    try:
        return read_text(root, rel)
    except NotText as e:
        out.add(PatchError("apply", f"{rel}: {e}", f"{rel} is a {e}; it cannot be patched.", path=rel))
        return None


def _only_additions(hunks: list[Hunk]) -> bool:
    return bool(hunks) and all(tag == "+" or (tag == " " and not text) for h in hunks for tag, text in h.lines)


def _plan_target(t: _Target, root: Path, out: Problems) -> FileChange | None:
    if t.op == "modify" and not os.path.lexists(root / t.path) and _only_additions(t.hunks):
        t = _Target("new", t.path, None, t.hunks)  # `--- a/x` for a file that does not exist yet, all lines added
    if t.op == "new":
        ft = _new_file_text(t, out)
        if ft is None:
            return None
        p = root / t.path
        if p.exists():
            existing = _read(t, t.path, root, out)
            if existing is None:
                return None
            if existing.text() == ft.text():
                return None
            if existing.lines:
                out.add(
                    PatchError(
                        "apply",
                        f"{t.path}: already exists",
                        f"{t.path} already exists ({len(existing.lines)} lines), but the diff creates it from "
                        f"/dev/null. Write the diff against its current content (`--- a/{t.path}`).",
                        path=t.path,
                    )
                )
                return None
            return _finish(t, t.path, None, ft, out)
        return _finish(t, None, None, ft, out)
    src = t.old_path or t.path
    ft = _read(t, src, root, out)
    if ft is None:
        return None
    if t.op == "rename" and (root / t.path).exists():
        out.add(
            PatchError(
                "apply",
                f"{t.path}: rename target already exists",
                f"Cannot rename {src} to {t.path}: {t.path} already exists.",
                path=t.path,
            )
        )
        return None
    changing = [h for h in t.hunks if h.changes]
    if t.op == "modify" and not changing:
        out.add(
            no_diff_error(
                f"{t.path}: the diff holds no change",
                f"The diff for {t.path} has no added or removed lines.",
                path=t.path,
            )
        )
        return None
    new = apply_hunks(src, ft, t.hunks, out) if changing else ft
    if new is None:
        return None
    if t.op == "delete":
        if new.text().strip():
            out.add(
                PatchError(
                    "apply",
                    f"{t.path}: the deletion diff does not remove every line",
                    f"The diff deletes {t.path} (+++ /dev/null) but its hunk does not remove every line of the file. "
                    f"To delete the file, send `--- a/{t.path}` and `+++ /dev/null` with one hunk removing every line.",
                    path=t.path,
                )
            )
            return None
        return FileChange(t.path, t.path, None)
    return _finish(t, src, ft, new, out)


def _finish(
    t: _Target, old_path: str | None, before: FileText | None, after: FileText, out: Problems
) -> FileChange | None:
    if before is not None and t.op == "modify" and before.text() == after.text():
        return None
    err = syntax_check(t.path, before.text() if before is not None else None, after.text())
    if err is not None:
        out.add(err)
        return None
    data = _encode(t, after, out)
    if data is None:
        return None
    return FileChange(t.path, old_path, data)


# ---------------------------------------------------------------- the entry point


def plan_patch(reply: str, root: Path, *, refuse: Callable[[str], str | None] = no_veto) -> list[FileChange]:
    """Find every diff in a model reply, check every path, locate every hunk against the current
    files under `root`, and return the full new content of every file. Reads files; writes nothing.

    All or nothing: raises PatchError if any file or hunk fails. `refuse(path)` lets the caller veto
    paths (it returns a reason such as "looks like a secret" or "ignored by git", or None).
    """
    root = Path(root)
    diffs = parse_reply(reply)
    if not diffs:
        detail = "Your answer holds no unified diff I could read."
        if "```" in reply:
            detail += " A code block with the new code is not a diff."
        raise no_diff_error("the reply holds no unified diff", detail)
    out = Problems()
    targets = [t for t in (_target_for(fd, root, refuse, out) for fd in diffs) if t is not None]
    targets = _merge(targets, root, out)
    changes: list[FileChange] = []
    for t in targets:
        ch = _plan_target(t, root, out)
        if ch is not None:
            changes.append(ch)
    if out.problems:
        raise combine(out.problems)
    if not changes:
        raise no_diff_error(
            "the diff changes nothing",
            "Your diff applies but leaves every file as it is.",
        )
    return changes
