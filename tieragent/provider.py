"""The model boundary: what the pipeline asks of a model, and what comes back.

The pipeline only sees `Provider.complete(ModelRequest) -> ModelReply`. The real implementation
(`litellm_provider.LiteLLMProvider`) is the one module that imports litellm; `ScriptedProvider`
answers from a script, for `tieragent demo` and for tests.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Protocol

from .config import Price, Tier, TierConfig

STEPS = ("classify", "patch", "summarize", "commit-message")


def estimate_tokens(text: str) -> int:
    """A provider-independent estimate (about 4 characters a token) used for budgets only.

    Costs come from the provider's reported usage; this never fetches a tokenizer.
    """
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class ModelRequest:
    step: str  # one of STEPS
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

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.output_tokens + other.output_tokens,
            self.estimated or other.estimated,
        )


@dataclass(frozen=True)
class ModelReply:
    text: str
    usage: Usage
    model: str
    seconds: float


class Provider(Protocol):
    def complete(self, request: ModelRequest) -> ModelReply:
        """Answer one request or raise `errors.ProviderError` (after the provider's own retries)."""

    def known_price(self, tier: Tier) -> Price | None:
        """The price of the tier's model when the config gives none; None when nobody knows it."""


def cost_usd(usage: Usage, price: Price | None) -> float | None:
    """None means unknown (shown as '?'), never a silent $0."""
    if price is None:
        return None
    cached_price = price.cached_input_per_mtok if price.cached_input_per_mtok is not None else price.input_per_mtok
    uncached = max(usage.input_tokens - usage.cached_input_tokens, 0)
    return (
        uncached * price.input_per_mtok
        + usage.cached_input_tokens * cached_price
        + usage.output_tokens * price.output_per_mtok
    ) / 1_000_000


Responder = Callable[[ModelRequest], str]


@dataclass
class ScriptedProvider:
    """Answers each (step, tier) from a queue of canned replies, or from a function.

    Usage is estimated from text length and marked as such. Every request is kept in
    `requests`, so tests can assert on what would have been sent.
    """

    tiers: dict[Tier, TierConfig]
    script: dict[tuple[str, Tier], list[str]] = field(default_factory=dict)
    responder: Responder | None = None
    requests: list[ModelRequest] = field(default_factory=list)
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        self._queues = {k: deque(v) for k, v in self.script.items()}

    def complete(self, request: ModelRequest) -> ModelReply:
        self.requests.append(request)
        started = time.monotonic()
        if self.delay_s:
            time.sleep(self.delay_s)
        queue = self._queues.get((request.step, request.tier))
        if queue:
            text = queue.popleft() if len(queue) > 1 else queue[0]
        elif self.responder is not None:
            text = self.responder(request)
        else:
            text = ""
        usage = Usage(estimate_tokens(request.prompt_text()), 0, estimate_tokens(text), estimated=True)
        return ModelReply(text, usage, self.tiers[request.tier].model, time.monotonic() - started)

    def known_price(self, tier: Tier) -> Price | None:
        return None
