"""Cut test and lint output down to what a model needs to fix the failure.

Kept: the failing tests' names, assertion and error messages, and the frames inside the
repository. Dropped: passing-test noise, frames in site-packages, node_modules or the standard
library, progress dots, and warnings summaries. Where the runner's report said how each test
failed (jest, vitest, mocha, node, go, cargo, JUnit XML), the validation hands those failures
over already cut (`render_failures`); otherwise the output is cut by the format it is in
(pytest, cargo, go, jest, node's spec and TAP), and anything else keeps its tail. Output that is
still long afterwards is summarized by the small tier (the pipeline's `summarize` step).
"""

from __future__ import annotations

import json
import re

from ..core.tokens import estimate_tokens
from .reports import cut_trace, strip_ansi

SUMMARIZE_OVER_TOKENS = 1500
MAX_CHARS = 12_000

_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
_SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) ")
_FRAME = re.compile(r"^(?P<path>[^\s:][^:]*\.\w+):(?P<line>\d+):")
_OUTSIDE = ("site-packages", "dist-packages", "/lib/python", "<frozen", "<string>")


def _inside_repo(path: str) -> bool:
    return not path.startswith("/") and not any(o in path for o in _OUTSIDE)


def _looks_like_pytest(output: str) -> bool:
    return "short test summary info" in output or bool(re.search(r"^={3,} (FAILURES|ERRORS) ={3,}$", output, re.M))


def condense_pytest(output: str) -> str:
    lines = output.splitlines()
    kept: list[str] = []
    in_failures = False
    section_source: list[str] = []
    for line in lines:
        if re.match(r"^={3,} (FAILURES|ERRORS) ={3,}$", line):
            in_failures = True
            continue
        if re.match(r"^={3,} (warnings summary|short test summary info)", line):
            in_failures = False
        if not in_failures:
            if _SUMMARY_LINE.match(line):
                kept.append(line)
            continue
        m = _SECTION.match(line)
        if m:
            kept.append(f"--- {m.group(1)}")
            section_source = []
            continue
        if line.startswith(">"):
            section_source = [line]
        elif line.startswith("E ") or line == "E":
            kept.extend(section_source)
            section_source = []
            kept.append(line)
        else:
            f = _FRAME.match(line)
            if f and _inside_repo(f.group("path")):
                kept.append(line)
    return "\n".join(_dedupe(kept))


