"""The real model boundary, through litellm. The only module that imports litellm, and only lazily.

Importing litellm costs seconds and hundreds of MB, so commands that call no model never do.
Before the import we pin two environment variables: LITELLM_MODE=PRODUCTION (otherwise the
import loads a `.env` from the working directory or a parent into this process) and
LITELLM_LOCAL_MODEL_COST_MAP=True (otherwise it fetches the price map over the network).
litellm's own retries are off (`max_retries=0`; its `num_retries` retries 401s and needs an
undeclared package); tieragent's own loop (`remote.RemoteProvider.complete`) retries, as for every carrier.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..core.config import Price
from ..core.errors import ProviderError, UsageError
from ..core.tokens import estimate_tokens
from ..core.vocab import Tier
from .model_map import price_from_map
from .protocol import Carrier, KeyStatus, ModelReply, ModelRequest, Usage
from .reasoning import family_of, output_with_reasoning, sends_temperature
from .remote import (
    RemoteProvider,
    caches_by_breakpoint,
    estimated_usage,
    kind_of_status,
    provider_error,
    retry_after_seconds,
    with_cache_breakpoints,
)
from .wires import ollama_context

_litellm: Any = None
REFUSED_CONNECTION = ("connection error", "connection refused")  # OpenAI's client's words, and Anthropic's


def _import_litellm() -> Any:
    global _litellm
    if _litellm is None:
        os.environ["LITELLM_MODE"] = "PRODUCTION"
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        # litellm's types trip pydantic schema warnings at import and at call time; they are noise to users.
        # (The import prints nothing in PRODUCTION mode, and may run in a background thread, where
        # redirecting sys.stdout would steal the main thread's output: so no redirect here.)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pydantic\._internal")
        import litellm

        litellm.suppress_debug_info = True
        litellm.drop_params = True  # e.g. reasoning models reject temperature; drop rather than fail
        litellm.telemetry = False
        _litellm = litellm
    return _litellm


def _classify_error(exc: Exception) -> tuple[str, bool]:
    """(kind, retryable) for an exception raised by litellm.completion."""
    ll = _import_litellm()
    ex = ll.exceptions
    if isinstance(exc, (ex.AuthenticationError, ex.PermissionDeniedError)):
        return "auth", False
    if isinstance(exc, ex.RateLimitError):
        return "rate_limit", True
    if isinstance(exc, ex.Timeout):
        return "timeout", True
    if isinstance(exc, ex.APIConnectionError):
        return "unreachable", True
    if isinstance(exc, ex.NotFoundError):
        return "not_found", False
    if isinstance(exc, ex.ContextWindowExceededError):
        return "context_window", False
    if isinstance(exc, ex.InternalServerError) and any(m in str(exc).lower() for m in REFUSED_CONNECTION):
        return "unreachable", True  # a refused connection arrives as InternalServerError
    if isinstance(exc, (ex.InternalServerError, ex.ServiceUnavailableError, ex.BadGatewayError)):
        return "server", True
    if isinstance(exc, (ex.BadRequestError, ex.UnprocessableEntityError)):
        return kind_of_status(
            400, str(exc)
        )  # a context-window error litellm did not recognise, by the provider's words
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):  # e.g. some providers' 403 arrives as a plain APIError
        return kind_of_status(status, str(exc))
    return "unknown", False


def reported_usage(response: Any, request: ModelRequest, text: str, thinking: str = "") -> Usage:
    """The provider's usage figures, reasoning tokens included (litellm reports them as OpenAI does);
    estimated from the text (and marked so) when it reports none."""
    usage = getattr(response, "usage", None)
    if not usage or not getattr(usage, "prompt_tokens", None):
        return estimated_usage(request, text)
    details = getattr(usage, "prompt_tokens_details", None)
    cached = (getattr(details, "cached_tokens", None) or 0) if details else 0
    # Anthropic reports cache reads apart; litellm passes them on under their own name
    cached = max(int(cached), int(getattr(usage, "cache_read_input_tokens", None) or 0))
    written = int(getattr(usage, "cache_creation_input_tokens", None) or 0)
    out_details = getattr(usage, "completion_tokens_details", None)
    reasoning = int(getattr(out_details, "reasoning_tokens", None) or 0) if out_details else 0
    total = getattr(usage, "total_tokens", None)
    prompt = int(usage.prompt_tokens)
    output = output_with_reasoning(
        prompt, int(usage.completion_tokens or 0), reasoning, total if isinstance(total, int) else None
    )
    if not reasoning and thinking:  # e.g. Ollama's thinking, which litellm passes on without a count
        reasoning = min(estimate_tokens(thinking), output)
    return Usage(prompt, cached, output, cache_write_tokens=written, reasoning_tokens=reasoning)


@dataclass
class LiteLLMProvider(RemoteProvider):
    """`Provider` for every tier whose model only litellm knows how to call (or every tier, with
    `provider.client: litellm`)."""

    carrier = Carrier.LITELLM
    _keys_present: set[Tier] = field(default_factory=set, repr=False)  # tiers whose usual key was found

    # ------------------------------------------------------------ setup
    def _key_env_name(self, tier: Tier) -> str | None:
        cfg = self.tiers[tier]
        if cfg.api_key_env:
            return cfg.api_key_env
        missing = _import_litellm().validate_environment(model=cfg.model).get("missing_keys") or []
        return missing[0] if missing else None

    def key_variable(self, tier: Tier) -> str | None:
        return self.tiers[tier].api_key_env  # without one, litellm reads the provider's usual variable itself

    def preflight(self, *, check_keys: bool = True) -> None:
        """Fail before any file is touched when a tier's provider is unknown, or (`check_keys`) its key is
        missing. Without `check_keys`, a tier's key is checked before its first call instead, so a run
        needs no key for a tier it never calls."""
        ll = _import_litellm()
        for tier, cfg in self.tiers.items():
            try:
                ll.get_llm_provider(cfg.model)
            except Exception:
                raise UsageError(
                    f"tiers.{tier}.model: litellm does not know the provider of {cfg.model!r}",
                    hint="Use a 'provider/model' id, e.g. openai/gpt-5-mini or ollama/qwen2.5-coder.",
                ) from None
            if check_keys:
                self.require_key(tier)

    def warm_up(self) -> None:
        """Import what litellm otherwise imports on its first completion (about 0.4 s of pydantic models),
        so that it happens in the background too. Best effort: these are litellm's internal modules."""
        import importlib

        for name in ("litellm.proxy._types", "litellm.litellm_core_utils.prompt_templates.file_id_utils"):
            with contextlib.suppress(Exception):  # moved or renamed in another litellm: the first call pays instead
                importlib.import_module(name)

    def missing_keys(self, tier: Tier) -> list[str]:
        """Every variable litellm says the provider needs (all of them: e.g. Bedrock's two AWS keys) that
        is not set. A tier with `api_base` is not asked: local endpoints often need no key."""
        cfg = self.tiers[tier]
        if tier in self._keys_present or cfg.api_base:
            return []
        reported = _import_litellm().validate_environment(model=cfg.model).get("missing_keys") or []
        missing = [k for k in reported if not self.environ.get(k)]
        if not missing:
            self._keys_present.add(tier)  # validate_environment is not free: once per tier is enough
        return missing

    def usual_key_status(self, tier: Tier) -> KeyStatus:
        """For `tieragent doctor`, which must say what to export. litellm names the variables it found
        missing but not the one it found, so a set key is named by the provider's usual spellings.
        A tier with `api_base` needs no `*_API_BASE` variable: the config gives the endpoint."""
        cfg = self.tiers[tier]
        ll = _import_litellm()
        report = ll.validate_environment(model=cfg.model)
        reported = list(report.get("missing_keys") or [])
        missing = [k for k in reported if not (cfg.api_base and k.endswith("_API_BASE"))]
        if missing:
            return KeyStatus(tuple(missing), tuple(k for k in missing if self.environ.get(k)), needs_key=True)
        if reported or not report.get("keys_in_environment"):  # only an endpoint was missing, or no key is known
            return KeyStatus((), (), needs_key=False)
        try:
            provider = str(ll.get_llm_provider(cfg.model)[1]).upper()
        except Exception:
            return KeyStatus((), (), needs_key=True)
        usual = dict.fromkeys(
            (f"{provider}_API_KEY", f"{provider}_AUTH_TOKEN") + (("GOOGLE_API_KEY",) if provider == "GEMINI" else ())
        )
        present = tuple(n for n in usual if self.environ.get(n))
        return KeyStatus(present, present, needs_key=True)

    def _model_info(self, tier: Tier) -> dict[str, Any]:
        """litellm's local map entry for the tier's model, under any of the names it may be filed by."""
        ll = _import_litellm()
        model = self.tiers[tier].model
        candidates = [model]
        try:
            bare, provider, _, _ = ll.get_llm_provider(model)
            candidates += [bare, f"{provider}/{bare}"]
        except Exception:
            pass
        for name in candidates:
            entry = ll.model_cost.get(name)
            if isinstance(entry, dict) and entry:
                return entry
        return {}

    def known_price(self, tier: Tier) -> Price | None:
        return price_from_map(self._model_info(tier))

    def context_window(self, tier: Tier) -> int | None:
        return self._model_info(tier).get("max_input_tokens")

    # ------------------------------------------------------------ calls
    def attempt(self, request: ModelRequest) -> ModelReply:
        ll = _import_litellm()
        cfg = self.tiers[request.tier]
        kwargs: dict[str, Any] = {
            "model": cfg.model,
            "messages": with_cache_breakpoints(request.messages)
            if caches_by_breakpoint(cfg.model)
            else [dict(m) for m in request.messages],
            "max_tokens": request.output_cap,
            "timeout": cfg.timeout_s,
            "max_retries": 0,
            "extra_headers": {"X-Tieragent-Step": str(request.step), "X-Tieragent-Tier": request.tier},
        }
        if cfg.api_base:
            kwargs["api_base"] = cfg.api_base
        if request.effort is not None:
            kwargs["reasoning_effort"] = request.effort  # litellm maps it to its provider's form
        if cfg.temperature is not None and sends_temperature(family_of(cfg.model), request.effort):
            kwargs["temperature"] = cfg.temperature
        if cfg.model.startswith(
            ("ollama/", "ollama_chat/")
        ):  # else Ollama silently cuts the prompt at its default window
            kwargs["num_ctx"] = ollama_context(request, cfg.max_context)
        key = self.sent_key(request.tier)
        if key:
            kwargs["api_key"] = key
        elif cfg.api_base and not cfg.api_key_env:
            kwargs["api_key"] = "no-key"  # local OpenAI-compatible servers need some value
        if cfg.stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        started = time.monotonic()
        try:
            with contextlib.redirect_stdout(sys.stderr):
                response = ll.completion(**kwargs)
                if cfg.stream:
                    response = ll.stream_chunk_builder(list(response), messages=kwargs["messages"])
        except ProviderError:
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            kind, retryable = _classify_error(exc)
            raise self._error(request.tier, kind, retryable, exc) from None
        seconds = time.monotonic() - started
        text, thinking, finish = "", "", None
        if response is not None and response.choices:
            text = response.choices[0].message.content or ""
            thinking = str(getattr(response.choices[0].message, "reasoning_content", None) or "")
            finish = getattr(response.choices[0], "finish_reason", None)
        usage = reported_usage(response, request, text, thinking)
        return ModelReply(text, usage, cfg.model, seconds, truncated=finish == "length")

    def _error(self, tier: Tier, kind: str, retryable: bool, exc: Exception) -> ProviderError:
        detail = str(exc) or type(exc).__name__
        key_env = self._key_env_name(tier) if kind == "auth" else None
        retry_after = _retry_after(exc) if kind == "rate_limit" else None
        return provider_error(
            tier,
            self.tiers[tier],
            kind,
            retryable,
            detail,
            key=self.sent_key(tier),
            key_env=key_env,
            retry_after=retry_after,
        )


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    return retry_after_seconds(getattr(response, "headers", None) or getattr(exc, "litellm_response_headers", None))
