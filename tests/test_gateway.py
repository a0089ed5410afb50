"""The model gateway: exactly one ledger row on every way out, and each step's declared policy."""

from __future__ import annotations

import pytest

from tieragent.core.config import BudgetConfig, Price, TierConfig
from tieragent.core.errors import BudgetExceeded, ProviderError
from tieragent.core.vocab import TIERS, Outcome, Step
from tieragent.model.gateway import CallPolicy, Gateway, Unavailable
from tieragent.model.ledger import Ledger
from tieragent.model.redact import Redactor
from tieragent.model.scripted import ScriptedProvider

TIER_CFG = {t: TierConfig(model=f"openai/fake-{t}", max_output_tokens=1000) for t in TIERS}
PRICES = {t: Price(input_per_mtok=1.0, output_per_mtok=10.0) for t in TIERS}
POLICIES = {
    Step.CLASSIFY: CallPolicy(Unavailable.FALL_BACK, "the heuristic classifies"),
    Step.PATCH: CallPolicy(Unavailable.SKIP_TIER, "moving on"),
    Step.REPRO: CallPolicy(Unavailable.FAIL),
    Step.COMMIT_MESSAGE: CallPolicy(Unavailable.FALL_BACK, "a message from the request", over_budget_falls_back=True),
}
MESSAGES = ({"role": "user", "content": "fix it"},)


def gateway(script, budget=None, events=None):
    provider = ScriptedProvider(TIER_CFG, script=script)
    ledger = Ledger(PRICES, {t: c.model for t, c in TIER_CFG.items()})
    gw = Gateway(
        provider,
        ledger,
        TIER_CFG,
        budget or BudgetConfig(),
        POLICIES,
        redactor=Redactor(("hunter2-secret",)),
        on_event=(events.append if events is not None else lambda e: None),
    )
    return gw, provider


def outcomes(gw):
    return [(str(r.step), r.tier, str(r.outcome)) for r in gw.ledger.rows]


def down(kind="server", retryable=True):
    return ProviderError(kind, f"{kind}!", retryable=retryable)


def test_a_reply_gets_one_ok_row_and_a_progress_event():
    events = []
    gw, _provider = gateway({("patch", "mid"): ["a diff"]}, events=events)
    call = gw.call(Step.PATCH, "mid", MESSAGES, note="first try")
    assert call.text == "a diff" and call.error is None
    assert outcomes(gw) == [("patch", "mid", "ok")] and call.row.note == "first try"
    assert call.row.cost_usd is not None and call.row.cost_usd > 0
    assert [(e.kind, e.message) for e in events] == [("step", "patch · mid (openai/fake-mid)")]


def test_secrets_are_masked_before_the_provider_sees_them():
    gw, provider = gateway({("patch", "mid"): ["ok"]})
    gw.call(Step.PATCH, "mid", ({"role": "user", "content": "the key is hunter2-secret"},))
    assert (
        "hunter2-secret" not in provider.requests[0].prompt_text()
        and "TIERAGENT_SECRET_1" in provider.requests[0].prompt_text()
    )


@pytest.mark.parametrize("step, policy", [(Step.CLASSIFY, "fall back"), (Step.PATCH, "skip tier")])
def test_an_unavailable_tier_returns_no_reply_when_the_step_can_go_on(step, policy):
    events = []
    gw, _ = gateway({(str(step), "mid"): [down("timeout")]}, events=events)
    call = gw.call(step, "mid", MESSAGES)
    assert call.reply is None and isinstance(call.error, ProviderError)
    assert outcomes(gw) == [(str(step), "mid", "provider-error")]
    assert any(e.kind == "warning" and "mid tier unavailable (timeout)" in e.message for e in events)
    assert POLICIES[step].unavailable == policy


def test_a_step_that_must_fail_raises_after_recording():
    gw, _ = gateway({("repro", "mid"): [down()]})
    with pytest.raises(ProviderError):
        gw.call(Step.REPRO, "mid", MESSAGES)
    assert outcomes(gw) == [("repro", "mid", "provider-error")]


def test_an_error_no_retry_can_help_raises_whatever_the_policy():
    gw, _ = gateway({("classify", "small"): [down("auth", retryable=False)]})
    with pytest.raises(ProviderError, match="auth"):
        gw.call(Step.CLASSIFY, "small", MESSAGES)
    assert outcomes(gw) == [("classify", "small", "provider-error")]


def test_a_budget_stop_is_a_row_and_stops_the_run():
    gw, provider = gateway({("patch", "frontier"): ["x"]}, budget=BudgetConfig(max_cost_usd=0.005))
    with pytest.raises(BudgetExceeded, match="could cost up to"):
        gw.call(Step.PATCH, "frontier", MESSAGES)  # worst case: 1000 output tokens at $10/Mtok = $0.01
    assert outcomes(gw) == [("patch", "frontier", "budget-stop")]
    assert provider.requests == [] and gw.ledger.calls == 0


def test_a_nicety_over_budget_falls_back():
    gw, provider = gateway({("commit-message", "small"): ["x"]}, budget=BudgetConfig(max_cost_usd=0.005))
    call = gw.call(Step.COMMIT_MESSAGE, "small", MESSAGES)
    assert call.reply is None and isinstance(call.error, BudgetExceeded)
    assert outcomes(gw) == [("commit-message", "small", "budget-stop")] and provider.requests == []


def test_max_calls_counts_calls_made():
    gw, _provider = gateway({("patch", "mid"): [down(), "ok"]}, budget=BudgetConfig(max_calls=2))
    assert gw.call(Step.PATCH, "mid", MESSAGES).reply is None  # a provider error is a call made
    assert gw.call(Step.PATCH, "mid", MESSAGES).text == "ok"
    with pytest.raises(BudgetExceeded, match="max calls"):
        gw.call(Step.PATCH, "mid", MESSAGES)
    assert [r.outcome for r in gw.ledger.rows] == [Outcome.PROVIDER_ERROR, Outcome.OK, Outcome.BUDGET_STOP]


def test_an_interrupt_during_the_call_is_recorded():
    gw, _ = gateway({("patch", "mid"): [KeyboardInterrupt()]})
    with pytest.raises(KeyboardInterrupt):
        gw.call(Step.PATCH, "mid", MESSAGES)
    assert outcomes(gw) == [("patch", "mid", "interrupted")]


def test_every_step_a_flow_calls_must_declare_its_policy():
    gw, _ = gateway({})
    with pytest.raises(KeyError):
        gw.call(Step.SUMMARIZE, "small", MESSAGES)
    assert gw.ledger.rows == []


def test_the_fix_flow_declares_a_policy_for_every_step_it_calls():
    import re
    from pathlib import Path

    from tieragent.flows.fix import FIX_POLICIES

    sources = "".join(p.read_text() for p in (Path(__file__).parents[1] / "tieragent/flows/fix").glob("*.py"))
    called = {Step[name] for name in re.findall(r"gw\.call\(Step\.(\w+)", sources)}
    assert called and called <= set(FIX_POLICIES)
