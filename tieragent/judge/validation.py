"""The repository's own tests and linters judge every patch, against a baseline taken before it.

The baseline (tests and lint on the unpatched tree) is run once and reused while the tree is
unchanged. A patch validates when it applies, no test that passed before fails after, new tests
pass, the request's target tests pass, and the lint command reports no new problems in the
changed files. Commands run in the user's tree, so editable installs import the patched code.

What the commands print is masked (`mask`, given by the flow: the judge layer does not import
the model layer's redactor) as soon as it is read, so the baseline kept in `.git/tieragent/`
holds no secret a failing test printed, and a baseline reused from disk is judged exactly as a
fresh one: both sides of every comparison went through the same mask.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..core.private_files import write_private
from ..repo.runner import CommandResult, CommandRunner
from .baseline_key import environment_key
from .detect import detect_commands
from .failure_output import render_failures
from .lint import lint_locations, lint_problems, readable
from .runners import Adapter, Only, detect_runner, no_per_test_reason, run_test_command
from .staged import judge_targeted
from .testresults import TestRun, TestVerdict, judge_tests

__all__ = [
    "Baseline",
    "Validation",
    "Validator",
    "detect_test_command",
    "lint_locations",
    "lint_problems",
    "output_tail",
]
_BASELINE_FILE = "baseline.json"


def output_tail(result: CommandResult, lines: int = 3) -> str:
    """The command's own last words (`No module named pytest`), for when no per-test result says more."""
    tail = [ln.strip() for ln in result.output.strip().splitlines() if ln.strip()][-lines:]
    return " / ".join(tail)[-400:]


def detect_test_command(root: Path) -> str | None:
    """The usual test command for the project's layout, or None when nothing suggests one (see `detect`)."""
    return detect_commands(root).test


@dataclass(frozen=True)
class Baseline:
    tests: TestRun
    lint: CommandResult | None

    def to_json(self) -> dict:
        return {"tests": self.tests.to_json(), "lint_exit_code": self.lint.exit_code if self.lint else None}


@dataclass
class Validation:
    outcome: str  # ok | tests-failed | lint-failed
    reason: str
    tests: TestRun | None
    lint: CommandResult | None
    checks: dict = field(default_factory=dict)
    seconds: float = 0.0  # the whole validation (with staged validation, both stages), as the flow timed it

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def failed_output(self) -> str:
        """What failed, for the next attempt: the lint output, or the tests' output; where the runner's
        report said how each test failed (jest, go, node, cargo, JUnit, ...), those failures instead."""
        if self.outcome != "lint-failed" and self.tests is not None and self.tests.details:
            checks = self.checks.get("tests") or {}
            new = set(checks.get("new_failures") or []) | set(checks.get("new_tests_failing") or [])
            old = set(self.tests.failing) - new if checks.get("per_test") else set()
            failing = sorted((t for t in self.tests.failing if t in self.tests.details), key=lambda t: (t in old, t))
            if failing:  # what the patch broke first; what failed before it too, said so
                shown = {
                    f"{t} (failed before the patch too)" if t in old else t: self.tests.details[t] for t in failing
                }
                return render_failures(shown, self.tests.result.output)
        r = self.lint if self.outcome == "lint-failed" else self.tests.result if self.tests else None
        return r.output if r else ""

    def to_json(self) -> dict:
        def one(r: CommandResult | None) -> dict | None:
            if r is None:
                return None
            tail = "\n".join(r.output.rstrip().splitlines()[-40:])[-3000:]
            return {
                "command": r.command,
                "exit_code": r.exit_code,
                "timed_out": r.timed_out,
                "seconds": round(r.seconds, 3),
                "output_tail": tail,
            }

        return {
            "ok": self.ok,
            "outcome": self.outcome,
            "reason": self.reason,
            "checks": self.checks,
            "test": one(self.tests.result if self.tests else None),
            "lint": one(self.lint),
        }


def _unmasked(text: str) -> str:
    return text


