"""Every provider fault has a defined outcome and a ledger row. The fix flow runs in-process against
the fake server, once through tieragent's own HTTP client and once through litellm's; each case
checks the exit code, the ledger rows, the time taken and that the tree is intact."""

from __future__ import annotations

import time

import pytest
from conftest import BAD_PATCH, CLASSIFY_OPS, FAKE_KEY, GOOD_PATCH, QUICK, snapshot
from fake_openai import Reply
from flowkit import fix, http_config, http_provider, outcomes, rows

from tieragent.cli.common import time_limit
from tieragent.core.errors import ExitCode

MECHANICAL = CLASSIFY_OPS.replace('"local"', '"mechanical"')


@pytest.fixture(params=["auto", "litellm"])
def client(request):
    """provider.client: auto (openai/ models over tieragent's HTTP client) or litellm."""
    return request.param


def run(client, repo, server, extra=None, sleep=None, pytest_output=False, limit_s=None, **kw):
    """`sleep`, when given, takes the providers' waits between retries instead of time.sleep. The faults are
    the model's, so the calc repository is judged by its quick command's exit code, unless the test reads
    what pytest's output tells the model (`pytest_output`). `limit_s` is the run's --timeout: it starts with
    the run, as the CLI's does, after the provider is ready."""
    judge = {} if pytest_output else QUICK
    cfg = http_config(server, {**(extra or {}), "provider": {"client": client}, **judge})
    provider = http_provider(cfg)
    for carrier in {id(p): p for p in provider.by_tier.values()}.values():  # tiers share a carrier
        assert carrier.sleep is time.sleep  # what a real run waits with
        if sleep is not None:
            carrier.sleep = sleep
    # as the CLI's wiring does before the run: litellm's import (seconds, more on a busy machine) is not the run's time
    provider.preflight(check_keys=False)
    provider.warm_up()
    started = time.monotonic()
    with time_limit(limit_s):
        result = fix(repo, provider, cfg=cfg, exit_code_only=not pytest_output, **kw)
    return result, time.monotonic() - started


def test_rate_limit_honours_retry_after_then_moves_up_a_tier(client, calc_repo, fake_server):
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue(
        "patch", "mid", Reply(status=429, headers={"Retry-After": "1"}), Reply(status=429, headers={"Retry-After": "5"})
    )
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    waits: list[float] = []
    result, seconds = run(client, calc_repo, fake_server, sleep=waits.append)
    assert result.exit_code == ExitCode.FIXED
    assert outcomes(result) == [("mid", "provider-error"), ("frontier", "ok")]  # 5 s more would pass max_wait_s (2 s)
    assert "rate limited" in result.ledger.rows[1].note
    assert [(r.step, r.tier) for r in fake_server.requests].count(("patch", "mid")) == 2
    assert waits == [1.0] and seconds < 15  # the first Retry-After was waited, the second refused


def test_server_errors_exhaust_the_retries_then_the_next_tier(client, calc_repo, fake_server):
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", Reply(status=503))
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    result, seconds = run(client, calc_repo, fake_server)
    assert result.exit_code == ExitCode.FIXED and outcomes(result) == [("mid", "provider-error"), ("frontier", "ok")]
    assert [(r.step, r.tier) for r in fake_server.requests].count(("patch", "mid")) == 2  # one try, one retry
    assert seconds < 15


def test_a_reset_connection_everywhere_exits_4_naming_the_tier_and_endpoint(client, calc_repo, fake_server):
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", Reply(reset=True))
    fake_server.enqueue("patch", "frontier", Reply(reset=True))
    result, seconds = run(client, calc_repo, fake_server)
    assert result.exit_code == ExitCode.PROVIDER and "no tier could be reached" in result.error
    assert outcomes(result) == [("mid", "provider-error"), ("frontier", "provider-error")]
    assert all(fake_server.url in r.note for r in result.ledger.rows[1:])  # the endpoint is named
    assert snapshot(calc_repo) == before and seconds < 15


def test_a_slow_tier_times_out_and_the_next_one_answers(client, calc_repo, fake_server):
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", Reply(GOOD_PATCH, delay_s=4))
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    arrived: dict[tuple, list[float]] = {}
    fake_server.responder = lambda r: arrived.setdefault((r.step, r.tier), []).append(time.monotonic())
    result, seconds = run(client, calc_repo, fake_server, {"tiers": {"mid": {"timeout_s": 0.25}}})
    assert result.exit_code == ExitCode.FIXED and outcomes(result) == [("mid", "provider-error"), ("frontier", "ok")]
    assert "timed out" in result.ledger.rows[1].note
    assert 0.2 <= result.ledger.rows[1].seconds < 4  # the wait is on the row: a timeout is not free
    mid_to_frontier = arrived[("patch", "frontier")][0] - arrived[("patch", "mid")][0]
    assert mid_to_frontier < 4 and seconds < 12  # two 0.25 s timeouts, not two 4 s waits


