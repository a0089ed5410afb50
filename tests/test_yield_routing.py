"""`routing.start: auto` in the fix flow and `tieragent ledger --fit`, on a synthetic ledger history."""

from __future__ import annotations

import io
import json
from pathlib import Path

from conftest import CLASSIFY_OPS, GOOD_PATCH, QUICK, write_config
from flowkit import config, fix, scripted
from rich.console import Console

from tieragent.cli.render import print_routing
from tieragent.flows.yield_history import tallies_from_history

MODELS = {t: f"openai/fake-{t}" for t in ("small", "mid", "frontier")}


def history_line(task_class: str, patches: list[tuple[str, float | None, str]], solved: bool) -> dict:
    """One fix run: its patch calls (tier, cost, outcome); when `solved`, the last one was accepted."""
    steps = [{"step": "classify", "tier": "small", "model": MODELS["small"], "cost_usd": 0.0001, "outcome": "ok"}]
    steps += [
        {"step": "patch", "tier": t, "model": MODELS[t], "cost_usd": cost, "outcome": outcome}
        for t, cost, outcome in patches
    ]
    return {
        "flow": "fix",
        "time": "2026-12-01T10:00:00+0000",
        "status": "fixed" if solved else "failed",
        "classification": {"task_class": task_class},
        "steps": steps,
        "accepted_step": len(steps) - 1 if solved else None,
    }


def cheap_solves(n: int = 10) -> list[dict]:
    return [history_line("local", [("small", 0.0005, "ok")], True) for _ in range(n)]


def cheap_fails(n: int = 10) -> list[dict]:
    """The small and mid tiers fail; the frontier solves."""
    failing = [("small", 0.0005, "tests-failed"), ("mid", 0.02, "tests-failed"), ("mid", 0.02, "apply-failed")]
    return [history_line("local", [*failing, ("frontier", 0.05, "ok")], True) for _ in range(n)]


def write_history(repo: Path, runs: list[dict]) -> None:
    state = repo / ".git" / "tieragent"
    state.mkdir(parents=True, exist_ok=True)
    (state / "ledger.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs))


# the runs are about where routing starts: the quick command's exit code judges them
AUTO = config({**QUICK, "routing": {"start": {"local": "auto"}}})


def test_tallies_count_runs_calls_solves_and_cost_per_model():
    rates = tallies_from_history([*cheap_fails(2), history_line("local", [("mid", None, "ok")], True)])
    small, mid = rates[(MODELS["small"], "local")], rates[(MODELS["mid"], "local")]
    assert (small.runs, small.calls, small.solved, small.mean_cost()) == (2, 2, 0, 0.0005)
    assert (mid.runs, mid.calls, mid.solved, mid.priced_runs) == (3, 5, 1, 2)  # the unpriced run has no cost
    assert rates[(MODELS["frontier"], "local")].solved == 2


def test_a_verify_call_counts_in_the_cost_of_the_patch_it_judged():
    # a cheap patch that needs the frontier's second look is not free: the verify call is part of its run's cost
    run = history_line("local", [("small", 0.0005, "ok")], True)
    verify = {"step": "verify", "tier": "frontier", "model": MODELS["frontier"], "cost_usd": 0.002, "outcome": "ok"}
    run["steps"].append(verify)
    run["accepted_step"] = len(run["steps"]) - 2
    rates = tallies_from_history([run])
    small = rates[(MODELS["small"], "local")]
    assert (small.runs, small.calls, small.solved) == (1, 1, 1)
    assert small.mean_cost() == 0.0025
    assert (MODELS["frontier"], "local") not in rates  # the frontier wrote no patch in this run


def test_auto_starts_at_the_cheap_tier_while_it_solves(calc_repo):
    write_history(calc_repo, cheap_solves())
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "small"): [GOOD_PATCH]}, AUTO)
    result = fix(calc_repo, provider, cfg=AUTO, exit_code_only=True)
    assert result.status == "fixed", result.error
    assert provider.calls() == [("classify", "small"), ("patch", "small")]
    assert result.routing["start"] == "small" and "small solves 10/10" in result.routing["why"]
    assert result.routing["auto_start"]["table"] == "mid"
    shown = Console(file=io.StringIO(), width=200)
    print_routing(result.routing, shown)  # --explain-routing
    assert "auto estimate at small (openai/fake-small): P 0.80 from 10/10 runs" in shown.file.getvalue()


def test_auto_starts_at_the_frontier_once_the_cheap_tiers_yield_makes_them_dearer(calc_repo):
    write_history(calc_repo, cheap_solves(3) + cheap_fails(20))
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "frontier"): [GOOD_PATCH]}, AUTO)
    result = fix(calc_repo, provider, cfg=AUTO, exit_code_only=True)
    assert result.status == "fixed", result.error
    assert provider.calls() == [("classify", "small"), ("patch", "frontier")]
    estimates = {e["tier"]: e for e in result.routing["auto_start"]["estimates"]}
    assert estimates["small"]["runs"] == 23 and estimates["small"]["solved"] == 3


def test_ledger_fit_prints_the_rates_and_the_routing(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server, extra={"routing": {"start": "auto"}})
    write_history(calc_repo, cheap_solves(4) + cheap_fails(2))
    proc = cli(["ledger", "--fit"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert "Measured yield" in proc.stdout and "openai/fake-small" in proc.stdout
    assert "local: starts at small" in proc.stdout
    assert "mechanical: starts at small" in proc.stdout and "no recorded runs of mechanical" in proc.stdout
    as_json = cli(["ledger", "--fit", "--json"], calc_repo)
    doc = json.loads(as_json.stdout)
    small = next(r for r in doc["rates"] if r["model"] == "openai/fake-small")
    assert (small["runs"], small["solved"], small["calls"]) == (6, 4, 6)
    assert doc["routing"]["local"]["start"] == "small" and doc["routing"]["local"]["configured"] == "auto"
    assert doc["routing"]["long_horizon"]["start"] == "frontier"
    later = json.loads(cli(["ledger", "--fit", "--json", "--since", "2026-12-02"], calc_repo).stdout)
    assert later["rates"] == [] and later["routing"]["local"]["start"] == "mid"  # the runs are older


def test_ledger_fit_without_history_says_so(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    proc = cli(["ledger", "--fit"], calc_repo)
    assert proc.returncode == 0 and "No recorded fix runs" in proc.stdout
    assert "local: starts at mid; configured now: mid" in proc.stdout