class Validator:
    def __init__(
        self,
        runner: CommandRunner,
        root: Path,
        state_dir: Path,
        test_cmd: str,
        lint_cmd: str | None,
        timeout_s: float,
        junit_xml: str | None = None,
        mask: Callable[[str], str] = _unmasked,
    ):
        self.runner, self.root, self.state_dir = runner, root, state_dir
        self.test_cmd, self.lint_cmd, self.timeout_s = test_cmd, lint_cmd, timeout_s
        self.junit_xml = junit_xml
        self.mask = mask  # the same text masks the same way in every run (placeholders are not numbered)
        self._adapter: Adapter | None = None

    @property
    def adapter(self) -> Adapter:
        """The test runner the command runs, and how its per-test results are read (see `runners`)."""
        if self._adapter is None:
            self._adapter = detect_runner(self.test_cmd, self.root, self.junit_xml)
        return self._adapter

    def run_tests(self, extra: str = "", only: Only = None) -> TestRun:
        """Run the test command (plus `extra` arguments), with per-test results where the runner gives
        them; `only` runs just those test files where the runner allows it (see `run_test_command`)."""
        command = self.test_cmd + (f" {extra}" if extra else "")
        adapter = self.adapter if not extra else detect_runner(command, self.root, self.junit_xml)
        run, _ = run_test_command(
            self.runner, self.root, command, self.state_dir / "tmp", self.timeout_s, adapter=adapter, only=only
        )
        return self._masked_run(run)

    def _masked_run(self, run: TestRun) -> TestRun:
        """The run with its output and failure messages masked (test ids are names from the code: kept)."""
        mask = self.mask
        return replace(
            run,
            result=replace(run.result, output=mask(run.result.output)),
            messages={t: mask(m) for t, m in run.messages.items()},
            details={t: mask(d) for t, d in run.details.items()},
        )

    def why_no_per_test(self, run: TestRun) -> str:
        """Why `run` has no per-test results, naming what to configure."""
        return no_per_test_reason(self.adapter, run)

    def run_lint(self) -> CommandResult | None:
        """The lint command's result; JSON output (when the command asks for it) reads as `path:line: message` lines."""
        if not self.lint_cmd:
            return None
        r = self.runner.run(self.lint_cmd, self.root, self.timeout_s)
        return replace(r, output=self.mask(readable(r.output, self.root)))

    # ------------------------------------------------------------ baseline
    def baseline(self, fingerprint: str | None) -> tuple[Baseline, bool]:
        """(baseline, reused): run tests and lint on the unpatched tree, or reuse the last run on this exact tree."""
        cached = self._load(fingerprint)
        if cached is not None:
            return cached, True
        b = Baseline(self.run_tests(), self.run_lint())
        self._save(fingerprint, b)
        return b, False

    def remember(self, fingerprint: str, baseline: Baseline) -> None:
        """A validated patch's test (and lint) run, kept as the baseline of the tree it left: the next run on
        that tree (a chat follow-up) reuses it instead of running the tests again."""
        self._save(fingerprint, baseline)

    def _key(self, fingerprint: str) -> dict:
        key = {
            "fingerprint": fingerprint,
            "test": self.mask(self.test_cmd),
            "lint": self.mask(self.lint_cmd) if self.lint_cmd else None,
            "environment": environment_key((self.test_cmd, self.lint_cmd), self.root, self.runner.environment()),
        }
        return {**key, "junit_xml": self.junit_xml} if self.junit_xml else key

    def cached_baseline_state(self, fingerprint: str | None) -> str:
        """For doctor: whether fix would reuse the stored baseline here ("fresh"), run it again because the
        tree or the environment changed ("stale"), or has none ("none")."""
        try:
            data = json.loads((self.state_dir / _BASELINE_FILE).read_text())
        except (OSError, ValueError):
            return "none"
        return "fresh" if fingerprint is not None and data.get("key") == self._key(fingerprint) else "stale"

    def _load(self, fingerprint: str | None) -> Baseline | None:
        if fingerprint is None:
            return None
        try:
            data = json.loads((self.state_dir / _BASELINE_FILE).read_text())
        except (OSError, ValueError):
            return None
        if data.get("key") != self._key(fingerprint):
            return None
        try:
            t, lint = data["tests"], data.get("lint")
            tests = TestRun(
                CommandResult(self.test_cmd, t["exit_code"], t["output"], t["seconds"], t["timed_out"]),
                t["cases"],
                t.get("messages") or {},
            )
            lint_result = (
                CommandResult(self.lint_cmd or "", lint["exit_code"], lint["output"], lint["seconds"], False)
                if lint
                else None
            )
        except (KeyError, TypeError):
            return None
        return Baseline(tests, lint_result)

    def _save(self, fingerprint: str | None, b: Baseline) -> None:
        if fingerprint is None or b.tests.result.timed_out:
            return
        r = b.tests.result
        data = {
            "key": self._key(fingerprint),
            "tests": {
                "exit_code": r.exit_code,
                "output": r.output[-200_000:],
                "seconds": r.seconds,
                "timed_out": r.timed_out,
                "cases": b.tests.cases,
                "messages": b.tests.messages,
            },
            "lint": {"exit_code": b.lint.exit_code, "output": b.lint.output[-200_000:], "seconds": b.lint.seconds}
            if b.lint
            else None,
        }
        write_private(self.state_dir / _BASELINE_FILE, json.dumps(data))  # masked output (see run_tests), 0600

    # ------------------------------------------------------------ judging a patch
    def check_targeted(self, baseline: Baseline | None, files: list[str], targets: set[str], rule: str) -> Validation:
        """Staged validation's first stage: the test `files` alone. Not ok only when they prove a refusal the
        full suite would reach too (see `staged`); an ok here is no acceptance: `check` must still pass."""
        tests = self.run_tests(only=files)
        verdict = judge_targeted(baseline.tests if baseline else None, tests, targets, rule)
        checks = {
            "applied": True,
            "stage": "targeted",
            "targeted_files": files,
            "targeted_seconds": round(tests.result.seconds, 3),
        }
        if verdict is None:
            return Validation("ok", "", tests, None, checks)
        checks |= {"tests": verdict.checks, "tests_ok": False}
        return Validation("tests-failed", f"targeted tests: {verdict.reason}", tests, None, checks)

    def check(self, baseline: Baseline | None, changed: list[str], targets: set[str], target_rule: str) -> Validation:
        tests = self.run_tests()
        verdict: TestVerdict = judge_tests(baseline.tests if baseline else None, tests, targets, target_rule)
        checks = {"applied": True, "tests": verdict.checks, "tests_ok": verdict.ok}
        if not verdict.ok:
            return Validation("tests-failed", verdict.reason, tests, None, checks)
        lint = self.run_lint()
        if lint is None:
            checks["lint_ok"] = None
            return Validation("ok", "", tests, None, checks)
        ok, reason, new = self._judge_lint(baseline.lint if baseline else None, lint, set(changed))
        checks["lint_ok"] = ok
        checks["lint_new_problems"] = new
        if not ok:
            return Validation("lint-failed", reason, tests, lint, checks)
        return Validation("ok", "", tests, lint, checks)

    def _judge_lint(
        self, before: CommandResult | None, after: CommandResult, changed: set[str]
    ) -> tuple[bool, str, list[str]]:
        if after.timed_out:
            return False, f"`{after.command}` timed out", []
        if after.exit_code == 0:
            return True, "", []
        if before is None or before.exit_code == 0:
            return False, f"`{after.command}` exited {after.exit_code} (it passed before the patch)", []
        new = lint_problems(after.output, changed, self.root) - lint_problems(before.output, changed, self.root)
        if new:
            listed = [f"{p}: {m}" for (p, m) in sorted(new)]
            return False, f"{sum(new.values())} new lint problem(s) in changed files: {listed[0]}", listed
        return True, "", []  # it failed before too, and nothing new is reported in the files the patch changed
