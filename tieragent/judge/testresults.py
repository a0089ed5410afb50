"""Per-test results and the verdict on a patch, compared with a baseline run before it.

Per-test results come from each runner's machine-readable report where it has one (pytest's
`--junitxml`, jest's JSON, ...; see `runners`), else from its stable text output; a runner
tieragent cannot read gives only an exit code. A patch validates when no test that passed before
fails after, none of them is skipped, xfailed or missing after (a patch must not be able to switch
off the test it breaks: by deselecting it in a config file, or by making it skip from the code under
test), new tests pass, and, where tests failed before, the ones the request is about now pass.

Test ids read `file::suite::name` as far as each runner allows (pytest keeps its dotted module:
`tests.test_ops::test_add`), so the baseline, the targets, the feedback and the ledger name a
test the same way whichever runner ran it.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..repo.runner import CommandResult

PASSED, FAILED, SKIPPED, XFAILED = "passed", "failed", "skipped", "xfailed"
# how a test that passed before can stop passing without failing, said in a verdict's reason
# the targets' rule when no failing test matched the request: fixing one of them is progress enough
PROGRESS_RULE = "none matched the request: at least one must be fixed"
_NOT_RUN_AS = {SKIPPED: "was skipped", XFAILED: "was xfailed", None: "was not run (deselected or removed)"}
# Stand-in test names for failures that are not one test's: a test file that could not be loaded
# (`test/math.test.js::(load)`) and code that did not compile (`calc::(build)`). They fail like a
# test, so a patch that breaks the build is refused and a repro test that does not load is discarded.
LOAD_ERROR, BUILD_ERROR = "(load)", "(build)"


def is_setup_failure(test_id: str) -> bool:
    """True for the stand-in ids of a file that did not load or code that did not compile."""
    return test_id.endswith((f"::{LOAD_ERROR}", f"::{BUILD_ERROR}")) or test_id in (LOAD_ERROR, BUILD_ERROR)


def is_pytest(command: str) -> bool:
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    return any(Path(w).name in ("pytest", "py.test") for w in words)


def with_junit(command: str, junit_path: Path, family: str = "xunit2") -> str:
    """The pytest command with a junit report added; other commands unchanged.

    `--maxfail` undoes a `-x` in the command or in addopts: comparing with the baseline needs every
    test's result, not just those before the first failure. `family="xunit1"` also records each
    test's file and line (see `parse_junit_failures`); the test ids are the same in both families.
    """
    if not is_pytest(command):
        return command
    return f"{command} --junitxml={shlex.quote(str(junit_path))} -o junit_family={family} --maxfail=1000000"


def junit_status(case: ET.Element) -> str:
    """passed | failed | skipped | xfailed for one <testcase>; pytest writes an xfail as
    <skipped type="pytest.xfail">."""
    if case.find("failure") is not None or case.find("error") is not None:
        return FAILED
    skipped = case.find("skipped")
    if skipped is None:
        return PASSED
    return XFAILED if skipped.get("type") == "pytest.xfail" else SKIPPED


def parse_junit(path: Path) -> dict[str, str] | None:
    """test id -> passed | failed | skipped | xfailed; None when there is no readable report."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    return {_case_id(case): junit_status(case) for case in root.iter("testcase")}


def _case_id(case: ET.Element) -> str:
    classname, name = case.get("classname", ""), case.get("name", "")
    return f"{classname}::{name}" if classname else name


# the last line of pytest's failure text: "tests/test_ops.py:4: AssertionError"
_CRASH_LINE = re.compile(r"^\S.*:\d+: (?P<exc>[A-Za-z_][\w.]*)$")


@dataclass(frozen=True)
class CaseFailure:
    """Where a failing test is defined and how it failed, as a junit report tells it."""

    file: str | None  # as the runner wrote it (pytest: relative to its rootdir); only the xunit1 family has it
    line: int | None  # 1-based line of the test's definition; only the xunit1 family has it
    message: str  # one line: "AssertionError: assert 8 == 2"
    collection: bool  # a test module that could not be collected, rather than a test
    details: str = ""  # the failure's message and its stack frames inside the repository, for a model


