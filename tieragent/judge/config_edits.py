"""Whether an edit to a file that holds more than test settings touches its test settings.

pyproject.toml, package.json, go.mod and Cargo.toml configure builds, dependencies and metadata
that a patch may well need to change; only their parts that decide how the tests (or linters)
run are guarded (see `tamper`). Each check compares the parsed old and new file, so an edit
counts whatever its layout (a TOML dotted key, an inline table, a reordered JSON object). A file
that cannot be parsed is compared line by line under its section headers instead, and where
that cannot tell either, the edit counts.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from collections.abc import Callable
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the line-by-line comparison stands in
    tomllib = None

# pyproject.toml's tables that configure tests or linters; other edits to pyproject are not tampering
PYPROJECT_TOOLS = ("pytest", "coverage", "ruff", "mypy", "pylint", "flake8", "black", "isort", "pyright")
PYPROJECT_GUARDED = re.compile(r"^\[tool\.(pytest|coverage|ruff|mypy|pylint|flake8|black|isort|pyright)\b")
# Cargo.toml: the test targets, the profiles tests build with, lints, and the switches that turn tests off
CARGO_GUARDED = re.compile(r"^\[\[?(test|bench|profile\.(test|dev|bench)|lints|workspace\.lints)\b")
CARGO_TARGET_KEYS = ("test", "harness", "doctest")
_CARGO_KEY = re.compile(r"^\s*(test|harness|doctest|autotests|autobenches)\s*=")
PACKAGE_KEYS = ("jest", "mocha", "ava", "c8", "nyc")  # runners and coverage tools configured inside package.json
GO_DIRECTIVES = (
    "go",
    "toolchain",
    "godebug",
    "replace",
)  # `require` and `exclude` pick dependencies, not how tests build


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _toml(data: bytes | None) -> dict[str, Any] | None:
    """The parsed TOML ({} for a file that is absent on this side), or None when it cannot be read."""
    if data is None:
        return {}
    if tomllib is None:
        return None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _touched_lines(old: str, new: str) -> list[tuple[str, str]]:
    """(section header, line) of every line that differs between two versions of a TOML file."""

    def section_at(lines: list[str], index: int) -> str:
        for i in range(min(index, len(lines) - 1), -1, -1):
            if lines[i].lstrip().startswith("["):
                return lines[i].strip()
        return ""

    a, b = old.splitlines(), new.splitlines()
    touched: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        touched += [(section_at(a, i), a[i] if i < len(a) else "") for i in range(i1, max(i2, i1 + 1))]
        touched += [(section_at(b, j), b[j] if j < len(b) else "") for j in range(j1, max(j2, j1 + 1))]
    return touched


def _changed(view: Callable[[dict[str, Any]], dict[str, Any]], a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    va, vb = view(a), view(b)
    return [k for k in va if va[k] != vb[k]]


def _table(d: Any, *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _pyproject_view(d: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for name in PYPROJECT_TOOLS:
        table = _table(d, "tool", name)
        subtables = {k: v for k, v in table.items() if isinstance(v, dict)} if isinstance(table, dict) else {}
        for sub, value in subtables.items():  # [tool.pytest.ini_options] is named as such
            view[f"[tool.{name}.{sub}]"] = value
        rest = {k: v for k, v in table.items() if k not in subtables} if isinstance(table, dict) else table
        view[f"[tool.{name}]"] = rest or None  # a table that only holds subtables is named by them
    return view


def pyproject_edit(old: bytes | None, new: bytes | None) -> str | None:
    """Which test or lint tables of pyproject.toml the edit changes, as a reason; None when none."""
    a, b = _toml(old), _toml(new)
    if a is not None and b is not None:
        va, vb = _pyproject_view(a), _pyproject_view(b)
        hit = sorted(k for k in va.keys() | vb.keys() if va.get(k) != vb.get(k))
    else:
        hit = sorted({s for s, _ in _touched_lines(_text(old), _text(new)) if PYPROJECT_GUARDED.match(s)})
    return f"edits {', '.join(hit)} in pyproject.toml" if hit else None


def _cargo_view(d: dict[str, Any]) -> dict[str, Any]:
    view = {
        "[[test]]": d.get("test"),
        "[[bench]]": d.get("bench"),
        "[profile.test]": _table(d, "profile", "test"),
        "[profile.dev]": _table(d, "profile", "dev"),
        "[profile.bench]": _table(d, "profile", "bench"),
        "[lints]": d.get("lints"),
        "[workspace.lints]": _table(d, "workspace", "lints"),
        "autotests": _table(d, "package", "autotests"),
        "autobenches": _table(d, "package", "autobenches"),
    }
    for kind in ("lib", "bin", "example"):
        targets = d.get(kind)
        targets = [targets] if isinstance(targets, dict) else targets if isinstance(targets, list) else []
        view[f"test/harness/doctest in [{kind}]"] = [
            {k: t.get(k) for k in CARGO_TARGET_KEYS} for t in targets if isinstance(t, dict)
        ]
    return view


def cargo_edit(old: bytes | None, new: bytes | None) -> str | None:
    """Which test settings of Cargo.toml the edit changes, as a reason; None when none."""
    a, b = _toml(old), _toml(new)
    if a is not None and b is not None:
        hit = _changed(_cargo_view, a, b)
    else:
        hit = sorted(
            {
                s or line.strip()
                for s, line in _touched_lines(_text(old), _text(new))
                if CARGO_GUARDED.match(s) or _CARGO_KEY.match(line)
            }
        )
    return f"edits {', '.join(hit)} in Cargo.toml" if hit else None


def _json(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return {}
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


_RUNS_SCRIPT = re.compile(r"\b(?:npm|pnpm|yarn|bun)\s+(?:run(?:-script)?\s+)?([\w:.\-]+)")


def scripts_the_tests_run(scripts: dict[str, Any]) -> set[str]:
    """`test`, its pre/post hooks, and every script they run (`npm run unit`, `yarn lint`), transitively."""
    names = {"test", "pretest", "posttest"}
    todo = list(names)
    while todo:
        body = scripts.get(todo.pop())
        for ran in _RUNS_SCRIPT.findall(body if isinstance(body, str) else ""):
            for name in (ran, f"pre{ran}", f"post{ran}"):
                if name not in names:
                    names.add(name)
                    todo.append(name)
    return names


def _scripts(package: dict[str, Any]) -> dict[str, Any]:
    scripts = package.get("scripts")
    return scripts if isinstance(scripts, dict) else {}


def package_json_edit(old: bytes | None, new: bytes | None) -> str | None:
    """Which test settings of package.json the edit changes (a runner's key, the test scripts), as a reason."""
    a, b = _json(old), _json(new)
    if a is None or b is None:
        return "edits package.json, which holds the test script, and it cannot be read as JSON" if old != new else None
    hit = [f'"{k}"' for k in PACKAGE_KEYS if a.get(k) != b.get(k)]
    sa, sb = _scripts(a), _scripts(b)
    hit += [
        f"scripts.{n}" for n in sorted(scripts_the_tests_run(sa) | scripts_the_tests_run(sb)) if sa.get(n) != sb.get(n)
    ]
    return f"edits {', '.join(hit)} in package.json" if hit else None


def _go_directives(text: str) -> dict[str, set[str]]:
    """directive -> its entries (`replace ( ... )` blocks flattened), comments left out."""
    out: dict[str, set[str]] = {}
    block: str | None = None
    for raw in text.splitlines():
        line = re.sub(r"\s*//.*$", "", raw).strip()
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
            else:
                out.setdefault(block, set()).add(" ".join(line.split()))
            continue
        word, rest = ([*line.split(None, 1), ""])[:2]
        if rest.strip() == "(":
            block = word
            continue
        out.setdefault(word, set()).add(" ".join(rest.split()))
    return out


def go_mod_edit(old: bytes | None, new: bytes | None) -> str | None:
    """Which go.mod directives that change how the tests build the edit touches, as a reason."""
    a, b = _go_directives(_text(old)), _go_directives(_text(new))
    hit = [d for d in GO_DIRECTIVES if a.get(d, set()) != b.get(d, set())]
    return f"edits the {', '.join(hit)} directive{'s' if len(hit) > 1 else ''} of go.mod" if hit else None
