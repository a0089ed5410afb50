"""`--repro`: a test written before the patch that must fail on the current code.

A repro test that passes before the patch reproduces nothing and is discarded; one that fails
only because it cannot be collected (an import or syntax error in the test itself, a test file
that does not load or compile) is discarded too. A kept repro test stays in the tree while
patching and becomes a new test the patch must make pass. Where the test goes and how it is
written follow the test runner's ecosystem (`judge.repro_files`): pytest, node's test runner,
jest, vitest, mocha, go test and cargo test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core import prompts
from ...core.errors import EnvironmentProblem
from ...core.vocab import MID, Outcome, Step
from ...judge.repro_files import PYTHON_NAME, python_repro_path, repro_spec
from ...judge.testresults import TestRun, is_setup_failure
from ...repo.context import FileContext
from ...repo.patching import PatchError, plan_whole_file
from .session import Session

REPRO_NAME = PYTHON_NAME
REPRO_TRIES = 2


@dataclass(frozen=True)
class Repro:
    """What the step produced: the kept test's path (None when every try was discarded)."""

    path: str | None
    info: dict[str, Any] = field(default_factory=dict)  # for the result's `repro` field


def repro_path(root: Path) -> str:
    """Beside the existing tests: tests/ or test/ when there is one, else the repository root (pytest's repro test)."""
    return python_repro_path(root)


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
        return False, "the test file could not be imported, loaded or compiled"
    return True, f"fails on the current code: {', '.join(sorted(run.failing)[:3])}"


def _collection_error(run: TestRun) -> bool:
    out = run.result.output
    return (
        "ERROR collecting" in out or "errors during collection" in out or any(is_setup_failure(t) for t in run.failing)
    )


def write_repro(s: Session, request: str, files: FileContext) -> Repro:
    """The mid tier writes a test that must fail on the current code."""
    spec = repro_spec(s.validator.adapter, s.ws.root, list(files.texts))
    if isinstance(spec, str):
        raise EnvironmentProblem(
            f"--repro cannot write a test here: {spec}", hint=f"The test command is `{s.deps.test_command}`."
        )
    path = spec.path
    feedback, info = "", {"path": path, "kept": s.opts.keep_repro}
    for _ in range(REPRO_TRIES):
        messages = prompts.render(
            "repro", request=request, files=files.render(), path=path, conventions=spec.conventions, feedback=feedback
        )
        call = s.gw.call(Step.REPRO, MID, messages)
        try:
            change = plan_whole_file(s.gw.unmask(call.text), path, s.ws.root, refuse=s.refuse)
        except PatchError as err:
            s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, err.reason)
            feedback = f"\nYour previous answer was not usable: {err.reason}"
            continue
        s.journal.write(path, change.new_content or b"")
        tests = s.validator.run_tests(only=path)
        ok, why = repro_verdict(tests)
        if ok:
            s.gw.ledger.set_outcome(call.row, Outcome.OK, why)
            return Repro(path, {**info, "tests": sorted(tests.failing), "status": "reproduces"})
        s.gw.ledger.set_outcome(call.row, Outcome.DISCARDED, why)
        s.journal.revert(path)
        feedback = f"\nYour previous test was discarded: {why}. It must fail on the current code."
    s.events.warn("no reproducing test: validation relies on the existing tests")
    return Repro(None, {**info, "status": "discarded"})
