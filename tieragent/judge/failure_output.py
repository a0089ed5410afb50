"""Cut test and lint output down to what a model needs to fix the failure.

Kept: the failing tests' names, assertion and error messages, and the frames inside the
repository. Dropped: passing-test noise, frames in site-packages or the standard library,
progress dots, and warnings summaries. Output that is still long afterwards is summarized by
the small tier (the pipeline's `summarize` step).
"""

from __future__ import annotations

import re

from ..core.tokens import estimate_tokens

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


def condense(output: str) -> str:
    """The parts of a failed run's output worth sending to a model."""
    text = condense_pytest(output) if _looks_like_pytest(output) else ""
    if not text.strip():
        lines = [l for l in output.rstrip().splitlines() if l.strip()]
        text = "\n".join(lines[-150:])
        if len(lines) > 150:
            text = "[... earlier output cut ...]\n" + text
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS // 2] + "\n[... cut ...]\n" + text[-MAX_CHARS // 2 :]
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
