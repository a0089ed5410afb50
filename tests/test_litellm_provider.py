"""The real model boundary through litellm's HTTP path, against the fake server on loopback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fake_openai import Reply

from tieragent.core.config import ProviderConfig, TierConfig
from tieragent.core.errors import ProviderError
from tieragent.model.litellm_adapter import LiteLLMProvider
from tieragent.model.protocol import ModelRequest


def provider(server, retries=2, timeout_s=5.0, max_wait_s=60.0, **tier_kw):
    tiers = {t: TierConfig(model=f"openai/fake-{t}", api_base=server.url, api_key_env="K", timeout_s=timeout_s, **tier_kw) for t in ("small", "mid", "frontier")}
    sleeps = []
    p = LiteLLMProvider(tiers, ProviderConfig(retries=retries, backoff_s=0.5, max_wait_s=max_wait_s), environ={"K": "sk-test-abcdefgh"},
                        sleep=sleeps.append, jitter=lambda: 1.0)  # no jitter: the waits are exact
    return p, sleeps


def req(step="patch", tier="mid"):
    return ModelRequest(step, tier, ({"role": "user", "content": "hello"},), 256)


def test_headers_usage_and_key(fake_server):
    fake_server.enqueue("patch", "mid", Reply("answer", prompt_tokens=11, completion_tokens=7, cached_tokens=3))
    p, _ = provider(fake_server)
    r = p.complete(req())
    assert r.text == "answer" and (r.usage.input_tokens, r.usage.cached_input_tokens, r.usage.output_tokens) == (11, 3, 7)
    h = fake_server.requests[0].headers
    assert h["x-tieragent-step"] == "patch" and h["x-tieragent-tier"] == "mid"
    assert h["authorization"] == "Bearer sk-test-abcdefgh"
    assert fake_server.requests[0].body["max_tokens"] == 256


def test_server_errors_are_retried_with_backoff(fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=500), Reply(status=503), Reply("finally"))
    p, sleeps = provider(fake_server)
    assert p.complete(req()).text == "finally"
    assert len(fake_server.requests) == 3 and sleeps == [0.5, 1.0]


def test_rate_limit_retried_then_gives_up(fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=429))
    p, sleeps = provider(fake_server, retries=2)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "rate_limit" and len(fake_server.requests) == 3


def test_auth_error_is_not_retried_and_names_the_variable(fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=401, error_body={"error": {"message": "bad key sk-test-abcdefgh"}}))
    p, _ = provider(fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "auth" and not e.value.retryable and len(fake_server.requests) == 1
    assert "sk-test-abcdefgh" not in str(e.value) and "K" in e.value.hint


def test_timeout(fake_server):
    fake_server.enqueue("patch", "mid", Reply("late", delay_s=3))
    p, _ = provider(fake_server, retries=0, timeout_s=0.5)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "timeout" and e.value.retryable


def test_refused_connection_is_unreachable(fake_server):
    p, _ = provider(fake_server, retries=0)
    for t in p.tiers.values():
        t.api_base = "http://127.0.0.1:9/v1"
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "unreachable"


def test_streaming_and_missing_usage(fake_server):
    fake_server.enqueue("patch", "mid", Reply("streamed " * 30, no_usage=True))
    p, _ = provider(fake_server, stream=True)
    r = p.complete(req())
    assert r.text == "streamed " * 30
    # litellm counts tokens itself when a stream carries no usage; a count is there either way
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert fake_server.requests[0].body["stream"] is True


def test_known_price_from_local_map():
    tiers = {"mid": TierConfig(model="anthropic/claude-sonnet-4-5"), "small": TierConfig(model="openai/no-such-model-xyz")}
    p = LiteLLMProvider(tiers)  # type: ignore[arg-type]
    price = p.known_price("mid")
    assert price is not None and price.input_per_mtok > 0 and price.output_per_mtok > price.input_per_mtok
    assert p.known_price("small") is None


def test_import_does_not_load_dotenv_from_cwd(tmp_path):
    (tmp_path / ".env").write_text("TIERAGENT_LEAK_PROBE=loaded-from-dotenv\n")
    code = (
        "import os\n"
        "from tieragent.model.litellm_adapter import _import_litellm\n"
        "_import_litellm()\n"
        "print(os.environ.get('TIERAGENT_LEAK_PROBE'), os.environ['LITELLM_LOCAL_MODEL_COST_MAP'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None True"


def test_retry_after_is_honoured(fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=429, headers={"Retry-After": "3"}), Reply("ok"))
    p, sleeps = provider(fake_server)
    assert p.complete(req()).text == "ok" and sleeps == [3.0]


def test_a_retry_after_beyond_the_total_wait_gives_up_at_once(fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=429, headers={"Retry-After": "120"}))
    p, sleeps = provider(fake_server, max_wait_s=30)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "rate_limit" and e.value.retryable and sleeps == [] and "max_wait_s" in str(e.value)
    assert len(fake_server.requests) == 1


def test_backoff_has_jitter_within_bounds(fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=503), Reply(status=503), Reply("ok"))
    tiers = {t: TierConfig(model=f"openai/fake-{t}", api_base=fake_server.url, api_key_env="K") for t in ("small", "mid", "frontier")}
    sleeps = []
    p = LiteLLMProvider(tiers, ProviderConfig(retries=2, backoff_s=1.0), environ={"K": "x" * 10}, sleep=sleeps.append, jitter=lambda: 0.0)
    assert p.complete(req()).text == "ok" and sleeps == [0.5, 1.0]  # half of 1 s, then half of 2 s


def test_a_reset_connection_is_unreachable_and_retried(fake_server):
    fake_server.enqueue("patch", "mid", Reply(reset=True), Reply("ok"))
    p, sleeps = provider(fake_server)
    assert p.complete(req()).text == "ok" and len(sleeps) == 1


def test_a_reply_cut_at_max_tokens_is_marked(fake_server):
    fake_server.enqueue("patch", "mid", Reply("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b", finish_reason="length"))
    p, _ = provider(fake_server)
    assert p.complete(req()).truncated is True


def test_a_context_window_error_is_its_own_kind(fake_server):
    body = {"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
                      "type": "invalid_request_error", "code": "context_length_exceeded"}}
    fake_server.enqueue("patch", "mid", Reply(status=400, error_body=body))
    p, _ = provider(fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "context_window" and not e.value.retryable and len(fake_server.requests) == 1


def test_an_unknown_model_names_the_model_and_the_endpoint(fake_server):
    fake_server.enqueue("patch", "mid", Reply(status=404, error_body={"error": {"message": "The model fake-mid does not exist"}}))
    p, _ = provider(fake_server)
    with pytest.raises(ProviderError) as e:
        p.complete(req())
    assert e.value.kind == "not_found" and not e.value.retryable and len(fake_server.requests) == 1
    assert "openai/fake-mid" in e.value.message and fake_server.url in e.value.message


def test_anthropic_models_get_cache_breakpoints_after_the_stable_prefix():
    from tieragent.model.litellm_adapter import _caches_by_breakpoint, with_cache_breakpoints

    messages = ({"role": "system", "content": "S"}, {"role": "user", "content": "files and request"}, {"role": "user", "content": "feedback"})
    marked = with_cache_breakpoints(messages)
    assert marked[0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert marked[1]["content"][0] == {"type": "text", "text": "files and request", "cache_control": {"type": "ephemeral"}}
    assert marked[2] == {"role": "user", "content": "feedback"}  # what changes per attempt is not cached
    assert _caches_by_breakpoint("anthropic/claude-opus-4-5") and not _caches_by_breakpoint("openai/gpt-5-mini")


def test_anthropic_cache_reads_count_as_cached_tokens():
    from types import SimpleNamespace

    from tieragent.model.litellm_adapter import reported_usage

    usage = SimpleNamespace(prompt_tokens=5000, completion_tokens=100, prompt_tokens_details=None, cache_read_input_tokens=4000)
    u = reported_usage(SimpleNamespace(usage=usage), req(), "x")
    assert (u.input_tokens, u.cached_input_tokens, u.output_tokens) == (5000, 4000, 100)
