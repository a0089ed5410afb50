"""The provider seam without a server: the `Provider` protocol and who implements it, and each wire
format's own knowledge (URL, headers, body, readers) as the `Wire` objects hold it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tieragent.core.config import ProviderConfig, TierConfig
from tieragent.core.errors import UsageError
from tieragent.model.http_provider import HttpProvider
from tieragent.model.litellm_adapter import LiteLLMProvider
from tieragent.model.protocol import Carrier, ModelRequest, Provider
from tieragent.model.providers import TieredProvider, real_provider
from tieragent.model.scripted import ScriptedProvider
from tieragent.model.wires import AnthropicMessages, OllamaChat, OpenAIChat, wire_for

PKG = Path(__file__).resolve().parents[1] / "tieragent"


def req(step="patch", tier="mid"):
    return ModelRequest(step, tier, ({"role": "user", "content": "hello"},), 256)


# ---------------------------------------------------------------- the protocol


def protocol_methods() -> set[str]:
    return {name for name in vars(Provider) if not name.startswith("_") and callable(getattr(Provider, name))}


def test_the_protocol_declares_every_method_its_callers_use():
    """The gateway, the flows, the wiring and doctor call a provider only through what `Provider` declares."""
    callers = [
        PKG / "model" / "gateway.py",
        PKG / "cli" / "wiring.py",
        PKG / "cli" / "doctor.py",
        *sorted((PKG / "flows").rglob("*.py")),
    ]
    used: dict[str, str] = {}
    for path in callers:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                # `provider.x(...)`, `self.provider.x(...)`, `models.provider.x(...)`; not `cfg.provider`, a config
                owner = node.func.value
                held = (
                    isinstance(owner, ast.Attribute)
                    and isinstance(owner.value, ast.Name)
                    and owner.value.id in {"self", "models"}
                )
                if (isinstance(owner, ast.Name) and owner.id == "provider") or (held and owner.attr == "provider"):
                    used.setdefault(node.func.attr, f"{path.relative_to(PKG)}:{node.lineno}")
    assert {"complete", "preflight", "carriers", "key_status"} <= set(used)  # the scan sees the calls
    assert not {m: where for m, where in used.items() if m not in protocol_methods()}


def test_every_provider_implements_the_whole_protocol():
    tiers = {"mid": TierConfig(model="openai/gpt-5-mini"), "small": TierConfig(model="gemini/gemini-2.5-flash")}
    tiered = real_provider(tiers, ProviderConfig(), environ={})  # type: ignore[arg-type]
    every = [
        HttpProvider({"mid": tiers["mid"]}),
        LiteLLMProvider({"small": tiers["small"]}),  # type: ignore[arg-type]
        tiered,
        ScriptedProvider(tiers),
    ]  # type: ignore[arg-type]
    for p in every:
        assert isinstance(p, Provider), type(p).__name__
        missing = [m for m in protocol_methods() if not callable(getattr(type(p), m, None))]
        assert not missing, (type(p).__name__, missing)
    assert tiered.carriers() == {"mid": Carrier.HTTP, "small": Carrier.LITELLM}


def test_a_tiered_provider_holds_any_provider_and_asks_each_once():
    """`TieredProvider` takes any `Provider`, a scripted one too: it asks nothing of the concrete class."""
    tiers = {"small": TierConfig(model="s/x"), "mid": TierConfig(model="m/x", max_context=1000)}
    scripted = ScriptedProvider(tiers, script={("patch", "mid"): ["scripted answer"]})  # type: ignore[arg-type]
    tiered = TieredProvider({"small": scripted, "mid": scripted})
    tiered.preflight()
    tiered.warm_up()
    assert tiered.complete(req()).text == "scripted answer" and scripted.calls() == [("patch", "mid")]
    assert tiered.carriers() == {"small": Carrier.SCRIPTED, "mid": Carrier.SCRIPTED}
    assert tiered.key_status("mid").ok and tiered.key_status("mid").needs_key is False
    assert tiered.known_price("mid") is None and tiered.context_window("mid") is None


# ---------------------------------------------------------------- each wire's own knowledge


def test_each_wire_owns_its_url_headers_and_key_variable():
    openai = wire_for(TierConfig(model="openai/gpt-5-mini"), {})
    anthropic = wire_for(TierConfig(model="anthropic/claude-sonnet-4-5", api_base="https://proxy.example/v1/"), {})
    ollama = wire_for(TierConfig(model="ollama/qwen2.5-coder:7b"), {})
    assert isinstance(openai, OpenAIChat) and isinstance(anthropic, AnthropicMessages)
    assert isinstance(ollama, OllamaChat)
    assert (openai.model, openai.url) == ("gpt-5-mini", "https://api.openai.com/v1/chat/completions")
    assert openai.key_env == "OPENAI_API_KEY"
    # its own api_base: the usual key is not sent there
    assert (anthropic.url, anthropic.key_env) == ("https://proxy.example/v1/messages", None)
    assert (ollama.url, ollama.key_env) == ("http://localhost:11434/api/chat", None)
    assert openai.headers(None) == {"Authorization": "Bearer no-key"}
    assert openai.headers("k") == {"Authorization": "Bearer k"}
    assert anthropic.headers("k") == {"anthropic-version": "2023-06-01", "x-api-key": "k"}
    assert anthropic.headers(None) == {"anthropic-version": "2023-06-01"}
    assert ollama.headers(None) == {} and ollama.headers("k") == {"Authorization": "Bearer k"}
    with pytest.raises(UsageError):
        wire_for(TierConfig(model="gemini/gemini-2.5-flash"), {})


def test_each_wire_puts_the_temperature_where_its_format_wants_it():
    warm = {"model": "x/m", "temperature": 1.5, "max_context": 16384}
    bodies = {
        cls.__name__: wire_for(TierConfig(model=f"{cls.prefixes[0]}/m"), {}).body(req(), TierConfig(**warm))
        for cls in (OpenAIChat, AnthropicMessages, OllamaChat)
    }
    assert bodies["OpenAIChat"]["temperature"] == 1.5
    assert bodies["AnthropicMessages"]["temperature"] == 1.0  # Anthropic's range is 0 to 1
    assert bodies["OllamaChat"]["options"] == {"num_ctx": 16384, "num_predict": 256, "temperature": 1.5}
    cold = TierConfig(model="x/m")
    for cls in (OpenAIChat, AnthropicMessages, OllamaChat):
        body = wire_for(TierConfig(model=f"{cls.prefixes[0]}/m"), {}).body(req(), cold)
        assert "temperature" not in body and "temperature" not in body.get("options", {})


def test_each_wire_reads_its_own_replies():
    openai = {
        "choices": [{"message": {"content": "a"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 4}},
    }
    anthropic = {
        "content": [{"type": "text", "text": "a"}],
        "stop_reason": "max_tokens",
        "usage": {
            "input_tokens": 3,
            "cache_read_input_tokens": 4,
            "cache_creation_input_tokens": 3,
            "output_tokens": 2,
        },
    }
    ollama = {"message": {"content": "a"}, "done_reason": "length", "prompt_eval_count": 10, "eval_count": 2}
    ep = {"model": "m", "url": "http://x", "key_env": None}
    read = [OpenAIChat(**ep).read(openai), AnthropicMessages(**ep).read(anthropic), OllamaChat(**ep).read(ollama)]
    figures = [
        (r.text, u.input_tokens, u.cached_input_tokens, u.output_tokens, u.cache_write_tokens)
        for r in read
        if (u := r.usage)
    ]
    assert figures == [("a", 10, 4, 2, 0), ("a", 10, 4, 2, 3), ("a", 10, 0, 2, 0)]
    assert [r.finish for r in read] == ["length", "max_tokens", "length"]


@pytest.mark.parametrize(
    "model, official, name",
    [
        ("gpt-4o", True, "max_completion_tokens"),  # OpenAI's own API takes the new name for every model
        ("gpt-4o", False, "max_tokens"),
        ("o3-mini", False, "max_completion_tokens"),  # a reasoning model behind a proxy
        ("gpt-5-mini", False, "max_completion_tokens"),
        ("qwen2.5-coder:7b", False, "max_tokens"),
    ],
)
def test_the_output_limit_goes_by_the_name_the_endpoint_knows(model, official, name):
    from tieragent.model.wires.openai_chat import openai_body

    body = openai_body(model, req(), False, official=official)
    assert body[name] == 256 and {"max_tokens", "max_completion_tokens"} - {name} & set(body) == set()


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:11434",
        "http://127.0.0.1:11434/",
        "http://127.0.0.1:11434/v1",
        "http://127.0.0.1:11434/api/chat",
    ],
)
def test_an_ollama_base_copied_from_any_of_its_urls_reaches_the_native_chat(base):
    assert (
        wire_for(TierConfig(model="ollama_chat/qwen2.5-coder:7b", api_base=base), {}).url
        == "http://127.0.0.1:11434/api/chat"
    )
    assert (
        wire_for(TierConfig(model="ollama/qwen2.5-coder:7b"), {"OLLAMA_API_BASE": base}).url
        == "http://127.0.0.1:11434/api/chat"
    )


def test_anthropic_models_get_cache_breakpoints_after_the_stable_prefix():
    from tieragent.model.remote import caches_by_breakpoint, with_cache_breakpoints

    messages = (
        {"role": "system", "content": "S"},
        {"role": "user", "content": "files and request"},
        {"role": "user", "content": "feedback"},
    )
    marked = with_cache_breakpoints(messages)
    assert marked[0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert marked[1]["content"][0] == {
        "type": "text",
        "text": "files and request",
        "cache_control": {"type": "ephemeral"},
    }
    assert marked[2] == {"role": "user", "content": "feedback"}  # what changes per attempt is not cached
    assert caches_by_breakpoint("anthropic/claude-opus-4-5") and not caches_by_breakpoint("openai/gpt-5-mini")


def test_anthropic_cache_reads_count_as_cached_tokens():
    from types import SimpleNamespace

    from tieragent.model.litellm_adapter import reported_usage

    usage = SimpleNamespace(
        prompt_tokens=5000, completion_tokens=100, prompt_tokens_details=None, cache_read_input_tokens=4000
    )
    u = reported_usage(SimpleNamespace(usage=usage), req(), "x")
    assert (u.input_tokens, u.cached_input_tokens, u.output_tokens) == (5000, 4000, 100)
