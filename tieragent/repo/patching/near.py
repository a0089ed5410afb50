"""What to show when a hunk fits nowhere: the nearest lines, the first line that differs, or the
place where the change already stands."""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz import process as rf_process

from .align import Index, align, anchor_starts, window_stats
from .diffs import Hunk
from .locate import exact_starts, loose_starts


def nearest(ix: Index, old: list[tuple[str, str]]) -> tuple[int, int, list[int | None]] | None:
    """The file lines that look most like the hunk's old side, for the feedback; None if nothing does."""
    n, m = len(ix.lines), len(old)
    if not n or not m:
        return None
    starts = anchor_starts(ix, old, 6, max_occ=200)
    if not starts:
        query = "\n".join(t.strip() for _, t in old)
        step = max(1, (n * m) // 2_000_000)
        bodies = ix.bodies
        choices = {s: "\n".join(bodies[s : s + m]) for s in range(0, max(1, n - m + 1), step)}
        got = rf_process.extractOne(query, choices, scorer=fuzz.ratio, score_cutoff=40)
        if got is None:
            return None
        starts = [got[2]]
    best: tuple[float, int, int, list[int | None]] | None = None
    slack = 3 + m // 5
    for s in starts:
        lo, hi = max(0, s - slack), min(n, s + m + slack)
        got2 = align(old, ix.lines[lo:hi], strict=False)
        if got2 is None or all(p is None for p in got2[0]):
            continue
        pairs = [None if p is None else p + lo for p in got2[0]]
        start, end, score, _, _ = window_stats(pairs, got2[1])
        if best is None or score > best[0]:
            best = (score, start, end, pairs)
    if best is None:
        return None
    return best[1], best[2], best[3]


def first_mismatch(ix: Index, hunk: Hunk, pairs: list[int | None]) -> tuple[int, int | None] | None:
    """(index in hunk.lines, file line or None) of the first old-side line that is not in the file as written."""
    k = 0
    prev: int | None = None
    for idx, (tag, text) in enumerate(hunk.lines):
        if tag == "+":
            continue
        p = pairs[k]
        k += 1
        if p is None or ix.lines[p] != text:
            return idx, p
        if prev is not None and p != prev + 1:
            return idx, prev + 1
        prev = p
    return None


def already_applied(ix: Index, hunk: Hunk) -> tuple[int, int] | None:
    """Where the hunk's new side (context and added lines) already stands in the file, if it does
    in exactly one place and the hunk adds something."""
    if not any(t == "+" for t, _ in hunk.lines):
        return None
    new = hunk.new_lines
    starts = exact_starts(ix, new) or [s for s, _ in loose_starts(ix, new)[0]]
    return (starts[0], starts[0] + len(new)) if len(starts) == 1 else None
