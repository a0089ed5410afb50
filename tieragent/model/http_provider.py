"""The common providers without litellm: OpenAI's chat completions (and every server that speaks
them: vLLM, llama.cpp, LM Studio, a LiteLLM proxy, ...) and Anthropic's messages, over httpx.

Why not litellm for these too: its import takes seconds and about 200 MB, which every fix and
every CI job paid before its first model call, and these two wire formats are small and stable.
`provider.client: litellm` sends every tier through litellm instead; models of other providers
always go through it (`model_route` says which way a model goes).

Both formats fail the same way as through litellm (`remote.kind_of_status`), are retried by the
same loop, and report usage with cached tokens (OpenAI's `prompt_tokens_details.cached_tokens`,
Anthropic's `cache_read_input_tokens`).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal

from .. import __version__
from ..core.config import Price, ProviderConfig, TierConfig
from ..core.errors import ProviderError, UsageError
from ..core.vocab import Tier
from . import model_map
from .protocol import ModelReply, ModelRequest, Usage
from .remote import (KeyStatus, call_with_retries, estimated_usage, kind_of_status, provider_error, retry_after_seconds,
                     with_cache_breakpoints)

Wire = Literal["openai", "anthropic"]
ANTHROPIC_VERSION = "2023-06-01"
OPENAI_API = "https://api.openai.com/"
REASONING_MODEL = re.compile(r"(o\d|gpt-5)", re.IGNORECASE)  # o1, o3-mini, o4-mini, gpt-5, gpt-5-mini, ...


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
    return prefix if prefix in ("openai", "anthropic") else None  # type: ignore[return-value]


def endpoint(cfg: TierConfig, environ: dict[str, str]) -> Endpoint:
    """The tier's endpoint, read as litellm reads it: `api_base`, else the provider's base-URL
    variable, else the public API. A tier with its own `api_base` and no `api_key_env` sends no
    key: the provider's usual key is not handed to another endpoint."""
    wire = model_route(cfg.model)
    if wire is None:
        raise UsageError(f"{cfg.model!r} is not an openai/ or anthropic/ model")
    model = cfg.model.split("/", 1)[1]
    if wire == "openai":
        base = cfg.api_base or environ.get("OPENAI_BASE_URL") or environ.get("OPENAI_API_BASE") or "https://api.openai.com/v1"
        url = base.rstrip("/") + "/chat/completions"
        usual = "OPENAI_API_KEY"
    else:
        base = cfg.api_base or environ.get("ANTHROPIC_BASE_URL") or environ.get("ANTHROPIC_API_BASE") or "https://api.anthropic.com"
        base = base.rstrip("/")
        url = base + ("/messages" if base.endswith("/v1") else "/v1/messages")
        usual = "ANTHROPIC_API_KEY"
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"the endpoint of {cfg.model} is not an http(s) URL: {base!r}",
                         hint="Set the tier's api_base to e.g. http://127.0.0.1:8080/v1.")
    key_env = cfg.api_key_env or (None if cfg.api_base else usual)
    return Endpoint(wire, model, url, key_env, base)


@dataclass
class HttpProvider:
    """`Provider` for tiers whose models are `openai/...` or `anthropic/...`."""

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
            body = openai_body(ep.model, request, cfg.stream, official=ep.url.startswith(OPENAI_API))
            if cfg.temperature is not None:
                body["temperature"] = cfg.temperature
            headers["Authorization"] = f"Bearer {key or 'no-key'}"  # local servers want some value
        else:
            body = anthropic_body(ep.model, request, cfg.stream)
            if cfg.temperature is not None:
                body["temperature"] = min(cfg.temperature, 1.0)  # Anthropic's range is 0 to 1
            headers["anthropic-version"] = ANTHROPIC_VERSION
            if key:
                headers["x-api-key"] = key
        started = time.monotonic()
        try:
            with self._http().stream("POST", ep.url, json=body, headers=headers, timeout=httpx.Timeout(cfg.timeout_s)) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._status_error(tier, response, key, ep)
                if cfg.stream:
                    lines = response.iter_lines()
                    text, usage, finish = (read_openai_stream if ep.wire == "openai" else read_anthropic_stream)(lines)
                else:
                    response.read()
                    text, usage, finish = (read_openai if ep.wire == "openai" else read_anthropic)(_json(response.text))
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
        message = _error_message(response.text) or f"HTTP {response.status_code}"
        kind, retryable = kind_of_status(response.status_code, message)
        return provider_error(tier, self.tiers[tier], kind, retryable, f"HTTP {response.status_code}: {message}", key=key, endpoint=ep.base,
                              key_env=ep.key_env, retry_after=retry_after_seconds(response.headers))


class ReplyShapeError(ValueError):
    """A 200 reply that is not the wire format's JSON (a proxy's HTML page, a cut connection)."""


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise ReplyShapeError(f"not JSON: {text[:80]!r}") from None
    if not isinstance(data, dict):
        raise ReplyShapeError("not a JSON object")
    return data


