"""One adapter per test runner: the reporter flags (or environment) that make it write per-test
results, the arguments that run one test file, and the parser that reads the results back.

`runners.detect_runner` picks the adapter for a command; `runners.run_test_command` uses it.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import reports, streams, textreports
from .testresults import Parsed, parse_junit, parse_junit_failures, with_junit

# node's test runner calls this module with its event stream (test:start/pass/fail with file and
# nesting; the stderr of a file that failed to load); it writes one JSON object per line.
NODE_REPORTER = """\
export default async function* tieragentReporter(source) {
  for await (const event of source) {
    const d = event.data || {};
    if (event.type === 'test:start' || event.type === 'test:pass' || event.type === 'test:fail') {
      const e = d.details && d.details.error;
      const cause = e && e.cause ? e.cause : e;
      yield JSON.stringify({
        event: event.type.slice(5), name: d.name, nesting: d.nesting, file: d.file,
        skip: d.skip !== undefined && d.skip !== false, todo: d.todo !== undefined && d.todo !== false,
        suite: !!(d.details && d.details.type === 'suite'),
        error: cause ? String(cause.stack || cause.message || cause) : undefined,
      }) + '\\n';
    } else if (event.type === 'test:stderr') {
      yield JSON.stringify({ event: 'stderr', file: d.file, message: d.message }) + '\\n';
    }
  }
}
"""
_SEGMENT_SPLIT = re.compile(r"&&|\|\||[;|\n]")
Only = str | Sequence[str] | None  # the test files a run is limited to (one path, several, or None: every test)


def only_paths(only: Only) -> tuple[str, ...]:
    """The test files of `only` as a tuple (empty: the whole suite)."""
    if only is None:
        return ()
    return (only,) if isinstance(only, str) else tuple(only)


def last_segment_start(command: str) -> int:
    """Where the last simple command of a shell line starts (after the last unquoted `&&`, `||`, `;`, `|`)."""
    start, quote, i = 0, "", 0
    while i < len(command):
        c = command[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif _SEGMENT_SPLIT.match(command, i):
            m = _SEGMENT_SPLIT.match(command, i)
            assert m is not None
            start = i = m.end()
            continue
        i += 1
    return start


def words_of(command: str) -> list[str]:
    """The words of a simple command, without leading `VAR=value` assignments ([] when it does not parse)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):  # FOO=bar cmd
        words = words[1:]
    return words


def _insert_after(command: str, pattern: str, text: str) -> str:
    """`text` inserted after the first match of `pattern` in the command's last segment."""
    at = last_segment_start(command)
    head, last = command[:at], command[at:]

    def with_text(m: re.Match[str]) -> str:
        return m.group(0) + " " + text

    return head + re.sub(pattern, with_text, last, count=1)


@dataclass(frozen=True)
class Adapter:
    """How one runner is asked for per-test results and how they are read back.

    `args` are the reporter flags (appended to the command, or passed after `--` by a script
    runner), `env` the variables that do the same where flags cannot (node's reporters, given
    through NODE_OPTIONS, reach a `node --test` wherever it sits in a script), `watch` a glob of
    reports the runner writes by itself (read only when this run wrote them).
    """

    name: str
    per_test: bool = True
    why: str = ""  # when not per_test: why, and what to configure instead

    def args(self, report: Path | None) -> list[str]:
        return []

    def env(self, report: Path | None) -> dict[str, str]:
        return {}

    @property
    def watch(self) -> str | None:
        return None

    def only_args(self, paths: Only, cwd: Path) -> list[str]:
        """The arguments that run just the test files `paths` (the --repro test, a candidate's targeted tests)."""
        return list(only_paths(paths))

    def targets_files(self, command: str, cwd: Path) -> bool:
        """Whether `only` really limits this command to the files named (staged validation's first stage):
        not for runners that take no file arguments, nor for commands that already name what they run."""
        return False

    def command(self, command: str, report: Path | None, only: Only, cwd: Path) -> str:
        extra = self.args(report) + (self.only_args(only, cwd) if only else [])
        return _with_env(self.env(report), command + "".join(" " + shlex.quote(a) for a in extra))

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return None

    def owns(self, test_id: str, path: str, cwd: Path) -> bool:
        """Whether `test_id` is a test of the file `path` (a run of one file may run others too)."""
        return test_id.startswith(f"{path}::")


