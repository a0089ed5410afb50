"""Validation verdicts, risk routing, the frontier review, the tamper guard, --repro, the summary step and
the ledger history, in-process: real git and real test and lint commands, a scripted model at the gateway."""

from __future__ import annotations

import sys

from conftest import (
    CLASSIFY_OPS,
    CLASSIFY_WITH_AUTH,
    EDITS_TEST,
    GOOD_PATCH,
    QUICK,
    add_auth_module,
    git,
    snapshot,
)
from flowkit import config, fix, outcomes, rows, scripted, sent

from tieragent.flows.ledger_summary import summarize_history
from tieragent.model.ledger import read_history

BREAKS_SUB = (
    GOOD_PATCH.rstrip().rstrip("`").rstrip()
    + """
@@ -5,2 +5,2 @@
 def sub(a, b):
-    return a - b
+    return a + b
```
"""
)
TOUCHES_ONLY_DOCSTRING = """```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,3 @@
 def add(a, b):
-    \"\"\"Sum of a and b.\"\"\"
+    \"\"\"Return the sum of a and b.\"\"\"
     return a - b
```"""
WITH_TODO = GOOD_PATCH.replace("+    return a + b", "+    return a + b  # TODO: overflow")
LINT_SCRIPT = """\
import pathlib, subprocess, sys
bad = 0
for path in subprocess.run(["git", "ls-files", "*.py"], capture_output=True, text=True).stdout.split():
    for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        if "TODO" in line:
            print(f"{path}:{n}:1: T100 TODO left in code")
            bad += 1
sys.exit(1 if bad else 0)
"""


def test_baseline_failure_must_be_fixed(calc_repo):
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [TOUCHES_ONLY_DOCSTRING],
            ("patch", "frontier"): [GOOD_PATCH],
        }
    )
    result = fix(calc_repo, provider)
    assert result.status == "fixed"
    # the docstring patch fails exactly as the code did before: no retry at mid, the frontier is next
    assert outcomes(result) == [("mid", "tests-failed"), ("frontier", "ok")]
    assert result.baseline["tests"]["failing"] == ["tests.test_ops::test_add"]
    first = next(r for r in result.ledger.rows if r.step == "patch")
    assert first.outcome == "tests-failed" and "did not fix tests.test_ops::test_add" in first.note
    checks = result.validation.checks["tests"]
    assert checks["fixed"] == ["tests.test_ops::test_add"] and checks["new_failures"] == []
    assert checks["target_rule"] == "related to the request or the picked files"


def test_fixing_the_target_but_breaking_another_test_is_refused(calc_repo):
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BREAKS_SUB, GOOD_PATCH]})
    result = fix(calc_repo, provider)
    assert result.status == "fixed"
    first = next(r for r in result.ledger.rows if r.step == "patch")
    assert first.outcome == "tests-failed" and "passed before now fail: tests.test_ops::test_sub" in first.note
    assert "test_sub" in sent(provider, "patch", 1)  # the retry names the broken test


def test_baseline_is_reused_while_the_tree_is_unchanged(calc_repo):
    script = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): ["no diff"], ("patch", "frontier"): ["no diff"]}
    first, second = fix(calc_repo, scripted(script)), fix(calc_repo, scripted(script))
    assert first.status == second.status == "failed"
    assert first.baseline["reused"] is False and second.baseline["reused"] is True
    (calc_repo / "calc/ops.py").write_text((calc_repo / "calc/ops.py").read_text() + "\n# edited\n")
    assert fix(calc_repo, scripted(script)).baseline["reused"] is False


def test_lint_regression_in_changed_file_is_refused(calc_repo):
    (calc_repo / "lint.py").write_text(LINT_SCRIPT)
    (calc_repo / "calc/__init__.py").write_text("# TODO: an old problem, not the patch's\n")
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "lint")
    cfg = config({"validate": {"lint": f'"{sys.executable}" lint.py'}})
    result = fix(
        calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [WITH_TODO, GOOD_PATCH]}), cfg=cfg
    )
    assert outcomes(result) == [("mid", "lint-failed"), ("mid", "ok")]
    first = next(r for r in result.ledger.rows if r.step == "patch")
    assert "new lint problem(s) in changed files: calc/ops.py: T100 TODO left in code" in first.note
    assert result.status == "fixed" and result.validation.checks["lint_ok"] is True  # the old problem did not block it


# The risk and review runs are not about the test runner: the calc repository's quick command's exit code (QUICK)
# judges them


