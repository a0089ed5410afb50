"""The test and lint judges of `tieragent review --run-tests`: what the reviewed change breaks, with no model.

The reviewed tree is the user's working tree, run in place and never written to (the runner keeps
bytecode and pytest's cache out). The base revision is checked out into a linked git worktree
under tieragent's state directory (inside the git directory, never in the work tree), and that
worktree is removed afterwards whatever happens. The reviewed tree runs first: when nothing fails
there, nothing can be newly broken, and the base is not checked out or run at all.

Tests are compared per test where the runner gives per-test results (see `runners`: pytest's
junit report, jest's JSON, go's events, ...; `junit_xml` names reports the runner writes itself),
else by exit code. Lint problems are compared without line numbers, in the changed files
only, as the fix flow's validation does.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..core.private_files import private_dir
from ..repo.runner import CommandResult, CommandRunner, SubprocessRunner
from .lint import lint_locations
from .runners import Pytest, detect_runner, run_test_command
from .testresults import CaseFailure, TestRun, unusable_baseline

TESTS, LINT = "tests", "lint"
HIGH, MEDIUM = "high", "medium"
_NO_UNTRACKED = "the base checkout has only tracked files: no local virtualenv, node_modules or other ignored files"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<len>\d+))? @@")


@dataclass(frozen=True)
class JudgeFinding:
    path: str | None  # repo-relative; None when the problem has no file (e.g. the test command crashed)
    line: int | None
    severity: (
        str  # "high": a test that passed before and now fails, or a new failing test; "medium": a new lint problem
    )
    category: str  # "tests" or "lint"
    message: str  # one line

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "severity": self.severity,
            "category": self.category,
            "message": self.message,
        }


@dataclass
class JudgeReport:
    findings: list[JudgeFinding] = field(default_factory=list)
    before: dict = field(default_factory=lambda: {"tests": None, "lint_exit_code": None})  # what ran on the base tree
    after: dict = field(
        default_factory=lambda: {"tests": None, "lint_exit_code": None}
    )  # what ran on the reviewed tree
    notes: list[str] = field(default_factory=list)  # plain-language caveats

    def to_json(self) -> dict:
        return {
            "findings": [f.to_json() for f in self.findings],
            "before": self.before,
            "after": self.after,
            "notes": self.notes,
        }


class _BaseUnavailable(Exception):
    """The base revision could not be checked out."""


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )


class _ExportPythonPath:
    """Any shell-based runner, with PYTHONPATH put in front for the command (see `_base_runner`)."""

    def __init__(self, inner: CommandRunner, entries: list[str]):
        self.inner, self.entries = inner, entries

    def environment(self) -> dict[str, str]:
        return self.inner.environment()

    def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult:
        value = ":".join(shlex.quote(e) for e in self.entries)
        result = self.inner.run(
            f'PYTHONPATH={value}"${{PYTHONPATH:+:$PYTHONPATH}}"; export PYTHONPATH\n{command}', cwd, timeout_s
        )
        return replace(result, command=command)


def _base_runner(runner: CommandRunner, tree: Path) -> CommandRunner:
    """The runner for the base checkout, with the checkout (and its `src/`) first on PYTHONPATH.

    A project installed in editable mode imports its package from the user's tree whatever the
    current directory is, so without this the base run would test the reviewed code against the
    base's tests. PYTHONPATH entries come before the editable install's path entries and before
    its import hook (which setuptools appends to `sys.meta_path`), so the checkout's code wins.
    """
    entries = [str(tree)] + ([str(tree / "src")] if (tree / "src").is_dir() else [])
    if type(runner) is SubprocessRunner:
        current = runner.extra_env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        value = os.pathsep.join(entries + ([current] if current else []))
        return runner.with_env({"PYTHONPATH": value})
    return _ExportPythonPath(runner, entries)


class _BaseTree:
    """The base revision, checked out on first use into a linked worktree under `state_dir`.

    `close()` removes it and prunes git's record of it; call it in a `finally`.
    """

    def __init__(self, runner: CommandRunner, root: Path, state_dir: Path, rev: str):
        self.runner, self.root, self.state_dir, self.rev = runner, root, state_dir, rev
        self.path: Path | None = None
        self.failed: str | None = None

    def open(self) -> tuple[CommandRunner, Path]:
        if self.failed:
            raise _BaseUnavailable(self.failed)
        if self.path is None:
            parent = self.state_dir / "worktrees"
            parent.mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix="base-", dir=parent))
            # no hooks: a post-checkout hook could run anything, even in the user's tree
            proc = _git(
                self.root,
                "-c",
                "core.hooksPath=/dev/null",
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(path),
                self.rev,
            )
            if proc.returncode != 0:
                shutil.rmtree(path, ignore_errors=True)
                _git(self.root, "worktree", "prune")
                self.failed = (
                    f"`{self.rev}` could not be checked out: {_last_line(proc.stderr.decode(errors='replace'))}"
                )
                raise _BaseUnavailable(self.failed)
            self.path = path
        return _base_runner(self.runner, self.path), self.path

    def id_prefix(self) -> str:
        """The checkout's place under the work tree as pytest spells it in test ids ("" when outside).

        The checkout lives inside the git directory, so when the reviewed tree adds a pytest
        config file at its root that the base lacks, pytest running in the checkout finds that
        file above it, takes the user's root as its rootdir, and prefixes every test id with
        `.git.tieragent.worktrees.base-….`; stripping it keeps the ids comparable.
        """
        try:
            rel = self.path.resolve().relative_to(self.root.resolve()) if self.path else None
        except ValueError:
            return ""
        return ".".join(rel.parts) + "." if rel else ""

    def close(self) -> None:
        if self.path is None:
            return
        _git(self.root, "worktree", "remove", "--force", str(self.path))
        shutil.rmtree(self.path, ignore_errors=True)  # what `worktree remove` left (e.g. unreadable files)
        _git(self.root, "worktree", "prune")
        self.path = None


def _run_tests(
    runner: CommandRunner, cwd: Path, command: str, tmp: Path, timeout_s: float, junit_xml: str | None = None
) -> tuple[TestRun, dict[str, CaseFailure]]:
    """Run the tests, with per-test results where the runner gives them (see `runners`).

    For pytest, the xunit1 junit family, unlike xunit2, records each test's file and line, so a
    finding can point at the test; deriving the file from the classname fails for test classes and
    dotted folder names. `--continue-on-collection-errors`: one module that no longer imports must
    not hide every other test's result.
    """
    adapter = detect_runner(command, cwd, junit_xml)
    if isinstance(adapter, Pytest):
        adapter = Pytest("pytest", family="xunit1", review=True)
    return run_test_command(runner, cwd, command, tmp, timeout_s, adapter=adapter)


def _last_line(output: str) -> str:
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def _judge_tests(
    runner: CommandRunner,
    root: Path,
    base: _BaseTree,
    command: str,
    tmp: Path,
    timeout_s: float,
    report: JudgeReport,
    junit_xml: str | None = None,
) -> None:
    after, failures = _run_tests(runner, root, command, tmp, timeout_s, junit_xml)
    report.after["tests"] = after.to_json()
    if after.result.timed_out:
        report.notes.append(f"`{command}` timed out after {timeout_s:.0f}s on the reviewed tree: tests not judged")
        return
    if after.result.exit_code == 0 and not after.failing:
        return  # nothing fails now, so nothing is newly broken: the base need not run
    why = unusable_baseline(after, repro=True)
    if why:
        report.notes.append(f"on the reviewed tree, {why}: tests not judged")
        return
    before = _base_tests(base, command, tmp, timeout_s, junit_xml, report)
    if before is None:
        return
    if before.cases is None or after.cases is None:
        _compare_exit_codes(command, before, after, report)
    else:
        _compare_per_test(root, command, before, before.cases, after, failures, report)


def _base_tests(
    base: _BaseTree, command: str, tmp: Path, timeout_s: float, junit_xml: str | None, report: JudgeReport
) -> TestRun | None:
    """The tests on the base, with ids as on the reviewed tree; None (and a note) when they cannot judge."""
    base_runner, tree = base.open()
    before, _ = _run_tests(base_runner, tree, command, tmp, timeout_s, junit_xml)
    prefix = base.id_prefix()
    if before.cases and prefix:
        before = TestRun(before.result, {t.removeprefix(prefix): s for t, s in before.cases.items()})
    report.before["tests"] = before.to_json()
    if before.result.timed_out:
        report.notes.append(
            f"`{command}` timed out after {timeout_s:.0f}s on the base ({base.rev}): tests not compared"
        )
        return None
    why = unusable_baseline(before, repro=True)
    if why:
        report.notes.append(f"on the base ({base.rev}), {why}; {_NO_UNTRACKED}: tests not compared")
        return None
    return before


def _compare_exit_codes(command: str, before: TestRun, after: TestRun, report: JudgeReport) -> None:
    report.notes.append(f"per-test results unavailable for `{command}`: judged by exit code")
    if before.result.exit_code == 0:
        message = (
            f"`{command}` passed before the change and now fails (exit {after.result.exit_code}): "
            f"{_last_line(after.result.output)}"
        )
        report.findings.append(JudgeFinding(None, None, HIGH, TESTS, message))
    else:
        code = before.result.exit_code
        report.notes.append(
            f"`{command}` already failed on the base (exit {code}): without per-test results the runs cannot "
            "be compared"
        )


def _compare_per_test(
    root: Path,
    command: str,
    before: TestRun,
    before_cases: dict[str, str],
    after: TestRun,
    failures: dict[str, CaseFailure],
    report: JudgeReport,
) -> None:
    """A finding for each test that passed on the base and fails now, and for each new failing test."""
    broken = sorted(before.passing & after.failing)
    new = sorted(after.failing - set(before_cases))
    for test in broken + new:
        failure = failures.get(test)
        path = failure.file if failure and failure.file and (root / failure.file).is_file() else None
        line = failure.line if path and failure else None
        why_failed = failure.message if failure and failure.message else "no message"
        if failure and failure.collection:
            message = f"{path or test} cannot be collected: {why_failed}"
        elif test in broken:
            message = f"{test} passed before the change and now fails: {why_failed}"
        else:
            message = f"{test} is new and fails: {why_failed}"
        report.findings.append(JudgeFinding(path, line, HIGH, TESTS, message))
    if not broken and not new and not after.failing and before.result.exit_code == 0:
        code, last = after.result.exit_code, _last_line(after.result.output)
        message = f"`{command}` passed before the change and now exits {code} without a failing test: {last}"
        report.findings.append(JudgeFinding(None, None, HIGH, TESTS, message))
    already = after.failing & before.failing
    if already:
        report.notes.append(f"{len(already)} test(s) already failed before the change and still fail: not counted")


def _problems(output: str, cwd: Path) -> list[tuple[str, int, str]]:
    """Lint problems with repo-relative paths (a linter may print absolute ones)."""
    out = []
    for path, line, message in lint_locations(output):
        if os.path.isabs(path):
            try:
                path = Path(path).relative_to(cwd).as_posix()
            except ValueError:
                continue
        out.append((path, line, message))
    return out


def _added_lines(root: Path, rev: str, paths: list[str]) -> dict[str, set[int]]:
    """The lines the change added to each path (git diff of the work tree against `rev`).

    Used only to pick which of several identical problems is the new one. `--no-optional-locks`:
    a plain `git diff` may rewrite the index to refresh its stat data.
    """
    args = [
        "-c",
        "core.quotePath=false",
        "diff",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    ]
    proc = _git(root, "--no-optional-locks", *args, rev, "--", *paths)
    added: dict[str, set[int]] = {}
    current: set[int] = set()
    for line in proc.stdout.decode(errors="replace").splitlines():
        if line.startswith("+++ "):
            current = added.setdefault(line[6:] if line.startswith("+++ b/") else "", set())
        elif m := _HUNK.match(line):
            start, length = int(m.group("start")), int(m.group("len") or 1)
            current.update(range(start, start + length))
    return added


def _judge_lint(
    runner: CommandRunner,
    root: Path,
    base: _BaseTree,
    command: str,
    changed: list[str],
    timeout_s: float,
    report: JudgeReport,
) -> None:
    after = runner.run(command, root, timeout_s)
    report.after["lint_exit_code"] = after.exit_code
    if after.timed_out:
        report.notes.append(f"`{command}` timed out after {timeout_s:.0f}s on the reviewed tree: lint not judged")
        return
    if after.exit_code == 0:
        return  # clean now, as the fix flow's validation counts it
    found = _problems(after.output, root)
    now = [p for p in found if p[0] in set(changed)]
    if found and not now:
        return  # problems only in files the change did not touch
    base_runner, tree = base.open()
    before = base_runner.run(command, tree, timeout_s)
    report.before["lint_exit_code"] = before.exit_code
    if before.timed_out:
        report.notes.append(f"`{command}` timed out after {timeout_s:.0f}s on the base ({base.rev}): lint not compared")
        return
    old = _problems(before.output, tree)
    if before.exit_code != 0 and not old:
        what = f"`{command}` failed on the base ({base.rev}) without reporting a problem (exit {before.exit_code})"
        report.notes.append(f"{what}; {_NO_UNTRACKED}: lint not compared")
        return
    if not found:
        if before.exit_code == 0:
            message = (
                f"`{command}` passed before the change and now fails (exit {after.exit_code}): "
                f"{_last_line(after.output)}"
            )
            report.findings.append(JudgeFinding(None, None, MEDIUM, LINT, message))
        return
    new = Counter((p, m) for p, _, m in now) - Counter((p, m) for p, _, m in old if p in set(changed))
    added = _added_lines(root, base.rev, sorted({p for p, _ in new})) if new else {}
    for (path, message), count in sorted(new.items()):
        lines = sorted(n for p, n, m in now if (p, m) == (path, message))
        # of identical problems, the new ones are most likely on lines the change added
        picked = sorted(sorted(lines, key=lambda n: (n not in added.get(path, set()), n))[:count])
        report.findings.extend(JudgeFinding(path, n, MEDIUM, LINT, f"new lint problem: {message}") for n in picked)


def judge_change(
    runner: CommandRunner,
    root: Path,
    state_dir: Path,
    base_rev: str,
    test_cmd: str | None,
    lint_cmd: str | None,
    changed: list[str],
    timeout_s: float,
    junit_xml: str | None = None,
) -> JudgeReport:
    """The test failures and lint problems the reviewed tree at `root` has and `base_rev` had not.

    Each command gets `timeout_s` per run (up to two runs each). A timeout gives a note and no
    finding; the base checkout is removed in every case, exceptions and Ctrl-C included.
    """
    report = JudgeReport()
    if test_cmd is None and lint_cmd is None:
        report.notes.append("no test or lint command is configured: nothing was run")
        return report
    tmp = private_dir(state_dir / "tmp")  # reports hold test output: the user's only
    base = _BaseTree(runner, root, state_dir, base_rev)
    try:
        if test_cmd is not None:
            try:
                _judge_tests(runner, root, base, test_cmd, tmp, timeout_s, report, junit_xml)
            except _BaseUnavailable as e:
                report.notes.append(f"the base {e}: `{test_cmd}` not compared")
        if lint_cmd is not None:
            try:
                _judge_lint(runner, root, base, lint_cmd, changed, timeout_s, report)
            except _BaseUnavailable as e:
                report.notes.append(f"the base {e}: `{lint_cmd}` not compared")
    finally:
        base.close()
    return report
