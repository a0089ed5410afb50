"""Reasoning effort, end to end at the model boundary: what each wire sends for a tier's effort (through
tieragent's own HTTP client and through litellm, against the fake server), the reasoning tokens each
format reports as ledger figures priced as output, and the budget's worst case with the room the
reasoning gets."""

from __future__ import annotations

import pytest
from fake_openai import Reply

from tieragent.core.config import BudgetConfig, Price, ProviderConfig, TierConfig
from tieragent.core.errors import BudgetExceeded
from tieragent.core.vocab import Outcome, Step
from tieragent.model.gateway import CallPolicy, Gateway, Unavailable
from tieragent.model.http_provider import HttpProvider
from tieragent.model.ledger import Ledger
from tieragent.model.litellm_adapter import LiteLLMProvider
from tieragent.model.reasoning import can_raise, describe_settings, plan_reasoning
from tieragent.model.redact import Redactor

CARRIERS = {"http": HttpProvider, "litellm": LiteLLMProvider}
PRICE = Price(input_per_mtok=1.0, output_per_mtok=10.0)
POLICIES = {
    Step.PATCH: CallPolicy(Unavailable.SKIP_TIER, "moving on"),
    Step.CLASSIFY: CallPolicy(Unavailable.FALL_BACK, "the heuristic classifies", least_effort=True),
}
HELLO = ({"role": "user", "content": "hello"},)
ANSWER = 256  # the tier's max_output_tokens: the answer's room


def gateway(server, carrier: str, model: str, budget: BudgetConfig | None = None, **tier: object) -> Gateway:
    cfg = TierConfig(model=model, api_base=server.url, api_key_env="K", max_output_tokens=ANSWER, **tier)
    provider = CARRIERS[carrier]({"mid": cfg}, ProviderConfig(retries=0), environ={"K": "k"})
    ledger = Ledger({"mid": PRICE, "frontier": PRICE}, {"mid": model})
    return Gateway(provider, ledger, {"mid": cfg}, budget or BudgetConfig(), POLICIES, redactor=Redactor(()))


def chat_bodies(server) -> list[dict]:
    """The chat requests' bodies (litellm also asks Ollama's /api/show about a model)."""
    return [r.body for r in server.requests if not r.path.endswith("/api/show")]


# ---------------------------------------------------------------- the effort each wire sends

