"""Staged validation's first stage: a candidate's targeted tests, judged only where the full suite would agree.

The targeted run covers a few test files (the failing tests the request is about, the tests that use
the changed files). It may refuse a candidate, never accept one: the full suite's verdict alone
accepts. So it refuses only on what the full suite, which runs the same tests, would refuse too:
a test that passed before and now fails, or is skipped or xfailed; a new test that fails; a target
test of the request that still fails (under the progress rule, only when every target ran and none
was fixed); or the targeted run timing out (the full suite runs more under the same limit). A test
merely absent from the targeted run is not held against it (the selection may have missed its
file), nor is an exit code no test explains (a coverage threshold fails on a subset): the full
suite decides those.
"""

from __future__ import annotations

from dataclasses import replace

from .testresults import TestRun, TestVerdict, judge_tests, needs_progress

__all__ = ["judge_targeted"]


def judge_targeted(baseline: TestRun | None, run: TestRun, targets: set[str], target_rule: str) -> TestVerdict | None:
    """The refusal the targeted `run` proves against the `baseline`, or None when it proves none (then the
    full suite judges the candidate)."""
    if run.result.timed_out:
        return TestVerdict(False, f"the targeted tests `{run.result.command}` timed out", {"timed_out": True})
    if baseline is None or baseline.cases is None or run.cases is None or not run.cases:
        return None  # without per-test results on both sides, only the full suite's exit code can judge
    ran = set(run.cases)
    before = replace(baseline, cases={t: s for t, s in baseline.cases.items() if t in ran})
    after = replace(run, lists_every_test=False)  # absent from a targeted run is not missing from the suite
    progress = needs_progress(target_rule)
    if progress:  # at least one target must be fixed: provable here only when every target ran
        judged = set(targets) if set(targets) <= ran else set()
    else:
        judged = set(targets) & ran
    verdict = judge_tests(before, after, judged, target_rule)
    c = verdict.checks
    proven = (
        c.get("new_failures") or c.get("no_longer_run") or c.get("new_tests_failing") or not c.get("targets_pass", 1)
    )
    return verdict if not verdict.ok and proven else None