def _with_env(env: dict[str, str], command: str) -> str:
    """`command` with variables exported first (an `X=1 cmd` prefix would reach only the first command of `a && b`)."""
    if not env:
        return command
    sets = "".join(f'{k}="${{{k}:+${k} }}"{shlex.quote(v)}; export {k}; ' for k, v in env.items())
    return sets + command


@dataclass(frozen=True)
class Pytest(Adapter):
    """`--junitxml` (and `--maxfail`, which undoes a `-x`: every test's result is needed, see `with_junit`)."""

    family: str = "xunit2"
    review: bool = False  # review --run-tests: one module that no longer imports must not hide the others

    def command(self, command: str, report: Path | None, only: Only, cwd: Path) -> str:
        command = command + "".join(f" {shlex.quote(p)}" for p in only_paths(only))
        if report is None:
            return command
        return with_junit(
            command + (" --continue-on-collection-errors" if self.review else ""), report, family=self.family
        )

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        cases = parse_junit(report)
        return Parsed(cases, parse_junit_failures(report)) if cases is not None else None

    def targets_files(self, command: str, cwd: Path) -> bool:
        return not names_paths(command, cwd)

    def owns(self, test_id: str, path: str, cwd: Path) -> bool:
        module = path.removesuffix(".py").replace("/", ".")
        return test_id.startswith((f"{module}::", f"{module}.")) or f".{module}::" in test_id


@dataclass(frozen=True)
class Unittest(Adapter):
    """unittest has no machine-readable output: `-v` makes it print one line per test, which is read."""

    def args(self, report: Path | None) -> list[str]:
        return ["-v"] if report is not None else []

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return textreports.parse_unittest(output, cwd)


@dataclass(frozen=True)
class NodeTest(Adapter):
    """node's reporters: spec on stdout for people and models, and `NODE_REPORTER` into the report.

    Not node's junit reporter: it names no file (every testcase has classname="test"), so two
    files with a test of the same name would be one test, and ids could not read `file::suite::name`.
    """

    major: int | None = None  # node's major version; None when unknown (taken as current)

    def env(self, report: Path | None) -> dict[str, str]:
        if report is None or (self.major is not None and self.major < 20):
            return {}  # before node 20: its default TAP on stdout is read instead
        module = report.with_suffix(".reporter.mjs")
        module.write_text(NODE_REPORTER)
        return {
            "NODE_OPTIONS": f'--test-reporter=spec --test-reporter-destination=stdout --test-reporter="{module}" '
            f'--test-reporter-destination="{report}"'
        }

    def targets_files(self, command: str, cwd: Path) -> bool:
        return not names_paths(command, cwd)

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        report.with_suffix(".reporter.mjs").unlink(missing_ok=True)
        if self.major is not None and self.major < 20:
            return streams.parse_tap(output, cwd)
        return streams.parse_node_events(report, cwd) if report.is_file() else None


@dataclass(frozen=True)
class Jest(Adapter):
    """`--json --outputFile`: jest's own report, one entry per test file (its human output stays on stderr)."""

    def args(self, report: Path | None) -> list[str]:
        return ["--json", f"--outputFile={report}"] if report is not None else []

    def targets_files(self, command: str, cwd: Path) -> bool:
        return not names_paths(command, cwd)

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return reports.parse_jest(report, cwd)


@dataclass(frozen=True)
class Vitest(Adapter):
    """Its junit reporter into a file, and the default reporter kept for the output."""

    def args(self, report: Path | None) -> list[str]:
        return ["--reporter=default", "--reporter=junit", f"--outputFile.junit={report}"] if report is not None else []

    def targets_files(self, command: str, cwd: Path) -> bool:
        return not names_paths(command, cwd)

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return reports.parse_junit_files([report], cwd, "vitest") if report.is_file() else None


@dataclass(frozen=True)
class Mocha(Adapter):
    """The xunit reporter (mocha runs one reporter at a time, so its output then holds no failures: the report does)."""

    def args(self, report: Path | None) -> list[str]:
        return ["--reporter", "xunit", "--reporter-options", f"output={report}"] if report is not None else []

    def targets_files(self, command: str, cwd: Path) -> bool:
        return not names_paths(command, cwd)

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return reports.parse_junit_files([report], cwd, "mocha") if report.is_file() else None


GO_TEST = r"\bgo\s+test\b"


