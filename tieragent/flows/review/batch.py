"""Small hunks of one file reviewed in one call.

Every review call repeats the system prompt, the answer format and the related signatures, and
hunks of one function repeat its code: for a file with several small hunks that is most of the
prompt. So hunks of one file going to one tier are reviewed together while they stay small;
large hunks, and hunks that must be split, keep a call of their own. The plan is a pure function
of the assessed hunks and their sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...core.tokens import estimate_tokens
from .model import Assessed, Hunk

MAX_HUNKS_PER_CALL = 5
SMALL_HUNK_TOKENS = 400  # a hunk's diff above this is reviewed on its own
BATCH_TOKENS = 4000  # the diffs of one call and the code around them (each piece of code counted once), at most


@dataclass(frozen=True)
class Part:
    """One hunk as the reviewer sees it: the diff, the code around it, why it was rated as it is."""

    hunk: Hunk
    code: str
    risk_note: str
    span: tuple[int, int] | None = None  # the new-side lines `code` shows; None when it shows none


def plan_batches(assessed: list[Assessed], code: Callable[[Assessed], str]) -> list[list[Assessed]]:
    """The review calls, in the order of their first hunk (riskiest first, as `assessed` is):
    hunks of one path and one reviewing tier share a call while each hunk's diff is at most
    SMALL_HUNK_TOKENS and the call stays within MAX_HUNKS_PER_CALL and BATCH_TOKENS (`code`: the
    code shown around a hunk; two hunks in one function share it). A large hunk is a call of its own."""
    batches: list[list[Assessed]] = []
    open_batch: dict[tuple[str, str], int] = {}  # (path, tier) -> index in batches
    codes: dict[int, set[str]] = {}  # index -> the code its hunks show
    used: dict[int, int] = {}  # index -> tokens so far
    for a in assessed:
        diff, around = estimate_tokens(a.hunk.text), code(a)
        key = (a.hunk.path, a.tier)
        i = open_batch.get(key)
        if diff <= SMALL_HUNK_TOKENS and i is not None and len(batches[i]) < MAX_HUNKS_PER_CALL:
            more = diff + (0 if around in codes[i] else estimate_tokens(around))
            if used[i] + more <= BATCH_TOKENS:
                batches[i].append(a)
                used[i] += more
                codes[i].add(around)
                continue
        batches.append([a])
        if diff <= SMALL_HUNK_TOKENS:
            n = len(batches) - 1
            open_batch[key], used[n], codes[n] = n, diff + estimate_tokens(around), {around}
    return batches


def changes_block(parts: list[Part]) -> str:
    """The prompt's `changes`: each hunk's heading, diff and code; code already shown for an
    earlier hunk (two hunks in one function) is not repeated."""
    shown: set[str] = set()
    out = []
    for n, part in enumerate(parts, 1):
        heading = f"### Change {part.hunk.id}" + (f" ({n} of {len(parts)})" if len(parts) > 1 else "")
        code = part.code if part.code not in shown else "(the same code as shown for an earlier change above)"
        shown.add(part.code)
        out.append(
            f"{heading}\nRated: {part.risk_note}\n\n```diff\n{part.hunk.text.rstrip(chr(10))}\n```\n\n"
            f"The code around it:\n{code}\n"
        )
    return "\n".join(out)
