"""Finding where a hunk belongs, by content.

Three levels, each tried only when the one before finds nothing:

1. exact: the hunk's old lines (context and removed) appear verbatim;
2. loose: they appear once trailing whitespace is ignored and the indentation differs by one
   uniform shift (a prefix added or removed on every line, or tabs written as spaces); the added
   lines are re-indented by the same shift;
3. fuzzy: an alignment in which every removed line is present (whitespace aside), context lines
   may be paraphrased, missing or invented, and the whole scores above a strict threshold.

Line numbers in the header only break ties between equally good places; with no clear winner
the hunk is refused, never guessed. The similarity machinery is in align.py, the indentation
maps in indent.py, and turning a placement into edits in edits.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .align import Index, align, anchor_starts, window_stats
from .diffs import Hunk
from .indent import SAME, Indent, infer_indent, split_indent

FUZZY_MIN_SCORE = 0.85  # whole-window similarity a fuzzy match needs
FUZZY_TIE_MARGIN = 0.03  # fuzzy places closer than this in score are equally good
TIE_TOLERANCE = 10  # the header's line number breaks a tie only if a place lies this close to it
MAX_FUZZY_CANDIDATES = 12


# ---------------------------------------------------------------- results


@dataclass
class Placement:
    start: int  # the file lines [start, end) the hunk's old side covers (0-based)
    end: int
    pairs: list[int | None]  # for each old-side hunk line, the file line it stands for
    indent: Indent = SAME
    level: str = "exact"  # exact | loose | fuzzy
    score: float = 1.0


@dataclass
class Edit:
    start: int  # replace file lines [start, end) (0-based, original numbering) ...
    end: int
    lines: list[str]  # ... by these
    hunk: int  # the hunk's number


@dataclass
class Miss(Exception):
    """A hunk that cannot be placed, with what the feedback needs to say why."""

    reason: str  # short, for the ledger: "context not found", "matches 2 places equally well", ...
    advice: str = ""
    window: tuple[int, int] | None = None  # the nearest file lines [start, end)
    bad: tuple[int, int | None] | None = None  # (index in hunk.lines, file line or None) of the first mismatch
    places: list[int] = field(default_factory=list)  # equally good starts (0-based)
    gap: int | None = None  # a file line the hunk leaves out

    def __str__(self) -> str:
        return self.reason


# ---------------------------------------------------------------- locating


def _tiebreak(starts: list[int], hunk: Hunk) -> int | None:
    if hunk.old_start is None or len(starts) < 2:
        return None
    target = max(hunk.old_start - 1, 0)
    ranked = sorted((abs(s - target), s) for s in starts)
    if ranked[0][0] <= TIE_TOLERANCE and ranked[0][0] < ranked[1][0]:
        return ranked[0][1]
    return None


def _ambiguous(starts: list[int], m: int, level: str) -> Miss:
    shown = ", ".join(f"{s + 1}-{s + m}" if m > 1 else f"{s + 1}" for s in sorted(starts)[:6])
    more = "" if len(starts) <= 6 else f" and {len(starts) - 6} more"
    how = "exactly" if level == "exact" else "equally well"
    return Miss(
        f"context matches {len(starts)} places {how} (lines {shown}{more})",
        advice="Add more unchanged lines before or after the change (lines that differ between these places) "
        "so it matches exactly one place.",
        places=sorted(starts),
    )


def exact_starts(ix: Index, texts: list[str]) -> list[int]:
    n, m = len(ix.lines), len(texts)
    best_k, best = -1, None
    for k, t in enumerate(texts):
        occ = ix.exact.get(t)
        if not occ:
            return []
        if best is None or len(occ) < len(best):
            best_k, best = k, occ
            if len(occ) == 1:
                break
    assert best is not None
    lines = ix.lines
    return [s for s in (p - best_k for p in best) if s >= 0 and s + m <= n and lines[s : s + m] == texts]


def loose_starts(ix: Index, texts: list[str]) -> tuple[list[tuple[int, Indent]], list[int]]:
    """Places where the bodies match; those with one uniform indentation map, and those without."""
    n, m = len(ix.lines), len(texts)
    hb = [t.strip() for t in texts]
    nonblank = [k for k in range(m) if hb[k]]
    if nonblank:
        k0 = min(nonblank, key=lambda k: len(ix.by_body.get(hb[k], ())))
        starts = [p - k0 for p in ix.by_body.get(hb[k0], ())]
    else:
        starts = list(ix.by_body.get("", ()))
    bodies = ix.bodies
    good: list[tuple[int, Indent]] = []
    crooked: list[int] = []
    for s in starts:
        if s < 0 or s + m > n or bodies[s : s + m] != hb:
            continue
        pairs = [(split_indent(texts[k])[0], split_indent(ix.lines[s + k])[0]) for k in nonblank]
        ind = infer_indent(pairs)
        if ind is None:
            crooked.append(s)
        else:
            good.append((s, ind))
    return good, crooked


def _fuzzy(ix: Index, hunk: Hunk, old: list[tuple[str, str]]) -> Placement:
    m, n = len(old), len(ix.lines)
    slack = 3 + m // 5
    found: list[Placement] = []
    crooked: Placement | None = None
    seen: set[tuple[int, ...]] = set()
    for s in anchor_starts(ix, old, MAX_FUZZY_CANDIDATES):
        lo, hi = max(0, s - slack), min(n, s + m + slack)
        got = align(old, ix.lines[lo:hi], strict=True)
        if got is None:
            continue
        rel_pairs, sims = got
        if all(p is None for p in rel_pairs):
            continue
        pairs = [None if p is None else p + lo for p in rel_pairs]
        key = tuple(-1 if p is None else p for p in pairs)
        if key in seen:
            continue
        seen.add(key)
        start, end, score, unaligned, skipped = window_stats(pairs, sims)
        limit = max(1, m // 5)
        exact_lines = sum(1 for x in sims if x == 1.0)
        if score < FUZZY_MIN_SCORE or unaligned > limit or skipped > limit or exact_lines < min(2, m):
            continue
        ind_pairs = [
            (split_indent(old[k][1])[0], split_indent(ix.lines[p])[0])
            for k, p in enumerate(pairs)
            if p is not None and sims[k] == 1.0 and old[k][1].strip()
        ]
        ind = infer_indent(ind_pairs)
        pl = Placement(start, end, pairs, ind or SAME, "fuzzy", score)
        if ind is None:
            if crooked is None or score > crooked.score:
                crooked = pl
            continue
        found.append(pl)
    if not found:
        if crooked is not None:
            raise _indent_miss(hunk, ix.lines, crooked.start, crooked.end, crooked.pairs)
        raise Miss("context not found")
    found.sort(key=lambda p: (-p.score, p.start))
    best = found[0]
    rivals = [
        p
        for p in found[1:]
        if p.score >= best.score - FUZZY_TIE_MARGIN and (p.start >= best.end or p.end <= best.start)
    ]
    if rivals:
        starts = [best.start] + [p.start for p in rivals]
        pick = _tiebreak(starts, hunk)
        if pick is None:
            raise _ambiguous(starts, m, "fuzzy")
        best = next(p for p in [best, *rivals] if p.start == pick)
    return best


def _indent_miss(hunk: Hunk, lines: list[str], start: int, end: int, pairs: list[int | None]) -> Miss:
    """Refusal for a place whose lines match except for an indentation that no single shift explains;
    names the first hunk line whose shift differs from the one most lines have."""
    old_idx = [i for i, (t, _) in enumerate(hunk.lines) if t != "+"]
    shifts: list[tuple[int, int, int]] = []  # (index in hunk.lines, file line, shift)
    for k, p in enumerate(pairs):
        text = hunk.lines[old_idx[k]][1]
        if p is None or not text.strip():
            continue
        shifts.append((old_idx[k], p, len(split_indent(lines[p])[0]) - len(split_indent(text)[0])))
    common = max({s for _, _, s in shifts}, key=lambda s: (sum(1 for x in shifts if x[2] == s), -abs(s)), default=0)
    bad = next(((i, p) for i, p, s in shifts if s != common), None)
    return Miss(
        f"lines {start + 1}-{end} match only with an indentation that differs from line to line",
        advice="Indentation changes meaning, so it is never guessed. Copy every context and removed line "
        "with exactly the indentation it has in the file (shown above).",
        window=(start, end),
        bad=bad,
    )


def locate(ix: Index, hunk: Hunk) -> Placement:
    """Where `hunk` goes in the file indexed by `ix`; Miss if nowhere or in more than one place."""
    old = hunk.old_lines
    m = len(old)
    if m == 0:
        if not ix.lines:
            return Placement(0, 0, [], SAME, "exact")
        raise Miss(
            "the hunk has no context or removed lines, so its place is unknown",
            advice="Include two or three unchanged lines from the file before and after the added lines.",
        )
    texts = [t for _, t in old]
    starts = exact_starts(ix, texts)
    if starts:
        s = starts[0] if len(starts) == 1 else _tiebreak(starts, hunk)
        if s is None:
            raise _ambiguous(starts, m, "exact")
        return Placement(s, s + m, list(range(s, s + m)), SAME, "exact")
    good, crooked = loose_starts(ix, texts)
    if good:
        if len(good) == 1:
            s, ind = good[0]
        else:
            pick = _tiebreak([g[0] for g in good], hunk)
            if pick is None:
                raise _ambiguous([g[0] for g in good], m, "loose")
            s, ind = next(g for g in good if g[0] == pick)
        return Placement(s, s + m, list(range(s, s + m)), ind, "loose")
    if crooked:
        raise _indent_miss(hunk, ix.lines, crooked[0], crooked[0] + m, list(range(crooked[0], crooked[0] + m)))
    if m < 2 or not ix.lines:
        raise Miss("context not found")
    return _fuzzy(ix, hunk, old)
