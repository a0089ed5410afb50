"""Token counts for budgets and context sizing, without a tokenizer."""

from __future__ import annotations


def estimate_tokens(text: str) -> int:
    """A provider-independent estimate (about 4 characters a token) used for budgets only.

    Costs come from the provider's reported usage; this never fetches a tokenizer.
    """
    return (len(text) + 3) // 4
