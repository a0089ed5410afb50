"""How every command that runs a flow ends: its files, its output, the summary line, the exit code.

The same for fix, review and bench: `--output` (and the command's other files) are written first, and
a file that cannot be written is a warning, never a lost result; then the JSON document or the human
output; then, in CI mode or with JSON on stdout, one summary line last on stderr; then the exit code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer

from ..core.errors import ExitCode, TieragentError
from ..flows.skeleton import RunResult
from .streams import OutputMode, print_json, status_line, write_file


@dataclass(frozen=True)
class OutputFile:
    path: Path
    text: Callable[[], str]  # built only when the file is asked for
    what: str  # the flag that asked for it, for the warning


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def end_run(
    command: str, result: RunResult, mode: OutputMode, show: Callable[[], None], files: list[OutputFile]
) -> NoReturn:
    """Write `files`, print the JSON document (or `show()` the command's own output), the summary line, and exit."""
    for f in files:
        try:
            write_file(f.path, f.text(), f.what)
        except TieragentError as err:  # the run stands; only the file could not be written
            result.warnings.append(err.message)
            mode.console(stderr=True).print(f"warning: {err.message}", markup=False)
    document = result.to_json()
    if mode.machine:
        print_json(document)
    show()
    if mode.machine or mode.ci:  # the summary line comes last, for the person reading the log
        status_line(command, result.status, result.exit_code, document["error"], result.cost_text())
    if result.exit_code == ExitCode.INTERRUPTED:
        sys.exit(ExitCode.INTERRUPTED)  # reported above; bypass main()'s generic interrupt message
    raise typer.Exit(int(result.exit_code))


def output_files(result: RunResult, output: Path | None) -> list[OutputFile]:
    """`--output FILE`: the JSON document."""
    return [OutputFile(output, lambda: dumps(result.to_json()), "--output")] if output is not None else []
