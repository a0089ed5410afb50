"""What the real providers share: their base class (`RemoteProvider`: the common fields, the call
with retries, the key lookup and its messages), the retry loop, the error kinds and how they read,
and where a prompt's cache breakpoints go.

Two providers call models over the network: `http_provider.HttpProvider` speaks the OpenAI,
Anthropic and Ollama wire formats itself, `litellm_adapter.LiteLLMProvider` reaches every other
provider through litellm. Both classify a failure into one of `KIND_TEXT`'s kinds and retry the same
way, so a fault has the same outcome whichever of them carried the call.
"""

from __future__ import annotations

import os
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..core.config import Price, ProviderConfig, TierConfig
from ..core.errors import ProviderError, UsageError
from ..core.tokens import estimate_tokens
from ..core.vocab import Tier
from .protocol import Carrier, KeyStatus, ModelReply, ModelRequest, Usage

KIND_TEXT = {
    "auth": "authentication failed",
    "rate_limit": "rate limited",
    "timeout": "timed out",
    "unreachable": "unreachable",
    "not_found": "model or endpoint not found",
    "bad_request": "rejected the request",
    "server": "server error",
    "context_window": "the prompt does not fit the model's context window",
    "unknown": "failed",
}

# What providers say when the prompt is longer than the model's window (OpenAI's error code,
# its message, Anthropic's message, and the phrasing of common OpenAI-compatible servers).
CONTEXT_WINDOW_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "prompt is too long",
    "context window",
    "exceeds the context",
    "too many tokens",
)


def kind_of_status(status: int, message: str = "") -> tuple[str, bool]:
    """(kind, retryable) for an HTTP error status and the provider's message."""
    if status in (401, 403):
        return "auth", False
    if status == 404:
        return "not_found", False
    if status == 429:
        return "rate_limit", True
    if status == 408:
        return "timeout", True
    if status in (400, 413, 422):
        if any(marker in message.lower() for marker in CONTEXT_WINDOW_MARKERS):
            return "context_window", False
        return "bad_request", False
    if status >= 500:  # 529 is Anthropic's "overloaded"
        return "server", True
    return "unknown", False


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a 429's Retry-After header (seconds, or an HTTP date), when the reply had one."""
    if not headers:
        return None
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
    except AttributeError:
        return None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


def call_with_retries(
    once: Callable[[], ModelReply],
    settings: ProviderConfig,
    sleep: Callable[[float], None],
    jitter: Callable[[], float],
) -> ModelReply:
    """`once()`, retried after a retryable ProviderError: exponential backoff with full jitter (so
    many clients do not retry in step), a 429's Retry-After as given, and never more waiting in
    all than `settings.max_wait_s`."""
    attempts = settings.retries + 1
    delay, waited = settings.backoff_s, 0.0
    for attempt in range(1, attempts + 1):
        try:
            return once()
        except ProviderError as err:
            if not err.retryable or attempt == attempts:
                raise
            wait = err.retry_after if err.retry_after is not None else delay * (0.5 + jitter() / 2)
            if waited + wait > settings.max_wait_s:
                err.message += (
                    f" (gave up: waiting {wait:.0f}s more would pass provider.max_wait_s = {settings.max_wait_s:.0f}s)"
                )
                raise
            sleep(wait)
            waited += wait
            delay *= 2
    raise AssertionError("unreachable")


def provider_error(
    tier: Tier,
    cfg: TierConfig,
    kind: str,
    retryable: bool,
    detail: str,
    *,
    key: str | None = None,
    key_env: str | None = None,
    retry_after: float | None = None,
    endpoint: str | None = None,
) -> ProviderError:
    """The error a flow sees: the tier, the model and endpoint (`endpoint`, else the tier's api_base),
    what went wrong, and what to check. The key's value, if the provider echoed it, is blanked."""
    endpoint = endpoint or cfg.api_base
    detail = (detail.splitlines()[0] if detail else "") or kind
    if key:
        detail = detail.replace(key, "***")
    hint = None
    if kind == "auth":
        hint = f"Check the key in {key_env}." if key_env else "Check the provider key."
    elif kind == "not_found":
        hint = f"Check tiers.{tier}.model ({cfg.model})" + (
            f" and tiers.{tier}.api_base ({cfg.api_base})." if cfg.api_base else "."
        )
    elif kind in ("unreachable", "server", "timeout"):
        hint = f"Is {endpoint or 'the provider'} reachable and healthy from here?"
    where = f"{cfg.model} at {endpoint}" if endpoint else cfg.model
    message = f"{tier} tier ({where}): {KIND_TEXT[kind]}: {detail[:300]}"
    return ProviderError(
        kind, message, retryable=retryable, hint=hint, retry_after=retry_after if kind == "rate_limit" else None
    )


