"""`--repro`: a test written before the patch that must fail on the current code.

A repro test that passes before the patch reproduces nothing and is discarded; one that fails
only because it cannot be collected (an import or syntax error in the test itself) is discarded
too. A kept repro test becomes a new test the patch must make pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import prompts_loader
from .errors import EnvironmentProblem
from .patching import PatchError, plan_whole_file
from .testresults import TestRun, is_pytest

if TYPE_CHECKING:
    from .context import FileContext
    from .pipeline import FixRun

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


def write_repro(run: FixRun, ctx: FileContext) -> None:
    """The mid tier writes a test that must fail on the current code; it stays in the tree while patching."""
    assert run.journal is not None
    if not is_pytest(run.deps.test_command):
        raise EnvironmentProblem("--repro needs a pytest test command", hint=f"The test command is `{run.deps.test_command}`.")
    path = repro_path(run.deps.ws.root)
    feedback, info = "", {"path": path, "kept": run.opts.keep_repro}
    for _ in (1, 2):
        messages = prompts_loader.render("repro", request=run.result.request, files=ctx.render(), path=path, feedback=feedback)
        reply = run._call("repro", "mid", messages)
        try:
            change = plan_whole_file(reply.text, path, run.deps.ws.root, refuse=run._refuse)
        except PatchError as err:
            run.ledger.record("repro", "mid", reply, "format-error", err.reason)
            feedback = f"\nYour previous answer was not usable: {err.reason}"
            continue
        run.journal.write(path, change.new_content or b"")
        tests = run.validator.run_tests(path)
        ok, why = repro_verdict(tests)
        if ok:
            run.ledger.record("repro", "mid", reply, "ok", why)
            run._repro_path, info["tests"] = path, sorted(tests.failing)
            run.result.repro = {**info, "status": "reproduces"}
            return
        run.ledger.record("repro", "mid", reply, "discarded", why)
        run.journal.revert(path)
        feedback = f"\nYour previous test was discarded: {why}. It must fail on the current code."
    run.result.repro = {**info, "status": "discarded"}
    run._event("warning", "no reproducing test: validation relies on the existing tests")
