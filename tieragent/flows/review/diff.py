"""A unified diff (from git or handed in) as files and hunks, parsed with unidiff."""

from __future__ import annotations

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from ...core.errors import UsageError
from .model import FileChange, Hunk


def _strip_prefix(name: str | None) -> str | None:
    if name is None or name == "/dev/null":
        return None
    return name[2:] if name.startswith(("a/", "b/")) else name


def parse_diff(text: str) -> list[FileChange]:
    """Every file of the diff with its hunks. Raises UsageError when the text is not a unified diff."""
    if not text.strip():
        return []
    try:
        patch = PatchSet(text)
    except UnidiffParseError as err:
        raise UsageError(
            f"the diff could not be read: {err}",
            hint="Hand in a unified diff, e.g. `git diff | tieragent review --diff -`.",
        ) from None
    if not len(patch):
        raise UsageError(
            "no unified diff found in the input",
            hint="Hand in a unified diff, e.g. `git diff | tieragent review --diff -`.",
        )
    files = []
    for pf in patch:
        old, new = _strip_prefix(pf.source_file), _strip_prefix(pf.target_file)
        status = (
            "added"
            if pf.is_added_file
            else "removed"
            if pf.is_removed_file
            else "renamed"
            if pf.is_rename
            else "modified"
        )
        path = new or old or pf.path
        hunks = []
        for n, h in enumerate(pf, 1):
            added = tuple(
                (ln.target_line_no, ln.value.rstrip("\n")) for ln in h if ln.is_added and ln.target_line_no is not None
            )
            removed = tuple(
                (ln.source_line_no, ln.value.rstrip("\n"))
                for ln in h
                if ln.is_removed and ln.source_line_no is not None
            )
            header = f"@@ -{h.source_start},{h.source_length} +{h.target_start},{h.target_length} @@" + (
                f" {h.section_header}" if h.section_header else ""
            )
            hunks.append(
                Hunk(
                    id=f"{path}#{n}",
                    path=path,
                    old_path=old,
                    status=status,
                    header=header,
                    text=str(h),
                    new_start=h.target_start,
                    new_len=h.target_length,
                    old_start=h.source_start,
                    old_len=h.source_length,
                    added=added,
                    removed=removed,
                )
            )
        files.append(FileChange(path, old, status, binary=bool(pf.is_binary_file), hunks=tuple(hunks)))
    return files
