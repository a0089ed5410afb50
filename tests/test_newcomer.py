"""The first day with tieragent (issue 21): each defect a newcomer met, as a regression test."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

from conftest import BAD_PATCH, CLASSIFY_OPS, GOOD_PATCH, git, snapshot, write_config
from ptykit import as_text, on_a_terminal, terminal_env


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


# ---------------------------------------------------------------- 1, 2: the baseline and the environment


def python_without_pytest(tmp_path):
    """A `python` on PATH whose environment has no pytest (a venv without pip or packages)."""
    import subprocess

    venv = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin"


def plain_python_config(repo):
    from flowkit import config

    return config({"validate": {"test": "python -m pytest -q", "timeout_s": 60}})


def test_a_baseline_taken_in_a_broken_environment_is_not_reused_once_it_is_fixed(calc_repo, tmp_path, monkeypatch):
    from flowkit import fix, scripted

    good_path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    monkeypatch.setenv("PATH", f"{python_without_pytest(tmp_path)}:{good_path}")
    cfg = plain_python_config(calc_repo)
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg)
    broken = fix(calc_repo, provider, cfg=cfg)
    assert broken.exit_code == 2 and "No module named pytest" in broken.error  # the runner's own words, not only advice
    monkeypatch.setenv("PATH", good_path)
    fixed = fix(calc_repo, provider, cfg=cfg)
    assert fixed.exit_code == 0, fixed.error
    assert fixed.baseline["reused"] is False


def test_a_good_baseline_is_not_reused_once_the_environment_breaks(calc_repo, tmp_path, monkeypatch):
    from flowkit import fix, scripted

    good_path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    monkeypatch.setenv("PATH", good_path)
    cfg = plain_python_config(calc_repo)
    first = fix(
        calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH]}, cfg), cfg=cfg
    )
    assert first.exit_code == 1 and first.baseline["reused"] is False
    monkeypatch.setenv("PATH", f"{python_without_pytest(tmp_path)}:{good_path}")
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg)
    second = fix(calc_repo, provider, cfg=cfg)
    assert second.exit_code == 2 and "No module named pytest" in second.error
    # stopped at the first patch (written while the baseline ran), not after every patch was rejected
    assert provider.calls() == [("classify", "small"), ("patch", "mid")]
    assert [(r.step, str(r.outcome)) for r in second.ledger.rows][-1] == ("patch", "discarded")


def test_doctor_shows_the_runners_words_and_a_stale_baseline(calc_repo, tmp_path, monkeypatch):
    from flowkit import TEST_RUN_ENV, fix, scripted

    from tieragent.cli.doctor_commands import baseline_check
    from tieragent.repo.runner import SubprocessRunner
    from tieragent.repo.workspace import GitWorkspace

    good_path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    monkeypatch.setenv("PATH", good_path)
    cfg = plain_python_config(calc_repo)
    fix(calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH]}, cfg), cfg=cfg)
    monkeypatch.setenv("PATH", f"{python_without_pytest(tmp_path)}:{good_path}")
    runner = SubprocessRunner(TEST_RUN_ENV)  # as flowkit's fix ran it: only PATH differs
    check = baseline_check("python -m pytest -q", 60, GitWorkspace.open(calc_repo), runner=runner)
    assert check.status == "fail"
    assert "No module named pytest" in check.detail and "fix runs it again" in check.detail


# ---------------------------------------------------------------- 7: budget display


def test_row_costs_carry_no_float_noise_and_add_up_to_the_total():
    from tieragent.core.config import Price
    from tieragent.core.vocab import Outcome, Step
    from tieragent.model.ledger import Ledger
    from tieragent.model.protocol import ModelReply, Usage

    price = Price(input_per_mtok=0.1, output_per_mtok=0.4)
    ledger = Ledger(
        dict.fromkeys(("small", "mid", "frontier"), price), dict.fromkeys(("small", "mid", "frontier"), "m")
    )
    for n in (469, 131, 7):
        ledger.record(Step.CLASSIFY, "small", ModelReply("x", Usage(n, 0, n // 3), "m", 0.1), Outcome.OK)
    rows = [r.to_json()["cost_usd"] for r in ledger.rows]
    assert all(len(repr(c)) < 12 for c in rows), rows  # 4.69e-05, not 4.690000000000001e-05
    assert round(sum(rows), 6) == ledger.totals()["cost_usd"]


def test_the_ledger_tables_total_counts_calls_made_as_the_json_does(calc_repo):
    from flowkit import config, fix, scripted

    from tieragent.cli.render import tier_table

    cfg = config({"budget": {"max_cost_usd": 0.0000001}})
    result = fix(calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS]}, cfg), cfg=cfg)
    assert result.exit_code == 3 and result.to_json()["totals"]["calls"] == 0
    total_row = list(tier_table(result.ledger).columns[1].cells)[-1]
    assert total_row == "0"


# ---------------------------------------------------------------- 8: the saved attempt

BREAKS_SUB = """```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -5,2 +5,2 @@
 def sub(a, b):
-    return a - b
+    return a ** b
```"""


def test_the_saved_attempt_is_the_one_that_broke_nothing(calc_repo):
    from flowkit import fix, scripted

    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [BAD_PATCH, BAD_PATCH],
            ("patch", "frontier"): [BREAKS_SUB, BREAKS_SUB],
        }
    )
    result = fix(calc_repo, provider)
    assert result.exit_code == 1
    assert ("patch", "frontier") in provider.calls()
    saved = result.saved_diff.read_text()
    assert "return a * b" in saved and "a ** b" not in saved  # mid's wrong add, not the frontier's broken sub


# ---------------------------------------------------------------- 4, 5, 9: one CI decision for every command

LONG = "the divisor is read from the request without a check, so a zero divides and the handler crashes with a 500 " * 2


def review_repo(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "config")
    (calc_repo / "calc/ops.py").write_text(
        (calc_repo / "calc/ops.py").read_text() + "\n\ndef div(a, b):\n    return a / b\n"
    )
    finding = {
        "path": "calc/ops.py",
        "line": 11,
        "severity": "medium",
        "category": "bug",
        "message": LONG.strip(),
        "suggestion": "",
    }
    from fake_openai import Reply

    fake_server.enqueue(
        "review-triage", "small", '{"hunks": [{"id": "H1", "risk": "low", "reason": "a new function"}]}'
    )
    fake_server.default = Reply(json.dumps({"findings": [finding]}))
    return terminal_env(calc_repo, "xterm-256color")


def test_review_in_ci_on_a_terminal_keeps_the_ci_contract(calc_repo, fake_server):
    env = {**review_repo(calc_repo, fake_server), "CI": "true"}
    code, seen = on_a_terminal(["review", "--format", "text", "--fail-on", "never"], calc_repo, env)
    shown = as_text(seen)
    assert code == 0, shown
    assert "\x1b[" not in shown  # no colour
    assert LONG.strip() in shown  # not wrapped at the terminal's 80 columns
    last = [ln for ln in shown.splitlines() if ln.strip()][-1]
    assert last.startswith("tieragent review: passed (exit 0; cost $"), last  # the summary line last, after the ledger


def test_a_piped_diff_on_a_terminal_prints_text_not_json(calc_repo, fake_server):
    env = review_repo(calc_repo, fake_server)
    diff = git(calc_repo, "diff").encode()
    code, seen = on_a_terminal(["review", "--diff", "-", "--fail-on", "never"], calc_repo, env, stdin_bytes=diff)
    shown = as_text(seen)
    assert code == 0, shown
    assert not shown.lstrip().startswith("{") and '"status"' not in shown
    assert "calc/ops.py" in shown and "Review of" in shown


def test_review_takes_verbose(cli, calc_repo, fake_server):
    review_repo(calc_repo, fake_server)
    proc = cli(["review", "-v", "--fail-on", "never", "--no-ci"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert "Routing" in proc.stdout and "calc/ops.py#1  low risk → mid" in proc.stdout


def test_flags_show_no_value_in_help(cli, calc_repo):
    shown = cli(["fix", "--help"], calc_repo).stdout
    assert "--json " in shown and "<bool>" not in shown
