"""What the parsers read out of a reply: a file's diff and its hunks, before anything is matched to the file."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Hunk:
    number: int  # 1-based, in the order the reply gives them for this file
    header: str
    old_start: int | None
    old_count: int | None
    new_start: int | None
    new_count: int | None
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" " | "-" | "+", text)
    old_no_eol: bool = False
    new_no_eol: bool = False
    reply_line: int = 0  # 1-based line of the header in the reply
    search_replace: bool = False  # made from a SEARCH/REPLACE block: feedback speaks of blocks, not hunks

    @property
    def old_lines(self) -> list[tuple[str, str]]:
        return [(t, s) for t, s in self.lines if t != "+"]

    @property
    def new_lines(self) -> list[str]:
        return [s for t, s in self.lines if t != "-"]

    @property
    def changes(self) -> bool:
        return any(t != " " for t, _ in self.lines)

    @property
    def name(self) -> str:
        """'hunk 2', or 'block 2' for a SEARCH/REPLACE block: how a one-line reason names it."""
        return f"{'block' if self.search_replace else 'hunk'} {self.number}"

    def label(self, total: int | None = None) -> str:
        of = f" of {total}" if total and total > 1 else ""
        if self.search_replace:
            return f"SEARCH/REPLACE block {self.number}{of}"
        return f"hunk {self.number}{of} ({self.header.strip()})"

    def quote(self, idx: int) -> tuple[str, str]:
        """Where line `idx` of `lines` stands, as the model wrote it, and the line as written: ("line 3 of
        the hunk", "-x = 1"), or for a block ("line 3 of its SEARCH section", "x = 1")."""
        tag, text = self.lines[idx]
        if not self.search_replace:
            return f"line {idx + 1} of the hunk", f"{tag}{text}"
        section, skip = ("REPLACE", "-") if tag == "+" else ("SEARCH", "+")
        number = sum(1 for t, _ in self.lines[:idx] if t != skip) + 1
        return f"line {number} of its {section} section", text


@dataclass
class FileDiff:
    old_path: str | None  # as written (a/ b/ prefixes kept), None for /dev/null
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)
    prefixed: bool = True  # paths may carry git's a/ b/ prefixes
    git: bool = False
    rename: bool = False  # explicit `rename from` / `rename to`
    new_file: bool = False  # `new file mode`
    deleted_file: bool = False  # `deleted file mode`
    binary: bool = False
    headerless: bool = False  # hunks written without a ---/+++ header
    hints: list[str] = field(default_factory=list)  # path guesses for a headerless diff
    reply_line: int = 0

    @property
    def is_new(self) -> bool:
        return self.old_path is None and not self.headerless

    @property
    def is_delete(self) -> bool:
        return self.new_path is None and not self.headerless
