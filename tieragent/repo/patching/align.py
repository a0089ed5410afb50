"""The similarity machinery of the fuzzy level: a per-file index, anchors, and a line alignment.

An alignment pairs the hunk's old lines with file lines in order; it may leave lines on either
side unpaired (a context line the model left out or invented) at a cost, and pairs lines that are
equal or, for context lines, similar (rapidfuzz ratio). Strict alignments, the ones that may place
a hunk, never pair a removed line with anything but itself (whitespace aside).
"""

from __future__ import annotations

from collections import defaultdict

from rapidfuzz import fuzz

FUZZY_LINE_MIN = 75.0  # a context line below this similarity (0-100) is not the same line
GAP = 0.6  # alignment cost of a line present on one side only
ANCHOR_MAX_OCCURRENCES = 50


class Index:
    """Per-file lookup tables, built once and shared by every hunk of the file."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self._exact: dict[str, list[int]] | None = None
        self._bodies: list[str] | None = None
        self._by_body: dict[str, list[int]] | None = None

    @property
    def exact(self) -> dict[str, list[int]]:
        if self._exact is None:
            d: dict[str, list[int]] = defaultdict(list)
            for i, line in enumerate(self.lines):
                d[line].append(i)
            self._exact = d
        return self._exact

    @property
    def bodies(self) -> list[str]:
        if self._bodies is None:
            self._bodies = [line.strip() for line in self.lines]
        return self._bodies

    @property
    def by_body(self) -> dict[str, list[int]]:
        if self._by_body is None:
            d: dict[str, list[int]] = defaultdict(list)
            for i, body in enumerate(self.bodies):
                d[body].append(i)
            self._by_body = d
        return self._by_body


def line_sim(tag: str, h: str, w: str, strict: bool) -> float:
    if h == w:
        return 1.0
    if not h or not w:
        return 0.0
    if strict and tag == "-":
        return 1.0 if h.split() == w.split() else 0.0
    r = fuzz.ratio(h, w)
    floor = FUZZY_LINE_MIN if strict else 50.0
    return r / 100.0 if r >= floor else 0.0


def align(old: list[tuple[str, str]], window: list[str], strict: bool) -> tuple[list[int | None], list[float]] | None:
    """Align the hunk's old lines with a stretch of file lines (free to skip file lines at both ends).

    strict: removed lines must be present (whitespace aside) and cannot be skipped.
    Returns, for each old line, the window index it aligns with (or None) and the similarity.
    """
    m, n = len(old), len(window)
    hb = [t.strip() for _, t in old]
    wb = [w.strip() for w in window]
    # A hunk line that is present verbatim (whitespace aside) in this stretch may only stand for
    # such a line: `x_1 = 0` is not a paraphrase of `x_0 = 0` when `x_0 = 0` is right there.
    verbatim = set(wb) if strict else set()
    neg = float("-inf")
    score = [[0.0] * (n + 1)] + [[neg] * (n + 1) for _ in range(m)]
    back = [[3] * (n + 1)] + [[0] * (n + 1) for _ in range(m)]
    sims: dict[tuple[int, int], float] = {}
    for i in range(1, m + 1):
        tag = old[i - 1][0]
        skip_h = tag == " " or not strict
        row, prev = score[i], score[i - 1]
        brow = back[i]
        if skip_h and prev[0] > neg:
            row[0], brow[0] = prev[0] - GAP, 2
        h = hb[i - 1]
        for j in range(1, n + 1):
            best, b = neg, 0
            if prev[j - 1] > neg:
                s = line_sim(tag, h, wb[j - 1], strict)
                if s < 1.0 and h in verbatim:
                    s = 0.0
                if s > 0:
                    best, b = prev[j - 1] + s, 1
                    sims[(i - 1, j - 1)] = s
            if skip_h and prev[j] > neg and prev[j] - GAP > best:
                best, b = prev[j] - GAP, 2
            if row[j - 1] > neg and row[j - 1] - GAP > best:
                best, b = row[j - 1] - GAP, 3
            row[j], brow[j] = best, b
    last = score[m]
    j = max(range(n + 1), key=lambda c: (last[c], -c))
    if last[j] == neg:
        return None
    pairs: list[int | None] = [None] * m
    sim_of: list[float] = [0.0] * m
    i = m
    while i > 0:
        b = back[i][j]
        if b == 1:
            pairs[i - 1] = j - 1
            sim_of[i - 1] = sims[(i - 1, j - 1)]
            i, j = i - 1, j - 1
        elif b == 2:
            i -= 1
        elif b == 3:
            j -= 1
        else:
            return None
    return pairs, sim_of


def window_stats(pairs: list[int | None], sims: list[float]) -> tuple[int, int, float, int, int]:
    aligned = [p for p in pairs if p is not None]
    first, last = min(aligned), max(aligned)
    n_w = last - first + 1
    m = len(pairs)
    score = 2 * sum(sims) / (m + n_w)
    unaligned = m - len(aligned)
    skipped = n_w - len(aligned)
    return first, last + 1, score, unaligned, skipped


def anchor_starts(
    ix: Index, old: list[tuple[str, str]], limit: int, max_occ: int = ANCHOR_MAX_OCCURRENCES
) -> list[int]:
    """Likely window starts: each old line found (by body) in the file votes, rarer lines more."""
    votes: dict[int, float] = defaultdict(float)
    for k, (_, t) in enumerate(old):
        b = t.strip()
        if not b:
            continue
        occ = ix.by_body.get(b, ())
        if not occ or len(occ) > max_occ:
            continue
        for p in occ:
            votes[p - k] += 1.0 / len(occ)
    return [s for s, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