def _dedupe(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if not out or out[-1] != line:
            out.append(line)
    return out


REPORT_HEADER = "Failing tests, as the test runner's report tells it:"


def render_failures(details: dict[str, str], output: str) -> str:
    """The failing tests and how each failed (message and in-repo frames, from the runner's report),
    then the output's last lines (a summary, or errors outside any test)."""
    blocks = [f"--- {test}\n{text}" for test, text in details.items()]
    # node's spec repeats the failures after its summary
    text = strip_ansi(_events_text(output)).split("✖ failing tests:", 1)[0]
    last = cut_trace("\n".join(text.rstrip().splitlines()[-30:]), None).splitlines()
    tail = [line for line in last if line.strip()][-8:]
    return "\n\n".join([REPORT_HEADER, *blocks]) + ("\n\nLast lines of the output:\n" + "\n".join(tail) if tail else "")


def _events_text(output: str) -> str:
    """`go test -json` output as the text go would have printed (the Output of each event)."""
    if not output.lstrip().startswith('{"'):
        return output
    out = []
    for line in output.splitlines():
        try:
            e = json.loads(line)
            out.append(str(e.get("Output", "")).rstrip("\n") if isinstance(e, dict) and "Output" in e else None)
        except ValueError:
            out.append(line)
    return "\n".join(line for line in out if line is not None)


_CARGO_BLOCK = re.compile(r"^---- .+ std(out|err) ----$")
_CARGO_KEEP = re.compile(r"^(test result:|error(\[E\d+\])?:|\s+--> |failures:|    \S+$)")


def condense_cargo(output: str) -> str:
    """cargo test: each failing test's captured output (panic message, in-repo frames), compiler errors, the results."""
    kept: list[str] = []
    block: list[str] | None = None
    error = False
    for line in output.splitlines():
        if _CARGO_BLOCK.match(line):
            block = [line]
            kept.append(line)
            continue
        if block is not None:
            if line.strip() == "failures:" or line.startswith("test result:"):
                kept.extend(cut_trace("\n".join(block[1:]), None).splitlines())
                block = None
            else:
                block.append(line)
                continue
        if re.match(r"^error(\[E\d+\])?:", line):
            error = True
        elif not line.strip() or line.startswith(("warning", "   Compiling", "    Finished", "     Running")):
            error = False
        if error or _CARGO_KEEP.match(line) or re.match(r"^test .+ \.\.\. FAILED$", line):
            kept.append(line)
    if block is not None:
        kept.extend(cut_trace("\n".join(block[1:]), None).splitlines())
    return "\n".join(_dedupe(kept))


def condense_go(output: str) -> str:
    """go test: the `--- FAIL` lines with the log lines under them, panics with in-repo frames, build errors."""
    kept: list[str] = []
    for line in _events_text(output).splitlines():
        stripped = line.strip()
        if re.match(r"^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|SKIP)|ok\s|PASS$|\?\s)", line) or not stripped:
            continue
        if re.match(r"^\s+\S+\.go:\d+( \+0x[0-9a-f]+)?$", line) or re.match(r"^\S+\(.*\)$", stripped):
            if re.match(r"^\s+\S+\.go:\d+", line) and not any(o in line for o in ("/go/src/", "/pkg/mod/", "/usr/")):
                kept.append(line)
            continue
        kept.append(line)
    return "\n".join(_dedupe(kept))


def condense_jest(output: str) -> str:
    """jest's text: the `●` block of each failing test, without source excerpts or frames in node_modules."""
    kept: list[str] = []
    block: list[str] | None = None
    for line in strip_ansi(output).splitlines():
        if re.match(r"^\s+● ", line):
            if block:
                kept.extend(cut_trace("\n".join(block), None).splitlines())
            block = [line]
            continue
        if block is not None and re.match(r"^(Tests?:|Test Suites:|Snapshots:|Time:|PASS |FAIL )", line):
            kept.extend(cut_trace("\n".join(block), None).splitlines())
            block = None
        if block is not None:
            block.append(line)
        elif re.match(r"^(FAIL |Tests:|Test Suites:)", line):
            kept.append(line)
    if block:
        kept.extend(cut_trace("\n".join(block), None).splitlines())
    return "\n".join(_dedupe(kept))


def condense_node(output: str) -> str:
    """node --test: the "failing tests" part of the spec reporter, or the `not ok` results of TAP,
    with in-repo frames."""
    text = strip_ansi(output)
    if "✖ failing tests:" in text:
        return cut_trace(text.split("✖ failing tests:", 1)[1], None, limit=400)
    kept: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*not ok \d+", line) and "# TODO" not in line and "# SKIP" not in line:
            block = [line]
            for follow in lines[i + 1 :]:
                if re.match(r"^\s*(not ok|ok) \d+|^\s*# |^\s*\d+\.\.\d+", follow):
                    break
                block.append(follow)
            kept.extend(cut_trace("\n".join(block), None).splitlines())
        elif re.match(r"^# (tests|pass|fail) \d+", line):
            kept.append(line)
    return "\n".join(_dedupe(kept))


def _format(output: str) -> str | None:
    if output.startswith(REPORT_HEADER):
        return "report"
    if _looks_like_pytest(output):
        return "pytest"
    if re.search(r"^test result: |^---- .+ stdout ----$|^error: could not compile", output, re.M):
        return "cargo"
    if re.search(r"^\s*--- FAIL: |^FAIL\t\S+|\[build failed\]", output, re.M) or output.lstrip().startswith('{"Time"'):
        return "go"
    if re.search(r"^\s+● ", output, re.M):
        return "jest"
    if "✖ failing tests:" in output or re.search(r"^\s*not ok \d+", output, re.M):
        return "node"
    return None


_CONDENSERS = {
    "pytest": condense_pytest,
    "cargo": condense_cargo,
    "go": condense_go,
    "jest": condense_jest,
    "node": condense_node,
    "report": lambda text: text,
}


def condense(output: str) -> str:
    """The parts of a failed run's output worth sending to a model."""
    fmt = _format(output)
    text = _CONDENSERS[fmt](output) if fmt else ""
    if not text.strip():
        lines = [line for line in output.rstrip().splitlines() if line.strip()]
        text = "\n".join(lines[-150:])
        if len(lines) > 150:
            text = "[... earlier output cut ...]\n" + text
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS // 2] + "\n[... cut ...]\n" + text[-MAX_CHARS // 2 :]
    return text


def needs_summary(text: str) -> bool:
    return estimate_tokens(text) > SUMMARIZE_OVER_TOKENS


def validation_feedback(reason: str, diff: str, output: str) -> str:
    """What the next attempt is told when a patch applied but did not validate."""
    return (
        f"Your patch applied, but {reason}. It has been undone; the files above are unchanged.\n"
        f"Your patch was:\n```diff\n{diff}```\nWhat failed:\n```\n{output}\n```\n"
        "Send a corrected patch against the files as shown above."
    )
