"""Which lines a patch changed that no test executes, measured by coverage.py.

Supported: test commands that run pytest or unittest through a named interpreter (`python -m pytest ...`,
`"/venv/bin/python" -m unittest ...`), when coverage.py is importable by that interpreter (it is not
installed for the user). The command runs once more under `python -m coverage run --source=.`, and the
changed lines of Python files that coverage lists as statements not executed are reported. Any other
runner, an interpreter without coverage.py, or a measurement that fails gives None: not measured.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..repo.diffs import EditStat

if TYPE_CHECKING:
    from .validation import Validator

# `<interpreter> -m pytest|unittest <arguments>`; the interpreter as a bare word or a quoted path
_MODULE_RUN = re.compile(r"""^\s*(?P<py>"[^"]+"|'[^']+'|\S+)\s+-m\s+(?P<rest>(?:pytest|unittest)\b.*)$""", re.S)
_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")


def coverage_command(test_cmd: str, data_file: Path) -> tuple[str, str] | None:
    """(interpreter, the test command under coverage) for a supported command; None for any other."""
    m = _MODULE_RUN.match(test_cmd)
    if m is None:
        return None
    py = m.group("py")
    try:
        name = Path(shlex.split(py)[0]).name
    except (ValueError, IndexError):
        return None
    if not _PYTHON_NAME.match(name):
        return None
    data = shlex.quote(str(data_file))
    return py, f"{py} -m coverage run --data-file={data} --source=. -m {m.group('rest')}"


def changed_lines(edits: Sequence[EditStat]) -> dict[str, set[int]]:
    """path -> the 1-based lines of its new content that the edit added or changed (Python files only)."""
    out: dict[str, set[int]] = {}
    for e in edits:
        if e.new is None or not e.path.endswith(".py"):
            continue
        lines = e.changed_new_lines()
        if lines:
            out[e.path] = lines
    return out


def uncovered_lines(validator: Validator, edits: Sequence[EditStat]) -> tuple[str, ...] | None:
    """ "path:line" for each changed statement no test executed; None when not measured (see the module)."""
    changed = changed_lines(edits)
    if not changed:
        return None
    work = validator.state_dir / "tmp"
    work.mkdir(parents=True, exist_ok=True)
    data, report = work / "coverage.data", work / "coverage.json"
    planned = coverage_command(validator.test_cmd, data)
    if planned is None:
        return None
    py, command = planned
    run, root = validator.runner.run, validator.root
    if run(f'{py} -c "import coverage"', root, 60).exit_code != 0:
        return None
    for stale in (data, report):
        stale.unlink(missing_ok=True)
    if run(command, root, validator.timeout_s).timed_out:
        return None
    quoted = shlex.quote(str(data)), shlex.quote(str(report))
    if run(f"{py} -m coverage json -q --data-file={quoted[0]} -o {quoted[1]}", root, 60).exit_code != 0:
        return None
    missing = _missing_lines(report, root)
    if missing is None:
        return None
    return tuple(f"{p}:{n}" for p, lines in changed.items() if p in missing for n in sorted(lines & missing[p]))


def _missing_lines(report: Path, root: Path) -> dict[str, set[int]] | None:
    """path (relative to the root) -> statements not executed, from coverage's JSON report."""
    try:
        files = json.loads(report.read_text(encoding="utf-8"))["files"]
        out: dict[str, set[int]] = {}
        for name, data in files.items():
            path = Path(name)
            rel = path.resolve().relative_to(root.resolve()) if path.is_absolute() else path
            out[rel.as_posix()] = {int(n) for n in data["missing_lines"]}
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