def test_the_whole_run_has_a_time_limit(client, calc_repo, fake_server):
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", Reply(GOOD_PATCH, delay_s=20))
    # the patch call starts well inside 1 s (a quick test command, the models answer at once; under 0.5 s with both
    # cores busy)
    result, seconds = run(client, calc_repo, fake_server, {"tiers": {"mid": {"timeout_s": 60}}}, limit_s=1.0)
    assert seconds < 10
    assert result.exit_code == ExitCode.BUDGET and "--timeout 1s" in result.error
    assert rows(result)[-1] == ("patch", "mid", "interrupted")
    assert snapshot(calc_repo) == before


@pytest.mark.parametrize(
    "bad",
    [
        Reply(""),  # empty
        Reply("Sure! I would change the subtraction into an addition."),  # prose, no diff
        Reply(GOOD_PATCH[: len(GOOD_PATCH) // 2], finish_reason="length"),  # cut at max_tokens
    ],
)
def test_an_unusable_reply_is_retried_once_with_the_reason_then_escalated(client, calc_repo, fake_server, bad):
    fake_server.enqueue("classify", "small", MECHANICAL)
    fake_server.enqueue("patch", "small", bad)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    result, _seconds = run(client, calc_repo, fake_server)
    assert result.exit_code == ExitCode.FIXED
    # asked once more at small; two unusable replies there count as two failed diffs: small writes the file whole
    assert outcomes(result) == [
        ("small", "format-error"),
        ("small", "format-error"),
        ("small", "format-error"),
        ("mid", "ok"),
    ]
    assert [r.edit_format for r in result.ledger.rows if r.step == "patch"] == ["diff", "diff", "whole", "diff"]
    retry = [r for r in fake_server.requests if (r.step, r.tier) == ("patch", "small")][1].text()
    assert "previous attempt" in retry
    if bad.finish_reason == "length":
        assert "cut off" in result.ledger.rows[1].note and "cut off" in retry
        assert result.ledger.rows[result.accepted_step].tier == "mid"  # the cut-off diff was never applied


def test_a_prompt_over_the_window_drops_context_then_moves_up(client, calc_repo, fake_server):
    too_long = {
        "error": {
            "message": "This model's maximum context length is 4096 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    picks = CLASSIFY_OPS.replace('["calc/ops.py"]', '["calc/ops.py", "tests/test_ops.py"]')
    fake_server.enqueue("classify", "small", picks)
    fake_server.enqueue("patch", "mid", Reply(status=400, error_body=too_long))
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    result, _seconds = run(client, calc_repo, fake_server)
    assert result.exit_code == ExitCode.FIXED
    notes = [r.note for r in result.ledger.rows if r.step == "patch" and r.tier == "mid"]
    assert any("retrying without" in n for n in notes) and "moving up a tier" in notes[-1]
    mid_prompts = [r.text() for r in fake_server.requests if (r.step, r.tier) == ("patch", "mid")]
    assert "### tests/test_ops.py" in mid_prompts[0] and "### tests/test_ops.py" not in mid_prompts[-1]
    assert outcomes(result)[-1] == ("frontier", "ok")


@pytest.mark.parametrize(
    "status, says", [(401, "FAKE_PROVIDER_KEY"), (403, "FAKE_PROVIDER_KEY"), (404, "openai/fake-mid")]
)
def test_auth_and_unknown_model_stop_at_once_without_retry(client, calc_repo, fake_server, status, says):
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue(
        "patch", "mid", Reply(status=status, error_body={"error": {"message": f"denied for key {FAKE_KEY}"}})
    )
    result, seconds = run(client, calc_repo, fake_server)
    assert result.exit_code == ExitCode.PROVIDER and says in result.error
    assert FAKE_KEY not in result.error and FAKE_KEY not in str(result.to_json())
    assert [(r.step, r.tier) for r in fake_server.requests].count(("patch", "mid")) == 1  # never retried
    assert rows(result)[-1] == ("patch", "mid", "provider-error")
    assert snapshot(calc_repo) == before and seconds < 10


def test_a_failed_patch_then_a_down_frontier_keeps_the_best_attempt(client, calc_repo, fake_server):
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BAD_PATCH)
    fake_server.enqueue("patch", "frontier", Reply(status=500))
    before = snapshot(calc_repo)
    result, _ = run(client, calc_repo, fake_server)
    assert result.exit_code == ExitCode.NOT_FIXED and snapshot(calc_repo) == before
    assert result.saved_diff and "a * b" in result.saved_diff.read_text()


def test_a_retry_shares_the_first_attempts_prompt_prefix_byte_for_byte(client, calc_repo, fake_server):
    """What a provider's prompt cache keys on: the system message and the files and request, unchanged;
    the failure feedback comes after them, in a message of its own."""
    import json

    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", Reply(BAD_PATCH, cached_tokens=0), Reply(GOOD_PATCH, cached_tokens=700))
    result, _ = run(client, calc_repo, fake_server, pytest_output=True)  # the feedback quotes pytest's failure
    assert result.exit_code == ExitCode.FIXED
    first, second = [r for r in fake_server.requests if (r.step, r.tier) == ("patch", "mid")]
    prefix = len(first.body["messages"])
    assert json.dumps(second.body["messages"][:prefix]) == json.dumps(first.body["messages"])
    assert len(second.body["messages"]) == prefix + 1 and "return a * b" in second.body["messages"][-1]["content"]
    assert [r.cached_input_tokens for r in result.ledger.rows if r.step == "patch"] == [0, 700]  # read into the ledger
