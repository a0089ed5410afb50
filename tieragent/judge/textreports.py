"""Reading per-test results from runners whose only output is text: `python -m unittest -v` and
`cargo test` (libtest's JSON output is unstable, so its stable human format is read instead).

Both formats are line-oriented and documented by their tools; anything that does not look like
them yields None ("no per-test results"), never an empty result that would read as "no tests".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .reports import failure, summary_line
from .testresults import BUILD_ERROR, FAILED, LOAD_ERROR, PASSED, SKIPPED, XFAILED, CaseFailure, Parsed

# ------------------------------------------------------------------------------------ unittest -v
# "test_add (tests.test_ops.TestOps.test_add) ... ok" (3.11+), "test_add (tests.test_ops.TestOps) ... ok" (up to 3.10)
_UT_TEST = re.compile(r"^(?P<name>[^\s(]+) \((?P<path>[\w.]+)\)(?P<sub>[^.]*?)(?: \.\.\.(?: (?P<status>.*))?)?$")
_UT_SUB = re.compile(r"^\s+\S+ \([\w.]+\).*? \.\.\. (?P<status>.*)$")
_UT_TAIL = re.compile(r"^.* \.\.\. (?P<status>.*)$")
_UT_HEADER = re.compile(r"^(?P<kind>FAIL|ERROR|UNEXPECTED SUCCESS): (?P<name>[^\s(]+) \((?P<path>[\w.]+)\)")
_UT_RAN = re.compile(r"^Ran \d+ tests? in ")
_RULE = re.compile(r"^(=|-){20,}$")


def _ut_status(text: str) -> str | None:
    text = text.strip()
    if text == "ok":
        return PASSED
    if text == "expected failure":  # kept apart from passed: a test that passed before must not turn into one
        return XFAILED
    if text in ("FAIL", "ERROR", "unexpected success"):
        return FAILED
    if text.startswith("skipped"):
        return SKIPPED
    return None


def unittest_id(name: str, path: str) -> str:
    """`module.Class::method`, the id pytest's junit report gives the same test; a module that
    could not be imported is `module::(load)`."""
    if path.startswith("unittest.loader."):
        return f"{name}::{LOAD_ERROR}"
    if path.endswith(f".{name}"):
        path = path[: -len(name) - 1]
    return f"{path}::{name}"


def parse_unittest(output: str, cwd: Path) -> Parsed | None:
    """unittest's verbose progress lines, and the FAIL/ERROR sections for how each failed."""
    cases: dict[str, str] = {}
    pending: str | None = None  # a test whose status is on a later line (a docstring, or output in between)
    texts: dict[str, list[str]] = {}
    current: list[str] | None = None
    ran = False
    for line in output.splitlines():
        header = _UT_HEADER.match(line)
        if header:
            test_id = unittest_id(header.group("name"), header.group("path"))
            current = texts.setdefault(test_id, [])
            cases[test_id] = FAILED
            continue
        if current is not None:
            if _UT_RAN.match(line) or (line.startswith("=" * 20)):
                current = None
            elif not _RULE.match(line):
                current.append(line)
            continue
        if _UT_RAN.match(line):
            ran = True
            continue
        sub = _UT_SUB.match(line)
        if sub and pending is not None:
            if _ut_status(sub.group("status")) == FAILED:
                cases[pending] = FAILED
            continue
        m = _UT_TEST.match(line)
        if m:
            test_id = unittest_id(m.group("name"), m.group("path"))
            status = _ut_status(m.group("status") or "")
            if status is None:
                pending = test_id
                cases.setdefault(test_id, PASSED)  # settled by a later status line or a FAIL section
            else:
                cases[test_id] = status
                pending = None
            continue
        if pending is not None:
            tail = _UT_TAIL.match(line)
            status = _ut_status(tail.group("status") if tail else line)
            if status is not None:
                if cases.get(pending) != FAILED or status == FAILED:
                    cases[pending] = status
                pending = None
    if not cases and not ran:
        return None
    failures = {}
    for test_id, lines in texts.items():
        text = "\n".join(lines).strip()
        failures[test_id] = failure(text, cwd, collection=test_id.endswith(LOAD_ERROR))
        last = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(" ")]
        if last:  # unittest's traceback ends with the exception: the most telling line
            failures[test_id] = CaseFailure(
                None, None, last[-1].strip()[:300], test_id.endswith(LOAD_ERROR), failures[test_id].details
            )
    return Parsed(cases, failures)


# ------------------------------------------------------------------------------------ cargo test
_CARGO_RUNNING = re.compile(r"^\s*Running (?:unittests )?(?P<src>\S+)(?: \((?P<bin>[^)]+)\))?\s*$")
_CARGO_DOCTESTS = re.compile(r"^\s*Doc-tests (?P<crate>\S+)\s*$")
_CARGO_TEST = re.compile(r"^test (?P<name>.+?) \.\.\. (?P<status>ok|FAILED|ignored(?:, .*)?)\s*$")
_CARGO_DOCTEST_NAME = re.compile(r"^(?P<file>\S+) - (?P<item>.+?) \(line \d+\)(?P<rest>.*)$")
_CARGO_OUT_HEADER = re.compile(r"^---- (?P<name>.+?) std(?:out|err) ----\s*$")
_CARGO_COMPILE_FAILED = re.compile(r"^error: could not compile `(?P<crate>[^`]+)`")
_CARGO_ERROR = re.compile(r"^error(?:\[E\d+\])?: ")
_THREAD_ID = re.compile(r"^(thread '[^']*') \(\d+\)")


