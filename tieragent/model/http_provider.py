"""The common providers without litellm, over httpx: OpenAI's chat completions (and every server
that speaks them: vLLM, llama.cpp, LM Studio, a LiteLLM proxy, ...), Anthropic's messages, and
Ollama's native chat (`ollama/...` and `ollama_chat/...` models). Each format is a `Wire` in `wires`,
which owns its URL, headers, body and readers; this module only sends and receives.

Why not litellm for these too: its import takes seconds and a lot of memory (BENCHMARKS.md has the
figures), which every fix and every CI job paid before its first model call, and these wire formats
are small and stable.
`provider.client: litellm` sends every tier through litellm instead; models of other providers
always go through it (`wires.wire_of` says which way a model goes).

Every format fails the same way as through litellm (`remote.kind_of_status`), is retried by the
same loop, and reports usage with cached tokens (OpenAI's `prompt_tokens_details.cached_tokens`,
Anthropic's `cache_read_input_tokens`).
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from typing import Any

from ..core.config import Price
from ..core.errors import EnvironmentProblem, ProviderError
from ..core.version import __version__
from ..core.vocab import Tier
from . import model_map
from .protocol import Carrier, KeyStatus, ModelReply, ModelRequest
from .remote import RemoteProvider, estimated_usage, kind_of_status, provider_error, retry_after_seconds
from .wires import ReplyShapeError, Wire, error_message, parse_json, wire_for

CUT_AT_MAX_TOKENS = ("length", "max_tokens")  # OpenAI's and Ollama's finish reason, Anthropic's stop reason


@dataclass
class HttpProvider(RemoteProvider):
    """`Provider` for tiers whose models are `openai/...`, `anthropic/...` or Ollama's."""

    carrier = Carrier.HTTP
    _client: Any = field(default=None, repr=False)  # an httpx.Client, made on first use

    def wire(self, tier: Tier) -> Wire:
        return wire_for(self.tiers[tier], self.environ)

    def usual_key_status(self, tier: Tier) -> KeyStatus:
        name = self.wire(tier).key_env
        if name is None:
            return KeyStatus((), (), needs_key=False)
        return KeyStatus((name,), (name,) if self.environ.get(name) else (), needs_key=True)

    def key_variable(self, tier: Tier) -> str | None:
        return self.wire(tier).key_env

    def preflight(self, *, check_keys: bool = True) -> None:
        """Every tier's model has a wire format here; (`check_keys`) every tier's key is set."""
        for tier in self.tiers:
            self.wire(tier)
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
    def _http(self) -> Any:
        if self._client is None:
            import httpx  # here, not at the top: commands that call no model never pay its import

            tls = _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
            self._client = httpx.Client(
                headers={"User-Agent": f"tieragent/{__version__}"}, follow_redirects=False, verify=tls
            )
        return self._client

    def attempt(self, request: ModelRequest) -> ModelReply:
        import httpx

        tier, cfg = request.tier, self.tiers[request.tier]
        wire, key = self.wire(tier), self.sent_key(tier)
        headers = {"X-Tieragent-Step": str(request.step), "X-Tieragent-Tier": tier, **wire.headers(key)}
        body = wire.body(request, cfg)
        started = time.monotonic()

        def failed(kind: str, retryable: bool, detail: str) -> ProviderError:
            return provider_error(tier, cfg, kind, retryable, detail, key=key, endpoint=wire.base)

        try:
            timeout = httpx.Timeout(cfg.timeout_s)
            with self._http().stream("POST", wire.url, json=body, headers=headers, timeout=timeout) as response:
                if response.status_code != 200:
                    response.read()
                    raise self.status_error(tier, response, key, wire)
                if cfg.stream:
                    reading = wire.read_stream(response.iter_lines())
                else:
                    response.read()
                    reading = wire.read(parse_json(response.text))
        except ProviderError:
            raise
        except ReplyShapeError as err:
            raise failed("server", True, f"unreadable reply: {err}") from None
        except httpx.TimeoutException:
            raise failed("timeout", True, f"no answer within {cfg.timeout_s:g}s") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            raise failed("unreachable", True, f"{type(exc).__name__}: {exc}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # e.g. a URL httpx cannot use
            raise failed("unknown", False, f"{type(exc).__name__}: {exc}") from None
        seconds = time.monotonic() - started
        return ModelReply(
            reading.text,
            reading.usage or estimated_usage(request, reading.text),
            cfg.model,
            seconds,
            truncated=reading.finish in CUT_AT_MAX_TOKENS,
        )

    def status_error(self, tier: Tier, response: Any, key: str | None, wire: Wire) -> ProviderError:
        message = error_message(response.text) or f"HTTP {response.status_code}"
        kind, retryable = kind_of_status(response.status_code, message)
        detail = f"HTTP {response.status_code}: {message}"
        return provider_error(
            tier,
            self.tiers[tier],
            kind,
            retryable,
            detail,
            key=key,
            endpoint=wire.base,
            key_env=wire.key_env,
            retry_after=retry_after_seconds(response.headers),
        )


@functools.lru_cache(maxsize=2)
def _tls_context(cert_file: str | None, cert_dir: str | None) -> Any:
    """httpx's own default TLS context (certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR, which httpx
    reads itself and which key the cache here), made once per process: reading the bundle is 40 ms of CPU,
    nearly all of a new client's cost. A context is safe to share between clients and threads."""
    import httpx

    try:
        return httpx.create_ssl_context()
    except OSError as exc:  # ssl.SSLError is one too
        source = f"SSL_CERT_FILE={cert_file}" if cert_file else f"SSL_CERT_DIR={cert_dir}" if cert_dir else "certifi"
        raise EnvironmentProblem(
            f"no CA certificates could be read from {source}: {exc.strerror or exc}",
            hint="Point SSL_CERT_FILE at a PEM bundle (or SSL_CERT_DIR at a folder of them), or unset both "
            "to use certifi's.",
        ) from None
