"""Reading the event streams test runners print: `go test -json` (test2json), the events of node's
test runner (as `adapters.NODE_REPORTER` writes them), and TAP (node's default output before node 20).

Like `reports`, every parser returns `Parsed` or None when the stream is not there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .reports import cut_trace, failure, relative, summary_line
from .testresults import BUILD_ERROR, FAILED, LOAD_ERROR, PASSED, SKIPPED, CaseFailure, Parsed

# ------------------------------------------------------------------------------------ go test -json
_GO_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_GO_TEST_FUNC = re.compile(r"^func (Test\w*|Example\w*|Fuzz\w*)\(", re.M)
_GO_NOISE = re.compile(r"^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP)|PASS$|FAIL$|ok\s|FAIL\s)")


def go_module(cwd: Path) -> str | None:
    try:
        m = _GO_MODULE.search((cwd / "go.mod").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return m.group(1) if m else None


def go_package_dir(package: str, module: str | None) -> str:
    """The folder of an import path inside the module (`example.com/m/calc` -> `calc`; the module itself -> `.`)."""
    if module and (package == module or package.startswith(module + "/")):
        return package[len(module) :].lstrip("/") or "."
    return package


def go_test_files(cwd: Path, pkg_dir: str) -> dict[str, str]:
    """Top-level test function -> the `_test.go` file (relative to `cwd`) that defines it."""
    folder = cwd / pkg_dir
    found: dict[str, str] = {}
    try:
        files = sorted(folder.glob("*_test.go"))
    except OSError:
        return found
    for f in files:
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for name in _GO_TEST_FUNC.findall(text):
            found.setdefault(name, f.relative_to(cwd).as_posix())
    return found


_GO_BUILD_FAILED = re.compile(r"^FAIL\t(\S+) \[(?:build|setup) failed\]\s*$")


def parse_go(output: str, cwd: Path) -> Parsed | None:
    """`go test -json`'s event stream: the last pass/fail/skip of each Test. The id is the test
    file that defines the top-level test, then the test's name: `calc/ops_test.go::TestAdd/neg`
    (`calc::TestAdd` when no file defines it). A package that failed without a failing test
    (it did not build, or TestMain failed) becomes `<package dir>::(build)`."""
    stream = _read_go_stream(output)
    if not stream.seen_event:
        return None
    module = go_module(cwd)
    files: dict[str, dict[str, str]] = {}  # package dir -> its test functions' files, read once
    cases: dict[str, str] = {}
    failures: dict[str, CaseFailure] = {}
    for (package, test), st in stream.status.items():
        tid = _go_test_id(package, test, module, cwd, files)
        cases[tid] = st
        if st == FAILED:
            text = "\n".join(line for line in stream.logs.get((package, test), []) if not _GO_NOISE.match(line))
            failures[tid] = failure(text, cwd, tid.split("::")[0] if tid.split("::")[0].endswith(".go") else None)
    for package, out in stream.package_failed.items():
        if _PACKAGE_FAILED not in out or any(p == package and s == FAILED for (p, _), s in stream.status.items()):
            continue
        tid = f"{go_package_dir(package, module)}::{BUILD_ERROR}"
        cases[tid] = FAILED
        failures[tid] = _build_failure(stream.plain, out, cwd)
    return Parsed(cases, failures)


_PACKAGE_FAILED = "\u0000failed"  # marks, among a package's output lines, that the package failed


@dataclass
class _GoStream:
    """What `go test -json` said: each test's last status and its output, each package's own output."""

    status: dict[tuple[str, str], str] = field(default_factory=dict)
    logs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    package_failed: dict[str, list[str]] = field(default_factory=dict)
    plain: list[str] = field(default_factory=list)  # compiler errors before Go 1.24 arrive as plain text on stderr
    seen_event: bool = False

    def take(self, e: dict[str, Any]) -> None:
        """One JSON event."""
        self.seen_event = True
        action, package, test = (
            e.get("Action"),
            e.get("Package") or e.get("ImportPath", "").split(" ")[0],
            e.get("Test"),
        )
        if action == "build-output":
            self.plain.append(str(e.get("Output", "")).rstrip("\n"))
        elif action == "output":
            if test:
                self.logs.setdefault((package, test), []).append(str(e.get("Output", "")).rstrip("\n"))
            else:
                self.package_failed.setdefault(package, []).append(str(e.get("Output", "")).rstrip("\n"))
        elif action in ("pass", "fail", "skip") and test:
            self.status[(package, test)] = {"pass": PASSED, "fail": FAILED, "skip": SKIPPED}[action]
        elif action == "fail" and not test:
            self.package_failed.setdefault(package, []).append(_PACKAGE_FAILED)


def _read_go_stream(output: str) -> _GoStream:
    stream = _GoStream()
    for line in output.splitlines():
        if not line.startswith("{"):
            built = _GO_BUILD_FAILED.match(line)
            if built:  # before Go 1.24, a package that does not compile has no event, only this line
                stream.package_failed.setdefault(built.group(1), []).append(_PACKAGE_FAILED)
                stream.seen_event = True
            elif line.strip():
                stream.plain.append(line)
            continue
        try:
            e = json.loads(line)
        except ValueError:
            stream.plain.append(line)
            continue
        if isinstance(e, dict):
            stream.take(e)
    return stream


def _go_test_id(package: str, test: str, module: str | None, cwd: Path, files: dict[str, dict[str, str]]) -> str:
    pkg_dir = go_package_dir(package, module)
    if pkg_dir not in files:
        files[pkg_dir] = go_test_files(cwd, pkg_dir) if pkg_dir != package or module is None else {}
    file = files[pkg_dir].get(test.split("/")[0])
    return f"{file or pkg_dir}::{test}"


def _build_failure(plain: list[str], package_output: list[str], cwd: Path) -> CaseFailure:
    """A package that failed with no failing test: the compiler's words (or TestMain's output)."""
    text = "\n".join([*plain, *(line for line in package_output if line != _PACKAGE_FAILED)])
    return CaseFailure(
        None,
        None,
        summary_line("\n".join(line for line in plain if not line.startswith("#")) or text),
        True,
        cut_trace(text, cwd),
    )


# ------------------------------------------------------------------------------------ node --test
def parse_node_events(path: Path, cwd: Path) -> Parsed | None:
    """The JSON lines `runners.NODE_REPORTER` writes: node's test events with their file and nesting.

    Events arrive per file in the order tests are defined: a test's `start` comes before its
    subtests', so a stack of names by nesting level gives each test its suites. Suites are not
    tests; a suite that fails with no failing test under it (a hook threw) is counted as one.
    A file that could not be loaded is reported as a test named after the file: `file::(load)`.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    stacks: dict[str, list[str]] = {}
    stderr: dict[str, list[str]] = {}
    cases: dict[str, str] = {}
    failures: dict[str, CaseFailure] = {}
    suites_failed: list[tuple[str, str, str]] = []
    for line in text.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not isinstance(e, dict):
            continue
        file = relative(str(e.get("file") or ""), cwd) if e.get("file") else ""
        if e.get("event") in ("stderr", "stdout"):
            stderr.setdefault(file, []).append(str(e.get("message", "")).rstrip("\n"))
            continue
        nesting, name = int(e.get("nesting") or 0), str(e.get("name", ""))
        stack = stacks.setdefault(file, [])
        if e.get("event") == "start":
            del stack[nesting:]
            stack.append(name)
            continue
        if e.get("event") not in ("pass", "fail"):
            continue
        if nesting == 0 and file and relative(name, cwd) == file:
            test_id = f"{file}::{LOAD_ERROR}"
        else:
            test_id = "::".join([file, *stack[:nesting], name] if file else [*stack[:nesting], name])
        error = str(e.get("error") or "")
        if e.get("suite"):
            if e.get("event") == "fail":
                suites_failed.append((test_id, file, error))
            continue
        status = SKIPPED if e.get("skip") or e.get("todo") else PASSED if e.get("event") == "pass" else FAILED
        cases[test_id] = status
        if status == FAILED:
            if test_id.endswith(LOAD_ERROR):
                error = "\n".join(stderr.get(file, [])) or error
            failures[test_id] = failure(error, cwd, file or None, collection=test_id.endswith(LOAD_ERROR))
    for test_id, file, error in suites_failed:
        if not any(t.startswith(test_id + "::") and s == FAILED for t, s in cases.items()):
            cases[test_id] = FAILED
            failures[test_id] = failure(error, cwd, file or None)
    return Parsed(cases, failures)


