"""The baseline: the tests (and lint) on the unpatched tree, which every patch is judged against."""

from __future__ import annotations

from typing import Any

from ...core.errors import EnvironmentProblem
from ...judge.testresults import unusable_baseline
from ...judge.validation import Baseline, Validator, output_tail
from ..skeleton import Reporter
from .session import FixDeps, FixOptions


def take_baseline(
    validator: Validator, deps: FixDeps, opts: FixOptions, events: Reporter
) -> tuple[Baseline, dict[str, Any]]:
    """The tests (and lint) on the unpatched tree, and what `--json` says of them; stops before any
    model call when they cannot judge.

    Only per-test results tell a patch that breaks a passing test from one that fixes the request
    when tests already fail before it; without them (a runner tieragent cannot read, a report that
    was not written) a red baseline stops the run here, unless --exit-code-only accepts judging by
    exit code: then the whole test command must pass.
    """
    events.validating(f"baseline: {deps.test_command}")
    baseline, reused = validator.baseline(deps.ws.tree_fingerprint())
    if baseline.tests.result.timed_out:
        raise EnvironmentProblem(
            f"the test command timed out before any patch ({deps.config.validation.timeout_s:.0f}s)",
            hint="Raise validate.timeout_s, or point validate.test at a faster subset of the tests.",
        )
    problem = unusable_baseline(baseline.tests, opts.repro)
    if problem:
        raise EnvironmentProblem(problem, hint="Set validate.test in .tieragent.yaml or pass --test 'CMD'.")
    tests = baseline.tests
    if tests.cases is None and tests.result.exit_code != 0:
        if not opts.exit_code_only:
            deps.models()  # a missing key or an unknown model is reported first, as it is when the baseline can judge
            said = output_tail(tests.result)
            raise EnvironmentProblem(
                f"the tests fail before any patch (`{tests.result.command}` exited {tests.result.exit_code}"
                + (f", ending: {said}" if said else "")
                + ") and there are no "
                f"per-test results to tell a patch that breaks a passing test from one that fixes the request: "
                f"{validator.why_no_per_test(tests)}",
                hint=(
                    "Set validate.junit_xml to the JUnit XML your runner writes, point validate.test at a "
                    "narrower command that passes now, or pass --exit-code-only to accept a patch only when the whole "
                    "test command passes."
                ),
            )
        events.warn(
            f"the tests fail before the patch and {validator.adapter.name} gives no per-test results: "
            "a patch is accepted only when the whole test command passes (--exit-code-only)"
        )
    failing = len(tests.failing) if tests.cases is not None else None
    if failing:
        events.info(f"{failing} test(s) fail before the patch")
    return baseline, {**baseline.to_json(), "reused": reused, "runner": validator.adapter.name}
