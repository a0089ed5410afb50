"""Turning a placed hunk into edits of the original file's lines."""

from __future__ import annotations

from .diffs import Hunk
from .locate import Edit, Miss, Placement


def span(start: int, end: int) -> str:
    """'line 5' or 'lines 5-7' for the 0-based half-open range [start, end)."""
    return f"line {start + 1}" if end - start <= 1 else f"lines {start + 1}-{end}"


def _unclear(lo: int, hi: int) -> Miss:
    return Miss(
        f"the place for the added lines is unclear: the hunk leaves out file {span(lo, hi)} next to them",
        advice="Copy the unchanged lines around the added lines exactly, without leaving any out.",
        window=(max(lo - 1, 0), hi + 1),
        gap=lo,
    )


UNKNOWN = -1  # a context line that matched nothing: its place in the file is unknown


def edits_for(hunk: Hunk, pl: Placement) -> list[Edit]:
    """The file edits a placed hunk makes. Context lines are never rewritten: the file's own stay.

    Added lines go next to the old-side line they touch in the hunk. Where that neighbour is not
    certain (the hunk leaves out file lines there, or the neighbouring context line matched
    nothing), the added lines could belong on either side: that is refused, never guessed.
    """
    run = _EditRun(hunk, pl)
    k = 0  # index into the old-side lines
    for idx, (tag, text) in enumerate(hunk.lines):
        if tag == "+":
            run.add(idx, text)
            continue
        p = pl.pairs[k]
        k += 1
        if tag == "-":
            run.remove(idx, p)
        else:
            run.context(UNKNOWN if p is None else p)
    run.flush(None)
    return run.edits


class _EditRun:
    """The removed and added lines between two context lines, gathered into one edit at each context line."""

    def __init__(self, hunk: Hunk, pl: Placement) -> None:
        self.hunk = hunk
        self.pl = pl
        self.edits: list[Edit] = []
        self.removed: list[int] = []
        self.added: list[str] = []
        self.plus_before = False  # added lines before the block's first removed line
        self.plus_after = False  # added lines after its last removed line
        self.prev: int | None = None  # the file line of the last context line (None: none yet; UNKNOWN)

    def add(self, idx: int, text: str) -> None:
        new = self.pl.indent.apply(text)
        if new is None:
            raise Miss(
                f"added line {idx + 1} does not fit the indentation shift ({self.pl.indent.describe()})",
                advice="Indent the added lines consistently with the context lines, exactly as the file does.",
                window=(self.pl.start, self.pl.end),
                bad=(idx, None),
            )
        self.added.append(new)
        if self.removed:
            self.plus_after = True
        else:
            self.plus_before = True

    def remove(self, idx: int, line: int | None) -> None:
        if line is None:  # cannot happen for a placement from locate()
            raise Miss(f"removed line {idx + 1} was not found", bad=(idx, None))
        self.removed.append(line)
        self.plus_after = False

    def context(self, line: int) -> None:
        self.flush(line)
        self.prev = line

    def flush(self, next_line: int | None) -> None:
        """End the run before `next_line` (the next context line's file line; None at the hunk's end)."""
        if self.removed:
            self.edits.append(self.replacement(next_line))
        elif self.added:
            self.edits.append(self.insertion(next_line))
        self.removed, self.added, self.plus_before, self.plus_after = [], [], False, False

    def replacement(self, next_line: int | None) -> Edit:
        prev = self.prev
        r0, r1 = self.removed[0], self.removed[-1] + 1
        if self.removed != list(range(r0, r1)):
            raise Miss(
                f"the removed lines are not next to each other in the file ({span(r0, r1)})",
                advice="Copy the removed lines exactly as they appear, including any line between them.",
                window=(r0, r1),
            )
        if self.plus_before and prev is not None and prev != UNKNOWN and r0 > prev + 1:
            raise _unclear(prev + 1, r0)
        if self.plus_after and next_line is not None and next_line != UNKNOWN and next_line > r1:
            raise _unclear(r1, next_line)
        return Edit(r0, r1, self.added, self.hunk.number)

    def insertion(self, next_line: int | None) -> Edit:
        prev = self.prev
        lo = prev + 1 if prev is not None and prev != UNKNOWN else prev
        known_lo = lo is not None and lo != UNKNOWN
        known_hi = next_line is not None and next_line != UNKNOWN
        if known_lo and known_hi and next_line != lo:
            raise _unclear(lo, next_line)  # type: ignore[arg-type]
        if known_lo:
            pos = lo
        elif known_hi:
            pos = next_line
        elif lo is None and next_line is None and not any(p is not None for p in self.pl.pairs):
            pos = self.pl.start  # nothing to stand next to: an empty file
        else:
            raise Miss(
                "the place for the added lines is unclear: a context line next to them was not found",
                advice="Copy the unchanged lines around the added lines exactly as they are in the file.",
                window=(self.pl.start, self.pl.end),
            )
        return Edit(pos, pos, self.added, self.hunk.number)  # type: ignore[arg-type]
