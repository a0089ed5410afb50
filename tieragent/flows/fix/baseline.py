"""The baseline: the tests (and lint) on the unpatched tree, which every patch is judged against.

It runs in a background thread (`PendingBaseline`) while classify, the context and the first patch
are made; it is waited for, and checked, before anything touches the tree (the first patch's
validation, or the --repro test). A baseline that cannot judge still stops the run there, before any
file is written. A run that ends before waiting for it (an error, Ctrl-C) stops its commands.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from ...core.errors import EnvironmentProblem
from ...judge.testresults import unusable_baseline
from ...judge.validation import Baseline, Validator, output_tail
from ...repo.runner import RUN_SIGNALS, stoppable_commands
from ..skeleton import Reporter, Timings
from .session import FixDeps, FixOptions

STOP_WAIT_S = 10.0  # the most a run's end waits for a stopped baseline's commands to go


class PendingBaseline:
    """The baseline being taken in the background; `get()` waits for it and checks it (once)."""

    def __init__(
        self,
        validator: Validator,
        deps: FixDeps,
        opts: FixOptions,
        events: Reporter,
        clock: Timings,
        on_ready: Callable[[dict[str, Any]], None],
    ):
        self.validator, self.deps, self.opts, self.events, self.clock = validator, deps, opts, events, clock
        self.on_ready = on_ready  # given what `--json` says of the baseline, once it is checked
        self._stop = threading.Event()
        self._outcome: tuple[Baseline, bool] | BaseException | None = None
        self._checked: Baseline | None = None
        events.validating(f"baseline: {deps.test_command}")
        fingerprint = deps.ws.tree_fingerprint()  # of the tree as it is now, before any thread could see it change
        self._thread = threading.Thread(
            target=self._take, args=(validator, fingerprint), name="tieragent-baseline", daemon=True
        )
        self._started = time.monotonic()
        self._thread.start()

    def _take(self, validator: Validator, fingerprint: str) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, RUN_SIGNALS)  # Ctrl-C is the main thread's to handle
        try:
            with stoppable_commands(self._stop):
                self._outcome = validator.baseline(fingerprint)
        except BaseException as exc:  # handed to the main thread, which raises it in get()
            self._outcome = exc
        self.clock.phases["baseline"] = round(time.monotonic() - self._started, 3)

    def get(self) -> Baseline:
        """The baseline, waited for; raises what stopped it, or EnvironmentProblem when it cannot judge."""
        if self._checked is None:
            with self.clock.phase("baseline_wait"):
                self._thread.join()
            outcome = self._outcome
            if isinstance(outcome, BaseException) or outcome is None:
                raise outcome or RuntimeError("the baseline thread ended without a result")
            baseline, reused = outcome
            check_baseline(self.validator, baseline, self.deps, self.opts, self.events)
            self._checked = baseline
            self.on_ready({**baseline.to_json(), "reused": reused, "runner": self.validator.adapter.name})
        return self._checked

    def stop(self) -> None:
        """The run ends without it: its commands are stopped (their whole process group) and waited for."""
        self._stop.set()
        self._thread.join(STOP_WAIT_S)


def check_baseline(validator: Validator, baseline: Baseline, deps: FixDeps, opts: FixOptions, events: Reporter) -> None:
    """Stops the run (EnvironmentProblem) when the baseline cannot judge a patch.

    Only per-test results tell a patch that breaks a passing test from one that fixes the request
    when tests already fail before it; without them (a runner tieragent cannot read, a report that
    was not written) a red baseline stops the run here, unless --exit-code-only accepts judging by
    exit code: then the whole test command must pass.
    """
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
