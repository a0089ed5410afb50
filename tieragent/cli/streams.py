"""Where output goes, and how it looks there: a person's terminal, or a CI log and a pipe.

One decision for every command (`output_mode`):
- CI mode is `--ci`, or CI=true / TIERAGENT_CI=1 in the environment (stdin alone never switches it);
  in CI mode nothing is coloured or wrapped, nobody is asked anything, no spinner runs, and the
  one-line summary (`tieragent fix: fixed (exit 0; cost $0.0123)`) is the last line on stderr.
- The format is `--json`/`--format` when given; else JSON on stdout in CI mode when stdout is not a
  terminal, and text everywhere else (a terminal on stdout gets text).
- Questions (a test edit, trusting a config) are asked only with a terminal on stdin and stderr, outside CI.
Off a terminal nothing is coloured, and a message is never wrapped: a log keeps each message on one line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from ..core.errors import UsageError

WIDE = 200  # columns for tables off a terminal; plain messages are never wrapped at all


def ci_mode(flag: bool | None, environ: Mapping[str, str] = os.environ) -> bool:
    """`--ci`/`--no-ci` when given; else CI=true or TIERAGENT_CI=1. Stdin not being a terminal does not count."""
    if flag is not None:
        return flag
    return environ.get("CI", "").lower() in ("true", "1") or environ.get("TIERAGENT_CI", "").lower() in ("1", "true")


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced
        return False


@dataclass(frozen=True)
class OutputMode:
    ci: bool
    fmt: str  # json | text | (review) markdown | github | sarif
    interactive: bool  # questions may be asked

    @property
    def machine(self) -> bool:
        return self.fmt == "json"

    def console(self, *, stderr: bool = False) -> Console:
        return plain_console(stderr=stderr) if self.ci else console(stderr=stderr)


def output_mode(ci_flag: bool | None, fmt: str | None, environ: Mapping[str, str] = os.environ) -> OutputMode:
    """The one CI and format decision of every command (see the module docstring)."""
    ci = ci_mode(ci_flag, environ)
    chosen = fmt or ("json" if ci and not is_terminal(sys.stdout) else "text")
    return OutputMode(ci, chosen, interactive=not ci and is_terminal(sys.stdin) and is_terminal(sys.stderr))


def console(*, stderr: bool = False) -> Console:
    c = Console(stderr=stderr, highlight=False)
    if c.is_terminal:
        return c
    return plain_console(stderr=stderr)


def plain_console(*, stderr: bool = False) -> Console:
    """No colour, no wrapping, no emoji: a log line per message, terminal or not (CI mode)."""
    return Console(
        stderr=stderr, highlight=False, width=WIDE, soft_wrap=True, no_color=True, emoji=False, force_terminal=False
    )


def print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")
    sys.stdout.flush()


def write_file(path: Path, text: str, what: str) -> None:
    """Write an output file the user asked for; a clear error (exit 2) when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"{what} {path}: cannot write it ({err.strerror})") from None


def status_line(command: str, status: str, exit_code: int, error: str | None, cost: str) -> None:
    """With JSON on stdout, one line on stderr for the person reading the log: the outcome and the cost."""
    line = f"tieragent {command}: {status} (exit {int(exit_code)}; cost {cost})"
    if error:
        line += f": {' '.join(error.split())}"
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
