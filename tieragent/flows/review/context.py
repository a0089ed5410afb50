"""What a reviewer sees around a hunk: the enclosing function or class after the change, and pieces
of a hunk too large for one call."""

from __future__ import annotations

from ...core.tokens import estimate_tokens
from ...repo.map import symbols_for_source
from .model import Hunk

AROUND_LINES = 15  # without an enclosing definition: this many lines on each side of the hunk
MAX_CODE_LINES = 150


def enclosing_code(path: str, new: bytes | None, hunk: Hunk) -> str:
    """The smallest definition enclosing the hunk's changed lines, numbered; or the lines around it."""
    return numbered_code(new, enclosing_span(path, new, hunk))


def numbered_code(new: bytes | None, span: tuple[int, int] | None) -> str:
    """Lines `span` of the new side, numbered and fenced; a note when there are none."""
    if span is None or new is None:
        return "(not available: only the diff is known)"
    lines = new.decode("utf-8", errors="replace").splitlines()
    start, end = span
    width = len(str(end))
    body = "\n".join(f"{n:>{width}} | {lines[n - 1]}" for n in range(start, end + 1) if n <= len(lines))
    fence = "````" if "```" in body else "```"
    return f"{fence}\n{body}\n{fence}"


def enclosing_span(path: str, new: bytes | None, hunk: Hunk) -> tuple[int, int] | None:
    """The new-side lines `enclosing_code` shows for the hunk (first, last); None when it shows none.
    A finding on one of them is about the change even when it is not on a changed line."""
    if new is None or b"\0" in new[:8192]:
        return None
    lines = new.decode("utf-8", errors="replace").splitlines()
    first, last = hunk.new_start, hunk.new_start + max(hunk.new_len, 1) - 1
    if hunk.added:
        first, last = hunk.added[0][0], hunk.added[-1][0]
    start, end = max(first - AROUND_LINES, 1), min(last + AROUND_LINES, len(lines))
    try:
        symbols = symbols_for_source(path, new)
    except Exception:  # an unsupported language or a parse failure: the lines around the hunk
        symbols = []
    around = [s for s in symbols if s.line <= first and s.end_line >= last]
    if around:
        best = min(around, key=lambda s: s.end_line - s.line)
        start, end = best.line, best.end_line
    if end - start + 1 > MAX_CODE_LINES:  # a huge class: keep the part near the change
        start, end = max(first - AROUND_LINES, start), min(max(last + AROUND_LINES, first + MAX_CODE_LINES - 1), end)
    return start, min(end, len(lines))


def split_hunk(hunk: Hunk, new: bytes | None, path: str, budget_tokens: int) -> list[Hunk] | None:
    """The hunk cut into pieces of at most `budget_tokens`, at definition starts where they are known,
    else at blank lines; None when a piece cannot be made small enough."""
    lines = hunk.text.splitlines(keepends=True)
    if lines and lines[0].startswith("@@"):
        lines = lines[1:]
    starts: set[int] = set()
    if new is not None:
        try:
            starts = {s.line for s in symbols_for_source(path, new) if not s.local}
        except Exception:
            starts = set()
    pieces: list[list[tuple[str, int | None, int | None]]] = [[]]
    old_no, new_no = hunk.old_start, hunk.new_start
    for line in lines:
        kind = line[:1]
        here_new = new_no if kind in (" ", "+") else None
        here_old = old_no if kind in (" ", "-") else None
        cut = pieces[-1] and ((here_new is not None and here_new in starts) or (not starts and not line[1:].strip()))
        if cut and estimate_tokens("".join(t for t, _, _ in pieces[-1])) > budget_tokens // 4:
            pieces.append([])
        pieces[-1].append((line, here_old, here_new))
        if kind in (" ", "-"):
            old_no += 1
        if kind in (" ", "+"):
            new_no += 1
    # pack pieces into calls within the budget
    packed: list[list[tuple[str, int | None, int | None]]] = [[]]
    for piece in pieces:
        size = estimate_tokens("".join(t for t, _, _ in piece))
        if size > budget_tokens:
            return None
        if packed[-1] and estimate_tokens("".join(t for t, _, _ in packed[-1])) + size > budget_tokens:
            packed.append([])
        packed[-1].extend(piece)
    return [_piece(hunk, n, part) for n, part in enumerate(packed, 1) if part]


def _piece(hunk: Hunk, n: int, part: list[tuple[str, int | None, int | None]]) -> Hunk:
    old_lines = [o for _, o, _ in part if o is not None]
    new_lines = [w for _, _, w in part if w is not None]
    old_start = old_lines[0] if old_lines else hunk.old_start
    new_start = new_lines[0] if new_lines else hunk.new_start
    header = f"@@ -{old_start},{len(old_lines)} +{new_start},{len(new_lines)} @@ (part {n} of a large hunk)"
    added = tuple((w, t[1:].rstrip("\n")) for t, _, w in part if t.startswith("+") and w is not None)
    removed = tuple((o, t[1:].rstrip("\n")) for t, o, _ in part if t.startswith("-") and o is not None)
    return Hunk(
        id=hunk.id,
        path=hunk.path,
        old_path=hunk.old_path,
        status=hunk.status,
        header=header,
        text=header + "\n" + "".join(t for t, _, _ in part),
        new_start=new_start,
        new_len=len(new_lines),
        old_start=old_start,
        old_len=len(old_lines),
        added=added,
        removed=removed,
    )
