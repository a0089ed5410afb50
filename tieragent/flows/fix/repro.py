"""`--repro`: a test written before the patch that must fail on the current code.

A repro test that passes before the patch reproduces nothing and is discarded; one that fails
only because it cannot be collected (an import or syntax error in the test itself) is discarded
too. A kept repro test stays in the tree while patching and becomes a new test the patch must
make pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core import prompts
from ...core.errors import EnvironmentProblem
from ...core.vocab import MID, Outcome, Step
from ...judge.testresults import TestRun, is_pytest
from ...repo.context import FileContext
from ...repo.patching import PatchError, plan_whole_file
from .session import Session

REPRO_NAME = "test_tieragent_repro.py"
REPRO_TRIES = 2


@dataclass(frozen=True)
class Repro:
    """What the step produced: the kept test's path (None when every try was discarded)."""

    path: str | None
    info: dict[str, Any] = field(default_factory=dict)  # for the result's `repro` field


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


def write_repro(s: Session, request: str, files: FileContext) -> Repro:
    """The mid tier writes a test that must fail on the current code."""
    if not is_pytest(s.deps.test_command):
        raise EnvironmentProblem("--repro needs a pytest test command", hint=f"The test command is `{s.deps.test_command}`.")
    path = repro_path(s.ws.root)
    feedback, info = "", {"path": path, "kept": s.opts.keep_repro}
    for _ in range(REPRO_TRIES):
        messages = prompts.render("repro", request=request, files=files.render(), path=path, feedback=feedback)
        call = s.gw.call(Step.REPRO, MID, messages)
        try:
            change = plan_whole_file(s.gw.unmask(call.text), path, s.ws.root, refuse=s.refuse)
        except PatchError as err:
            s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, err.reason)
            feedback = f"\nYour previous answer was not usable: {err.reason}"
            continue
        s.journal.write(path, change.new_content or b"")
        tests = s.validator.run_tests(path)
        ok, why = repro_verdict(tests)
        if ok:
            s.gw.ledger.set_outcome(call.row, Outcome.OK, why)
            return Repro(path, {**info, "tests": sorted(tests.failing), "status": "reproduces"})
        s.gw.ledger.set_outcome(call.row, Outcome.DISCARDED, why)
        s.journal.revert(path)
        feedback = f"\nYour previous test was discarded: {why}. It must fail on the current code."
    s.events.warn("no reproducing test: validation relies on the existing tests")
    return Repro(None, {**info, "status": "discarded"})
