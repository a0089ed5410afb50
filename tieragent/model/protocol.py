"""The model boundary: what a flow asks of a model, and what comes back.

Flows only see `Provider.complete(ModelRequest) -> ModelReply`, through the gateway. The real
implementations are `http_provider.HttpProvider` and `litellm_adapter.LiteLLMProvider` (put
together per tier by `providers.real_provider`); `scripted.ScriptedProvider` answers from a
script, for `tieragent demo` and for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..core.config import Price
from ..core.vocab import Step, Tier


@dataclass(frozen=True)
class ModelRequest:
    step: Step
    tier: Tier
    messages: tuple[dict[str, str], ...]
    max_tokens: int

    def prompt_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # all prompt tokens, cached ones included
    cached_input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False  # the provider reported no usage; figures are estimates
    cache_write_tokens: int = 0  # of input_tokens, those written to the provider's prompt cache

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.output_tokens + other.output_tokens,
            self.estimated or other.estimated,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass(frozen=True)
class ModelReply:
    text: str
    usage: Usage
    model: str
    seconds: float
    truncated: bool = False  # cut at max_tokens (finish_reason "length"): never to be used as if complete


class Provider(Protocol):
    def complete(self, request: ModelRequest) -> ModelReply:
        """Answer one request or raise `errors.ProviderError` (after the provider's own retries)."""

    def known_price(self, tier: Tier) -> Price | None:
        """The price of the tier's model when the config gives none; None when nobody knows it."""


@dataclass(frozen=True)
class Models:
    """The provider for every tier, with what is known of each tier's price and context window."""

    provider: Provider
    prices: dict[Tier, Price | None]
    context_windows: dict[Tier, int | None]
    warnings: list[str] = field(default_factory=list)  # e.g. a model with no known price
