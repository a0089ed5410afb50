"""The CLI's `main()` run in this process (the `cli` fixture) through litellm's real HTTP path
against the fake server: output, the ledger's arithmetic over HTTP usage, rendering and review
formats, without paying a subprocess's litellm import per test."""

from __future__ import annotations

import json

import pytest
from conftest import BAD_PATCH, CLASSIFY_OPS, GOOD_PATCH, PRICES, git, make_repo, snapshot, trust_config, write_config
from fake_openai import Reply


def fix_json(cli, repo, *extra):
    proc = cli(["fix", "add() returns the wrong result", "--json", *extra], repo)
    data = json.loads(proc.stdout)
    assert data["exit_code"] == proc.returncode
    return proc, data


def test_ledger_totals_equal_reported_usage_times_prices(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue(
        "classify", "small", Reply(CLASSIFY_OPS, prompt_tokens=1200, completion_tokens=80, cached_tokens=200)
    )
    fake_server.enqueue("patch", "mid", Reply(BAD_PATCH, prompt_tokens=3000, completion_tokens=400, cached_tokens=1000))
    fake_server.enqueue("patch", "mid", Reply("not a diff", prompt_tokens=3500, completion_tokens=10))
    fake_server.enqueue(
        "patch", "frontier", Reply(GOOD_PATCH, prompt_tokens=4000, completion_tokens=300, cached_tokens=0)
    )
    proc, data = fix_json(cli, calc_repo)
    assert proc.returncode == 0, proc.stderr

    def cost(tier, inp, out, cached):
        p = PRICES[tier]
        return (
            (inp - cached) * p["input_per_mtok"] + cached * p["cached_input_per_mtok"] + out * p["output_per_mtok"]
        ) / 1e6

    expected = [
        cost("small", 1200, 80, 200),
        cost("mid", 3000, 400, 1000),
        cost("mid", 3500, 10, 0),
        cost("frontier", 4000, 300, 0),
    ]
    assert [r["cost_usd"] for r in data["steps"]] == pytest.approx(expected)
    assert [r["cached_input_tokens"] for r in data["steps"]] == [200, 1000, 0, 0]
    assert data["totals"]["cost_usd"] == pytest.approx(sum(expected), abs=1e-6)
    assert data["totals"]["by_tier"]["mid"]["cost_usd"] == pytest.approx(expected[1] + expected[2], abs=1e-6)
    frontier_only = (
        cost("frontier", 1200, 80, 200)
        + cost("frontier", 3000, 400, 1000)
        + cost("frontier", 3500, 10, 0)
        + expected[3]
    )
    assert data["totals"]["frontier_only_estimate_usd"] == pytest.approx(frontier_only, abs=1e-6)
    history = (calc_repo / ".git/tieragent/ledger.jsonl").read_text().splitlines()
    assert len(history) == 1 and json.loads(history[0])["totals"]["cost_usd"] == pytest.approx(sum(expected), abs=1e-6)
    human = cli(["ledger"], calc_repo)  # and `tieragent ledger` reads it back
    assert human.returncode == 0 and "1 run(s)" in human.stdout and "Frontier-only estimate" in human.stdout


def test_refused_connection_exits_4(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    cfg = (calc_repo / ".tieragent.yaml").read_text().replace(fake_server.url, "http://127.0.0.1:9/v1")
    (calc_repo / ".tieragent.yaml").write_text(cfg)
    trust_config(calc_repo, cfg)
    before = snapshot(calc_repo)
    proc, data = fix_json(cli, calc_repo)
    assert proc.returncode == 4, proc.stderr
    assert data["status"] == "error" and "no tier could be reached" in data["error"]
    assert "at http://127.0.0.1:9/v1" in data["error"]  # which endpoint could not be reached
    assert {r["outcome"] for r in data["steps"]} == {"provider-error"}
    assert snapshot(calc_repo) == before


def test_human_output_has_routing_and_ledger_tables(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BAD_PATCH, GOOD_PATCH)
    proc = cli(["fix", "add() returns the wrong result", "--explain-routing", "--no-ci"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Fixed" in out and "Cost ledger" in out and "tests-failed" in out and "Frontier-only estimate" in out
    assert (
        "starts at mid (task class local)" in out
        and "planned attempts: mid #1 → mid #2 → frontier #1 → frontier #2" in out
    )


PAYMENTS = 'def refund(db, charge_id):\n    db.execute("DELETE FROM charges WHERE id = ?", (charge_id,))\n'
SQL_FINDING = json.dumps(
    {
        "findings": [
            {
                "path": "shop/payments.py",
                "line": 2,
                "severity": "high",
                "category": "security",
                "message": "SQL built by concatenation",
                "suggestion": "bind a parameter",
            }
        ]
    }
)


def test_review_against_a_base_branch_as_sarif(cli, tmp_path, fake_server):
    repo = make_repo(tmp_path / "shop", {"shop/payments.py": PAYMENTS, "shop/util.py": "def f(x):\n    return x\n"})
    write_config(repo, fake_server)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")
    main = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "shop/payments.py").write_text(PAYMENTS.replace('= ?", (charge_id,))', '= " + charge_id)'))
    git(repo, "commit", "-qam", "faster refunds")
    fake_server.enqueue("review-triage", "small", '{"hunks": [{"id": "H1", "risk": "high", "reason": "sql"}]}')
    fake_server.enqueue("review", "frontier", SQL_FINDING)
    proc = cli(["review", "--base", main, "--format", "sarif", "--fail-on", "never"], repo)
    assert proc.returncode == 0, proc.stderr
    sarif = json.loads(proc.stdout)
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "security" and result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "shop/payments.py" and location["region"]["startLine"] == 2
    assert fake_server.requests[1].headers["x-tieragent-step"] == "review"
