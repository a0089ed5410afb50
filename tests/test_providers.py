"""The real model boundary against the fake server on loopback: one contract, every route.

A route is a wire format (OpenAI's chat completions, Anthropic's messages, Ollama's native chat)
and what carries it (tieragent's own HTTP client, `HttpProvider`, or litellm, `LiteLLMProvider`).
Every case runs on every route it applies to, so a fault has the same outcome whichever carries
the call. Where a route is left out, the reason is next to the case.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
from fake_openai import Reply

from tieragent.core.config import ProviderConfig, TierConfig
from tieragent.core.errors import EnvironmentProblem, ProviderError, UsageError
from tieragent.model.http_provider import HttpProvider
from tieragent.model.litellm_adapter import LiteLLMProvider
from tieragent.model.protocol import ModelRequest

CARRIERS = {"http": HttpProvider, "litellm": LiteLLMProvider}
WIRES = ("openai", "anthropic", "ollama")
KEY = "sk-test-abcdefgh"


@dataclass(frozen=True)
class Route:
    wire: str  # openai | anthropic | ollama
    carrier: str  # http | litellm

    def __str__(self) -> str:
        return f"{self.wire}-{self.carrier}"

    @property
    def prefix(self) -> str:
        return "ollama_chat" if self.wire == "ollama" else self.wire


def routes(wires: tuple[str, ...] = WIRES, carriers: tuple[str, ...] = ("http", "litellm")) -> list[Route]:
    return [Route(w, c) for c in carriers for w in wires]


ROUTES = routes()
HTTP_ROUTES = routes(carriers=("http",))

# what differs between the wires, as the fake server records it
CHAT_PATH = {"openai": "/chat/completions", "anthropic": "/messages", "ollama": "/api/chat"}
KEY_HEADER = {
    "openai": ("authorization", "Bearer {}"),
    "anthropic": ("x-api-key", "{}"),
    "ollama": ("authorization", "Bearer {}"),
}
CACHE_FIGURES = {"openai": (3, 0), "anthropic": (3, 2), "ollama": (0, 0)}  # (cache reads, cache writes) reported


def options(route: Route, body: dict) -> dict:
    """Where the output limit and the temperature go: Ollama's `options`, the body itself elsewhere."""
    return body["options"] if route.wire == "ollama" else body


def output_limit(route: Route, body: dict) -> int:
    return options(route, body)["num_predict" if route.wire == "ollama" else "max_tokens"]


@pytest.fixture(params=ROUTES, ids=str)
def route(request):
    return request.param


def provider(
    route, server, retries=2, timeout_s=5.0, max_wait_s=60.0, backoff_s=0.5, jitter=1.0, environ=None, **tier_kw
):
    tiers = {
        t: TierConfig(
            model=f"{route.prefix}/fake-{t}", api_base=server.url, api_key_env="K", timeout_s=timeout_s, **tier_kw
        )
        for t in ("small", "mid", "frontier")
    }
    sleeps = []
    settings = ProviderConfig(retries=retries, backoff_s=backoff_s, max_wait_s=max_wait_s)
    environ = {"K": KEY} if environ is None else environ
    # jitter fixed: exact waits
    p = CARRIERS[route.carrier](tiers, settings, environ=environ, sleep=sleeps.append, jitter=lambda: jitter)
    return p, sleeps


def chats(server, route):
    """The chat requests the server received (litellm also asks Ollama's /api/show about a model)."""
    return [r for r in server.requests if r.path.endswith(CHAT_PATH[route.wire])]


def req(step="patch", tier="mid"):
    return ModelRequest(step, tier, ({"role": "user", "content": "hello"},), 256)


# ---------------------------------------------------------------- replies


def test_headers_usage_and_key(route, fake_server):
    fake_server.enqueue(
        "patch", "mid", Reply("answer", prompt_tokens=11, completion_tokens=7, cached_tokens=3, cache_write_tokens=2)
    )
    p, _ = provider(route, fake_server)
    r = p.complete(req())
    cached, written = CACHE_FIGURES[route.wire]
    assert r.text == "answer"
    assert (r.usage.input_tokens, r.usage.cached_input_tokens, r.usage.output_tokens) == (11, cached, 7)
    assert r.usage.cache_write_tokens == written and not r.usage.estimated
    sent = chats(fake_server, route)
    h = sent[0].headers
    assert len(sent) == 1 and sent[0].body["model"] == "fake-mid"
    assert h["x-tieragent-step"] == "patch" and h["x-tieragent-tier"] == "mid"
    name, form = KEY_HEADER[route.wire]
    assert h[name] == form.format(KEY)
    assert output_limit(route, sent[0].body) == 256