ABSENT = object()
# (model, the tier's effort, what the body holds (ABSENT: the key is not there) through http, through litellm)
EFFORT_CASES = [
    (  # gpt-5 takes minimal..high: none becomes minimal; a reasoning model takes no temperature
        "openai/gpt-5-mini",
        "none",
        {"reasoning_effort": "minimal", "max_completion_tokens": ANSWER + 1024, "temperature": ABSENT},
        {"reasoning_effort": "minimal", "max_completion_tokens": ANSWER + 1024, "temperature": ABSENT},
    ),
    (  # gpt-5.1 and later take none, low, medium, high: minimal becomes low
        "openai/gpt-5.1",
        "minimal",
        {"reasoning_effort": "low", "max_completion_tokens": ANSWER + 4096},
        {"reasoning_effort": "low"},
    ),
    (  # Gemini 2.5 Flash through its OpenAI endpoint: none turns thinking off; it takes a temperature
        "openai/gemini-2.5-flash",
        "none",
        {"reasoning_effort": "none", "temperature": 0.2},
        {"reasoning_effort": "none", "temperature": 0.2},
    ),
    (  # a model not known to reason gets nothing, and its usual limit
        "openai/fake-mid",
        "high",
        {"reasoning_effort": ABSENT, "max_tokens": ANSWER, "temperature": 0.2},
        {"reasoning_effort": ABSENT, "max_tokens": ANSWER, "temperature": 0.2},
    ),
    (  # Claude 3.7 to 4.5: a thinking budget below max_tokens, and no temperature while thinking
        "anthropic/claude-sonnet-4-5",
        "medium",
        {"thinking": {"type": "enabled", "budget_tokens": 8192}, "max_tokens": ANSWER + 8192, "temperature": ABSENT},
        {"thinking": {"type": "enabled", "budget_tokens": 2048}, "max_tokens": ANSWER + 8192, "temperature": ABSENT},
    ),
    (
        "anthropic/claude-3-7-sonnet-20250219",
        "minimal",
        {"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": ANSWER + 1024},
        {"max_tokens": ANSWER + 1024},  # litellm's own budget for minimal
    ),
    (  # Claude 4.6 and later: adaptive thinking at an effort (budget_tokens is refused from Opus 4.7 on)
        "anthropic/claude-opus-4-6",
        "high",
        {"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}, "max_tokens": ANSWER + 16384},
        {"output_config": {"effort": "high"}, "max_tokens": ANSWER + 16384},
    ),
    (  # none on a new Claude: no thinking, at the least effort; Opus 4.7 takes no temperature at all
        "anthropic/claude-opus-4-7",
        "none",
        {"thinking": ABSENT, "output_config": {"effort": "low"}, "max_tokens": ANSWER, "temperature": ABSENT},
        {"thinking": ABSENT, "max_tokens": ANSWER, "temperature": ABSENT},
    ),
    (  # Claude 3.5 does not think: nothing is sent, the temperature is
        "anthropic/claude-3-5-haiku-20241022",
        "high",
        {"thinking": ABSENT, "output_config": ABSENT, "max_tokens": ANSWER, "temperature": 0.2},
        {"thinking": ABSENT, "max_tokens": ANSWER, "temperature": 0.2},
    ),
    ("ollama_chat/qwen3:8b", "none", {"think": False}, {"think": False}),
    ("ollama_chat/qwen3:8b", "high", {"think": True}, {"think": True}),
    ("ollama_chat/gpt-oss:20b", "minimal", {"think": "low"}, {"think": "low"}),  # gpt-oss cannot stop thinking
    ("ollama_chat/qwen2.5-coder:7b", "high", {"think": ABSENT}, {"think": ABSENT}),  # Ollama refuses think here
]


@pytest.mark.parametrize("carrier", CARRIERS)
@pytest.mark.parametrize(
    ("model", "effort", "http", "litellm"), EFFORT_CASES, ids=[f"{c[0]}-{c[1]}" for c in EFFORT_CASES]
)
def test_each_wire_sends_the_tiers_effort_in_the_form_its_model_takes(
    fake_server, carrier, model, effort, http, litellm
):
    fake_server.default = Reply("answer")
    gw = gateway(fake_server, carrier, model, reasoning_effort=effort, temperature=0.2)
    gw.call(Step.PATCH, "mid", HELLO)
    (body,) = chat_bodies(fake_server)
    for key, value in (http if carrier == "http" else litellm).items():
        if value is ABSENT:
            assert key not in body and key not in body.get("options", {}), (key, body)
        else:
            assert body.get(key, body.get("options", {}).get(key)) == value, (key, body)


@pytest.mark.parametrize("carrier", CARRIERS)
def test_steps_that_need_little_thought_run_at_the_models_lowest_effort(fake_server, carrier):
    """Classify (least_effort) gets gpt-5's lowest level, whatever the tier's; the patch gets the tier's."""
    fake_server.default = Reply("answer")
    gw = gateway(fake_server, carrier, "openai/gpt-5-mini", reasoning_effort="high")
    gw.call(Step.CLASSIFY, "mid", HELLO)
    gw.call(Step.PATCH, "mid", HELLO)
    assert [b["reasoning_effort"] for b in chat_bodies(fake_server)] == ["minimal", "high"]
    assert [r.effort for r in gw.ledger.rows] == ["minimal", "high"]


def test_a_call_can_override_and_raise_the_tiers_effort(fake_server):
    """A task class's effort replaces the tier's; a raise goes one level up among those the model takes."""
    fake_server.default = Reply("answer")
    gw = gateway(fake_server, "http", "openai/o3-mini", reasoning_effort="high")
    gw.call(Step.PATCH, "mid", HELLO, effort="minimal")  # o3 takes low, medium, high
    gw.call(Step.PATCH, "mid", HELLO, effort="minimal", effort_raise=1)
    gw.call(Step.PATCH, "mid", HELLO, effort_raise=1)  # already at its highest
    assert [b["reasoning_effort"] for b in chat_bodies(fake_server)] == ["low", "medium", "high"]


# ---------------------------------------------------------------- reasoning tokens in the ledger

# (model, reasoning tokens the ledger should show: exact, or None: estimated from the output)
REASONING_CASES = [
    ("openai/gpt-5-mini", 300),  # completion_tokens_details.reasoning_tokens
    ("anthropic/claude-sonnet-4-5", None),  # thinking blocks: counted within output_tokens
    ("ollama_chat/qwen3:8b", None),  # message.thinking: counted within eval_count
]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("carrier", CARRIERS)
@pytest.mark.parametrize(("model", "exact"), REASONING_CASES, ids=[c[0] for c in REASONING_CASES])
def test_reasoning_tokens_are_a_ledger_figure_priced_as_output(fake_server, carrier, model, exact, stream):
    fake_server.default = Reply(
        "the answer", prompt_tokens=1000, completion_tokens=20, reasoning_tokens=300, thinking="weighing it " * 60
    )
    gw = gateway(fake_server, carrier, model, reasoning_effort="low", stream=stream)
    call = gw.call(Step.PATCH, "mid", HELLO)
    row = call.row
    assert call.text == "the answer"  # the thinking is not the answer
    assert row.output_tokens == 320 and row.effort == "low"
    if exact is not None:
        assert row.reasoning_tokens == exact
    else:
        assert 100 <= row.reasoning_tokens <= 320, row.reasoning_tokens
    assert row.cost_usd == pytest.approx((1000 * 1.0 + 320 * 10.0) / 1e6)  # reasoning at the output price
    assert row.to_json()["reasoning_tokens"] == row.reasoning_tokens  # each step row of --json
    assert gw.ledger.by_tier()["mid"].reasoning_tokens == row.reasoning_tokens


@pytest.mark.parametrize("carrier", CARRIERS)
def test_reasoning_an_endpoint_counts_apart_from_the_completion_is_still_output(fake_server, carrier):
    """Some OpenAI-compatible endpoints (Gemini's, some proxies) leave the reasoning out of
    completion_tokens; total_tokens shows it, and it is billed as output all the same."""
    fake_server.default = Reply(
        "the answer", prompt_tokens=1000, completion_tokens=20, reasoning_tokens=300, reasoning_apart=True
    )
    gw = gateway(fake_server, carrier, "openai/gemini-2.5-flash", reasoning_effort="medium")
    row = gw.call(Step.PATCH, "mid", HELLO).row
    assert (row.output_tokens, row.reasoning_tokens) == (320, 300)
    assert row.cost_usd == pytest.approx((1000 * 1.0 + 320 * 10.0) / 1e6)


# ---------------------------------------------------------------- the budget


def test_the_budget_refuses_a_call_whose_reasoning_room_would_pass_it(fake_server):
    """Without effort the call's worst case is its prompt and 256 answer tokens (under a cent); at
    high effort 16,384 more output tokens may be spent reasoning, which would pass the $0.05 left."""
    fake_server.default = Reply("answer")
    budget = BudgetConfig(max_cost_usd=0.05)
    plain = gateway(fake_server, "http", "openai/gpt-5-mini", budget)
    assert plain.call(Step.PATCH, "mid", HELLO).reply is not None
    thinking = gateway(fake_server, "http", "openai/gpt-5-mini", budget, reasoning_effort="high")
    with pytest.raises(BudgetExceeded) as stop:
        thinking.call(Step.PATCH, "mid", HELLO)
    assert len(chat_bodies(fake_server)) == 1  # the second call was never sent
    (row,) = thinking.ledger.rows
    assert row.outcome is Outcome.BUDGET_STOP and row.effort == "high"
    assert "16,384 tokens of room for reasoning" in row.note and "16,384" in stop.value.message


# ---------------------------------------------------------------- the plan and what doctor says


def test_the_room_for_reasoning_stays_within_the_models_output_limit():
    """o3-mini writes at most 100,000 tokens (litellm's map): with 95,000 for the answer, high effort
    gets the 5,000 left; a Claude budget with less room than Anthropic's least (1,024) is no thinking."""
    assert plan_reasoning("openai/o3-mini", "high", answer_tokens=95_000).reasoning_tokens == 5_000
    assert plan_reasoning("openai/o3-mini", "high", answer_tokens=1_000).reasoning_tokens == 16_384
    assert plan_reasoning("anthropic/claude-sonnet-4-5", "high", answer_tokens=63_500).effort is None
    assert plan_reasoning("openai/fake", "high", answer_tokens=100).effort is None


def test_a_raise_is_possible_only_where_the_model_can_reason_harder():
    assert can_raise("openai/gpt-5-mini", "low") and can_raise("openai/gpt-5-mini", None)  # default: medium
    assert not can_raise("openai/gpt-5-mini", "high") and not can_raise("openai/gpt-5-pro", None)
    assert not can_raise("openai/fake-mid", "low")  # nothing is known of it
    assert can_raise("ollama_chat/qwen3", "none") and not can_raise("ollama_chat/qwen3", "low")  # on is on


def test_doctor_says_which_settings_each_model_takes():
    gpt5 = describe_settings("openai/gpt-5-mini", "none", None, {"long_horizon": "high"})
    assert gpt5.problem is None
    assert "reasoning_effort (minimal, low, medium, high" in gpt5.detail and "none (sent as minimal)" in gpt5.detail
    assert "long_horizon: high" in gpt5.detail and "temperature refused" in gpt5.detail
    plain = describe_settings("openai/fake-mid", "high", None)
    assert plain.problem == "reasoning_effort high is set but not sent to openai/fake-mid"
    claude = describe_settings("anthropic/claude-sonnet-4-5", None, 0.2)
    assert claude.problem is None and "thinking budget_tokens" in claude.detail  # no thinking: 0.2 is sent
    thinking = describe_settings("anthropic/claude-sonnet-4-5", "low", 0.2)
    assert thinking.problem == "temperature 0.2 is not sent while it thinks: Claude 3.7 to 4.5 refuses it"
    assert describe_settings("openai/o1-mini", None, 0.0).problem == (
        "temperature 0 is not sent: OpenAI o1-mini/o1-preview refuses it"
    )