@dataclass(frozen=True)
class Parsed:
    """What a runner's report says: every test's status, and how the failing ones failed."""

    cases: dict[str, str]
    failures: dict[str, CaseFailure] = field(default_factory=dict)


def _first_line(failure: ET.Element) -> str:
    """The failure's message, first line, with the exception's name when the message lacks it."""
    message = (failure.get("message") or "").strip()
    text = (failure.text or "").strip()
    lines = text.splitlines()
    errors = [ln.strip()[1:].strip() for ln in lines if ln.startswith("E ")]
    if message == "collection failure":  # the exception is the last `E` line, after its source lines
        return errors[-1] if errors else (lines[0].strip() if lines else message)
    if not message:
        return errors[0] if errors else (lines[0].strip() if lines else "")
    first = message.splitlines()[0].strip()
    crash = _CRASH_LINE.match(lines[-1].strip()) if lines else None
    if crash and not first.startswith(crash.group("exc").split(".")[-1]):
        first = f"{crash.group('exc')}: {first}"
    return first


def parse_junit_failures(path: Path) -> dict[str, CaseFailure]:
    """test id (as `parse_junit` gives it) -> where and how it failed, for failing tests only."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {}
    out: dict[str, CaseFailure] = {}
    for case in root.iter("testcase"):
        failure = case.find("failure")
        failure = failure if failure is not None else case.find("error")
        if failure is None:
            continue
        line = case.get("line")
        out[_case_id(case)] = CaseFailure(
            case.get("file") or None,
            int(line) + 1 if line and line.isdigit() else None,  # pytest writes the 0-based line
            _first_line(failure),
            not case.get("classname") and failure.get("message") == "collection failure",
        )
    return out


@dataclass(frozen=True)
class TestRun:
    __test__ = False  # not a pytest test class, despite the name

    result: CommandResult
    cases: dict[str, str] | None  # None: the runner gives no per-test results
    messages: dict[str, str] = field(default_factory=dict)  # failing test -> the first line of how it failed
    details: dict[str, str] = field(
        default_factory=dict
    )  # failing test -> message and in-repo frames (not kept in the baseline)
    # False where a test missing from the results may just not have been rerun (reports the runner writes by
    # itself: Gradle leaves an up-to-date module's tests alone), so a missing test is not counted against a patch
    lists_every_test: bool = True

    @property
    def failing(self) -> set[str]:
        return {t for t, s in (self.cases or {}).items() if s == FAILED}

    @property
    def passing(self) -> set[str]:
        return {t for t, s in (self.cases or {}).items() if s == PASSED}

    def to_json(self) -> dict:
        return {
            "exit_code": self.result.exit_code,
            "timed_out": self.result.timed_out,
            "tests": len(self.cases) if self.cases is not None else None,
            "failing": sorted(self.failing),
        }

    def failure_signature(self) -> frozenset[tuple[str, str]]:
        """Which tests fail and how: two runs with the same signature failed the same way. Without
        per-test results, the last lines of the output stand in."""
        if self.cases is None:
            tail = tuple(line.strip() for line in self.result.output.strip().splitlines()[-5:])
            return frozenset({("(output)", "\n".join(tail))})
        return frozenset((t, _NUMBERLESS.sub("#", self.messages.get(t, ""))) for t in self.failing)


def unusable_baseline(run: TestRun, repro: bool) -> str | None:
    """Why a baseline run cannot judge patches (the command cannot run, or runs no tests), or None."""
    r = run.result
    tail = " / ".join(line.strip() for line in r.output.strip().splitlines()[-2:])
    if r.exit_code in (126, 127):
        return f"the test command could not run: `{r.command}` exited {r.exit_code} ({tail or 'command not found'})"
    if is_pytest(r.command) and r.exit_code in (3, 4):
        return f"pytest could not run: `{r.command}` exited {r.exit_code} ({tail})"
    if is_pytest(r.command) and r.exit_code == 5 and not repro:
        return f"`{r.command}` collected no tests, so nothing can judge a patch (add tests, or use --repro)"
    if not is_pytest(r.command) and run.cases == {} and r.exit_code == 0 and not repro:
        return f"`{r.command}` ran no tests, so nothing can judge a patch (add tests, or use --repro)"
    return None


_NUMBERLESS = re.compile(r"0x[0-9a-f]+|\d+\.\d+s\b")  # addresses and durations differ between identical failures
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")


# Names that say nothing about which tests belong to a file: every test of a Rust crate sits under
# src/lib.rs, every JavaScript package has an index.js. For these the folder name stands in.
_GENERIC_STEMS = {"lib", "main", "mod", "index", "__init__", "init", "src", "app", "test", "tests", ""}


def _stems(picked_files: list[str]) -> set[str]:
    stems = set()
    for p in picked_files:
        path = Path(p)
        stem = path.name.split(".")[0].lower()  # math.spec.ts -> math
        stems.add(stem if stem not in _GENERIC_STEMS else path.parent.name.lower())
    return stems - _GENERIC_STEMS


def _test_file_names(stem: str) -> set[str]:
    """How each ecosystem names the tests of `stem`: test_ops.py, ops_test.go, ops.test.ts, CalcTest.java, ..."""
    return {
        stem,
        f"test_{stem}",
        f"{stem}_test",
        f"{stem}_tests",
        f"{stem}test",
        f"{stem}tests",
        f"test{stem}",
        f"{stem}_spec",
    }


def target_tests(baseline_failing: set[str], request: str, picked_files: list[str]) -> tuple[set[str], str]:
    """Which of the tests that fail before the patch the request is about, and how that was decided.

    A failing test is a target when the request names it (or its file), or mentions a word of its
    name, or its file or module matches a picked file by each ecosystem's convention (`ops.py`:
    `test_ops.py`; `ops.go`: `ops_test.go`; `math.ts`: `math.test.ts`, `math.spec.ts`; `Calc.java`:
    `CalcTest.java`; a Rust module `ops`: `ops::tests::...`). When none matches, every failing
    test is a target and the patch must fix at least one of them (progress), not all.
    """
    if not baseline_failing:
        return set(), "no test failed before the patch"
    words = {w.lower() for w in _WORD.findall(request)} - {
        "test",
        "tests",
        "that",
        "with",
        "when",
        "should",
        "returns",
        "return",
    }
    conventions = set().union(*(_test_file_names(s) for s in _stems(picked_files))) if picked_files else set()
    lowered = request.lower()
    named, related = set(), set()
    for test in baseline_failing:
        parts = [p.lower() for p in re.split(r"[:.\[\]/]+", test) if p]
        name = parts[-1] if parts else test.lower()
        file_part = test.split("::")[0].lower() if "::" in test else ""
        file_named = (
            len(file_part) > 3
            and ("/" in file_part or "." in file_part)
            and (
                re.search(rf"(?<![\w/.]){re.escape(file_part)}(?![\w/])", lowered) is not None
                or f"{file_part.replace('.', '/')}.py" in lowered
            )
        )
        if test.lower() in lowered or re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", lowered) or file_named:
            named.add(test)
        elif any(w in name or w in parts for w in words) or conventions & set(parts):
            related.add(test)
    if named:
        return named, "named in the request"
    if related:
        return related, "related to the request or the picked files"
    return set(baseline_failing), PROGRESS_RULE


def needs_progress(target_rule: str) -> bool:
    """Whether the targets' rule asks only that one of them be fixed (none matched the request)."""
    return target_rule == PROGRESS_RULE


