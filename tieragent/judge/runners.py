"""Test runners: which one a test command runs, how to ask it for per-test results, and how to read them.

One adapter per runner. `detect_runner` picks it from the command (and, for `npm test` and its
kin, from package.json's `scripts.test`); `run_test_command` runs the command with the adapter's
reporter flags added, reads the report back into `{test id: passed|failed|skipped}` and the
failures' messages, and removes the report. The user's command is what the results name; the
flags are an implementation detail, as `--junitxml` always was for pytest.

| runner | per-test results from |
|---|---|
| pytest | `--junitxml` (added) |
| python -m unittest | its `-v` progress lines (added `-v`; unittest has no machine output) |
| node --test | node's reporter events as JSON lines, by a small reporter module (NODE_OPTIONS); before node 20, TAP |
| jest / vitest / mocha | `--json --outputFile` / `--reporter=junit --outputFile.junit` / `--reporter xunit` (added) |
| npm/pnpm/yarn test | the runner in `scripts.test`, its flags passed after `--` (npm) or appended (pnpm, yarn) |
| go test | `-json` (added): the test2json event stream |
| cargo test | libtest's `test name ... ok` lines (`--no-fail-fast` added, `-q` dropped) |
| mvn / gradle | the JUnit XML Surefire and Gradle write, only files this run wrote |
| anything else | `validate.junit_xml`, else the exit code |
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import replace
from pathlib import Path

from ..core.private_files import private_dir
from ..repo.runner import CommandRunner
from .adapters import (
    GO_TEST,
    Adapter,
    CargoTest,
    GoTest,
    Jest,
    JUnitFiles,
    Mocha,
    NodeTest,
    Only,
    Pytest,
    Script,
    Unittest,
    Vitest,
    last_segment_start,
    node_major,
    only_paths,
    read_text,
    words_of,
)
from .testresults import BUILD_ERROR, CaseFailure, Parsed, TestRun, is_pytest

__all__ = [
    "GRADLE_REPORTS",
    "SURE_FIRE_REPORTS",
    "Adapter",
    "CargoTest",
    "GoTest",
    "JUnitFiles",
    "Jest",
    "Mocha",
    "NodeTest",
    "Only",
    "Pytest",
    "Script",
    "Unittest",
    "Vitest",
    "detect_runner",
    "last_segment_start",
    "no_per_test_reason",
    "report_files",
    "run_test_command",
]

SURE_FIRE_REPORTS = "**/target/surefire-reports/TEST-*.xml"
GRADLE_REPORTS = "**/build/test-results/**/TEST-*.xml"
_JUNIT_HINT = "set validate.junit_xml to where it writes JUnit XML"


def _js_runner(words: list[str]) -> Adapter | None:
    names = [Path(w).name for w in words]
    if names and names[0] in ("node", "nodejs") and "--test" in words:
        if any(w.startswith("--test-reporter") for w in words):
            return Adapter(
                "node --test", per_test=False, why="the command chooses its own --test-reporter; " + _JUNIT_HINT
            )
        return NodeTest("node --test", major=node_major())
    if any(n in ("jest", "jest.js") for n in names) or names[:2] == ["react-scripts", "test"]:
        return Jest("jest")
    if "vitest" in names or "vitest.mjs" in names:
        return Vitest("vitest")
    if "mocha" in names or "_mocha" in names:
        return Mocha("mocha")
    return None


def _script_runner(manager: str, cwd: Path) -> Adapter:
    try:
        data = json.loads(read_text(cwd / "package.json"))
        script = data["scripts"]["test"]
    except (ValueError, KeyError, TypeError):
        script = None
    if not isinstance(script, str) or not script.strip():
        return Adapter(
            f"{manager} test",
            per_test=False,
            why=f"package.json has no scripts.test to read the runner from; {_JUNIT_HINT}",
        )
    last = words_of(script[last_segment_start(script) :])
    found = _js_runner(last)
    if found is None:
        anywhere = _js_runner(words_of(script.replace("&&", " ").replace(";", " ")))
        if isinstance(anywhere, NodeTest):
            found = anywhere  # node's reporters travel in NODE_OPTIONS, so its place in the script does not matter
        elif anywhere is not None:
            why = (
                f"the {anywhere.name} in scripts.test is not its last command, so flags passed to `{manager} "
                "test` would not reach it"
            )
            return Adapter(
                f"{manager} test",
                per_test=False,
                why=f"{why}; {_JUNIT_HINT}, or make validate.test run {anywhere.name} directly",
            )
    if found is None:
        return Adapter(
            f"{manager} test",
            per_test=False,
            why=f"scripts.test (`{script}`) runs no test runner tieragent reads; {_JUNIT_HINT}",
        )
    if not found.per_test:
        return found
    return Script(f"{found.name} via {manager} test", manager=manager, inner=found)


def detect_runner(command: str, cwd: Path, junit_xml: str | None = None) -> Adapter:
    """The adapter for `command` run in `cwd`; `junit_xml` (validate.junit_xml) overrides detection."""
    if junit_xml:
        return JUnitFiles("validate.junit_xml", glob=junit_xml)
    if is_pytest(command):
        return Pytest("pytest")
    words = words_of(command[last_segment_start(command) :])
    names = [Path(w).name for w in words]
    joined = " ".join(names)
    if re.search(r"(^|\s)-m unittest\b", joined):
        return Unittest("unittest")
    js = _js_runner(words)
    if js is not None:
        return js
    if (
        names
        and names[0] in ("npm", "pnpm", "yarn")
        and (names[1:2] in (["test"], ["t"], ["tst"]) or names[1:3] == ["run", "test"])
    ):
        return _script_runner(names[0], cwd)
    if re.search(GO_TEST, joined):
        return GoTest("go test")
    if re.search(r"\bcargo(\s+\+\S+)?\s+test\b", joined):
        return CargoTest("cargo test")
    if names and names[0] in ("mvn", "mvnw", "mvnw.cmd"):
        return JUnitFiles("maven surefire", glob=SURE_FIRE_REPORTS)
    if names and names[0] in ("gradle", "gradlew", "gradlew.bat"):
        return JUnitFiles("gradle", glob=GRADLE_REPORTS)
    if names and names[0] in ("tox", "nox"):
        why = (
            f"{names[0]} runs the tests in environments of its own, where tieragent adds no reporter; set "
            "validate.junit_xml to the file its pytest writes with --junitxml, or set validate.test to the pytest "
            "command"
        )
        return Adapter(names[0], per_test=False, why=why)
    what = f"`{names[0]}`" if names else "this command"
    return Adapter(
        names[0] if names else "unknown",
        per_test=False,
        why=(
            f"tieragent cannot read per-test results from {what}; {_JUNIT_HINT}, or set validate.test to the test "
            "runner itself"
        ),
    )


# ------------------------------------------------------------------------------------ reports the runner writes itself
_PRUNE = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox", ".gradle", ".idea"}


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def report_files(cwd: Path, pattern: str) -> dict[Path, int]:
    """Files under `cwd` matching the glob `pattern` (absolute patterns too), with their mtime in ns.
    Version-control, dependency and virtualenv folders are not entered."""
    if Path(pattern).is_absolute():
        base, rel = Path(pattern).anchor, pattern.lstrip("/")
        root = Path(base)
    else:
        root, rel = cwd, pattern.removeprefix("./")
    regex = _glob_regex(rel)
    fixed = Path(rel.split("*")[0]).parent if "*" in rel else Path(rel).parent
    start = root / fixed
    found: dict[Path, int] = {}
    for folder, dirs, files in os.walk(start):
        dirs[:] = [d for d in dirs if d not in _PRUNE]
        for f in files:
            p = Path(folder) / f
            if regex.match(p.relative_to(root).as_posix()):
                try:
                    found[p] = p.stat().st_mtime_ns
                except OSError:
                    continue
    return found


# ------------------------------------------------------------------------------------ running
def run_test_command(
    runner: CommandRunner,
    cwd: Path,
    command: str,
    tmp: Path,
    timeout_s: float,
    *,
    adapter: Adapter | None = None,
    only: Only = None,
    junit_xml: str | None = None,
) -> tuple[TestRun, dict[str, CaseFailure]]:
    """Run the tests with per-test results where the runner gives them.

    `only` runs just those test files where the runner allows it (and keeps only their tests, and
    any build failure, in the results). The TestRun names the user's command (with `only`), not
    the reporter flags added to it.
    """
    adapter = adapter or detect_runner(command, cwd, junit_xml)
    private_dir(tmp)  # reports hold test output: the user's only
    report = tmp / f"report-{uuid.uuid4().hex}.out"
    watched = report_files(cwd, adapter.watch) if adapter.watch else {}
    shown = adapter.command(command, None, only, cwd)
    wrapped = adapter.command(command, report if adapter.per_test else None, only, cwd)
    try:
        result = runner.run(wrapped, cwd, timeout_s)
        parsed = None
        if adapter.per_test and not result.timed_out:
            fresh = (
                [p for p, t in report_files(cwd, adapter.watch).items() if watched.get(p) != t] if adapter.watch else []
            )
            parsed = adapter.parse(result.output, report, fresh, cwd)
    finally:
        report.unlink(missing_ok=True)
        report.with_suffix(".reporter.mjs").unlink(missing_ok=True)
    paths = only_paths(only)
    if parsed is not None and paths:
        keep = {
            t for t in parsed.cases if any(adapter.owns(t, p, cwd) for p in paths) or t.endswith(f"::{BUILD_ERROR}")
        }
        parsed = Parsed(
            {t: s for t, s in parsed.cases.items() if t in keep},
            {t: f for t, f in parsed.failures.items() if t in keep},
        )
    shown_result = replace(result, command=shown)
    if parsed is None:
        return TestRun(shown_result, None), {}
    messages = {t: f.message for t, f in parsed.failures.items()}
    details = {t: f.details for t, f in parsed.failures.items() if f.details}
    return TestRun(
        shown_result, parsed.cases, messages, details, lists_every_test=adapter.watch is None
    ), parsed.failures


def no_per_test_reason(adapter: Adapter, run: TestRun) -> str:
    """Why `run` has no per-test results, in words that say what to configure."""
    if not adapter.per_test:
        return adapter.why
    return (
        f"{adapter.name} wrote no report tieragent could read (it exited {run.result.exit_code}: did it fail before "
        f"running any test?); {_JUNIT_HINT}, or narrow validate.test"
    )