def test_high_risk_from_path_rule_overrides_small_model(calc_repo):
    add_auth_module(calc_repo)
    cfg = config(QUICK)
    provider = scripted({("classify", "small"): [CLASSIFY_WITH_AUTH], ("patch", "frontier"): [GOOD_PATCH]}, cfg)
    result = fix(calc_repo, provider, cfg=cfg, exit_code_only=True)
    assert result.status == "fixed"
    assert result.classification.risk == "low"  # what the small model said, kept for the record
    assert result.routing["risk"] == "high" and result.routing["risk_rules"] == ["sensitive path: calc/auth.py"]
    assert result.routing["start"] == "frontier" and outcomes(result) == [("frontier", "ok")]


def test_frontier_reviews_cheaper_high_risk_patch(calc_repo):
    add_auth_module(calc_repo)
    cfg = config({**QUICK, "routing": {"high_risk": "mid"}})
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_WITH_AUTH],
            ("patch", "mid"): [GOOD_PATCH],
            ("review", "frontier"): [
                '{"verdict": "reject", "reason": "also log the change"}',
                '```json\n{"verdict": "accept", "reason": "minimal and correct"}\n```',
            ],
        },
        cfg,
    )
    result = fix(calc_repo, provider, cfg=cfg, exit_code_only=True)
    assert result.status == "fixed"
    assert rows(result)[1:] == [
        ("patch", "mid", "review-rejected"),
        ("review", "frontier", "ok"),
        ("patch", "mid", "ok"),
        ("review", "frontier", "ok"),
    ]
    assert "also log the change" in sent(provider, "patch", 1)


def test_unusable_review_answer_keeps_the_patch_out(calc_repo):
    add_auth_module(calc_repo)
    cfg = config({**QUICK, "routing": {"high_risk": "mid", "attempts": {"mid": 1, "frontier": 0}}})
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_WITH_AUTH],
            ("patch", "mid"): [GOOD_PATCH],
            ("review", "frontier"): ["looks fine to me"],
        },
        cfg,
    )
    before = snapshot(calc_repo)
    result = fix(calc_repo, provider, cfg=cfg, exit_code_only=True)
    assert result.status == "failed" and snapshot(calc_repo) == before
    assert ("review", "frontier", "format-error") in rows(result) and outcomes(result) == [("mid", "review-rejected")]


def test_tamper_attempt_without_a_terminal_is_refused_and_flagged(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [EDITS_TEST], ("patch", "frontier"): [EDITS_TEST]}
    )
    result = fix(calc_repo, provider)
    assert result.status == "failed" and result.exit_code == 1
    assert set(outcomes(result)) == {("mid", "test-edit-refused"), ("frontier", "test-edit-refused")}
    assert result.test_edits[0] == {
        "path": "tests/test_ops.py",
        "reason": "edits a test file",
        "allowed": False,
        "decided_by": "not interactive",
    }
    assert snapshot(calc_repo) == before
    assert "must not be edited" in sent(provider, "patch", 1)


def test_tamper_allowed_with_flag_is_still_flagged(calc_repo):
    result = fix(
        calc_repo,
        scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [EDITS_TEST]}),
        allow_test_edits=True,
    )
    assert result.status == "fixed"  # the weakened test now "passes": exactly why this needs a flag
    assert result.test_edits[0]["allowed"] is True and result.test_edits[0]["decided_by"] == "--allow-test-edits"


def test_tamper_asked_and_accepted(calc_repo):
    asked = []

    def yes(question, diff):
        asked.append((question, diff))
        return True

    result = fix(
        calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [EDITS_TEST]}), confirm=yes
    )
    assert result.status == "fixed" and result.test_edits[0]["decided_by"] == "asked"
    ((question, diff),) = asked
    assert "edits a test file" in question and "assert add(2, 3) == -1" in diff
    assert "== -1" in (calc_repo / "tests/test_ops.py").read_text()


REPRO_FAILING = """```tests/test_tieragent_repro.py
from calc.ops import add


def test_add_small_numbers():
    assert add(1, 1) == 2
```"""
REPRO_PASSING = REPRO_FAILING.replace("add(1, 1) == 2", "add(1, 1) == 0")


