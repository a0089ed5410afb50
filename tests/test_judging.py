"""Pure pieces of validation and risk: driven by tables, no subprocess, no model."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from tieragent.core.config import RiskConfig
from tieragent.core.errors import UsageError
from tieragent.flows.fix.verify import parse_verdict
from tieragent.flows.ledger_summary import parse_since, summarize_history
from tieragent.flows.replies import ReplyFormatError
from tieragent.judge.failure_output import SUMMARIZE_OVER_TOKENS, condense, needs_summary
from tieragent.judge.tamper import protected_edit
from tieragent.judge.testresults import TestRun, is_pytest, judge_tests, target_tests, with_junit
from tieragent.judge.validation import lint_problems
from tieragent.repo.diffs import EditStat
from tieragent.repo.runner import CommandResult
from tieragent.risk.rules import RiskRules, patch_risk, sensitive_paths


def run(cases, exit_code=None, timed_out=False):
    if exit_code is None:
        exit_code = 1 if cases and any(v == "failed" for v in cases.values()) else 0
    return TestRun(CommandResult("pytest", None if timed_out else exit_code, "", 1.0, timed_out), cases)


BASE = run({"t::a": "passed", "t::b": "passed", "t::bug": "failed"})


@pytest.mark.parametrize(
    "after,targets,rule,ok,reason",
    [
        ({"t::a": "passed", "t::b": "passed", "t::bug": "passed"}, {"t::bug"}, "named", True, ""),
        (
            {"t::a": "passed", "t::b": "failed", "t::bug": "passed"},
            {"t::bug"},
            "named",
            False,
            "passed before now fail: t::b",
        ),
        ({"t::a": "passed", "t::b": "passed", "t::bug": "failed"}, {"t::bug"}, "named", False, "did not fix t::bug"),
        (
            {"t::a": "passed", "t::b": "passed", "t::bug": "passed", "t::new": "failed"},
            {"t::bug"},
            "named",
            False,
            "new test(s) fail: t::new",
        ),
        ({}, {"t::bug"}, "named", False, "no tests ran"),
        # progress rule: nothing matched the request, so fixing one failing test is enough
        (
            {"t::a": "passed", "t::b": "passed", "t::bug": "passed"},
            {"t::bug"},
            "none matched the request: at least one must be fixed",
            True,
            "",
        ),
    ],
)
def test_judge_tests(after, targets, rule, ok, reason):
    v = judge_tests(BASE, run(after), targets, rule)
    assert v.ok is ok
    assert reason in v.reason


def test_judge_without_per_test_results_uses_exit_code():
    assert judge_tests(None, run(None, exit_code=0), set(), "").ok
    v = judge_tests(run(None, exit_code=0), run(None, exit_code=2), set(), "")
    assert not v.ok and "exited 2" in v.reason


def test_judge_timeout():
    assert "timed out" in judge_tests(BASE, run(None, timed_out=True), set(), "").reason


def test_unrelated_baseline_failure_does_not_block_when_progress_made():
    base = run({"t::flaky_network": "failed", "t::parse": "failed", "t::ok": "passed"})
    targets, rule = target_tests(base.failing, "the parser crashes on empty input", ["src/parse.py"])
    assert targets == {"t::parse"} and rule.startswith("related")
    after = run({"t::flaky_network": "failed", "t::parse": "passed", "t::ok": "passed"})
    assert judge_tests(base, after, targets, rule).ok


@pytest.mark.parametrize(
    "failing,request_text,picked,expected,rule",
    [
        (set(), "anything", [], set(), "no test failed before the patch"),
        (
            {"tests.test_x::test_slug", "tests.test_y::test_other"},
            "make test_slug pass",
            [],
            {"tests.test_x::test_slug"},
            "named in the request",
        ),
        (
            {"tests.test_ops::test_add", "tests.test_io::test_read"},
            "add() returns the wrong result",
            ["calc/ops.py"],
            {"tests.test_ops::test_add"},
            "related to the request or the picked files",
        ),
        (
            {"a::test_q", "b::test_r"},
            "improve speed",
            ["z.py"],
            {"a::test_q", "b::test_r"},
            "none matched the request: at least one must be fixed",
        ),
    ],
)
def test_target_tests(failing, request_text, picked, expected, rule):
    assert target_tests(failing, request_text, picked) == (expected, rule)


def test_junit_is_added_only_to_pytest():
    assert is_pytest("python -m pytest -q") and is_pytest("pytest") and not is_pytest("make test")
    assert "--junitxml=" in with_junit("python -m pytest -x", __import__("pathlib").Path("/tmp/j.xml"))
    assert with_junit("npm test", __import__("pathlib").Path("/tmp/j.xml")) == "npm test"


@pytest.mark.parametrize(
    "path,old,new,expected",
    [
        ("tests/test_api.py", b"a", b"b", "edits a test file"),
        ("src/pkg/test_util.py", b"a", b"b", "edits a test file"),
        ("web/app.spec.ts", b"a", b"b", "edits a test file"),
        ("conftest.py", b"a", b"b", "edits test configuration"),
        ("setup.cfg", b"a", b"b", "edits test configuration"),
        (".github/workflows/ci.yml", b"a", b"b", "edits CI configuration"),
        (".pre-commit-config.yaml", b"a", b"b", "edits lint configuration"),
        (
            "pyproject.toml",
            b"[project]\nname='x'\n[tool.pytest.ini_options]\naddopts='-q'\n",
            b"[project]\nname='x'\n[tool.pytest.ini_options]\naddopts='-q -k not slow'\n",
            "edits [tool.pytest.ini_options] in pyproject.toml",
        ),
        (
            "pyproject.toml",
            b"[project]\nversion='1'\n[tool.ruff]\nline-length=100\n",
            b"[project]\nversion='2'\n[tool.ruff]\nline-length=100\n",
            None,
        ),
        ("src/app.py", b"a", b"b", None),
        ("src/testing_helpers_are_code.py", b"a", b"b", None),
    ],
)
def test_protected_edit(path, old, new, expected):
    assert protected_edit(path, old, new) == expected


@pytest.mark.parametrize(
    "path,sensitive",
    [
        ("src/auth/login.py", True),
        ("app/payments.py", True),
        ("db/migrations/0002.py", True),
        (".github/workflows/ci.yml", True),
        ("Dockerfile", True),
        ("requirements-dev.txt", True),
        ("poetry.lock", True),
        ("src/util.py", False),
        ("README.md", False),
    ],
)
def test_sensitive_paths(path, sensitive):
    assert bool(sensitive_paths([path], RiskRules.from_config(RiskConfig()))) is sensitive


def sigs(path, data):
    # a stand-in signature reader: "def name(args)" lines
    out = {}
    for line in data.decode().splitlines():
        if line.startswith("def ") and not line.startswith("def _"):
            out[line[4:].split("(")[0]] = line
    return out


@pytest.mark.parametrize(
    "edits,reason",
    [
        (
            [EditStat("src/x.py", b"def f(a):\n    pass\n", b"def f(a, b):\n    pass\n")],
            "changes the signature of public f in src/x.py",
        ),
        (
            [EditStat("src/x.py", b"def f(a):\n    pass\ndef g():\n    pass\n", b"def g():\n    pass\n")],
            "removes public f in src/x.py",
        ),
        ([EditStat("src/x.py", b"def _f(a):\n    pass\n", b"def _f(a, b):\n    pass\n")], None),
        ([EditStat("src/old.py", b"x = 1\n", None)], "deletes file src/old.py"),
        ([EditStat(f"src/m{i}.py", b"a\n", b"b\n") for i in range(7)], "large patch: 7 files"),
        ([EditStat("src/big.py", b"", b"x\n" * 300)], "large patch: 300 changed lines"),
        ([EditStat("src/big.py", b"x\n" * 100, b"x\n" * 10)], "deletes code: 90 lines net"),
        ([EditStat("src/x.py", b"a = 1\n", b"a = 2\n")], None),
    ],
)
def test_patch_risk(edits, reason):
    reasons = patch_risk(edits, RiskRules.from_config(RiskConfig()), sigs)
    if reason is None:
        assert reasons == []
    else:
        assert reason in reasons


PYTEST_OUTPUT = """\
============================= test session starts ==============================
collected 3 items

