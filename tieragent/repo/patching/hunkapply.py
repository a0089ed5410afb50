"""Applying the hunks of one file: each located in the original, none overlapping, spliced in at once."""

from __future__ import annotations

from itertools import pairwise

from .base import PatchError, Problems
from .diffs import Hunk
from .edits import edits_for, span
from .feedback import hunk_error
from .locate import Edit, Index, Miss, Placement, locate
from .near import already_applied
from .text import FileText, assemble


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
    located = _locate_all(path, Index(ft.lines), hunks, out)
    if located is None:
        return None
    placed, edits = located
    clash = _conflicts(edits, placed)
    if clash:
        out.add(_overlap_error(path, hunks, *clash))
        return None
    return _splice(ft, {h.number: h for h in hunks}, placed, edits)


def _locate_all(
    path: str, ix: Index, hunks: list[Hunk], out: Problems
) -> tuple[dict[int, Placement], list[Edit]] | None:
    """Each changing hunk's placement and edits, by hunk number; None (every miss added) if any is not found."""
    edits: list[Edit] = []
    placed: dict[int, Placement] = {}
    ok = True
    for h in hunks:
        if not h.changes:
            continue  # context only: nothing to do
        try:
            pl = locate(ix, h)
            es = edits_for(h, pl)
        except Miss as miss:
            out.add(hunk_error(path, h, len(hunks), _explain_miss(ix, h, miss), ix))
            ok = False
            continue
        placed[h.number] = pl
        edits.extend(es)
    return (placed, edits) if ok else None


def _explain_miss(ix: Index, h: Hunk, miss: Miss) -> Miss:
    """A hunk found nowhere may be one the file already holds: say so rather than that it does not match."""
    if miss.places or miss.window:
        return miss
    done = already_applied(ix, h)
    if done is None:
        return miss
    return Miss(
        f"the change is already in the file (lines {done[0] + 1}-{done[1]} hold the hunk's new side)",
        advice="Write the change against the file as it is now: it already holds this change.",
        window=done,
    )


def _overlap_error(path: str, hunks: list[Hunk], a: int, b: int, lo: int, hi: int) -> PatchError:
    what = "blocks" if hunks[0].search_replace else "hunks"
    return PatchError(
        "apply",
        f"{path} {what} {a} and {b} overlap (at {span(lo, hi)})",
        f"{path}: {what} {a} and {b} change the same lines, or one changes lines the other shows as unchanged "
        f"(at {span(lo, hi)}). Merge them into one {what[:-1]}, written against the current file.",
        path=path,
    )


def _splice(ft: FileText, by_number: dict[int, Hunk], placed: dict[int, Placement], edits: list[Edit]) -> FileText:
    """The original lines with every edit in place; a hunk that reaches the file's end decides its last newline."""
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
