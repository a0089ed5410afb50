"""Rendering signatures within a token budget.

A file block is the path, then a selection of its definitions' signature lines in source
order, indented by nesting, and `… +N more` when some were left out:

    src/requests/sessions.py
      class SessionRedirectMixin:
        def rebuild_auth(self, prepared_request, response):
      … +27 more

Tokens are estimated as ceil(chars / 4), the project's convention (provider.estimate_tokens),
so a budget of N tokens is 4N characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .tags import Symbol
from .terms import identifier_terms

INDENT = "  "
MAX_FILES = 40
HIDDEN = 99  # priority of definitions shown only when the request names them (module-level variables)
# lines per file block by rank: the first files get more room
LINES_BY_RANK = ((3, 24), (8, 10), (10**9, 5))
# with a request, lines per block that neither are named in it nor share a word with it
OTHER_LINES_BY_RANK = ((3, 8), (8, 4), (10**9, 2))
_UPPER_CONST = re.compile(r"^[A-Z][A-Z0-9_]+$")


def symbol_priority(sym: Symbol, named: set[str], words: set[str]) -> tuple[int, int]:
    """Lower is shown first: named in the request, then matching its words, then the API."""
    if sym.name in named:
        return (0, 0)
    overlap = _overlap(identifier_terms(sym.name), words) if words else 0
    if overlap:
        return (1, -overlap)
    private = sym.name.startswith("_") and not (sym.name.startswith("__") and sym.name.endswith("__"))
    if sym.kind == "variable":
        return (5 if _UPPER_CONST.match(sym.name) else HIDDEN, 0)
    if sym.kind in ("function", "method", "constructor", "macro"):
        if sym.name.startswith("__") and sym.name.endswith("__"):
            return (4 if sym.name == "__init__" else 6, 0)
        if private:
            return (5, 0)
        return (2 if sym.kind == "function" else 3, 0)
    return (2 if not private else 5, 0)  # classes, interfaces, types...


def _overlap(terms: Iterable[str], words: set[str]) -> int:
    """Terms of a name that match the request's words, exactly or as a prefix of 4+ letters
    (`auth` matches `authorization`), as the lexical score does."""
    n = 0
    for t in terms:
        if t in words or (len(t) >= 4 and any(w.startswith(t) or (len(w) >= 4 and t.startswith(w)) for w in words)):
            n += 1
    return n


def outline_symbols(defs: Sequence[Symbol]) -> list[Symbol]:
    """The definitions worth showing: not local to a function body."""
    return [d for d in defs if not d.local]


def select(
    defs: Sequence[Symbol],
    limit: int,
    named: set[str],
    words: set[str],
    max_unnamed: int | None = None,
    popularity: dict[str, int] | None = None,
) -> list[Symbol]:
    """At most `limit` definitions (best first), plus the enclosing ones they need, in source order.
    With `max_unnamed`, at most that many of them are neither named nor match `words`. Among
    equals, names used by more files (`popularity`) come first."""
    if limit <= 0 or not defs:
        return []
    popular = popularity or {}
    order = sorted(
        range(len(defs)), key=lambda i: (symbol_priority(defs[i], named, words), -popular.get(defs[i].name, 0), i)
    )
    chosen: set[int] = set()
    by_name_line = {(d.name, d.line): i for i, d in enumerate(defs)}
    unnamed = 0
    for i in order:
        prio = symbol_priority(defs[i], named, words)[0]
        if prio >= HIDDEN:
            break
        if max_unnamed is not None and prio >= 2:
            if unnamed >= max_unnamed:
                continue
            unnamed += 1
        need = {i} | _ancestors(defs, i, by_name_line)
        if len(chosen | need) > limit:
            continue
        chosen |= need
        if len(chosen) >= limit:
            break
    return [defs[i] for i in sorted(chosen)]


def _ancestors(defs: Sequence[Symbol], i: int, by_name_line: dict[tuple[str, int], int]) -> set[int]:
    out: set[int] = set()
    target = defs[i]
    for j in range(i - 1, -1, -1):
        d = defs[j]
        if d.line <= target.line and d.end_line >= target.end_line and d.name == target.parent:
            out.add(j)
            target = d
            if d.parent is None:
                break
    return out


def render_block(path: str, shown: Sequence[Symbol], total: int, note: str = "") -> str:
    lines = [path + (f"  ({note})" if note else "")]
    stack: list[int] = []  # end lines of the enclosing shown definitions
    for d in shown:
        while stack and stack[-1] < d.line:
            stack.pop()
        lines.append(INDENT * (len(stack) + 1) + d.signature)
        stack.append(d.end_line)
    if total > len(shown):
        lines.append(f"{INDENT}… +{total - len(shown)} more")
    return "\n".join(lines) + "\n"


def pack(
    blocks: Iterable[tuple[str, Sequence[Symbol], int, str] | tuple[str, Sequence[Symbol], int, str, int | None]],
    token_budget: int,
    named: set[str] | None = None,
    words: set[str] | None = None,
    max_files: int = MAX_FILES,
    max_unnamed: int | None = None,
    popularity: dict[str, int] | None = None,
) -> str:
    """Render (path, definitions, line limit, note[, max other lines]) blocks in order until the
    budget is spent."""
    named = named or set()
    words = words or set()
    budget_chars = max(token_budget, 0) * 4
    out: list[str] = []
    used = 0
    for n, block_spec in enumerate(blocks):
        if n >= max_files:
            break
        path, defs, limit, note = block_spec[:4]
        others = block_spec[4] if len(block_spec) > 4 else max_unnamed
        room = budget_chars - used
        header = len(path) + 1 + (len(note) + 4 if note else 0)
        if room < header:
            break
        shown = select(defs, limit, named, words, others, popularity)
        block = render_block(path, shown, len(defs), note)
        while len(block) > room and shown:
            shown = select(defs, len(shown) - 1, named, words, others, popularity)
            block = render_block(path, shown, len(defs), note)
        if len(block) > room:
            break
        out.append(block)
        used += len(block)
    return "".join(out)


def line_limit(rank: int, table: tuple[tuple[int, int], ...] = LINES_BY_RANK) -> int:
    for upto, limit in table:
        if rank < upto:
            return limit
    return table[-1][1]
