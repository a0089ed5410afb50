"""The first day with tieragent (issue 21): each defect a newcomer met, as a regression test."""

from __future__ import annotations

import io
import json
import sys

from conftest import CLASSIFY_OPS, GOOD_PATCH, git, snapshot, write_config


def test_branch_that_exists_is_refused_before_any_model_call(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    git(calc_repo, "branch", "tieragent/add")
    before = snapshot(calc_repo)
    proc = cli(["fix", "add() returns the wrong result", "--json", "--branch", "tieragent/add"], calc_repo)
    assert proc.returncode == 2, proc.stderr
    assert "a branch named tieragent/add exists already" in json.loads(proc.stdout)["error"]
    assert fake_server.requests == []
    assert snapshot(calc_repo) == before


def test_an_invalid_branch_name_is_refused_before_any_model_call(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    proc = cli(["fix", "add() returns the wrong result", "--branch", "no..dots"], calc_repo)
    assert proc.returncode == 2 and "not a valid branch name" in proc.stderr
    assert fake_server.requests == []


def test_request_file_from_stdin_loses_its_last_newline(cli, calc_repo, fake_server, monkeypatch):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    monkeypatch.setattr(sys, "stdin", io.StringIO("add() returns the wrong result\n"))
    proc = cli(["fix", "--request-file", "-", "--json"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["request"] == "add() returns the wrong result"


def test_review_error_json_has_no_fix_fields(cli, calc_repo):
    proc = cli(["review", "--json", "--diff", str(calc_repo / "missing.diff")], calc_repo)
    data = json.loads(proc.stdout)
    assert proc.returncode == 2 and "request" not in data and "cannot read it" in data["error"]


def test_an_unknown_option_gets_no_far_fetched_suggestion(cli, calc_repo):
    assert "Possible options" not in cli(["fix", "--bogus"], calc_repo).stderr
    proc = cli(["fix", "--verbos", "x"], calc_repo)
    assert proc.returncode == 2 and "--verbose" in proc.stderr


def test_a_tiny_budget_reads_as_itself():
    from tieragent.core.config import BudgetConfig
    from tieragent.model.budget import budget_check

    verdict = budget_check(BudgetConfig(max_cost_usd=0.0001), 0.0, 0, 0.0004)
    assert not verdict.allowed and verdict.reason.endswith("passes the budget of $0.0001")