def test_streaming_and_missing_usage(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply("streamed " * 30, no_usage=True))
    p, _ = provider(route, fake_server, stream=True)
    r = p.complete(req())
    assert r.text == "streamed " * 30
    # litellm counts tokens itself when a stream carries no usage; a count is there either way
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert chats(fake_server, route)[0].body["stream"] is True


def test_a_streamed_reply_reads_usage_with_cached_tokens_and_its_finish(route, fake_server):
    fake_server.enqueue(
        "patch",
        "mid",
        Reply(
            "streamed " * 30,
            prompt_tokens=700,
            completion_tokens=60,
            cached_tokens=3,
            cache_write_tokens=2,
            finish_reason="length",
        ),
    )
    p, _ = provider(route, fake_server, stream=True)
    r = p.complete(req())
    cached, written = CACHE_FIGURES[route.wire]
    assert r.text == "streamed " * 30 and r.truncated is True and not r.usage.estimated
    u = r.usage
    assert (u.input_tokens, u.cached_input_tokens, u.output_tokens, u.cache_write_tokens) == (700, cached, 60, written)


def test_a_reply_cut_at_max_tokens_is_marked(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b", finish_reason="length"))
    fake_server.enqueue("patch", "frontier", Reply("complete"))
    p, _ = provider(route, fake_server)
    assert p.complete(req()).truncated is True
    assert p.complete(req(tier="frontier")).truncated is False


def test_temperature_is_sent_only_when_the_tier_sets_it(route, fake_server):
    fake_server.enqueue("patch", "mid", "ok")
    fake_server.enqueue("patch", "frontier", "ok")
    p, _ = provider(route, fake_server)
    p.tiers["mid"] = p.tiers["mid"].model_copy(update={"temperature": 0.0})
    p.complete(req())
    p.complete(req(tier="frontier"))
    first, second = chats(fake_server, route)
    assert options(route, first.body)["temperature"] == 0.0
    assert "temperature" not in options(route, second.body)


# litellm sends 1.5 on as it is
@pytest.mark.parametrize("route", routes(wires=("anthropic",), carriers=("http",)), ids=str)
def test_anthropic_gets_a_temperature_within_its_range(route, fake_server):
    fake_server.enqueue("patch", "mid", "ok")
    p, _ = provider(route, fake_server, temperature=1.5)
    p.complete(req())
    assert fake_server.requests[0].body["temperature"] == 1.0


# ---------------------------------------------------------------- faults


STATUSES = [
    (400, "bad_request", False),
    (401, "auth", False),
    (403, "auth", False),
    (404, "not_found", False),
    (408, "timeout", True),
    (413, "bad_request", False),
    (422, "bad_request", False),
    (429, "rate_limit", True),
    (500, "server", True),
    (502, "server", True),
    (503, "server", True),
    (529, "server", True),
]
STATUS_CASES = [
    pytest.param(r, status, kind, retryable, id=f"{r}-{status}")
    for r in ROUTES
    for status, kind, retryable in STATUSES
    # litellm's OpenAI client takes a 422 for an empty success: no error to classify
    if not (str(r) == "openai-litellm" and status == 422)
]


@pytest.mark.parametrize("route, status, kind, retryable", STATUS_CASES)
def test_each_error_status_has_its_kind(route, status, kind, retryable, fake_server):
    said = f"HTTP {status} from the fake"
    body = {"error": said} if route.wire == "ollama" else {"error": {"message": said}}
    fake_server.enqueue("patch", "mid", Reply(status=status, error_body=body))
    p, sleeps = provider(route, fake_server, retries=0)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert (e.value.kind, e.value.retryable) == (kind, retryable)
    assert len(chats(fake_server, route)) == 1 and sleeps == []
    assert e.value.message.startswith(f"mid tier ({route.prefix}/fake-mid at ")


def test_server_errors_are_retried_with_backoff(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=500), Reply(status=503), Reply("finally"))
    p, sleeps = provider(route, fake_server)
    assert p.complete(req()).text == "finally"
    assert len(chats(fake_server, route)) == 3 and sleeps == [0.5, 1.0]


