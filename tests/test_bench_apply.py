"""`tieragent bench --apply`: the measured start tiers written into `.tieragent.yaml`, the rest of the file
kept, and never without a yes (or `--yes` where nobody can answer)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import CALC_FILES, make_repo, state_home, trust_config
from rich.console import Console

from tieragent.cli import bench_apply
from tieragent.cli.routing_edit import new_start, set_routing_start
from tieragent.core.trust import config_digest, is_trusted
from tieragent.flows.bench.yields import tallies_from_bench

# the demo's models (--scripted)
NANO, SONNET, OPUS = "openai/gpt-5-nano", "anthropic/claude-sonnet-4-5", "anthropic/claude-opus-4-5"
USER_FILE = "# my project's settings\nbudget:\n  max_cost_usd: 2.0  # per run\nrouting:\n  attempts:\n    mid: 3\n"


def record(task: str, policy: str, tier: str, model: str, cost: float, outcome: str = "solved") -> dict:
    solved = outcome == "solved"
    return {
        "kind": "run",
        "bench_id": "earlier",
        "task": task,
        "policy": policy,
        "status": "fixed" if outcome in ("solved", "false_accept") else "failed",
        "outcome": outcome,
        "cost_usd": cost,
        "task_class": "local",
        "start_tier": tier,
        "accepted_tier": tier if outcome != "failed" else None,
        "escalated": False,
        "steps": [
            {"step": "patch", "tier": tier, "model": model, "cost_usd": cost, "outcome": "ok" if solved else "x"}
        ],
    }


def finished_bench(tmp_path: Path) -> Path:
    """A results file holding every pair of a two-task, three-policy bench: every model solves both tasks,
    the small one for a hundredth of the frontier's cost."""
    work = tmp_path / "work"
    work.mkdir()
    records = [
        record(task, policy, tier, model, cost)
        for task in ("chunks", "slugify")
        for policy, tier, model, cost in (
            ("small-only", "small", NANO, 0.0005),
            ("mid-only", "mid", SONNET, 0.02),
            ("frontier-only", "frontier", OPUS, 0.05),
        )
    ]
    path = work / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def bench_args(results: Path, repo: Path, *extra: str) -> list[str]:
    """The bench of `finished_bench`: two tasks on `repo`, scripted replies (unused: no pair is left to run)."""
    suite = repo.parent / "suite"
    for task in ("chunks", "slugify"):
        task_file = {"repo": "../repo", "commit": "HEAD", "request": "x", "check": "false", "scripted": {"patch": "x"}}
        (suite / f"{task}.yaml").parent.mkdir(exist_ok=True)
        (suite / f"{task}.yaml").write_text(yaml.safe_dump(task_file))
    return [
        "bench",
        "--suite",
        str(suite),
        "--scripted",
        "--policies",
        "small-only,mid-only,frontier-only",
        "--resume",
        str(results),
        "-C",
        str(repo),
        *extra,
    ]


def test_tallies_from_a_bench_count_a_false_accept_as_a_failure():
    rates = tallies_from_bench(
        [record("a", "p", "small", NANO, 0.001), record("b", "p", "small", NANO, 0.001, "false_accept")]
    )
    assert (rates[(NANO, "local")].runs, rates[(NANO, "local")].solved) == (2, 1)


def test_apply_writes_the_measured_start_and_keeps_the_rest_of_the_file(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**CALC_FILES, ".tieragent.yaml": USER_FILE})
    trust_config(repo, USER_FILE)  # the user had trusted the file
    results = finished_bench(tmp_path)
    proc = cli(bench_args(results, repo, "--apply", "--yes"), repo)
    assert proc.returncode == 0, proc.stderr
    text = (repo / ".tieragent.yaml").read_text()
    assert yaml.safe_load(text)["routing"] == {"attempts": {"mid": 3}, "start": {"local": "small"}}
    assert text.startswith(USER_FILE.split("routing:")[0])  # comments and the budget as they were
    assert "+  start:" in proc.stderr and "+    local: small" in proc.stderr  # the diff was shown
    assert "local: starts at small (auto: small solves 2/2" in proc.stderr
    trusts = state_home(tmp_path) / "tieragent" / "trusted-configs.json"
    assert is_trusted(repo.resolve(), config_digest(text), path=trusts)  # and still trusts it: only start changed
    assert len(results.read_text().splitlines()) == 6  # every pair came from the results file: none was run


def test_apply_refuses_before_the_bench_without_a_terminal_unless_yes(cli, tmp_path):
    repo = make_repo(tmp_path / "repo", {**CALC_FILES, ".tieragent.yaml": USER_FILE})
    results = finished_bench(tmp_path)
    proc = cli(bench_args(results, repo, "--apply"), repo)  # the test's stdin is no terminal
    assert proc.returncode == 2 and "Add --yes" in proc.stderr
    assert (repo / ".tieragent.yaml").read_text() == USER_FILE
    assert not list(results.parent.glob("bench-*.json"))  # stopped before the bench was planned


@pytest.mark.parametrize("answer", [True, False])
def test_apply_asks_and_writes_only_on_yes(tmp_path, monkeypatch, answer):
    path = tmp_path / ".tieragent.yaml"
    path.write_text(USER_FILE)
    asked = []
    monkeypatch.setattr(bench_apply, "ask_on_terminal", lambda q: asked.append(q) or answer)
    tiers = {"small": NANO, "mid": SONNET, "frontier": OPUS}
    price = {"input_per_mtok": 1.0, "output_per_mtok": 5.0}
    ctx = SimpleNamespace(user={"tiers": {t: {"model": m, "price": price} for t, m in tiers.items()}}, bench_id="b1")
    records = [record("a", "small-only", "small", NANO, 0.0005)]
    shown = Console(file=io.StringIO(), width=200)
    code = bench_apply.apply_measured(bench_apply.Applying(path, ask=True), "complete", records, ctx, shown)
    assert code == 0 and asked == [bench_apply.QUESTION]
    assert (path.read_text() != USER_FILE) == answer
    assert "+    local: small" in shown.file.getvalue()


def test_the_line_edit_replaces_only_routing_start():
    text = "tiers: {}\nrouting:\n  # where it starts\n  start:\n    local: mid  # old\n\n  high_risk: mid\n"
    new, kept = set_routing_start(text, {"local": "small"}, "measured")
    assert (
        kept
        and new
        == "tiers: {}\nrouting:\n  # where it starts\n  start:\n    # measured\n    local: small\n\n  high_risk: mid\n"
    )
    added, kept = set_routing_start("budget:\n  max_cost_usd: 1\n", {"local": "small"})
    assert kept and added == "budget:\n  max_cost_usd: 1\nrouting:\n  start:\n    local: small\n"
    flow, kept = set_routing_start("routing: {start: {local: mid}}\n", {"local": "small"})
    assert not kept and yaml.safe_load(flow) == {"routing": {"start": {"local": "small"}}}  # rewritten, said so


def test_classes_the_bench_did_not_run_keep_the_files_setting():
    assert new_start("auto", {"local": "small"}) == {
        "mechanical": "auto",
        "local": "small",
        "repository": "auto",
        "long_horizon": "auto",
    }
    assert new_start({"repository": "frontier"}, {"local": "small"}) == {"repository": "frontier", "local": "small"}