def _error_message(text: str) -> str:
    """The provider's own words from an error body (`{"error": {"message": ...}}` in both formats)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        parts = [str(err.get("message") or ""), str(err.get("code") or err.get("type") or "")]
        return " ".join(p for p in parts if p).strip()
    return str(err or data)[:300]


# ---------------------------------------------------------------- OpenAI chat completions


def openai_body(model: str, request: ModelRequest, stream: bool, *, official: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in request.messages]}
    # OpenAI's reasoning models refuse max_tokens and want max_completion_tokens, which OpenAI's own
    # API takes for every model; servers that copy the format (llama.cpp, vLLM, ...) know max_tokens.
    # A reasoning model behind a proxy gets the new name, as litellm does it.
    wants_new_name = official or REASONING_MODEL.match(model.rsplit("/", 1)[-1]) is not None
    body["max_completion_tokens" if wants_new_name else "max_tokens"] = request.max_tokens
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def openai_usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict) or not usage.get("prompt_tokens"):
        return None
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
    return Usage(int(usage["prompt_tokens"]), cached, int(usage.get("completion_tokens") or 0))


def read_openai(data: dict[str, Any]) -> tuple[str, Usage | None, str | None]:
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise ReplyShapeError("no choices")
    if not choices:
        return "", openai_usage(data.get("usage")), None
    first = choices[0] or {}
    text = (first.get("message") or {}).get("content") or ""
    return str(text), openai_usage(data.get("usage")), first.get("finish_reason")


def _sse_data(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a server-sent event stream's `data:` lines, until `[DONE]`."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # event names, comments, keep-alives
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        if payload:
            yield _json(payload)


def read_openai_stream(lines: Iterator[str]) -> tuple[str, Usage | None, str | None]:
    parts: list[str] = []
    usage, finish = None, None
    for chunk in _sse_data(lines):
        if "error" in chunk:
            raise ReplyShapeError(f"error in stream: {_error_message(json.dumps(chunk))}")
        for choice in chunk.get("choices") or []:
            parts.append((choice.get("delta") or {}).get("content") or "")
            finish = choice.get("finish_reason") or finish
        usage = openai_usage(chunk.get("usage")) or usage
    return "".join(parts), usage, finish


# ---------------------------------------------------------------- Anthropic messages


def anthropic_body(model: str, request: ModelRequest, stream: bool) -> dict[str, Any]:
    """System text apart, consecutive turns of one role merged (the API wants them alternating),
    and cache breakpoints after the stable prefix (Anthropic caches only what is marked)."""
    marked = with_cache_breakpoints(request.messages)
    system = [block for m in marked if m["role"] == "system" for block in _blocks(m["content"])]
    messages: list[dict[str, Any]] = []
    for m in marked:
        if m["role"] == "system":
            continue
        if messages and messages[-1]["role"] == m["role"]:
            messages[-1]["content"].extend(_blocks(m["content"]))
        else:
            messages.append({"role": m["role"], "content": _blocks(m["content"])})
    body: dict[str, Any] = {"model": model, "max_tokens": request.max_tokens, "messages": messages}
    if system:
        body["system"] = system
    if stream:
        body["stream"] = True
    return body


def _blocks(content: Any) -> list[dict[str, Any]]:
    return list(content) if isinstance(content, list) else [{"type": "text", "text": str(content)}]


def anthropic_usage(usage: Any, output_tokens: int | None = None) -> Usage | None:
    """Anthropic counts cache reads and writes apart from `input_tokens`; the ledger's input
    includes them, as OpenAI's `prompt_tokens` does."""
    if not isinstance(usage, dict):
        return None
    read = int(usage.get("cache_read_input_tokens") or 0)
    total = int(usage.get("input_tokens") or 0) + read + int(usage.get("cache_creation_input_tokens") or 0)
    if not total:
        return None
    written = int(usage.get("cache_creation_input_tokens") or 0)
    return Usage(total, read, int(output_tokens if output_tokens is not None else usage.get("output_tokens") or 0),
                 cache_write_tokens=written)


def read_anthropic(data: dict[str, Any]) -> tuple[str, Usage | None, str | None]:
    content = data.get("content")
    if not isinstance(content, list):
        raise ReplyShapeError("no content")
    text = "".join(str(b.get("text") or "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return text, anthropic_usage(data.get("usage")), data.get("stop_reason")


def read_anthropic_stream(lines: Iterator[str]) -> tuple[str, Usage | None, str | None]:
    parts: list[str] = []
    start_usage: dict[str, Any] = {}
    output_tokens, finish = None, None
    for event in _sse_data(lines):
        kind = event.get("type")
        if kind == "error":
            raise ReplyShapeError(f"error in stream: {_error_message(json.dumps(event))}")
        if kind == "message_start":
            start_usage = (event.get("message") or {}).get("usage") or {}
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta":
                parts.append(str(delta.get("text") or ""))
        elif kind == "message_delta":
            finish = (event.get("delta") or {}).get("stop_reason") or finish
            output_tokens = (event.get("usage") or {}).get("output_tokens", output_tokens)
        elif kind == "message_stop":
            break
    return "".join(parts), anthropic_usage(start_usage, output_tokens), finish
