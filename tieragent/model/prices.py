"""Cost arithmetic: what a call cost, and the most it could cost before it is made."""

from __future__ import annotations

from ..core.config import Price
from .protocol import Usage


def cost_usd(usage: Usage, price: Price | None) -> float | None:
    """None means unknown (shown as '?'), never a silent $0."""
    if price is None:
        return None
    cached_price = price.cached_input_per_mtok if price.cached_input_per_mtok is not None else price.input_per_mtok
    write_price = price.cache_write_per_mtok if price.cache_write_per_mtok is not None else price.input_per_mtok
    uncached = max(usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens, 0)
    return (
        uncached * price.input_per_mtok
        + usage.cached_input_tokens * cached_price
        + usage.cache_write_tokens * write_price
        + usage.output_tokens * price.output_per_mtok
    ) / 1_000_000


def worst_case_cost(price: Price | None, prompt_tokens: int, max_output_tokens: int) -> float | None:
    """The prompt at the input price (or the cache-write price, when that is higher: the whole prompt
    may be written to the cache) plus every allowed output token at the output price."""
    if price is None:
        return None
    input_price = max(price.input_per_mtok, price.cache_write_per_mtok or 0.0)
    return (prompt_tokens * input_price + max_output_tokens * price.output_per_mtok) / 1_000_000
