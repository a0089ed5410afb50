"""Setting `routing.start` in a `.tieragent.yaml`, the rest of the file kept as the user wrote it.

The key is edited in the text (its old lines replaced, or new lines added under `routing:`), so the
file's comments and layout survive. The edit counts only if the result reads back as the old file with
just that key changed; a file the line edit cannot handle that way (e.g. `routing` in flow style) is
rewritten with PyYAML instead, which drops its comments, and the caller says so.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from ..core.vocab import TASK_CLASSES

TOP_ROUTING = re.compile(r"^routing\s*:\s*(#.*)?$")
INNER = "  "  # the indentation of the new mapping's entries below `start:`


def new_start(current: Any, measured: dict[str, str]) -> dict[str, str]:
    """The measured classes over the file's own `routing.start`; with `start: auto` in the file, the classes
    the bench did not measure stay auto."""
    if current == "auto":
        return {**dict.fromkeys(TASK_CLASSES, "auto"), **measured}
    base = {str(k): str(v) for k, v in current.items()} if isinstance(current, dict) else {}
    return {**base, **measured}


def set_routing_start(text: str, start: dict[str, str], note: str = "") -> tuple[str, bool]:
    """The file's text with `routing.start` set to `start`; True when the line edit kept the rest of the
    text as it was, False when the file had to be rewritten with PyYAML. `note`: a comment put above the
    entries. Raises ValueError when the file is not a YAML mapping."""
    data = yaml.safe_load(text) if text.strip() else {}
    if data is None:
        data = {}
    if not isinstance(data, dict) or not isinstance(data.get("routing", {}) or {}, dict):
        raise ValueError("the file is not a mapping with a routing mapping")
    expected = copy.deepcopy(data)
    expected["routing"] = {**(expected.get("routing") or {}), "start": dict(start)}
    edited = line_edit(text, start, note)
    if edited is not None:
        try:
            if yaml.safe_load(edited) == expected:
                return edited, True
        except yaml.YAMLError:
            pass
    header = f"# {note}\n" if note else ""
    return header + yaml.safe_dump(expected, sort_keys=False), False


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    """A line that holds a key or a value (not blank, not only a comment)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _block(lines: list[str], start: int, deeper_than: int) -> int:
    """The end (exclusive) of the block after line `start` whose content lines are indented more than
    `deeper_than`; blank and comment lines belong to it only when content follows inside it."""
    end, i = start + 1, start + 1
    while i < len(lines):
        if _content(lines[i]):
            if _indent(lines[i]) <= deeper_than:
                break
            end = i + 1
        i += 1
    return end


def line_edit(text: str, start: dict[str, str], note: str = "") -> str | None:
    """`routing.start` replaced (or added) in the text; None when the file's shape is not one it handles."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    top = next((i for i, line in enumerate(lines) if TOP_ROUTING.match(line.rstrip("\n"))), None)
    if top is None:
        if any(line.startswith("routing") for line in lines):
            return None  # routing: {...} in flow style
        return "".join(lines) + "routing:\n" + _entries("  ", start, note)
    end = _block(lines, top, 0)
    children = [i for i in range(top + 1, end) if _content(lines[i])]
    indent = " " * (_indent(lines[children[0]]) if children else 2)
    key = re.compile(rf"^{indent}start\s*:")
    at = next((i for i in children if key.match(lines[i])), None)
    if at is None:
        return "".join(lines[: top + 1]) + _entries(indent, start, note) + "".join(lines[top + 1 :])
    # its value: on the line, or on the deeper lines after it (a flow mapping may go on there)
    stop = _block(lines, at, len(indent))
    return "".join(lines[:at]) + _entries(indent, start, note) + "".join(lines[stop:])


def _entries(indent: str, start: dict[str, str], note: str) -> str:
    out = f"{indent}start:\n"
    if note:
        out += f"{indent}{INNER}# {note}\n"
    return out + "".join(f"{indent}{INNER}{k}: {v}\n" for k, v in start.items())
