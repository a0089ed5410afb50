"""Reasoning effort in the fix flow: a task class's effort over the tier's, the steps that run at the
model's lowest, and `raise_effort_before_escalating` (a Rung that asks for one level more, tried even
when the tier's retries would repeat the same failure). Routing tables first, then whole runs through
the fake server, whose recorded bodies say what was sent."""

from __future__ import annotations

import io
import json

import yaml
from conftest import CLASSIFY_OPS, GOOD_PATCH, QUICK, make_repo, trust_config, write_config
from fake_openai import Reply
from flowkit import config, fix, http_config, http_provider, review, scripted, sent

from tieragent.core.config import BudgetConfig, RoutingConfig
from tieragent.routing.policy import Classification, Rung, effort_retry, patch_ladder, plan_route

LOCAL = Classification("local", "low", ("calc/ops.py",), "r")
# a patch that lands but changes nothing the tests see: test_add fails exactly as before any patch
SAME_FAILURE = GOOD_PATCH.replace("+    return a + b", "+    return (a - b)")


def ladder(**policy: object) -> list[tuple[str, int, str | None, int]]:
    return [(r.tier, r.attempt, r.effort, r.effort_raise) for r in patch_ladder(RoutingConfig(**policy), LOCAL)]


def test_a_task_class_effort_rides_on_every_rung_of_its_ladder():
    assert ladder(reasoning_effort={"local": "high", "mechanical": "minimal"}) == [
        ("mid", 1, "high", 0),
        ("mid", 2, "high", 0),
        ("frontier", 1, "high", 0),
        ("frontier", 2, "high", 0),
    ]
    assert ladder(reasoning_effort={"mechanical": "minimal"})[0] == ("mid", 1, None, 0)  # None: the tier's own


def test_raising_effort_adds_one_attempt_per_tier_below_the_last():
    assert ladder(raise_effort_before_escalating=True, attempts={"mid": 1}) == [
        ("mid", 1, None, 0),
        ("mid", 2, None, 1),
        ("frontier", 1, None, 0),
        ("frontier", 2, None, 0),  # the top tier has nothing to escalate to
    ]
    # a tier with no attempts gets no raise either, and the last tier that has attempts is the top
    assert ladder(raise_effort_before_escalating=True, attempts={"frontier": 0}) == [
        ("mid", 1, None, 0),
        ("mid", 2, None, 0),
    ]


def test_the_route_shows_the_effort_of_each_rung():
    policy = RoutingConfig(raise_effort_before_escalating=True, reasoning_effort={"local": "low"})
    plan = plan_route(policy, BudgetConfig(), LOCAL, [])
    assert "mid #3: retry at mid with more effort; effort low; effort +1" in plan.explanation["ladder"]
    assert plan.explanation["policy"]["reasoning_effort"] == {"local": "low"}
    assert plan.explanation["policy"]["raise_effort_before_escalating"] is True


def test_a_tier_whose_retries_repeat_a_failure_still_gets_its_effort_retry():
    rungs = [Rung("mid", 1, "a"), Rung("mid", 2, "b"), Rung("mid", 3, "c", effort_raise=1), Rung("frontier", 1, "d")]
    assert effort_retry(rungs, 0, "mid") == 2
    assert effort_retry(rungs, 2, "mid") is None  # the raise itself failed the same way: move up


# ---------------------------------------------------------------- whole runs


def run(calc_repo, fake_server, routing: dict, mid: dict, *patches: str):
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)  # task class local: starts at mid
    fake_server.enqueue("patch", "mid", *patches)
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    tiers = {t: {"model": "openai/gpt-5-mini", "reasoning_effort": "high"} for t in ("small", "frontier")}
    # the runs are about effort: the quick command's exit code judges
    cfg = http_config(
        fake_server, {**QUICK, "routing": routing, "tiers": {**tiers, "mid": {"model": "openai/gpt-5-mini", **mid}}}
    )
    result = fix(calc_repo, http_provider(cfg), cfg=cfg, exit_code_only=True)
    sent = [(r.step, r.tier, r.body.get("reasoning_effort")) for r in fake_server.requests]
    return result, sent


def test_a_failed_patch_is_retried_with_more_effort_before_the_next_tier(calc_repo, fake_server):
    """The first patch leaves test_add failing as before: the retry at mid would repeat that failure and
    is skipped, but the attempt with more effort is made (low -> medium), and it is accepted."""
    routing = {"raise_effort_before_escalating": True}
    result, sent = run(calc_repo, fake_server, routing, {"reasoning_effort": "low"}, SAME_FAILURE, GOOD_PATCH)
    assert result.status == "fixed"
    assert sent == [("classify", "small", "minimal"), ("patch", "mid", "low"), ("patch", "mid", "medium")]
    assert [r.effort for r in result.ledger.rows if r.step == "patch"] == ["low", "medium"]
    assert "mid #3: retry at mid with more effort; effort +1" in result.routing["ladder"]