def test_rate_limit_retried_then_gives_up(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=429))
    p, _sleeps = provider(route, fake_server, retries=2)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "rate_limit" and len(chats(fake_server, route)) == 3


def test_auth_error_is_not_retried_and_names_the_variable(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=401, error_body={"error": {"message": f"bad key {KEY}"}}))
    p, _ = provider(route, fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "auth" and not e.value.retryable and len(chats(fake_server, route)) == 1
    assert KEY not in str(e.value) and "K" in e.value.hint


def test_timeout(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply("late", delay_s=3))
    p, _ = provider(route, fake_server, retries=0, timeout_s=0.2)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "timeout" and e.value.retryable


def test_refused_connection_is_unreachable(route, fake_server):
    p, _ = provider(route, fake_server, retries=0)
    for t in p.tiers.values():
        t.api_base = "http://127.0.0.1:9/v1"
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "unreachable"


def test_a_reset_connection_is_unreachable_and_retried(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(reset=True), Reply("ok"))
    p, sleeps = provider(route, fake_server)
    assert p.complete(req()).text == "ok" and len(sleeps) == 1


def test_retry_after_is_honoured(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=429, headers={"Retry-After": "3"}), Reply("ok"))
    p, sleeps = provider(route, fake_server)
    assert p.complete(req()).text == "ok" and sleeps == [3.0]


def test_a_retry_after_beyond_the_total_wait_gives_up_at_once(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=429, headers={"Retry-After": "120"}))
    p, sleeps = provider(route, fake_server, max_wait_s=30)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "rate_limit" and e.value.retryable and sleeps == [] and "max_wait_s" in str(e.value)
    assert len(chats(fake_server, route)) == 1


def test_backoff_has_jitter_within_bounds(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=503), Reply(status=503), Reply("ok"))
    p, sleeps = provider(route, fake_server, backoff_s=1.0, jitter=0.0)
    assert p.complete(req()).text == "ok" and sleeps == [0.5, 1.0]  # half of 1 s, then half of 2 s


