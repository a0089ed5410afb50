"""The model boundary: what a flow asks of a model, and what comes back.

Flows only see `Provider.complete(ModelRequest) -> ModelReply`, through the gateway; the wiring and
`tieragent doctor` also ask a provider about its tiers (price, window, key, carrier) and prepare it.
Every method any of them calls is declared in `Provider`. The real implementations are
`http_provider.HttpProvider` and `litellm_adapter.LiteLLMProvider` (both `remote.RemoteProvider`s,
put together per tier by `providers.TieredProvider`); `scripted.ScriptedProvider` answers from a
script, for `tieragent demo` and for tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..core.config import Price
from ..core.vocab import Effort, Step, StrEnum, Tier


@dataclass(frozen=True)
class ModelRequest:
    step: Step
    tier: Tier
    messages: tuple[dict[str, str], ...]
    max_tokens: int  # room for the answer
    effort: Effort | None = None  # the reasoning effort to send (one the model takes); None: the provider's default
    reasoning_tokens: int = 0  # room for the reasoning, on top of max_tokens (every provider counts both in one limit)

    def prompt_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages)

    @property
    def output_cap(self) -> int:
        """The output limit sent: the answer's room and the reasoning's."""
        return self.max_tokens + self.reasoning_tokens


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # all prompt tokens, cached ones included
    cached_input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False  # the provider reported no usage; figures are estimates
    cache_write_tokens: int = 0  # of input_tokens, those written to the provider's prompt cache
    reasoning_tokens: int = 0  # of output_tokens, those spent reasoning (billed as output; not in the reply's text)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.output_tokens + other.output_tokens,
            self.estimated or other.estimated,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(frozen=True)
class ModelReply:
    text: str
    usage: Usage
    model: str
    seconds: float
    truncated: bool = False  # cut at max_tokens (finish_reason "length"): never to be used as if complete


class Carrier(StrEnum):
    """What carries a tier's calls."""

    HTTP = "http"  # tieragent's own HTTP client (OpenAI's, Anthropic's and Ollama's wire formats)
    LITELLM = "litellm"  # litellm, for every other provider (or all, with provider.client: litellm)
    SCRIPTED = "scripted"  # canned replies: the demo and tests


@dataclass(frozen=True)
class KeyStatus:
    """Where a tier's key comes from. `variables` are alternatives: any one of them set will do."""

    variables: tuple[str, ...]  # empty when the key's variable is not known by name, or none is needed
    present: tuple[str, ...]  # those of `variables` that are set
    needs_key: bool  # False: the provider takes no key (a local endpoint)

    @property
    def ok(self) -> bool:
        return bool(self.present) or not self.variables


@runtime_checkable
class Provider(Protocol):
    """Every tier's model, as the gateway, the wiring and `tieragent doctor` use it."""

    def complete(self, request: ModelRequest) -> ModelReply:
        """Answer one request or raise `errors.ProviderError` (after the provider's own retries)."""

    def known_price(self, tier: Tier) -> Price | None:
        """The price of the tier's model when the config gives none; None when nobody knows it."""

    def context_window(self, tier: Tier) -> int | None:
        """The tier's model's context window in tokens when the config gives none; None when unknown."""

    def key_status(self, tier: Tier) -> KeyStatus:
        """Which variables the tier's key is read from, and which of them are set: names, never values."""

    def carriers(self) -> dict[Tier, Carrier]:
        """What carries each tier's calls."""

    def preflight(self, *, check_keys: bool = True) -> None:
        """Raise `UsageError` before any call when a tier cannot be called: an unknown provider, an
        endpoint that is not a URL, or (`check_keys`) a key that is not set."""

    def warm_up(self) -> None:
        """Do now the imports and setup the first call would otherwise pay for (best effort)."""


@dataclass(frozen=True)
class Models:
    """The provider for every tier, with what is known of each tier's price and context window."""

    provider: Provider
    prices: dict[Tier, Price | None]
    context_windows: dict[Tier, int | None]
    warnings: list[str] = field(default_factory=list)  # e.g. a model with no known price