def test_no_effort_retry_where_the_model_is_at_its_highest(calc_repo, fake_server):
    routing = {"raise_effort_before_escalating": True, "attempts": {"mid": 1}}
    result, sent = run(calc_repo, fake_server, routing, {"reasoning_effort": "high"}, SAME_FAILURE)
    assert result.status == "fixed"
    assert sent == [("classify", "small", "minimal"), ("patch", "mid", "high"), ("patch", "frontier", "high")]


def test_the_cli_reports_reasoning_per_step_and_doctor_says_what_each_tier_takes(cli, calc_repo, fake_server):
    # about effort and reasoning: the quick command's exit code judges
    write_config(calc_repo, fake_server, extra={**QUICK, "routing": {"reasoning_effort": {"local": "medium"}}})
    path = calc_repo / ".tieragent.yaml"
    data = yaml.safe_load(path.read_text())
    for tier in data["tiers"].values():
        tier["model"] = "openai/gpt-5-mini"
    data["tiers"]["small"].update(temperature=0.0, reasoning_effort="high")  # classify needs little thought
    text = yaml.safe_dump(data)
    path.write_text(text)
    trust_config(calc_repo, text)
    fake_server.enqueue("classify", "small", Reply(CLASSIFY_OPS, completion_tokens=40, reasoning_tokens=64))
    fake_server.enqueue("patch", "mid", Reply(GOOD_PATCH, completion_tokens=100, reasoning_tokens=900))
    proc = cli(["fix", "add() returns the wrong result", "--json", "--exit-code-only"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    # classify runs at gpt-5's lowest level whatever the small tier's; the patch at the task class's
    assert [(s["step"], s["effort"], s["reasoning_tokens"], s["output_tokens"]) for s in result["steps"]] == [
        ("classify", "minimal", 64, 104),
        ("patch", "medium", 900, 1000),
    ]
    assert [r.body["reasoning_effort"] for r in fake_server.requests] == ["minimal", "medium"]
    assert result["totals"]["by_tier"]["mid"]["reasoning_tokens"] == 900
    assert all(line.endswith("; effort medium") for line in result["routing"]["ladder"])
    doctor = cli(["doctor", "--json", "--no-baseline", "-C", str(calc_repo)], calc_repo)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["mid settings"]["status"] == "ok"
    assert (
        "reasoning_effort (minimal, low, medium, high; tier: the provider's default; local: medium)"
        in (checks["mid settings"]["detail"])
    )
    assert checks["small settings"]["status"] == "warn"  # gpt-5 takes no temperature: it is not sent
    assert checks["small settings"]["detail"].startswith("temperature 0 is not sent: OpenAI gpt-5 refuses it")


def test_the_ledger_table_shows_the_effort_and_the_reasoning_tokens_when_a_call_has_them():
    from rich.console import Console

    from tieragent.cli.render import ledger_table
    from tieragent.core.vocab import Outcome
    from tieragent.model.ledger import Ledger
    from tieragent.model.protocol import ModelReply, Usage

    ledger = Ledger({}, {"mid": "openai/gpt-5-mini"})

    def shown() -> str:
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(ledger_table(ledger))
        return console.export_text()

    ledger.record("patch", "mid", ModelReply("x", Usage(1000, 0, 100), "openai/fake", 1.0), Outcome.OK)
    assert "reasoning" not in shown() and "effort" not in shown()  # no call has them: the columns stay away
    reply = ModelReply("x", Usage(1000, 0, 1200, reasoning_tokens=1100), "openai/gpt-5-mini", 1.0)
    ledger.record("patch", "mid", reply, Outcome.OK, effort="high")
    table = shown()
    assert "effort" in table and "reasoning" in table and "high" in table and "1,100" in table


def test_the_prompt_leaves_room_in_the_window_for_the_reasoning(calc_repo):
    """A 23,000-token window would hold the file with 4,096 tokens for the answer (15,904 left), but
    with 16,384 more for high effort's reasoning no room is left: the file is not shown, not cut off."""
    cfg = config({**QUICK, "tiers": {"mid": {"model": "openai/gpt-5-mini", "reasoning_effort": "high"}}})
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg)
    result = fix(calc_repo, provider, cfg=cfg, windows={"mid": 23_000}, exit_code_only=True)
    assert result.status == "fixed" and "return a - b" not in sent(provider, "patch", 0)


def test_a_review_leaves_room_in_the_window_for_the_reasoning(tmp_path):
    repo = make_repo(tmp_path / "r", {"app/util.py": "def f(x):\n    return x\n"})
    (repo / "app/util.py").write_text("def f(x):\n    return x + 1\n")
    triage = '{"hunks": [{"id": "H1", "risk": "medium", "reason": "new"}]}'
    script = {("review-triage", "small"): [triage], ("review", "mid"): ['{"findings": []}']}
    seen = []
    for effort in (None, "high"):  # 2,000 tokens for the hunk; none when 16,384 go to reasoning
        cfg = config({"tiers": {"mid": {"model": "openai/gpt-5-mini", "reasoning_effort": effort}}})
        result = review(repo, scripted(script, cfg), cfg=cfg, windows={"mid": 4096 + 3000 + 2000})
        seen.append((result.reviewed, [u.reason for u in result.unreviewed]))
    assert seen[0] == (["app/util.py#1"], [])
    assert seen[1][0] == [] and "too large" in seen[1][1][0]