def estimated_usage(request: ModelRequest, text: str) -> Usage:
    """Usage counted from the text, marked as estimated, for a provider that reports none."""
    return Usage(estimate_tokens(request.prompt_text()), 0, estimate_tokens(text), estimated=True)


def caches_by_breakpoint(model: str) -> bool:
    """Anthropic's models cache a prompt prefix only where the request marks it; OpenAI's and
    Gemini's cache prefixes by themselves."""
    name = model.lower()
    return name.startswith(("anthropic/", "bedrock/anthropic", "vertex_ai/claude", "claude"))


def with_cache_breakpoints(messages: tuple[dict[str, str], ...]) -> list[dict[str, Any]]:
    """The messages with a cache breakpoint after the stable prefix: the system message and the
    first user message (the files, the outline, the request). What follows (feedback on a failed
    attempt) changes per call and is not marked."""
    out: list[dict[str, Any]] = []
    marked = 0
    for m in messages:
        if marked < 2 and m["role"] in ("system", "user"):
            out.append(
                {
                    "role": m["role"],
                    "content": [{"type": "text", "text": m["content"], "cache_control": {"type": "ephemeral"}}],
                }
            )
            marked += 1
        else:
            out.append(dict(m))
    return out


@dataclass
class RemoteProvider(ABC):
    """A `Provider` that calls models over the network: what `HttpProvider` and `LiteLLMProvider` share.

    A tier's key is the variable its `api_key_env` names; without one, the provider's usual variable,
    which each carrier finds its own way (`usual_key_status`, `missing_keys`). A missing key is a
    `UsageError` (exit 2) worded the same whichever carrier would have made the call.
    """

    tiers: dict[Tier, TierConfig]
    settings: ProviderConfig = field(default_factory=ProviderConfig)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    carrier: ClassVar[Carrier]

    def complete(self, request: ModelRequest) -> ModelReply:
        self.require_key(request.tier)
        return call_with_retries(lambda: self.attempt(request), self.settings, self.sleep, self.jitter)

    def carriers(self) -> dict[Tier, Carrier]:
        return dict.fromkeys(self.tiers, self.carrier)

    def key_status(self, tier: Tier) -> KeyStatus:
        name = self.tiers[tier].api_key_env
        if name:
            return KeyStatus((name,), (name,) if self.environ.get(name) else (), needs_key=True)
        return self.usual_key_status(tier)

    def require_key(self, tier: Tier) -> None:
        """UsageError (exit 2) naming the variable when the tier's key is not set."""
        cfg = self.tiers[tier]
        if cfg.api_key_env:
            if not self.environ.get(cfg.api_key_env):
                raise UsageError(
                    f"tiers.{tier}.api_key_env: the variable {cfg.api_key_env} is not set",
                    hint=f"export {cfg.api_key_env}=... (the key for {cfg.model}), or remove api_key_env.",
                )
            return
        missing = self.missing_keys(tier)
        if missing:
            raise UsageError(
                f"tiers.{tier}: {cfg.model} needs {', '.join(missing)}, which is not set",
                hint=f"export {missing[0]}=..., or set tiers.{tier}.api_key_env to the variable that holds the key.",
            )

    def missing_keys(self, tier: Tier) -> list[str]:
        """For a tier without `api_key_env`: the usual variables its provider needs that are not set."""
        status = self.usual_key_status(tier)
        return [] if status.ok else list(status.variables)

    def sent_key(self, tier: Tier) -> str | None:
        """The key's value, when this provider hands it over itself (`key_variable`)."""
        name = self.key_variable(tier)
        return self.environ.get(name) if name else None

    @abstractmethod
    def usual_key_status(self, tier: Tier) -> KeyStatus:
        """`key_status` for a tier without `api_key_env`."""

    @abstractmethod
    def key_variable(self, tier: Tier) -> str | None:
        """The variable whose value this provider sends as the tier's key; None: it sends none itself."""

    @abstractmethod
    def attempt(self, request: ModelRequest) -> ModelReply:
        """One try at the call: a reply, or a ProviderError saying whether another try could help."""

    @abstractmethod
    def known_price(self, tier: Tier) -> Price | None: ...

    @abstractmethod
    def context_window(self, tier: Tier) -> int | None: ...

    @abstractmethod
    def preflight(self, *, check_keys: bool = True) -> None: ...

    @abstractmethod
    def warm_up(self) -> None: ...