def test_repro_that_passes_before_the_patch_is_discarded(calc_repo):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("repro", "mid"): [REPRO_PASSING], ("patch", "mid"): [GOOD_PATCH]}
    )
    result = fix(calc_repo, provider, repro=True)
    assert result.status == "fixed"
    repro_rows = [r for r in result.ledger.rows if r.step == "repro"]
    assert [r.outcome for r in repro_rows] == ["discarded", "discarded"]
    assert "passes on the current code" in repro_rows[0].note
    assert result.repro["status"] == "discarded"
    assert not (calc_repo / "tests/test_tieragent_repro.py").exists()


def test_repro_must_pass_after_the_patch_and_is_removed(calc_repo):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("repro", "mid"): [REPRO_FAILING], ("patch", "mid"): [GOOD_PATCH]}
    )
    result = fix(calc_repo, provider, repro=True)
    assert result.status == "fixed"
    assert [r.outcome for r in result.ledger.rows if r.step == "repro"] == ["ok"]
    assert result.repro["status"] == "reproduces"
    assert result.repro["tests"] == ["tests.test_tieragent_repro::test_add_small_numbers"]
    assert not (calc_repo / "tests/test_tieragent_repro.py").exists()
    assert "test_tieragent_repro" not in result.patch


def test_a_wrong_patch_that_the_repro_catches_is_refused(calc_repo):
    """The repository's own test_add would pass with `return 5`; the repro test does not."""
    (calc_repo / "tests/test_ops.py").write_text(
        "from calc.ops import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
    )
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "no test for add")
    hard_coded = GOOD_PATCH.replace("+    return a + b", "+    return 5")
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("repro", "mid"): [REPRO_FAILING],
            ("patch", "mid"): [hard_coded, GOOD_PATCH],
        }
    )
    result = fix(calc_repo, provider, repro=True)
    assert outcomes(result) == [("mid", "tests-failed"), ("mid", "ok")]
    assert "test_tieragent_repro" in next(r for r in result.ledger.rows if r.step == "patch").note


def test_long_failure_output_is_summarized_by_small_tier(calc_repo):
    (calc_repo / "tests/test_many.py").write_text(
        "from calc.ops import add\n\n\n"
        + "\n\n".join(
            f"def test_case_{i}():\n    assert add({i}, 1) == {i + 1}, 'case {i} ' + 'x' * 300" for i in range(60)
        )
        + "\n"
    )
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "many")
    cfg = config({"validate": {"test": f'"{sys.executable}" -m pytest -q'}})
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [GOOD_PATCH.replace("a + b", "a * b"), GOOD_PATCH],
            ("summarize", "small"): ["test_add and 60 test_case_N fail: add multiplies instead of adding."],
        },
        cfg,
    )
    result = fix(calc_repo, provider, cfg=cfg)
    assert result.status == "fixed"
    assert outcomes(result, "summarize") == [("small", "ok")]
    assert "add multiplies instead of adding" in sent(provider, "patch", 1)
    summarize_request = sent(provider, "summarize", 0)
    assert "test_case_7" in summarize_request and "site-packages" not in summarize_request


def test_ledger_history_over_three_runs(calc_repo):
    failing = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): ["no diff"], ("patch", "frontier"): ["no diff"]}
    assert (
        fix(calc_repo, scripted(failing)).status == "failed"
    )  # run 1: 2 diffs and a whole file at mid, and at the frontier
    assert (
        fix(calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})).status
        == "fixed"
    )
    git(calc_repo, "checkout", "--", "calc/ops.py")
    mechanical = CLASSIFY_OPS.replace('"local"', '"mechanical"')
    third = fix(calc_repo, scripted({("classify", "small"): [mechanical], ("patch", "small"): [GOOD_PATCH]}))
    assert third.status == "fixed"  # run 3: mechanical starts (and ends) at small
    runs = read_history(calc_repo / ".git/tieragent")
    h = summarize_history(runs).to_json()
    assert (
        h["runs"] == 3
        and h["fixed"] == 2
        and h["by_status"] == {"failed": 1, "fixed": 2}
        and h["by_flow"] == {"fix": 3}
    )
    local = h["by_class"]["local"]
    assert (local["mid"]["attempts"], local["mid"]["validated"]) == (4, 1)
    assert (local["frontier"]["attempts"], local["frontier"]["validated"]) == (3, 0)
    assert (h["by_class"]["mechanical"]["small"]["attempts"], h["by_class"]["mechanical"]["small"]["validated"]) == (
        1,
        1,
    )
    expected = sum(r["totals"]["cost_usd"] for r in runs)
    assert expected > 0 and abs(h["cost_usd"] - expected) < 1e-6
    assert h["saved_usd"] > 0
