"""Reading the reports test runners write to a file: JUnit XML and jest's JSON; and what every parser
shares: ids relative to the working directory, a failure cut to its message and in-repo frames.
(Event streams, `go test -json`, node's events and TAP, are read in `streams`.)

Every parser returns `Parsed` (test id -> passed | failed | skipped | xfailed, and how each failure
happened) or None when there is no readable report, which the caller treats as "no per-test
results" rather than "no tests". Ids are `file::suite::name` as far as the report allows, with
paths relative to the directory the tests ran in, so that two runs of the same tests in different
checkouts (the review's base worktree) give the same ids.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .testresults import FAILED, LOAD_ERROR, PASSED, SKIPPED, CaseFailure, Parsed, junit_status

MAX_DETAIL_LINES = 40
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# a frame's location: "(path:line:col)", "at path:line", "❯ path:line:col", "path.go:12 +0x1d", "File \"path\", line 3"
_LOCATION = re.compile(r"""(?:File "(?P<py>[^"]+)", line \d+)|(?P<path>(?:[A-Za-z]:)?[^\s()'"❯]+?\.[A-Za-z]\w*):\d+""")
# "at fn (file:1:2)", vitest's "❯ file:1:2", and TAP's frames without "at": "fn (file:1:2)", "node:internal/x:1:2"
_JS_FRAME = re.compile(r"^\s*(?:at |❯ )|^\s+[^\s(][^()]* \(\S+:\d+:\d+\)$|^\s+(?:node:|file://)\S+:\d+:\d+$")
_JAVA_FRAME = re.compile(r"^\s*at (?P<cls>[\w$.<>/]+)\((?P<where>[^)]*)\)\s*$")
_GO_FRAME = re.compile(r"^\s+\S+\.go:\d+(?: \+0x[0-9a-f]+)?$")
_RUST_FRAME = re.compile(r"^\s+(?:\d+: \S|at \S+:\d+:\d+)")
_JVM_WHERE = re.compile(r"[\w$]+\.(?:java|kt|scala|groovy):\d+|Unknown Source|Native Method|[\w$]+\.(?:java|kt)")
_PY_FRAME = re.compile(r'^\s*File "[^"]+", line \d+')
_EXCERPT = re.compile(r"^\s*(?:\d+\s*\||\|)")  # jest's and vitest's source excerpts: "  3 | code", "    |   ^"
_OUTSIDE = (
    "node_modules",
    "node:",
    "internal/",
    "<anonymous>",
    "site-packages",
    "dist-packages",
    "/lib/python",
    "<frozen",
    "/rustc/",
    "/usr/",
    "/.cargo/registry",
    "/go/src/",
    "/pkg/mod/",
)
_JVM_OUTSIDE = (
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "org.junit.",
    "junit.",
    "org.opentest4j.",
    "org.apache.maven.",
    "org.gradle.",
    "worker.org.gradle.",
    "kotlin.",
    "kotlinx.",
    "org.testng.",
    "com.intellij.",
    "org.assertj.",
    "org.hamcrest.",
)


def relative(path: str, cwd: Path) -> str:
    """`path` relative to `cwd` when it lies inside it (reports often hold absolute paths), posix-style."""
    if path.startswith("file://"):
        path = path[len("file://") :]
    p = Path(path)
    if p.is_absolute():
        for base in (cwd, cwd.resolve()):
            try:
                return p.relative_to(base).as_posix()
            except ValueError:
                continue
        return path
    return p.as_posix().removeprefix("./")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _is_frame(line: str) -> bool:
    return bool(_JS_FRAME.match(line) or _GO_FRAME.match(line) or _RUST_FRAME.match(line) or _PY_FRAME.match(line))


def _frame_inside(line: str, cwd: Path | None) -> bool:
    java = _JAVA_FRAME.match(line)
    if java and _JVM_WHERE.fullmatch(java.group("where")):  # a JVM frame names a class, not a path
        return not java.group("cls").startswith(_JVM_OUTSIDE)
    m = _LOCATION.search(line)
    if not m:
        return False
    path = m.group("py") or m.group("path")
    if any(o in path for o in _OUTSIDE):
        return False
    return not Path(path).is_absolute() or cwd is None or relative(path, cwd) != path


def cut_trace(text: str, cwd: Path | None, limit: int = MAX_DETAIL_LINES) -> str:
    """A failure's text with only what a model needs: the message lines, and the stack frames (with
    their source lines) inside the repository; absolute paths into it become relative. Without
    `cwd`, an absolute path counts as inside unless it points into dependencies or the runtime."""
    kept: list[str] = []
    source: bool | None = None  # after a Python frame, its source lines: kept (True) or dropped (False) with it
    for raw in strip_ansi(text).splitlines():
        line = raw.rstrip()
        if source is not None and line.startswith("    ") and not _is_frame(line):
            if source:
                kept.append(line)
            continue
        source = None
        if _is_frame(line) or _JAVA_FRAME.match(line):
            inside = _frame_inside(line, cwd)
            if inside:
                kept.append(line)
            if _PY_FRAME.match(line):
                source = inside
            continue
        if _EXCERPT.match(line) and not line.lstrip().startswith(">"):
            continue
        if line.strip() or (kept and kept[-1].strip()):
            kept.append(line)
    text = "\n".join(kept).strip("\n")
    for base in {str(cwd.resolve()), str(cwd)} if cwd is not None else ():
        text = text.replace(base + "/", "")
    lines = text.splitlines()
    if len(lines) > limit:
        lines = [*lines[:limit], f"[... {len(lines) - limit} more lines ...]"]
    return "\n".join(lines)


_ERROR_LINE = re.compile(r"\b\w*(?:Error|Exception|Failure)\b|panicked|[Aa]ssert|expected|want\b|FAIL")


def summary_line(text: str) -> str:
    """One line saying how a test failed: its first message lines (from the first that names an
    error, when one of the first lines does), without frames or source excerpts."""
    lines = []
    for raw in strip_ansi(text).splitlines():
        line = raw.strip()
        if (
            not line
            or _is_frame(raw)
            or _JAVA_FRAME.match(raw)
            or _EXCERPT.match(raw)
            or line.startswith(("at ", "❯ ", "⎯", "^"))
        ):
            continue
        lines.append(line)
        if len(lines) == 12:
            break
    first = next((i for i, line in enumerate(lines) if _ERROR_LINE.search(line)), 0)
    return " / ".join(lines[first : first + 3])[:300]


def failure(
    text: str, cwd: Path, file: str | None = None, line: int | None = None, *, collection: bool = False
) -> CaseFailure:
    """How one test failed, with paths into the repository made relative (they then read the same in every checkout)."""
    for base in {str(cwd.resolve()), str(cwd)}:
        text = text.replace(base + "/", "")
    return CaseFailure(file, line, summary_line(text), collection, cut_trace(text, cwd))


# ------------------------------------------------------------------------------------ JUnit XML
def _xml_cases(path: Path) -> list[ET.Element] | None:
    try:
        return list(ET.parse(path).getroot().iter("testcase"))
    except (OSError, ET.ParseError):
        return None


def _case_status(case: ET.Element) -> tuple[str, ET.Element | None]:
    bad = case.find("failure")
    bad = bad if bad is not None else case.find("error")
    if bad is not None:
        return FAILED, bad
    return junit_status(case), None


def junit_case_id(case: ET.Element, style: str, cwd: Path) -> str:
    """The id of one <testcase>, by the conventions of the runner that wrote it.

    generic (Surefire, Gradle, pytest, anything from `validate.junit_xml`): `classname::name`.
    vitest: classname is the file and name is `suite > test`: `file::suite::test`.
    mocha: classname is the suites' titles and the file an attribute: `file::suites::test`.
    """
    classname, name = case.get("classname", ""), case.get("name", "")
    if style == "vitest":
        if name == classname:  # a test file that could not be loaded
            return f"{classname}::{LOAD_ERROR}"
        return "::".join([classname, *name.split(" > ")]) if classname else "::".join(name.split(" > "))
    if style == "mocha":
        parts = [relative(case.get("file", ""), cwd) if case.get("file") else "", classname, name]
        return "::".join(p for p in parts if p)
    return f"{classname}::{name}" if classname else name


def parse_junit_files(paths: list[Path], cwd: Path, style: str = "generic") -> Parsed | None:
    """Every <testcase> in the given JUnit XML files; None when none of them can be read."""
    cases: dict[str, str] = {}
    failures: dict[str, CaseFailure] = {}
    read = False
    for path in sorted(paths):
        found = _xml_cases(path)
        if found is None:
            continue
        read = True
        for case in found:
            test_id = junit_case_id(case, style, cwd)
            status, bad = _case_status(case)
            if cases.get(test_id) == FAILED:
                continue  # a retried or parameterised case: any failure counts
            cases[test_id] = status
            if bad is not None:
                message, body = (bad.get("message") or "").strip(), (bad.text or "").strip()
                text = (
                    body
                    if message.splitlines()[:1] and message.splitlines()[0] in body
                    else "\n".join(t for t in (message, body) if t)
                )
                file = case.get("file")
                failures[test_id] = failure(
                    text, cwd, relative(file, cwd) if file else None, collection=test_id.endswith(LOAD_ERROR)
                )
    return Parsed(cases, failures) if read else None


# ------------------------------------------------------------------------------------ jest --json
_JEST_STATUS = {
    "passed": PASSED,
    "failed": FAILED,
    "pending": SKIPPED,
    "skipped": SKIPPED,
    "todo": SKIPPED,
    "disabled": SKIPPED,
    "focused": PASSED,
}


def parse_jest(path: Path, cwd: Path) -> Parsed | None:
    """jest's `--json` report: one entry per test file, with its assertions (tests) inside."""
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("testResults"), list):
        return None
    cases: dict[str, str] = {}
    failures: dict[str, CaseFailure] = {}
    for suite in data["testResults"]:
        file = relative(str(suite.get("name") or suite.get("testFilePath") or ""), cwd)
        results = suite.get("assertionResults") or suite.get("testResults") or []
        if not results and suite.get("status") == "failed":  # the file did not load or threw outside a test
            test_id = f"{file}::{LOAD_ERROR}"
            cases[test_id] = FAILED
            failures[test_id] = failure(
                str(suite.get("message") or suite.get("failureMessage") or ""), cwd, file, collection=True
            )
            continue
        for t in results:
            test_id = "::".join([file, *(t.get("ancestorTitles") or []), str(t.get("title", ""))])
            status = _JEST_STATUS.get(str(t.get("status")), FAILED)
            cases[test_id] = status
            if status == FAILED:
                line = (t.get("location") or {}).get("line") if isinstance(t.get("location"), dict) else None
                failures[test_id] = failure("\n".join(t.get("failureMessages") or []), cwd, file, line)
    return Parsed(cases, failures)
