"""Which tier answers a question asked in a chat session (`/ask`), without a model call to decide.

A short lookup over little code ("what does parse() return?") goes to the small tier; a question
that asks for judgement (why, design, a plan, a comparison) or reads a lot of code goes to the mid
tier. The frontier answers only when the user asks for it: `/ask!` or `/tier frontier`.
"""

from __future__ import annotations

import re

from ..core.vocab import FRONTIER, MID, SMALL, Tier

LOOKUP_MAX_WORDS = 30
LOOKUP_MAX_CONTEXT_TOKENS = 6000  # the small tier reads this much code well; more goes to the mid tier
JUDGEMENT = re.compile(
    r"\b(why|should|design|architect\w*|refactor\w*|trade-?offs?|compare|comparison|best way|approach|plan|"
    r"review|improve|bug|wrong|fails?|failing|secure|security|race|deadlock|performance|slow)\b",
    re.IGNORECASE,
)


def ask_tier(question: str, context_tokens: int, chosen: Tier | None, escalate: bool) -> tuple[Tier, str]:
    """The tier for `question` and why. `escalate`: asked with `/ask!`; `chosen`: the session's `/tier`."""
    if escalate:
        return FRONTIER, "asked with /ask!"
    if chosen is not None:
        return chosen, f"/tier {chosen}"
    words = len(question.split())
    judgement = JUDGEMENT.search(question)
    if judgement:
        return MID, f"the question asks for judgement ({judgement.group(0).lower()!r})"
    if words > LOOKUP_MAX_WORDS:
        return MID, f"a long question ({words} words)"
    if context_tokens > LOOKUP_MAX_CONTEXT_TOKENS:
        return MID, f"much code to read ({context_tokens:,} tokens)"
    return SMALL, "a short lookup over little code"