def test_a_context_window_error_is_its_own_kind(route, fake_server):
    body = {
        "error": {
            "message": (
                "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens."
            ),
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    fake_server.enqueue("patch", "mid", Reply(status=400, error_body=body))
    p, _ = provider(route, fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "context_window" and not e.value.retryable and len(chats(fake_server, route)) == 1


def test_an_unknown_model_names_the_model_and_the_endpoint(route, fake_server):
    fake_server.enqueue(
        "patch", "mid", Reply(status=404, error_body={"error": {"message": "The model fake-mid does not exist"}})
    )
    p, _ = provider(route, fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "not_found" and not e.value.retryable and len(chats(fake_server, route)) == 1
    # tieragent's Ollama wire names the server's root: the native chat is not under /v1
    endpoint = fake_server.url.removesuffix("/v1") if str(route) == "ollama-http" else fake_server.url
    assert f"{route.prefix}/fake-mid" in e.value.message and f"at {endpoint})" in e.value.message


@pytest.mark.parametrize("route", HTTP_ROUTES, ids=str)
def test_an_unreadable_200_reply_is_a_retryable_server_error(route, fake_server):
    fake_server.enqueue("patch", "mid", Reply(raw_body="<html>502 from a proxy</html>"))
    p, _sleeps = provider(route, fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "server" and "unreadable reply" in e.value.message and len(chats(fake_server, route)) == 3


@pytest.mark.parametrize("route", routes(carriers=("litellm",)), ids=str)
def test_an_unreadable_200_reply_through_litellm_is_retried(route, fake_server):
    """litellm calls it a server error (OpenAI's client) or a connection error (Anthropic's, Ollama's):
    retried either way."""
    fake_server.enqueue("patch", "mid", Reply(raw_body="<html>502 from a proxy</html>"))
    p, _sleeps = provider(route, fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind in ("server", "unreachable") and e.value.retryable and len(chats(fake_server, route)) == 3


@pytest.mark.parametrize("route", HTTP_ROUTES, ids=str)  # litellm's clients follow redirects
def test_a_redirect_is_not_followed(route, fake_server):
    """The key is for the configured endpoint: a redirect elsewhere is an error, never a second request."""
    fake_server.enqueue("patch", "mid", Reply(status=307, headers={"Location": fake_server.url + "/elsewhere"}))
    p, _ = provider(route, fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert len(fake_server.requests) == 1 and not e.value.retryable and "HTTP 307" in e.value.message


# ---------------------------------------------------------------- keys


def test_a_missing_key_is_a_usage_error_before_any_request(route, fake_server):
    p, _ = provider(route, fake_server, environ={})
    with pytest.raises(UsageError) as e:
        p.complete(req())
    assert e.value.message == "tiers.mid.api_key_env: the variable K is not set"
    assert e.value.hint == f"export K=... (the key for {route.prefix}/fake-mid), or remove api_key_env."
    assert fake_server.requests == []


USUAL_KEY = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


@pytest.mark.parametrize("route", routes(wires=("openai", "anthropic")), ids=str)  # a local Ollama takes no key
def test_a_missing_usual_key_reads_the_same_whichever_carrier(route, monkeypatch):
    monkeypatch.delenv(USUAL_KEY[route.wire], raising=False)  # litellm looks in the process's environment
    model = f"{route.prefix}/claude-sonnet-4-5" if route.wire == "anthropic" else f"{route.prefix}/gpt-5-mini"
    p = CARRIERS[route.carrier]({"mid": TierConfig(model=model)}, environ={})  # type: ignore[arg-type]
    with pytest.raises(UsageError) as e:
        p.preflight()
    name = USUAL_KEY[route.wire]
    assert e.value.message == f"tiers.mid: {model} needs {name}, which is not set"
    assert e.value.hint == f"export {name}=..., or set tiers.mid.api_key_env to the variable that holds the key."
    assert p.key_status("mid").variables == (name,) and not p.key_status("mid").ok


@pytest.mark.parametrize("route", routes(wires=("openai", "anthropic")), ids=str)
def test_the_public_endpoints_usual_key_is_never_sent_to_a_configured_api_base(route, fake_server, monkeypatch):
    """A tier with its own api_base and no api_key_env gets no OPENAI_API_KEY: the key is for OpenAI."""
    real = "sk-real-provider-key-0123456789"
    monkeypatch.setenv(USUAL_KEY[route.wire], real)  # where litellm would find it
    fake_server.enqueue("patch", "mid", "ok")
    tiers = {"mid": TierConfig(model=f"{route.prefix}/local-model", api_base=fake_server.url)}
    p = CARRIERS[route.carrier](tiers, environ={USUAL_KEY[route.wire]: real})  # type: ignore[arg-type]
    assert p.complete(req()).text == "ok"
    assert real not in fake_server.requests[0].raw + str(fake_server.requests[0].headers)
    if route.carrier == "http":
        assert p.key_status("mid").needs_key is False


def test_openai_base_url_variable_and_the_usual_key(fake_server):
    """Without api_base, the endpoint is OPENAI_BASE_URL (as for litellm and OpenAI's SDK) and the key
    OPENAI_API_KEY. A reasoning model gets max_completion_tokens (it refuses max_tokens); another
    model on a server that copies the format gets max_tokens."""
    fake_server.enqueue("patch", "mid", "ok")
    tiers = {"mid": TierConfig(model="openai/gpt-5-mini")}
    p = HttpProvider(tiers, environ={"OPENAI_BASE_URL": fake_server.url, "OPENAI_API_KEY": "sk-usual-0123456789"})  # type: ignore[arg-type]
    assert p.complete(req()).text == "ok"
    sent = fake_server.requests[0]
    assert sent.headers["authorization"] == "Bearer sk-usual-0123456789" and sent.body["max_completion_tokens"] == 256
    fake_server.enqueue("patch", "small", "ok")
    local = {"small": TierConfig(model="openai/qwen2.5-coder", api_base=fake_server.url)}
    HttpProvider(local, environ={}).complete(req(tier="small"))  # type: ignore[arg-type]
    assert fake_server.requests[-1].body["max_tokens"] == 256  # the name servers copying the format know
    missing = HttpProvider(tiers, environ={})  # type: ignore[arg-type]
    with pytest.raises(UsageError) as e:
        missing.complete(req())
    assert "OPENAI_API_KEY" in e.value.message


def test_an_unreachable_endpoint_from_a_base_url_variable_is_named():
    """The endpoint may come from ANTHROPIC_BASE_URL rather than the config: the error names it anyway."""
    tiers = {"frontier": TierConfig(model="anthropic/claude-sonnet-4-5", timeout_s=2)}
    p = HttpProvider(
        tiers,
        ProviderConfig(retries=0),
        environ={
            "ANTHROPIC_API_KEY": "sk-ant-x" * 4,  # type: ignore[arg-type]
            "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        },
    )
    with pytest.raises(ProviderError) as e:
        p.complete(req(tier="frontier"))
    assert (
        e.value.kind == "unreachable"
        and "http://127.0.0.1:9" in e.value.message
        and "http://127.0.0.1:9" in e.value.hint
    )


def test_an_unreadable_ssl_cert_file_is_named_before_any_call(monkeypatch, tmp_path):
    """httpx reads SSL_CERT_FILE for the TLS context; one it cannot read is a usage error naming it (it was an
    internal error), and the context made without it still serves the next client."""
    tiers = {"mid": TierConfig(model="openai/gpt-5-mini", api_base="http://127.0.0.1:9")}
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(EnvironmentProblem) as e:
        HttpProvider(tiers, environ={}).warm_up()  # type: ignore[arg-type]
    assert e.value.exit_code == 2 and f"SSL_CERT_FILE={tmp_path / 'missing.pem'}" in e.value.message
    assert "No such file" in e.value.message and "SSL_CERT_FILE" in e.value.hint
    monkeypatch.delenv("SSL_CERT_FILE")
    HttpProvider(tiers, environ={}).warm_up()  # type: ignore[arg-type]


# ---------------------------------------------------------------- prices and windows


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_known_price_from_local_map(carrier):
    tiers = {
        "mid": TierConfig(model="anthropic/claude-sonnet-4-5"),
        "small": TierConfig(model="openai/no-such-model-xyz"),
        "frontier": TierConfig(model="openai/gpt-4o"),
    }
    p = CARRIERS[carrier](tiers)  # type: ignore[arg-type]
    price = p.known_price("mid")
    assert price is not None and price.input_per_mtok > 0 and price.output_per_mtok > price.input_per_mtok
    assert price.cached_input_per_mtok is not None and price.cached_input_per_mtok < price.input_per_mtok
    assert p.known_price("small") is None and p.context_window("small") is None
    assert p.context_window("frontier") and p.context_window("frontier") >= 100_000


def test_both_carriers_http_and_litellm_read_the_same_prices_and_windows():
    """HttpProvider reads litellm's bundled map without importing litellm; litellm's own lookup must agree."""
    models = [
        "openai/gpt-4o",
        "openai/gpt-5-mini",
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-haiku-4-5",
        "openai/gpt-4o-mini",
    ]
    for i in range(0, len(models), 3):
        tiers = {t: TierConfig(model=m) for t, m in zip(("small", "mid", "frontier"), models[i : i + 3], strict=False)}
        http, lite = HttpProvider(tiers), LiteLLMProvider(tiers)  # type: ignore[arg-type]
        for t in tiers:
            assert http.known_price(t) == lite.known_price(t) and http.known_price(t) is not None, tiers[t].model
            assert http.context_window(t) == lite.context_window(t), tiers[t].model


# ---------------------------------------------------------------- Anthropic's wire format


@pytest.mark.parametrize("route", routes(wires=("anthropic",)), ids=str)
def test_anthropic_messages_headers_body_and_cached_usage(route, fake_server):
    fake_server.enqueue(
        "patch",
        "mid",
        Reply("answer", prompt_tokens=5000, completion_tokens=9, cached_tokens=4000, cache_write_tokens=600),
    )
    p, _ = provider(route, fake_server)
    messages = (
        {"role": "system", "content": "SYSTEM"},
        {"role": "user", "content": "files"},
        {"role": "user", "content": "feedback"},
    )
    r = p.complete(ModelRequest("patch", "mid", messages, 300))
    assert r.text == "answer" and (r.usage.input_tokens, r.usage.cached_input_tokens, r.usage.output_tokens) == (
        5000,
        4000,
        9,
    )
    assert r.usage.cache_write_tokens == 600
    sent = fake_server.requests[0]
    assert sent.path.endswith("/v1/messages") and sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] and "authorization" not in sent.headers
    assert sent.body["model"] == "fake-mid" and sent.body["max_tokens"] == 300
    assert sent.body["system"][0]["text"] == "SYSTEM" and sent.body["system"][0]["cache_control"] == {
        "type": "ephemeral"
    }
    assert all(m["role"] != "system" for m in sent.body["messages"])
    blocks = [b for m in sent.body["messages"] for b in m["content"]]
    assert blocks[0]["text"] == "files" and blocks[0]["cache_control"] == {
        "type": "ephemeral"
    }  # the stable prefix is marked
    assert blocks[-1]["text"] == "feedback" and "cache_control" not in blocks[-1]  # what changes per attempt is not


@pytest.mark.parametrize("route", routes(wires=("anthropic",)), ids=str)
def test_anthropic_streaming_and_max_tokens(route, fake_server):
    fake_server.enqueue(
        "patch", "mid", Reply("streamed " * 30, prompt_tokens=700, completion_tokens=60, finish_reason="length")
    )
    p, _ = provider(route, fake_server, stream=True)
    r = p.complete(req())
    assert r.text == "streamed " * 30 and r.truncated is True
    assert (r.usage.input_tokens, r.usage.output_tokens) == (700, 60) and not r.usage.estimated
    assert fake_server.requests[0].body["stream"] is True


@pytest.mark.parametrize("route", routes(wires=("anthropic",)), ids=str)
def test_anthropic_overloaded_is_retried_and_a_long_prompt_is_a_context_window_error(route, fake_server):
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    too_long = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens > 200000 maximum"},
    }
    fake_server.enqueue("patch", "mid", Reply(status=529, error_body=overloaded), Reply("ok"))
    fake_server.enqueue("patch", "frontier", Reply(status=400, error_body=too_long))
    p, sleeps = provider(route, fake_server)
    assert p.complete(req()).text == "ok" and len(sleeps) == 1
    with pytest.raises(ProviderError) as e:
        p.complete(req(tier="frontier"))
    assert e.value.kind == "context_window" and not e.value.retryable


# ---------------------------------------------------------------- Ollama's native chat


@pytest.mark.parametrize("route", routes(wires=("ollama",)), ids=str)
def test_ollama_gets_the_context_size_it_needs_and_reports_usage(route, fake_server):
    """Ollama silently cuts a prompt at its default window (2k or 4k tokens): every request says
    how much it needs, the tier's max_context when set."""
    fake_server.enqueue("patch", "mid", Reply("answer", prompt_tokens=900, completion_tokens=12))
    fake_server.enqueue("patch", "frontier", Reply("answer", prompt_tokens=900, completion_tokens=12))
    p, _ = provider(route, fake_server)
    p.tiers["mid"] = p.tiers["mid"].model_copy(update={"max_context": 32768})
    r = p.complete(req())
    assert r.text == "answer" and (r.usage.input_tokens, r.usage.output_tokens) == (900, 12) and not r.usage.estimated
    p.complete(req(tier="frontier"))  # no max_context: the prompt and the answer, in 8,192-token steps
    sent = chats(fake_server, route)  # litellm also asks /api/show about a model
    assert [r.body["model"] for r in sent] == ["fake-mid", "fake-frontier"] and sent[0].body["messages"][0][
        "content"
    ] == "hello"
    assert [r.body["options"]["num_ctx"] for r in sent] == [32768, 8192]


@pytest.mark.parametrize("route", routes(wires=("ollama",)), ids=str)
def test_ollama_streaming_and_a_missing_model(route, fake_server):
    fake_server.enqueue(
        "patch", "mid", Reply("streamed " * 30, prompt_tokens=300, completion_tokens=60, finish_reason="length")
    )
    fake_server.enqueue(
        "patch",
        "frontier",
        Reply(status=404, error_body={"error": "model 'fake-frontier' not found, try pulling it first"}),
    )
    p, _ = provider(route, fake_server, stream=True)
    r = p.complete(req())
    assert (
        r.text == "streamed " * 30
        and r.truncated is True
        and (r.usage.input_tokens, r.usage.output_tokens) == (300, 60)
    )
    with pytest.raises(ProviderError) as e:
        p.complete(req(tier="frontier"))
    assert e.value.kind == "not_found" and not e.value.retryable


# ---------------------------------------------------------------- which carrier, and litellm's import


def test_tiers_go_to_the_carrier_their_model_needs():
    from tieragent.model.providers import real_provider

    tiers = {
        "small": TierConfig(model="gemini/gemini-2.5-flash-lite"),
        "mid": TierConfig(model="openai/gpt-5-mini"),
        "frontier": TierConfig(model="anthropic/claude-sonnet-4-5"),
    }
    assert real_provider(tiers, ProviderConfig(), environ={}).carriers() == {
        "small": "litellm",
        "mid": "http",
        "frontier": "http",
    }  # type: ignore[arg-type]
    local = {
        "small": TierConfig(model="ollama_chat/qwen2.5-coder:7b"),
        "mid": TierConfig(model="ollama/qwen2.5-coder:32b"),
    }
    assert set(real_provider(local, ProviderConfig(), environ={}).carriers().values()) == {"http"}  # type: ignore[arg-type]
    every = real_provider(tiers, ProviderConfig(client="litellm"), environ={})  # type: ignore[arg-type]
    assert set(every.carriers().values()) == {"litellm"}


def test_an_api_base_that_is_not_a_url_is_a_usage_error_before_any_call():
    from tieragent.model.providers import real_provider

    tiers = {"mid": TierConfig(model="openai/local", api_base="127.0.0.1:8080/v1")}
    with pytest.raises(UsageError) as e:
        real_provider(tiers, ProviderConfig(), environ={}).preflight()  # type: ignore[arg-type]
    assert "127.0.0.1:8080/v1" in e.value.message and "http" in e.value.hint


def test_litellm_import_loads_no_dotenv(tmp_path, monkeypatch):
    """litellm's import loads a `.env` (from the working directory, run as `python -c`) unless LITELLM_MODE
    is PRODUCTION: through the adapter it never does. Checked on this process's first import of litellm
    (conftest runs this test first, and xdist's first worker takes it), where litellm's `dotenv.load_dotenv`
    must not even be called; when litellm is already imported here, in a fresh process instead."""
    (tmp_path / ".env").write_text("TIERAGENT_LEAK_PROBE=loaded-from-dotenv\n")
    if "litellm" not in sys.modules:
        import dotenv

        from tieragent.model.litellm_adapter import _import_litellm

        loads = []
        monkeypatch.setattr(dotenv, "load_dotenv", lambda *a, **kw: loads.append(kw) or True)
        monkeypatch.chdir(tmp_path)
        _import_litellm()
        assert loads == [] and "TIERAGENT_LEAK_PROBE" not in os.environ
        assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
        return
    code = (
        "import os\n"
        "from tieragent.model.litellm_adapter import _import_litellm\n"
        "_import_litellm()\n"
        "print(os.environ.get('TIERAGENT_LEAK_PROBE'), os.environ['LITELLM_LOCAL_MODEL_COST_MAP'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None True"


def test_openai_anthropic_and_ollama_tiers_never_import_litellm(tmp_path):
    """The point of the direct client: preparing and calling these tiers leaves litellm unimported."""
    code = (
        "import sys\n"
        "from tieragent.core.config import load_config\n"
        "from tieragent.cli.wiring import prepare_models\n"
        "cfg = load_config(__import__('pathlib').Path('.'), overrides={'tiers': {"
        "'small': {'model': 'ollama_chat/qwen2.5-coder:7b'}, 'mid': {'model': 'openai/gpt-5'}, 'frontier': "
        "{'model': 'anthropic/claude-sonnet-4-5'}}})\nm = prepare_models(cfg)\n"
        "print('litellm' in sys.modules, m.prices['frontier'] is not None, m.context_windows['mid'])\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OPENAI_API_KEY": "sk-x" * 5,
        "ANTHROPIC_API_KEY": "sk-ant-x" * 4,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    imported, priced, window = out.stdout.split()
    assert imported == "False" and priced == "True" and int(window) > 0
