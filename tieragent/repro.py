"""`--repro`: a test written before the patch that must fail on the current code.

A repro test that passes before the patch reproduces nothing and is discarded; one that fails
only because it cannot be collected (an import or syntax error in the test itself) is discarded
too. A kept repro test becomes a new test the patch must make pass.
"""

from __future__ import annotations

from pathlib import Path

from .testresults import TestRun

REPRO_NAME = "test_tieragent_repro.py"


def repro_path(root: Path) -> str:
    """Beside the existing tests: tests/ or test/ when there is one, else the repository root."""
    for d in ("tests", "test"):
        if (root / d).is_dir():
            return f"{d}/{REPRO_NAME}"
    return REPRO_NAME


def repro_verdict(run: TestRun) -> tuple[bool, str]:
    """(reproduces, why) for the run of the repro test alone on the unpatched code."""
    if run.result.timed_out:
        return False, "the test timed out"
    if run.cases is None:
        return run.result.exit_code not in (0, None), f"exit code {run.result.exit_code}"
    if not run.cases:
        return False, "no test was collected (an error in the test file?)"
    if not run.failing:
        return False, f"it passes on the current code ({len(run.cases)} test(s))"
    if _collection_error(run):
        return False, "the test file could not be imported"
    return True, f"fails on the current code: {', '.join(sorted(run.failing)[:3])}"


def _collection_error(run: TestRun) -> bool:
    out = run.result.output
    return "ERROR collecting" in out or "errors during collection" in out
