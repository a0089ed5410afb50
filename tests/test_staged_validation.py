"""Staged validation (a candidate's targeted tests first, the full suite's verdict) and the baseline taken in
the background while classify and the first patch are made: real git repos, real pytest, a scripted model."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest
from conftest import CALC_FILES, CLASSIFY_OPS, GOOD_PATCH, make_repo, snapshot
from flowkit import PYTEST, config, fix, outcomes, scripted

from tieragent.core.errors import ExitCode
from tieragent.judge.adapters import Pytest
from tieragent.judge.staged import judge_targeted
from tieragent.judge.testresults import TestRun
from tieragent.repo.runner import CommandResult

# calc/report.py uses ops.scale, which tests/test_ops.py does not test: a patch that breaks scale passes the
# targeted tests (test_ops.py, the request's and the changed file's) and only the full suite sees it.
STAGED_FILES = {
    **CALC_FILES,
    "calc/ops.py": CALC_FILES["calc/ops.py"] + "\n\ndef scale(a, k):\n    return a * k\n",
    "calc/report.py": "from calc.ops import scale\n\n\ndef doubled(xs):\n    return [scale(x, 2) for x in xs]\n",
    "tests/test_report.py": (
        "from calc.report import doubled\n\n\ndef test_doubled():\n    assert doubled([1, 2]) == [2, 4]\n"
    ),
}
BREAKS_SCALE = """```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,3 @@
 def add(a, b):
     \"\"\"Sum of a and b.\"\"\"
-    return a - b
+    return a + b
@@ -9,2 +9,2 @@
 def scale(a, k):
-    return a * k
+    return a + k
```"""
WRONG_ADD = GOOD_PATCH.replace("return a + b", "return a * b")


@pytest.fixture
def staged_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", STAGED_FILES)


def staged(on: bool):
    return config({"validate": {"test": PYTEST, "timeout_s": 60, "staged": on}})


def run_ladder(repo: Path, on: bool):
    script = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BREAKS_SCALE, WRONG_ADD]}
    script[("patch", "frontier")] = [GOOD_PATCH]
    return fix(repo, scripted(script), cfg=staged(on))


def test_staged_validation_reaches_the_full_suites_verdicts(staged_repo, tmp_path):
    off_repo = make_repo(tmp_path / "off", STAGED_FILES)
    on, off = run_ladder(staged_repo, True), run_ladder(off_repo, False)
    assert on.exit_code == off.exit_code == ExitCode.FIXED
    assert [a["outcome"] for a in on.attempts] == [a["outcome"] for a in off.attempts]
    assert [a["outcome"] for a in on.attempts] == ["tests-failed", "tests-failed", "ok"]
    # the targeted tests (tests/test_ops.py) miss what BREAKS_SCALE breaks: the full suite refuses it, as it does
    # without stages; WRONG_ADD fails its targeted tests and is refused before the full suite
    assert [a["validated_by"] for a in on.attempts] == ["full", "targeted", "full"]
    assert [a["validated_by"] for a in off.attempts] == ["full", "full", "full"]
    notes = [[r.note for r in result.ledger.rows if r.step == "patch"] for result in (on, off)]
    assert "tests.test_report::test_doubled" in notes[0][0] and notes[0][0] == notes[1][0]
    assert "tests.test_ops::test_add" in notes[0][1] and "targeted tests" in notes[0][1]
    assert on.patch == off.patch and on.validation.tests.result.command == PYTEST  # the full suite accepted it
    assert on.validation.checks["targeted_first"]["targeted_files"] == ["tests/test_ops.py"]  # after its targeted
    assert on.validation.checks["tests"] == off.validation.checks["tests"]
    for timing in on.attempts:  # the latency of each try, as --json reports it
        assert timing["validation_seconds"] > 0 and timing["model_seconds"] >= 0
    doc = json.loads(json.dumps(on.to_json()))
    assert [a["validated_by"] for a in doc["attempts"]] == ["full", "targeted", "full"]


def run_of(cases: dict[str, str], timed_out: bool = False, code: int = 1) -> TestRun:
    return TestRun(CommandResult("pytest x", None if timed_out else code, "", 0.1, timed_out), cases)


BEFORE = run_of({"t::a": "passed", "t::b": "failed", "u::c": "passed"})


@pytest.mark.parametrize(
    "after, refused",
    [
        ({"t::a": "failed", "t::b": "passed"}, True),  # a test that passed before fails
        ({"t::a": "skipped", "t::b": "passed"}, True),  # ... or is skipped
        ({"t::a": "passed", "t::b": "passed", "t::new": "failed"}, True),  # a new test fails
        ({"t::a": "passed", "t::b": "failed"}, True),  # the request's target still fails
        ({"t::a": "passed", "t::b": "passed"}, False),  # u::c did not run here: not held against it
        ({"t::a": "passed"}, False),  # the target did not run here: the full suite decides
    ],
)
def test_the_targeted_stage_refuses_only_what_the_full_suite_would(after, refused):
    verdict = judge_targeted(BEFORE, run_of(after), {"t::b"}, "named in the request")
    assert (verdict is not None) is refused
    if verdict is not None:
        assert not verdict.ok


def test_the_targeted_stage_never_judges_by_exit_code_alone():
    passing = {"t::a": "passed", "t::b": "passed"}
    assert judge_targeted(BEFORE, run_of(passing, code=2), {"t::b"}, "named in the request") is None  # a threshold
    progress, still = "none matched the request: at least one must be fixed", {"t::a": "passed", "t::b": "failed"}
    assert judge_targeted(BEFORE, run_of(still), {"t::b", "u::c"}, progress) is None  # u::c may be fixed elsewhere
    assert judge_targeted(BEFORE, run_of({**still, "u::c": "failed"}), {"t::b", "u::c"}, progress) is not None
    assert judge_targeted(BEFORE, run_of({}), {"t::b"}, "named") is None
    timed_out = judge_targeted(BEFORE, run_of(passing, timed_out=True), set(), "")
    assert timed_out is not None and not timed_out.ok


def test_pytest_targets_several_files_unless_the_command_names_its_own(tmp_path):
    (tmp_path / "tests").mkdir()
    runner = Pytest("pytest")
    assert (
        runner.command("pytest -q", None, ["tests/a.py", "tests/b b.py"], tmp_path)
        == "pytest -q tests/a.py 'tests/b b.py'"
    )
    assert runner.targets_files("pytest -q", tmp_path)
    assert not runner.targets_files("pytest -q tests", tmp_path)


# ------------------------------------------------------------------------------------ the background baseline
def pid_command(pidfile: Path, then: str = "") -> str:
    """A test command that records its pid, waits for `then` (a file) to appear, then runs pytest."""
    wait = f"while [ ! -e '{then}' ]; do sleep 0.01; done; " if then else ""
    return f"echo $$ > '{pidfile}'; {wait}{PYTEST}"


def test_the_baseline_runs_while_classify_is_asked(calc_repo, tmp_path):
    started, classified = tmp_path / "baseline.pid", tmp_path / "classified"

    def classify_once_the_baseline_runs(request):
        for _ in range(500):  # the baseline's command starts within moments (it used to run before this call)
            if started.exists():
                break
            threading.Event().wait(0.01)
        classified.touch()
        return CLASSIFY_OPS if started.exists() else "the baseline was not running"

    provider = scripted({("patch", "mid"): ["no patch"], ("patch", "frontier"): ["no patch"]})
    provider.responder = classify_once_the_baseline_runs
    cfg = config({"validate": {"test": pid_command(started, then=str(classified)), "timeout_s": 20}})
    result = fix(calc_repo, provider, cfg=cfg)
    assert result.classification.source != "heuristic" and result.exit_code == ExitCode.NOT_FIXED
    assert result.baseline["tests"]["failing"] == ["tests.test_ops::test_add"]  # waited for, though no patch was


def test_a_baseline_that_cannot_judge_stops_the_run_before_the_patch_touches_the_tree(calc_repo):
    before = snapshot(calc_repo)
    cfg = config({"validate": {"test": f'"{sys.executable}" -c "raise SystemExit(1)"', "timeout_s": 20}})
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})
    result = fix(calc_repo, provider, cfg=cfg)
    assert result.exit_code == ExitCode.USAGE and "no per-test results" in result.error
    assert provider.calls() == [("classify", "small"), ("patch", "mid")]  # made while the baseline ran
    assert outcomes(result) == [("mid", "discarded")]  # ...and the patch was never applied
    assert snapshot(calc_repo) == before


def test_ctrl_c_while_the_baseline_runs_stops_its_tests_and_leaves_the_tree(calc_repo, tmp_path):
    before = snapshot(calc_repo)
    started, never = tmp_path / "baseline.pid", tmp_path / "never"
    cfg = config({"validate": {"test": pid_command(started, then=str(never)), "timeout_s": 60}})

    def interrupt_once_the_baseline_runs(request):
        for _ in range(500):
            if started.exists() and started.read_text().strip():
                break
            threading.Event().wait(0.01)
        raise KeyboardInterrupt

    provider = scripted({("classify", "small"): [CLASSIFY_OPS]})
    provider.responder = interrupt_once_the_baseline_runs
    result = fix(calc_repo, provider, cfg=cfg)
    assert result.exit_code == ExitCode.INTERRUPTED
    assert snapshot(calc_repo) == before
    pid = int(started.read_text())
    with pytest.raises(ProcessLookupError):  # the baseline's shell (its whole group) was stopped
        os.kill(pid, 0)


REPRO = """```tests/test_tieragent_repro.py
from calc.ops import add


def test_add_small_numbers():
    assert add(1, 1) == 2
```"""


def test_the_repro_test_is_among_the_targeted_tests(staged_repo):
    hard_coded = GOOD_PATCH.replace("+    return a + b", "+    return 5")  # passes test_add, not the repro test
    script = {("classify", "small"): [CLASSIFY_OPS], ("repro", "mid"): [REPRO], ("patch", "mid"): [hard_coded]}
    result = fix(staged_repo, scripted({**script, ("patch", "frontier"): [GOOD_PATCH]}), cfg=staged(True), repro=True)
    assert result.exit_code == ExitCode.FIXED
    assert result.attempts[0]["validated_by"] == "targeted"
    refused = next(r.note for r in result.ledger.rows if r.step == "patch")
    assert "tests.test_tieragent_repro::test_add_small_numbers" in refused