tests/test_ops.py F.F                                                     [100%]

=================================== FAILURES ===================================
___________________________________ test_add ___________________________________

    def test_add():
>       assert add(2, 3) == 5
E       assert -1 == 5
E        +  where -1 = add(2, 3)

tests/test_ops.py:5: AssertionError
___________________________________ test_io ____________________________________

    def test_io():
>       json.loads("{")
/usr/lib/python3.11/json/__init__.py:346: in loads
    return _default_decoder.decode(s)
E   json.decoder.JSONDecodeError: Expecting property name

tests/test_ops.py:12: JSONDecodeError
=============================== warnings summary ===============================
tests/test_ops.py::test_add
  DeprecationWarning: something noisy
=========================== short test summary info ============================
FAILED tests/test_ops.py::test_add - assert -1 == 5
FAILED tests/test_ops.py::test_io - json.decoder.JSONDecodeError: Expecting property name
========================= 2 failed, 1 passed in 0.05s ==========================
"""


def test_condense_pytest_keeps_what_matters():
    out = condense(PYTEST_OUTPUT)
    assert "--- test_add" in out and "E       assert -1 == 5" in out and "tests/test_ops.py:5: AssertionError" in out
    assert "FAILED tests/test_ops.py::test_io" in out
    assert "/usr/lib/python3.11" not in out and "DeprecationWarning" not in out and "collected 3 items" not in out


def test_condense_other_output_keeps_the_tail():
    out = condense("\n".join(f"line {i}" for i in range(500)))
    assert out.startswith("[... earlier output cut ...]") and "line 499" in out and "line 10\n" not in out
    assert not needs_summary(out)  # 150 short lines are well under the summary threshold


def test_needs_summary_is_about_the_threshold():
    assert not needs_summary("x" * (SUMMARIZE_OVER_TOKENS * 4))
    assert needs_summary("x" * (SUMMARIZE_OVER_TOKENS * 4 + 4))


def test_lint_problems_ignore_line_numbers_and_other_files():
    out = "calc/ops.py:3:1: T100 TODO\n./calc/ops.py:9:5: E501 too long\nother.py:1:1: T100 TODO\nFound 3 errors."
    assert lint_problems(out, {"calc/ops.py"}) == Counter(
        {("calc/ops.py", "T100 TODO"): 1, ("calc/ops.py", "E501 too long"): 1}
    )


@pytest.mark.parametrize(
    "text,accept",
    [
        ('{"verdict": "accept", "reason": "ok"}', True),
        ('Sure.\n```json\n{"verdict": "Reject", "reason": "no"}\n```', False),
    ],
)
def test_parse_verdict(text, accept):
    assert parse_verdict(text)[0] is accept


def test_parse_verdict_malformed():
    with pytest.raises(ReplyFormatError):
        parse_verdict("looks fine to me")


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def test_parse_since():
    assert parse_since("7d", NOW) == datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    assert parse_since("12h", NOW) == datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc)
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=timezone.utc)
    with pytest.raises(UsageError):
        parse_since("yesterday", NOW)


def test_history_summary_counts_and_saving():
    runs = [
        {
            "time": "2026-11-26T10:00:00+0000",
            "status": "fixed",
            "classification": {"task_class": "local"},
            "totals": {"cost_usd": 0.01, "frontier_only_estimate_usd": 0.05},
            "steps": [
                {"step": "classify", "tier": "small", "cost_usd": 0.001, "outcome": "ok"},
                {"step": "patch", "tier": "mid", "cost_usd": 0.004, "outcome": "tests-failed"},
                {"step": "patch", "tier": "mid", "cost_usd": 0.005, "outcome": "ok"},
            ],
        },
        {
            "time": "2026-11-27T10:00:00+0000",
            "status": "failed",
            "classification": None,
            "totals": {"cost_usd": 0.02, "frontier_only_estimate_usd": None},
            "steps": [{"step": "patch", "tier": "frontier", "cost_usd": None, "outcome": "apply-failed"}],
        },
    ]
    s = summarize_history(runs)
    assert (s.runs, s.fixed, s.runs_without_estimate) == (2, 1, 1)
    assert s.cost_usd == pytest.approx(0.03) and s.saved_usd == pytest.approx(0.04)
    assert (s.by_class["local"]["mid"].attempts, s.by_class["local"]["mid"].validated) == (2, 1)
    assert s.by_class["unclassified"]["frontier"].unpriced_calls == 1
    assert summarize_history(runs, since=datetime(2026, 11, 27, tzinfo=timezone.utc)).runs == 1