# ------------------------------------------------------------------------------------ TAP (node < 20)
_TAP_RESULT = re.compile(
    r"^(?P<indent>\s*)(?P<ok>not ok|ok) \d+(?: - (?P<name>.*?))?(?: # (?P<directive>SKIP|TODO)\b.*)?$", re.I
)


def parse_tap(output: str, cwd: Path) -> Parsed | None:
    """node's TAP output (its default before node 20 when stdout is not a terminal). Subtests are
    indented four spaces per level; a result whose name is a file path is that file's wrapper."""
    results: list[tuple[int, str, str, list[str]]] = []  # (level, name, status, yaml lines)
    yaml: list[str] | None = None
    for line in output.splitlines():
        stripped = line.strip()
        if yaml is not None:
            if stripped == "...":
                yaml = None
            else:
                yaml.append(stripped)
            continue
        if stripped == "---" and results:
            yaml = results[-1][3]
            continue
        m = _TAP_RESULT.match(line)
        if m:
            directive = (m.group("directive") or "").upper()
            status = SKIPPED if directive else (PASSED if m.group("ok").lower() == "ok" else FAILED)
            results.append((len(m.group("indent")) // 4, (m.group("name") or "").replace("\\#", "#"), status, []))
    if not results:
        return None
    # a result is reported after its subtests: walking backwards, a result's parents come before it
    cases: dict[str, str] = {}
    failures: dict[str, CaseFailure] = {}
    stack: list[str] = []
    for i in range(len(results) - 1, -1, -1):
        level, name, status, lines = results[i]
        del stack[level:]
        stack.append(name)
        has_subtests = i > 0 and results[i - 1][0] > level
        if has_subtests or "type: 'suite'" in lines or "type: suite" in lines:
            continue
        parts = [relative(p, cwd) if n == 0 and "/" in p else p for n, p in enumerate(stack)]
        if len(parts) == 1 and "/" in stack[0] and Path(stack[0]).suffix in (".js", ".mjs", ".cjs", ".ts"):
            parts.append(LOAD_ERROR)  # a file wrapper with no subtests: the file did not load
        test_id = "::".join(parts)
        cases[test_id] = status
        if status == FAILED:
            failures[test_id] = failure("\n".join(lines), cwd, collection=test_id.endswith(LOAD_ERROR))
    return Parsed(dict(reversed(list(cases.items()))), failures)