@dataclass(frozen=True)
class GoTest(Adapter):
    """`-json`: test2json's event stream on stdout, one event per line (compiler errors still arrive as text)."""

    def command(self, command: str, report: Path | None, only: Only, cwd: Path) -> str:
        if only:
            command = self._only(command, only_paths(only), cwd)
        if report is None or re.search(r"(^|\s)-json\b", command):
            return command
        return _insert_after(command, GO_TEST, "-json")

    def targets_files(self, command: str, cwd: Path) -> bool:
        return "-run" not in words_of(command[last_segment_start(command) :])

    @staticmethod
    def _only(command: str, paths: tuple[str, ...], cwd: Path) -> str:
        """The go test command for the packages of `paths`, running only the tests those files define."""
        at = last_segment_start(command)
        words = shlex.split(command[at:])
        kept = [w for w in words if not (w.startswith("./") or w == "..." or w.endswith("/...") or w == ".")]
        folders = dict.fromkeys(Path(p).parent.as_posix() for p in paths)
        names = sorted({n for p in paths for n in re.findall(r"^func (Test\w*)\(", read_text(cwd / p), re.M)})
        kept += ["./" + folder if folder != "." else "." for folder in folders]
        if names:
            kept += ["-run", f"^({'|'.join(names)})$"]
        return command[:at] + shlex.join(kept)

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return streams.parse_go(output, cwd)


@dataclass(frozen=True)
class CargoTest(Adapter):
    """libtest's stable text (its JSON output is unstable); `--no-fail-fast` runs every test binary
    even when one fails."""

    def command(self, command: str, report: Path | None, only: Only, cwd: Path) -> str:
        if report is not None:
            at = last_segment_start(command)
            head, last = command[:at], command[at:]
            before, sep, after = last.partition(" -- ")
            before = re.sub(r"\s(-q|--quiet)(?=\s|$)", "", before)  # -q hides the lines the results are read from
            command = head + before + sep + after
            if "--no-fail-fast" not in command:
                command = _insert_after(command, r"\bcargo(\s+\+\S+)?\s+test\b", "--no-fail-fast")
        if only:
            tests = " ".join(f"--test {shlex.quote(Path(p).stem)}" for p in only_paths(only))
            command = _insert_after(command, r"\bcargo(\s+\+\S+)?\s+test\b", tests)
        return command

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return textreports.parse_cargo(output, cwd)


@dataclass(frozen=True)
class JUnitFiles(Adapter):
    """Runners that write JUnit XML by themselves (Maven Surefire, Gradle, `validate.junit_xml`)."""

    glob: str = ""

    @property
    def watch(self) -> str | None:
        return self.glob

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return reports.parse_junit_files(fresh, cwd) if fresh else None


@dataclass(frozen=True)
class Script(Adapter):
    """`npm test` and its kin: the runner is the one `scripts.test` runs; its flags go after `--`
    for npm (pnpm and yarn pass extra arguments through as they are)."""

    manager: str = "npm"
    inner: Adapter = Adapter("exit code", per_test=False)

    def command(self, command: str, report: Path | None, only: Only, cwd: Path) -> str:
        extra = self.inner.args(report) + (self.inner.only_args(only, cwd) if only else [])
        if extra:
            dashes = " --" if self.manager == "npm" and " -- " not in f"{command} " else ""
            command = command + dashes + "".join(" " + shlex.quote(a) for a in extra)
        return _with_env(self.inner.env(report), command)

    def parse(self, output: str, report: Path, fresh: list[Path], cwd: Path) -> Parsed | None:
        return self.inner.parse(output, report, fresh, cwd)

    def owns(self, test_id: str, path: str, cwd: Path) -> bool:
        return self.inner.owns(test_id, path, cwd)

    def targets_files(self, command: str, cwd: Path) -> bool:
        try:
            script = json.loads(read_text(cwd / "package.json"))["scripts"]["test"]
        except (ValueError, KeyError, TypeError):
            return False
        return isinstance(script, str) and self.inner.targets_files(script[last_segment_start(script) :], cwd)


def names_paths(command: str, cwd: Path) -> bool:
    """Whether the command's last segment names a file or folder of the repository (`pytest tests/unit`):
    files added to it would run besides those, not instead of them."""
    words = words_of(command[last_segment_start(command) :])
    return any(not w.startswith("-") and (cwd / w).exists() for w in words[1:])


def read_text(p: Path) -> str:
    """The file's text, or "" when it cannot be read."""
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


@lru_cache(maxsize=4)
def node_major(node: str | None = None) -> int | None:
    """The major version of the `node` on PATH (None when there is none, or it does not say)."""
    node = node or shutil.which("node")
    if not node:
        return None
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"v(\d+)\.", out.strip())
    return int(m.group(1)) if m else None