def _bin_stem(path: str | None) -> str:
    name = Path(path or "").name
    return re.sub(r"-[0-9a-f]{8,}$", "", name)


def parse_cargo(output: str, cwd: Path) -> Parsed | None:
    """libtest's `test NAME ... ok|FAILED|ignored` lines, grouped by the test binary cargo says it
    is running, so the id names the target's source: `src/lib.rs::ops::tests::adds`,
    `tests/api.rs::it_works`, `src/lib.rs::double (doctest)`. A crate that does not compile gives
    `<crate>::(build)` with the compiler's errors."""
    reader = _CargoReader()
    for raw in output.splitlines():
        reader.read(_THREAD_ID.sub(r"\1", raw.rstrip()))
    if not reader.seen:
        return None
    failures: dict[str, CaseFailure] = {}
    for test_id, status in reader.cases.items():
        if status != FAILED:
            continue
        text = "\n".join(reader.texts.get(test_id, [])).strip()
        if test_id.endswith(BUILD_ERROR):
            failures[test_id] = CaseFailure(None, None, summary_line(text), True, "\n".join(text.splitlines()[:60]))
        else:
            failures[test_id] = failure(text, cwd, test_id.split("::")[0] if "::" in test_id else None)
    return Parsed(reader.cases, failures)


@dataclass
class _CargoReader:
    """cargo test's output, a line at a time: which test binary is running, each test's status, each
    failure's captured output, and the compiler's errors."""

    cases: dict[str, str] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    section_ids: dict[str, str] = field(default_factory=dict)  # test name -> id, in the binary being read
    sources: dict[str, str] = field(default_factory=dict)  # source -> the binary that first used it
    source: str = ""
    doc: bool = False  # reading doctests
    current: list[str] | None = None  # the failure output being read
    errors: list[str] = field(default_factory=list)
    in_error: bool = False
    seen: bool = False

    def read(self, line: str) -> None:
        if self._section(line) or self._test(line) or self._output(line) or self._compile_failed(line):
            return
        if _CARGO_ERROR.match(line):
            self.in_error = True
        elif not line.strip() or line.startswith("warning"):
            self.in_error = False
        if self.in_error:
            self.errors.append(line)

    def _section(self, line: str) -> bool:
        """`Running <source> (<binary>)` or `Doc-tests <crate>`: the tests that follow are its."""
        running = _CARGO_RUNNING.match(line)
        if running:
            self.seen, self.doc, self.current = True, False, None
            src, stem = running.group("src"), _bin_stem(running.group("bin"))
            first = self.sources.setdefault(src, stem)
            self.source = src if first == stem else f"{stem}/{src}"
            self.section_ids = {}
            return True
        if _CARGO_DOCTESTS.match(line):
            self.seen, self.doc, self.current, self.section_ids = True, True, None, {}
            return True
        return False

    def _test(self, line: str) -> bool:
        test = _CARGO_TEST.match(line)
        if not test:
            return False
        self.seen = True
        self.current = None
        name = test.group("name")
        d = _CARGO_DOCTEST_NAME.match(name) if self.doc else None
        test_id = (
            f"{d.group('file')}::{d.group('item')} (doctest){d.group('rest')}"
            if d
            else f"{self.source}::{name}"
            if self.source
            else name
        )
        n = 2
        while test_id in self.cases and self.section_ids.get(name) != test_id:
            test_id, n = f"{test_id.rsplit(' #', 1)[0]} #{n}", n + 1
        self.section_ids[name] = test_id
        status = test.group("status")
        self.cases[test_id] = PASSED if status == "ok" else FAILED if status == "FAILED" else SKIPPED
        return True

    def _output(self, line: str) -> bool:
        """`---- NAME stdout ----` and the lines under it, up to the next section."""
        header = _CARGO_OUT_HEADER.match(line)
        if header:
            name = header.group("name")
            test_id = self.section_ids.get(name, f"{self.source}::{name}" if self.source else name)
            self.current = self.texts.setdefault(test_id, [])
            return True
        if self.current is None:
            return False
        if line.strip() == "failures:" or line.startswith("test result:"):
            self.current = None
        else:
            self.current.append(line)
        return True

    def _compile_failed(self, line: str) -> bool:
        compile_failed = _CARGO_COMPILE_FAILED.match(line)
        if not compile_failed:
            return False
        test_id = f"{compile_failed.group('crate')}::{BUILD_ERROR}"
        self.cases[test_id] = FAILED
        self.texts[test_id] = self.errors[:60] or [line]
        self.seen = True
        return True
