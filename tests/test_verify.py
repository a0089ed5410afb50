"""Verification where the tests are thin (routing.verify): the pure decision, the evidence it reads,
and the fix flow driven in-process with scripted replies."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import (
    CALC_FILES,
    CLASSIFY_OPS,
    CLASSIFY_WITH_AUTH,
    GOOD_PATCH,
    PRICES,
    add_auth_module,
    git,
    make_repo,
    snapshot,
    write_config,
)
from flowkit import config, fix, outcomes, rows, scripted, sent

from tieragent.core.errors import ProviderError
from tieragent.core.events import Event
from tieragent.core.vocab import Outcome, Step
from tieragent.judge.coverage import changed_lines, coverage_command
from tieragent.judge.evidence import count_assertions, thin_reasons
from tieragent.repo.diffs import EditStat
from tieragent.routing.verification import verify_applies

ACCEPT = '{"verdict": "accept", "reason": "adds a and b as asked"}'
REJECT = '{"verdict": "reject", "reason": "returns a constant 5 instead of the sum of a and b"}'
# passes calc_repo's one assertion (add(2, 3) == 5) without doing what the request asks
CONSTANT_PATCH = GOOD_PATCH.replace("return a + b", "return 5")
THIN = {"routing": {"verify": "thin"}}


def unavailable() -> ProviderError:
    return ProviderError("server", "frontier tier (openai/fake): server", retryable=True)


# ------------------------------------------------------------------------------------ the pure decision


def test_thin_reasons_name_each_signal_and_an_absent_signal_is_not_thin():
    assert thin_reasons(1, 3, ()) == ()
    assert thin_reasons(1, None, None) == ()  # nothing counted, nothing measured: not thin
    assert thin_reasons(0, None, None) == ("no test that failed before the patch passes now",)
    assert thin_reasons(2, 1, None) == ("the tests about the request hold a single assertion",)
    (uncovered,) = thin_reasons(1, 4, ["a.py:3", "a.py:4", "a.py:5", "b.py:1"])
    assert uncovered == "4 changed line(s) run under no test: a.py:3, a.py:4, a.py:5 (and 1 more)"


@pytest.mark.parametrize(
    ("mode", "patch_tier", "verify_tier", "applies"),
    [
        ("thin", "mid", "frontier", True),
        ("always", "small", "mid", True),
        ("thin", "mid", "mid", False),  # the verifier must be above the patch's tier
        ("always", "frontier", "frontier", False),  # the frontier's own patches are not verified
        ("never", "small", "frontier", False),
    ],
)
def test_verify_applies_only_above_the_patchs_tier(mode, patch_tier, verify_tier, applies):
    assert verify_applies(mode, patch_tier, verify_tier) is applies


def test_assertions_are_counted_in_the_tests_the_ids_name(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_a.py").write_text(
        "import pytest\n\n\ndef test_one():\n    assert f(1) == 2\n\n\n"
        "def test_loop():\n    for x in (1, 2):\n        assert f(x)\n\n\n"
        "def test_helper():\n    check(f)\n\n\n"
        "class TestK:\n    def test_raises(self):\n        with pytest.raises(ValueError):\n            f(0)\n"
        "        assert f(3) == 4\n"
    )
    (tmp_path / "test_dates.py").write_text(
        "import unittest\n\n\nclass LeapTest(unittest.TestCase):\n"
        "    def test_years(self):\n        self.assertTrue(leap(2024))\n        self.assertFalse(leap(1900))\n"
    )
    assert count_assertions(tmp_path, ["tests.test_a::test_one"]) == 1
    assert count_assertions(tmp_path, ["tests/test_a.py::test_one[1-2]", "tests.test_a::test_one[a::b]"]) == 2
    assert count_assertions(tmp_path, ["tests.test_a::test_loop"]) == 2  # one assert, many cases
    assert count_assertions(tmp_path, ["tests.test_a.TestK::test_raises"]) == 2
    assert count_assertions(tmp_path, ["test_dates.LeapTest::test_years"]) == 2  # unittest's id
    assert count_assertions(tmp_path, ["tests.test_a::test_one", "tests.test_a::test_loop"]) == 3
    # a test that checks through a helper, or one not found: nothing is known
    assert count_assertions(tmp_path, ["tests.test_a::test_one", "tests.test_a::test_helper"]) is None
    assert count_assertions(tmp_path, ["tests.test_gone::test_x"]) is None


def test_coverage_runs_python_test_commands_under_coverage_and_reads_changed_lines(tmp_path):
    data = tmp_path / "cov data"
    py, command = coverage_command('"/venv/bin/python" -m pytest -q -x', data)
    assert py == '"/venv/bin/python"'
    assert command == f"\"/venv/bin/python\" -m coverage run --data-file='{data}' --source=. -m pytest -q -x"
    assert coverage_command("python3 -m unittest -q", data) is not None
    assert coverage_command("pytest -q", data) is None  # which interpreter is unknown
    assert coverage_command("npm test", data) is None
    edits = [EditStat("a.py", b"x = 1\ny = 2\nz = 3\n", b"x = 1\ny = 5\nz = 3\nw = 4\n"), EditStat("a.md", b"", b"x")]
    assert changed_lines(edits) == {"a.py": {2, 4}}


# ------------------------------------------------------------------------------------------- the flow


def test_a_cheap_patch_on_thin_evidence_is_verified_from_the_request_and_the_diff_alone(calc_repo):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH], ("verify", "frontier"): [ACCEPT]}
    )
    events: list[Event] = []
    result = fix(calc_repo, provider, cfg=config(THIN), events=events)
    assert result.status == "fixed"
    assert rows(result) == [("classify", "small", "ok"), ("patch", "mid", "ok"), ("verify", "frontier", "ok")]
    asked = sent(provider, "verify", 0)
    assert "add() returns the wrong result" in asked and "+    return a + b" in asked
    assert "single assertion" in asked
    assert "assert add(2, 3) == 5" not in asked  # the verifier reads the diff and the request, not the files
    verify_row = result.ledger.rows[-1]
    assert verify_row.step is Step.VERIFY and verify_row.cost_usd and verify_row.note.startswith("accepted")
    assert any("verifying at frontier" in e.message for e in events)


def test_strong_evidence_is_not_verified(tmp_path):
    files = dict(CALC_FILES)
    files["tests/test_ops.py"] = (
        "from calc.ops import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
        "    assert add(-1, 1) == 0\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
    )
    repo = make_repo(tmp_path / "repo", files)
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})
    result = fix(repo, provider, cfg=config(THIN))
    assert result.status == "fixed"
    assert provider.calls() == [("classify", "small"), ("patch", "mid")]
    # `always` verifies it all the same; the frontier's own patch never is
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH], ("verify", "frontier"): [ACCEPT]}
    )
    git(repo, "checkout", "-q", "--", ".")
    assert fix(repo, provider, cfg=config({"routing": {"verify": "always"}})).status == "fixed"
    assert ("verify", "frontier") in provider.calls()
    git(repo, "checkout", "-q", "--", ".")
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "frontier"): [GOOD_PATCH]})
    cfg = config({"routing": {"verify": "always", "start": {"local": "frontier"}}})
    assert fix(repo, provider, cfg=cfg).status == "fixed"
    assert provider.calls() == [("classify", "small"), ("patch", "frontier")]


def test_without_per_test_results_a_run_that_turns_green_is_evidence(calc_repo):
    check = f'"{sys.executable}" -c "from calc.ops import add; assert add(2, 3) == 5"'  # no per-test results
    cfg = config({"validate": {"test": check, "timeout_s": 60}, "routing": {"verify": "thin"}})
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg)
    result = fix(calc_repo, provider, cfg=cfg, exit_code_only=True)
    assert result.status == "fixed"
    assert provider.calls() == [("classify", "small"), ("patch", "mid")]


def test_changed_lines_no_test_runs_make_the_evidence_thin(tmp_path):
    pytest.importorskip("coverage")  # the signal needs coverage.py in the repository's interpreter
    files = dict(CALC_FILES)
    files["calc/ops.py"] += "\n\ndef mul(a, b):\n    return a + b\n"
    files["tests/test_ops.py"] = (
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n    assert add(-1, 1) == 0\n"
    )
    repo = make_repo(tmp_path / "repo", files)
    both = (
        GOOD_PATCH.replace("```\n", "")
        + "@@ -10,2 +10,2 @@\n def mul(a, b):\n-    return a + b\n+    return a * b\n```\n"
    )
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [both], ("verify", "frontier"): [ACCEPT]}
    )
    result = fix(repo, provider, cfg=config(THIN))
    assert result.status == "fixed", result.error
    assert provider.calls()[-1] == ("verify", "frontier")
    assert "1 changed line(s) run under no test: calc/ops.py:11" in sent(provider, "verify", 0)


def test_a_rejection_is_fed_back_like_a_failing_test_and_the_next_attempt_is_accepted(calc_repo):
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [CONSTANT_PATCH, GOOD_PATCH],
            ("verify", "frontier"): [REJECT, ACCEPT],
        }
    )
    result = fix(calc_repo, provider, cfg=config(THIN))
    assert result.status == "fixed"
    assert outcomes(result) == [("mid", "verify-rejected"), ("mid", "ok")]
    assert outcomes(result, "verify") == [("frontier", "ok"), ("frontier", "ok")]
    first = result.ledger.rows[1]
    assert first.outcome is Outcome.VERIFY_REJECTED and "constant 5" in first.note
    retry = sent(provider, "patch", 1)
    assert "a check by the frontier tier rejected it: returns a constant 5" in retry and "+    return 5" in retry
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()


def test_a_rejected_patch_is_rewound_and_the_run_ends_with_the_tree_as_it_was(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [CONSTANT_PATCH],
            ("verify", "frontier"): [REJECT],
            ("patch", "frontier"): [unavailable()],
        }
    )
    result = fix(calc_repo, provider, cfg=config({"routing": {"verify": "thin", "attempts": {"mid": 1}}}))
    assert result.status == "failed"
    assert snapshot(calc_repo) == before
    assert result.saved_diff and "return 5" in result.saved_diff.read_text()


@pytest.mark.parametrize(
    ("answer", "row_outcome", "warning"),
    [
        (unavailable(), "provider-error", "the patch is kept on the tests' evidence alone"),
        ("Looks fine to me!", "format-error", "verification at frontier's answer was unusable"),
    ],
)
def test_a_verifier_that_cannot_answer_leaves_the_patch_with_a_warning(calc_repo, answer, row_outcome, warning):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH], ("verify", "frontier"): [answer]}
    )
    events: list[Event] = []
    result = fix(calc_repo, provider, cfg=config(THIN), events=events)
    assert result.status == "fixed"
    assert rows(result)[-1] == ("verify", "frontier", row_outcome)
    assert outcomes(result) == [("mid", "ok")]
    assert any(e.kind == "warning" and warning in e.message for e in events), [e.message for e in events]


def test_the_verifier_runs_at_its_tier_and_effort(calc_repo):
    cfg = config(
        {
            "tiers": {"mid": {"model": "openai/gpt-5-mini", "price": PRICES["mid"]}},  # a model that takes an effort
            "routing": {
                "verify": "thin",
                "verify_tier": "mid",
                "verify_effort": "minimal",
                "start": {"local": "small"},
            },
        }
    )
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "small"): [GOOD_PATCH], ("verify", "mid"): [ACCEPT]}, cfg
    )
    result = fix(calc_repo, provider, cfg=cfg)
    assert result.status == "fixed"
    row = result.ledger.rows[-1]
    assert (row.step, row.tier, row.effort) == (Step.VERIFY, "mid", "minimal")
    assert row.cost_usd is not None and row.cost_usd > 0


def test_a_high_risk_patch_gets_the_review_not_a_second_look(calc_repo: Path):
    add_auth_module(calc_repo)
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_WITH_AUTH],
            ("patch", "mid"): [GOOD_PATCH],
            ("review", "frontier"): ['{"verdict": "accept", "reason": "fine"}'],
        }
    )
    result = fix(calc_repo, provider, cfg=config({"routing": {"verify": "always", "high_risk": "mid"}}))
    assert result.status == "fixed"
    assert [c for c in provider.calls() if c[0] in ("review", "verify")] == [("review", "frontier")]


def test_the_cli_explains_the_verify_policy_and_lists_the_step_over_http(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server, extra={"routing": {"verify": "thin", "edit_formats": {"*fake-*": "diff"}}})
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", CONSTANT_PATCH, GOOD_PATCH)
    fake_server.enqueue("verify", "frontier", REJECT, ACCEPT)
    proc = cli(["fix", "add() returns the wrong result", "--explain-routing", "--no-ci"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "verify: thin, at frontier (effort low)" in out
    assert "verify-rejected" in out and "returns a constant 5" in out
    assert fake_server.calls().count(("verify", "frontier")) == 2
