"""Lint problems, one by one, from a linter's output: its JSON where the lint command asks for it,
else its text.

JSON is read when the command itself asks for it (tieragent adds no format flag to a lint
command: the command's exit code and checks stay exactly the user's): ruff
`--output-format json`, eslint `-f json`, golangci-lint `--out-format json` (v1) or
`--output.json.path stdout` (v2), and clippy's `--message-format json`. Text formats: the
`path:line[:col]: message` line most linters print (ruff, flake8, pylint, mypy, go vet, clippy's
short format, eslint's unix format, golangci-lint's default), and eslint's default "stylish"
format (a file's path, then `line:col  severity  message  rule` lines under it).

A problem is (path, line, message); the judge compares them without line numbers, which move
when code is added above. JSON output is turned into `path:line:col: code message` lines for
everything downstream (the feedback a model reads, the review's findings, the baseline).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

# path:line[:col][:] message  (ruff, flake8, pylint, mypy, eslint --format unix, go vet, ...)
_LINT_LINE = re.compile(r"^(?:\./)?(?P<path>[^\s:][^:]*?):(?P<line>\d+)(?::\d+)?:?\s+(?P<msg>.+)$")
_STYLISH_ROW = re.compile(
    r"^\s+(?P<line>\d+):(?P<col>\d+)\s+(?P<sev>error|warning)\s+(?P<msg>.+?)(?:\s{2,}(?P<rule>[\w@/-]+))?\s*$"
)
_STYLISH_FILE = re.compile(r"^(?:[A-Za-z]:)?[^\s:]+\.\w+$|^/\S.*$")

Problem = tuple[str, int, str]  # (path, line, message)


def _rel(path: str, root: Path | None) -> str:
    path = path.removeprefix("./")
    if root is not None and Path(path).is_absolute():
        for base in (root, root.resolve()):
            try:
                return Path(path).relative_to(base).as_posix()
            except ValueError:
                continue
    return path


def _ruff(items: list, root: Path | None) -> list[Problem] | None:
    if not all(isinstance(i, dict) and "filename" in i and "location" in i for i in items):
        return None
    out = []
    for i in items:
        loc = i.get("location") or {}
        msg = f"{i.get('code') or ''} {i.get('message', '')}".strip()
        out.append((_rel(str(i["filename"]), root), int(loc.get("row") or 0), msg))
    return out


def _eslint(items: list, root: Path | None) -> list[Problem] | None:
    if not all(isinstance(i, dict) and "filePath" in i and isinstance(i.get("messages"), list) for i in items):
        return None
    out = []
    for f in items:
        for m in f["messages"]:
            msg = f"{m.get('ruleId') or ''} {m.get('message', '')}".strip()
            out.append((_rel(str(f["filePath"]), root), int(m.get("line") or 0), msg))
    return out


def _golangci(data: dict, root: Path | None) -> list[Problem] | None:
    if "Issues" not in data:
        return None
    out = []
    for i in data.get("Issues") or []:
        pos = i.get("Pos") or {}
        msg = f"{i.get('Text', '')} ({i.get('FromLinter', '')})" if i.get("FromLinter") else str(i.get("Text", ""))
        out.append((_rel(str(pos.get("Filename", "")), root), int(pos.get("Line") or 0), msg))
    return out


def _clippy_line(data: dict, root: Path | None) -> Problem | None:
    """One `compiler-message` of cargo's JSON messages, at its primary span; None for the rest."""
    if data.get("reason") != "compiler-message":
        return None
    m = data.get("message") or {}
    if m.get("level") not in ("warning", "error"):
        return None
    spans = [s for s in m.get("spans") or [] if s.get("is_primary")]
    if not spans:
        return None  # "aborting due to ...", "N warnings emitted": about the run, not a place
    code = (m.get("code") or {}).get("code") or ""
    return (
        _rel(str(spans[0].get("file_name", "")), root),
        int(spans[0].get("line_start") or 0),
        f"{code} {m.get('message', '')}".strip(),
    )


def json_problems(output: str, root: Path | None = None) -> list[Problem] | None:
    """The problems in a linter's JSON output, or None when the output holds none of the JSON forms above."""
    decoder = json.JSONDecoder()
    lines = output.splitlines()
    clippy, ruff_lines, found_jsonl = [], [], False
    for line in lines:
        s = line.strip()
        if s.startswith(('{"reason"', '{"$message_type"')):
            try:
                data = json.loads(s)
            except ValueError:
                continue
            found_jsonl = True
            p = _clippy_line(data, root)
            if p:
                clippy.append(p)
        elif s.startswith("{") and '"filename"' in s and '"location"' in s:  # ruff's json-lines
            try:
                ruff_lines.append(json.loads(s))
            except ValueError:
                continue
    if found_jsonl:
        return clippy
    if ruff_lines:
        return _ruff(ruff_lines, root)
    offset = 0
    for line in lines:
        s = line.lstrip()
        if s.startswith(("[", "{")):
            try:
                data, _ = decoder.raw_decode(output, offset + len(line) - len(s))
            except ValueError:
                offset += len(line) + 1
                continue
            if isinstance(data, list):
                found = _ruff(data, root) if data else []
                if found is None:
                    found = _eslint(data, root)
                if found is not None:
                    return found
            elif isinstance(data, dict):
                found = _golangci(data, root)
                if found is not None:
                    return found
        offset += len(line) + 1
    return None


def text_problems(output: str, root: Path | None = None) -> list[Problem]:
    """`path:line: message` lines, and eslint's stylish blocks (a file's path, then its problems)."""
    found: list[Problem] = []
    stylish_file: str | None = None
    for raw in output.splitlines():
        line = raw.strip()
        row = _STYLISH_ROW.match(raw) if stylish_file else None
        if row:
            msg = f"{row.group('rule') or ''} {row.group('msg')}".strip()
            found.append((stylish_file or "", int(row.group("line")), msg))
            continue
        m = _LINT_LINE.match(line)
        if m:
            found.append((_rel(m.group("path"), root), int(m.group("line")), m.group("msg").strip()))
            stylish_file = None
        elif raw and not raw[0].isspace() and _STYLISH_FILE.match(line):
            stylish_file = _rel(line, root)
        elif not line:
            continue
        elif not raw[0].isspace():
            stylish_file = None
    return found


def lint_locations(output: str, root: Path | None = None) -> list[Problem]:
    """(path, line, message) of every problem in a linter's output, in the order printed."""
    found = json_problems(output, root)
    return found if found is not None else text_problems(output, root)


def lint_problems(output: str, paths: set[str], root: Path | None = None) -> Counter:
    """Problems reported for `paths`, without line numbers (they move when code is added above)."""
    return Counter((p, m) for p, _, m in lint_locations(output, root) if p in paths)


def readable(output: str, root: Path | None = None) -> str:
    """The output as a model and the review's findings read it: JSON problems as `path:line: message` lines."""
    found = json_problems(output, root)
    if found is None:
        return output
    return "\n".join(f"{p}:{n}: {m}" for p, n, m in found) or "(no problems reported)"
