"""plan_patch: from a model's reply to the complete new content of every file it changes.

Reads files under the root and writes nothing. All or nothing: every problem in the reply is
collected and raised as one PatchError, so the model's retry can fix them all at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .base import FileChange, PatchError, Problems, no_veto
from .diffs import Hunk
from .feedback import combine, no_diff_error
from .hunkapply import apply_hunks
from .parse import parse_reply
from .pysyntax import syntax_check
from .targets import Target, merge_targets, target_for
from .text import FileText, NotText, assemble, read_text


def _new_file_text(t: Target, out: Problems) -> FileText | None:
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


def _encode(t: Target, ft: FileText, out: Problems) -> bytes | None:
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


def _read(t: Target, rel: str, root: Path, out: Problems) -> FileText | None:
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


def _plan_target(t: Target, root: Path, out: Problems) -> FileChange | None:
    if t.op == "modify" and not os.path.lexists(root / t.path) and _only_additions(t.hunks):
        t = Target("new", t.path, None, t.hunks)  # `--- a/x` for a file that does not exist yet, all lines added
    if t.op == "new":
        return _plan_new_file(t, root, out)
    return _plan_existing_file(t, root, out)


def _plan_new_file(t: Target, root: Path, out: Problems) -> FileChange | None:
    """A file the diff creates from /dev/null; one that exists already may only be empty or hold the same text."""
    ft = _new_file_text(t, out)
    if ft is None:
        return None
    if not (root / t.path).exists():
        return _finish(t, None, None, ft, out)
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


def _plan_existing_file(t: Target, root: Path, out: Problems) -> FileChange | None:
    """A file the diff modifies, renames or deletes: its hunks applied to the file as it is."""
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
        return _deletion(t, new, out)
    return _finish(t, src, ft, new, out)


def _deletion(t: Target, left: FileText, out: Problems) -> FileChange | None:
    """`+++ /dev/null`: a deletion, if its hunks leave nothing of the file (`left`)."""
    if left.text().strip():
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


def _finish(
    t: Target, old_path: str | None, before: FileText | None, after: FileText, out: Problems
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
    targets = [t for t in (target_for(fd, root, refuse, out) for fd in diffs) if t is not None]
    targets = merge_targets(targets, root, out)
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
