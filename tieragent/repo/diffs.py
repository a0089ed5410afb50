"""Unified diffs of what tieragent changed (against the tree as it was before the run)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from unidiff import PatchSet


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def file_diff(old_path: str | None, old: bytes | None, new_path: str | None, new: bytes | None) -> str:
    if old == new and old_path == new_path:
        return ""
    if (old is not None and b"\0" in old) or (new is not None and b"\0" in new):
        return f"Binary files a/{old_path} and b/{new_path} differ\n"
    a = f"a/{old_path}" if old is not None else "/dev/null"
    b = f"b/{new_path}" if new is not None else "/dev/null"
    out = []
    for line in difflib.unified_diff(_lines(old), _lines(new), a, b, n=3):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    header = f"diff --git a/{old_path or new_path} b/{new_path or old_path}\n"
    if old is None:
        header += "new file mode 100644\n"
    elif new is None:
        header += "deleted file mode 100644\n"
    if not out:  # a pure rename
        return header + f"rename from {old_path}\nrename to {new_path}\n"
    return header + "".join(out)


@dataclass(frozen=True)
class FileStat:
    path: str
    added: int
    removed: int
    status: str  # added | removed | modified


def summarize(patch: str) -> list[FileStat]:
    """Per-file line counts of a diff tieragent produced (parsed with unidiff)."""
    if not patch.strip():
        return []
    stats = []
    for f in PatchSet(patch):
        status = "added" if f.is_added_file else "removed" if f.is_removed_file else "modified"
        stats.append(FileStat(f.path, f.added, f.removed, status))
    return stats


@dataclass(frozen=True)
class EditStat:
    """One file's content before and after an edit (None: the file does not exist on that side)."""

    path: str
    old: bytes | None
    new: bytes | None

    def diff(self) -> str:
        return file_diff(
            self.path if self.old is not None else None, self.old, self.path if self.new is not None else None, self.new
        )

    def _changes(self) -> list[tuple[str, int, int, int, int]]:
        """difflib's opcodes between the old and the new lines, the unchanged runs left out."""
        a = (self.old or b"").decode(errors="replace").splitlines()
        b = (self.new or b"").decode(errors="replace").splitlines()
        opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        return [op for op in opcodes if op[0] != "equal"]

    def counts(self) -> tuple[int, int]:
        """(added, removed) lines."""
        changes = self._changes()
        return sum(j2 - j1 for _, _, _, j1, j2 in changes), sum(i2 - i1 for _, i1, i2, _, _ in changes)

    def changed_new_lines(self) -> set[int]:
        """The 1-based lines of the new content that the edit added or changed."""
        return {n + 1 for _, _, _, j1, j2 in self._changes() for n in range(j1, j2)}
