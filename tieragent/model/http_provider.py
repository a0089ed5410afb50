"""The common providers without litellm, over httpx: OpenAI's chat completions (and every server
that speaks them: vLLM, llama.cpp, LM Studio, a LiteLLM proxy, ...), Anthropic's messages, and
Ollama's native chat (`ollama/...` and `ollama_chat/...` models). The formats are in `wires`.

Why not litellm for these too: its import takes seconds and about 200 MB, which every fix and
every CI job paid before its first model call, and these two wire formats are small and stable.
`provider.client: litellm` sends every tier through litellm instead; models of other providers
always go through it (`model_route` says which way a model goes).

Every format fails the same way as through litellm (`remote.kind_of_status`), are retried by the
same loop, and report usage with cached tokens (OpenAI's `prompt_tokens_details.cached_tokens`,
Anthropic's `cache_read_input_tokens`).
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from .. import __version__
from ..core.config import Price, ProviderConfig, TierConfig
from ..core.errors import ProviderError, UsageError
from ..core.vocab import Tier
from . import model_map, wires
from .protocol import ModelReply, ModelRequest
from .remote import KeyStatus, call_with_retries, estimated_usage, kind_of_status, provider_error, retry_after_seconds
from .wires import ReplyShapeError

Wire = Literal["openai", "anthropic", "ollama"]
ANTHROPIC_VERSION = "2023-06-01"
OPENAI_API = "https://api.openai.com/"
PREFIXES: dict[str, Wire] = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama", "ollama_chat": "ollama"}


@dataclass(frozen=True)
class Endpoint:
    """Where a tier's requests go and which key they carry."""

    wire: Wire
    model: str  # the provider's own name for the model, without the 'openai/' or 'anthropic/' prefix
    url: str
    key_env: str | None  # the variable holding the key; None: the endpoint takes none
    base: str = ""  # what the user configured (api_base, a base-URL variable) or the public API: named in errors


def model_route(model: str) -> Wire | None:
    """Which wire format carries `model` without litellm; None: only litellm knows its provider."""
    prefix = model.split("/", 1)[0].lower() if "/" in model else ""
    return PREFIXES.get(prefix)


def endpoint(cfg: TierConfig, environ: dict[str, str]) -> Endpoint:
    """The tier's endpoint, read as litellm reads it: `api_base`, else the provider's base-URL
    variable, else the public API (for Ollama, this machine). A tier with its own `api_base` and no
    `api_key_env` sends no key: the provider's usual key is not handed to another endpoint."""
    wire = model_route(cfg.model)
    if wire is None:
        raise UsageError(f"{cfg.model!r} is not an openai/, anthropic/ or ollama/ model")
    model = cfg.model.split("/", 1)[1]
    usual: str | None
    if wire == "openai":
        base = cfg.api_base or environ.get("OPENAI_BASE_URL") or environ.get("OPENAI_API_BASE") or "https://api.openai.com/v1"
        url = base.rstrip("/") + "/chat/completions"
        usual = "OPENAI_API_KEY"
    elif wire == "anthropic":
        base = cfg.api_base or environ.get("ANTHROPIC_BASE_URL") or environ.get("ANTHROPIC_API_BASE") or "https://api.anthropic.com"
        base = base.rstrip("/")
        url = base + ("/messages" if base.endswith("/v1") else "/v1/messages")
        usual = "ANTHROPIC_API_KEY"
    else:  # a local Ollama takes no key; a remote one behind a proxy may (api_key_env)
        base = cfg.api_base or environ.get("OLLAMA_API_BASE") or "http://localhost:11434"
        # the native API is not under /v1, the OpenAI-compatible one is: a base copied from the latter still works
        base = base.rstrip("/").removesuffix("/api/chat").removesuffix("/v1")
        url = base + "/api/chat"
        usual = None
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"the endpoint of {cfg.model} is not an http(s) URL: {base!r}",
                         hint="Set the tier's api_base to e.g. http://127.0.0.1:8080/v1.")
    key_env = cfg.api_key_env or (None if cfg.api_base else usual)
    return Endpoint(wire, model, url, key_env, base)