@dataclass
class TestVerdict:
    __test__ = False

    ok: bool
    reason: str
    checks: dict = field(default_factory=dict)


def judge_tests(baseline: TestRun | None, after: TestRun, targets: set[str], target_rule: str) -> TestVerdict:
    """Compare the run after the patch with the baseline.

    The baseline decides what must still pass: a test that passed before and is skipped, xfailed
    or missing after the patch counts as broken, like one that fails.
    """
    r = after.result
    if r.timed_out:
        return TestVerdict(False, f"`{r.command}` timed out after {r.seconds:.0f}s", {"timed_out": True})
    if baseline is None or baseline.cases is None or after.cases is None:
        return _judge_by_exit_code(baseline, after)
    return _judge_per_test(baseline, baseline.cases, after, after.cases, targets, target_rule)


def _judge_by_exit_code(baseline: TestRun | None, after: TestRun) -> TestVerdict:
    """Without per-test results on both sides, the exit code judges; unless the runner reported per
    test before the patch and not after: then the exit code alone must not judge it."""
    r = after.result
    if baseline is not None and baseline.cases is not None and after.cases is None:
        how = f"exited {r.exit_code}" if r.exit_code else "exited 0"
        return TestVerdict(
            False,
            f"`{r.command}` {how} and wrote no per-test report after the patch (it did before)",
            {"per_test": False, "exit_code": r.exit_code},
        )
    ok = r.exit_code == 0
    return TestVerdict(
        ok, "" if ok else f"`{r.command}` exited {r.exit_code}", {"per_test": False, "exit_code": r.exit_code}
    )