@dataclass
class HttpProvider:
    """`Provider` for tiers whose models are `openai/...`, `anthropic/...` or Ollama's."""

    tiers: dict[Tier, TierConfig]
    settings: ProviderConfig = field(default_factory=ProviderConfig)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    _client: Any = field(default=None, repr=False)

    def _endpoint(self, tier: Tier) -> Endpoint:
        return endpoint(self.tiers[tier], self.environ)

    def key_status(self, tier: Tier) -> KeyStatus:
        ep = self._endpoint(tier)
        if ep.key_env is None:
            return KeyStatus((), (), needs_key=False)
        return KeyStatus((ep.key_env,), (ep.key_env,) if self.environ.get(ep.key_env) else (), needs_key=True)

    def require_key(self, tier: Tier) -> None:
        """UsageError (exit 2) naming the variable when the tier's key is not set."""
        status = self.key_status(tier)
        if status.ok:
            return
        name, cfg = status.variables[0], self.tiers[tier]
        if cfg.api_key_env:
            raise UsageError(f"tiers.{tier}.api_key_env: the variable {name} is not set",
                             hint=f"export {name}=... (the key for {cfg.model}), or remove api_key_env.")
        raise UsageError(f"tiers.{tier}: {cfg.model} needs {name}, which is not set",
                         hint=f"export {name}=..., or set tiers.{tier}.api_key_env to the variable that holds the key.")

    def preflight(self, *, check_keys: bool = True) -> None:
        """Every tier's model has a wire format here; (`check_keys`) every tier's key is set."""
        for tier in self.tiers:
            self._endpoint(tier)
            if check_keys:
                self.require_key(tier)

    def warm_up(self) -> None:
        """httpx's import and the client, before the first call needs them."""
        self._http()

    def known_price(self, tier: Tier) -> Price | None:
        return model_map.known_price(self.tiers[tier].model)

    def context_window(self, tier: Tier) -> int | None:
        return model_map.context_window(self.tiers[tier].model)

    # ------------------------------------------------------------ calls
    def complete(self, request: ModelRequest) -> ModelReply:
        self.require_key(request.tier)
        return call_with_retries(lambda: self._once(request), self.settings, self.sleep, self.jitter)

    def _http(self) -> Any:
        if self._client is None:
            import httpx  # here, not at the top: commands that call no model never pay its import

            self._client = httpx.Client(headers={"User-Agent": f"tieragent/{__version__}"}, follow_redirects=False)
        return self._client

    def _once(self, request: ModelRequest) -> ModelReply:
        import httpx

        tier, cfg = request.tier, self.tiers[request.tier]
        ep = self._endpoint(tier)
        key = self.environ.get(ep.key_env) if ep.key_env else None
        headers = {"X-Tieragent-Step": str(request.step), "X-Tieragent-Tier": tier}
        if ep.wire == "openai":
            body = wires.openai_body(ep.model, request, cfg.stream, official=ep.url.startswith(OPENAI_API))
            headers["Authorization"] = f"Bearer {key or 'no-key'}"  # local servers want some value
        elif ep.wire == "anthropic":
            body = wires.anthropic_body(ep.model, request, cfg.stream)
            headers["anthropic-version"] = ANTHROPIC_VERSION
            if key:
                headers["x-api-key"] = key
        else:
            body = wires.ollama_body(ep.model, request, cfg.stream, cfg.max_context)
            if key:
                headers["Authorization"] = f"Bearer {key}"
        if cfg.temperature is not None:
            temperature = min(cfg.temperature, 1.0) if ep.wire == "anthropic" else cfg.temperature  # Anthropic's range is 0 to 1
            if ep.wire == "ollama":
                body["options"]["temperature"] = temperature
            else:
                body["temperature"] = temperature
        started = time.monotonic()
        try:
            with self._http().stream("POST", ep.url, json=body, headers=headers, timeout=httpx.Timeout(cfg.timeout_s)) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._status_error(tier, response, key, ep)
                if cfg.stream:
                    text, usage, finish = wires.STREAM_READERS[ep.wire](response.iter_lines())
                else:
                    response.read()
                    text, usage, finish = wires.READERS[ep.wire](wires.parse_json(response.text))
        except ProviderError:
            raise
        except ReplyShapeError as err:
            raise provider_error(tier, cfg, "server", True, f"unreadable reply: {err}", key=key, endpoint=ep.base) from None
        except httpx.TimeoutException:
            raise provider_error(tier, cfg, "timeout", True, f"no answer within {cfg.timeout_s:g}s", key=key, endpoint=ep.base) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            raise provider_error(tier, cfg, "unreachable", True, f"{type(exc).__name__}: {exc}", key=key, endpoint=ep.base) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # e.g. a URL httpx cannot use
            raise provider_error(tier, cfg, "unknown", False, f"{type(exc).__name__}: {exc}", key=key, endpoint=ep.base) from None
        seconds = time.monotonic() - started
        return ModelReply(text, usage or estimated_usage(request, text), cfg.model, seconds, truncated=finish in ("length", "max_tokens"))

    def _status_error(self, tier: Tier, response: Any, key: str | None, ep: Endpoint) -> ProviderError:
        message = wires.error_message(response.text) or f"HTTP {response.status_code}"
        kind, retryable = kind_of_status(response.status_code, message)
        return provider_error(tier, self.tiers[tier], kind, retryable, f"HTTP {response.status_code}: {message}", key=key, endpoint=ep.base,
                              key_env=ep.key_env, retry_after=retry_after_seconds(response.headers))