def _judge_per_test(
    baseline: TestRun,
    before_cases: dict[str, str],
    after: TestRun,
    after_cases: dict[str, str],
    targets: set[str],
    target_rule: str,
) -> TestVerdict:
    """Test by test: nothing that passed before fails or goes missing, no new test fails, and the
    targets pass (or, when none matched the request, at least one of them does)."""
    r = after.result
    if before_cases and not after_cases:
        return TestVerdict(False, "no tests ran after the patch (a collection or import error?)", {"per_test": True})
    new_failures = sorted(baseline.passing & after.failing)
    not_run = {
        t: after_cases.get(t)
        for t in sorted(baseline.passing)
        if after_cases.get(t) not in (PASSED, FAILED) and (t in after_cases or after.lists_every_test)
    }
    new_tests_failing = sorted(after.failing - set(before_cases))
    fixed = sorted(baseline.failing & after.passing)
    still_failing = sorted(targets - after.passing)
    progress_rule = needs_progress(target_rule)
    targets_ok = (bool(set(fixed) & targets) if progress_rule else not still_failing) if targets else True
    if not targets and not baseline.failing and r.exit_code not in (0, None) and not after.failing and not not_run:
        # exit code says failure but no test case failed: e.g. an error outside the tests
        return TestVerdict(False, f"`{r.command}` exited {r.exit_code} without a failing test", {"per_test": True})
    checks = {
        "per_test": True,
        "new_failures": new_failures,
        "no_longer_run": {t: status or "absent" for t, status in not_run.items()},
        "new_tests_failing": new_tests_failing,
        "fixed": fixed,
        "targets": sorted(targets),
        "target_rule": target_rule,
        "targets_pass": targets_ok,
    }
    if new_failures:
        return TestVerdict(
            False, f"{len(new_failures)} test(s) that passed before now fail: {', '.join(new_failures[:3])}", checks
        )
    if not_run:
        return TestVerdict(False, _not_run_reason(not_run), checks)
    if new_tests_failing:
        return TestVerdict(False, f"new test(s) fail: {', '.join(new_tests_failing[:3])}", checks)
    if not targets_ok:
        what = (
            ", ".join(_with_status(t, after) for t in still_failing[:3])
            if not progress_rule
            else "none of the failing tests"
        )
        return TestVerdict(False, f"the patch did not fix {what}", checks)
    return TestVerdict(True, "", checks)


def _not_run_reason(not_run: dict[str, str | None]) -> str:
    """'tests.test_ops::test_sub passed before and was skipped after the patch' (the first three, and how many more)."""
    said = [
        f"{t} passed before and {_NOT_RUN_AS.get(status, 'did not pass')} after the patch"
        for t, status in list(not_run.items())[:3]
    ]
    more = f" (and {len(not_run) - 3} more)" if len(not_run) > 3 else ""
    return "; ".join(said) + more


def _with_status(test: str, after: TestRun) -> str:
    """A target test that still does not pass, and how, when it did not simply fail."""
    status = (after.cases or {}).get(test)
    return test if status == FAILED else f"{test} (it {_NOT_RUN_AS.get(status, 'did not pass')} after the patch)"
