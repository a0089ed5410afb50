"""Where output goes, and how it looks there: a person's terminal, or a CI log and a pipe.

CI mode (`--ci`, on by itself when CI=true, TIERAGENT_CI=1, or stdin is not a terminal) never
prompts and puts exactly one JSON document on stdout. Off a terminal nothing is coloured, no
spinner runs, and a message is never wrapped: a log keeps each message on one line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Mapping

from rich.console import Console

from ..core.errors import UsageError

WIDE = 200  # columns for tables off a terminal; plain messages are never wrapped at all


def ci_mode(flag: bool | None, environ: Mapping[str, str] = os.environ) -> bool:
    """`--ci`/`--no-ci` when given; else CI=true, TIERAGENT_CI=1, or no terminal on stdin."""
    if flag is not None:
        return flag
    if environ.get("CI", "").lower() in ("true", "1") or environ.get("TIERAGENT_CI", "").lower() in ("1", "true"):
        return True
    try:
        return not sys.stdin.isatty()
    except (AttributeError, ValueError):  # stdin closed or replaced
        return True


def console(*, stderr: bool = False) -> Console:
    c = Console(stderr=stderr, highlight=False)
    if c.is_terminal:
        return c
    return Console(stderr=stderr, highlight=False, width=WIDE, soft_wrap=True, no_color=True, emoji=False)


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


def status_line(command: str, status: str, exit_code: int, error: str | None, ledger: Any) -> None:
    """With JSON on stdout, one line on stderr for the person reading the log: the outcome and the cost."""
    cost = f"${ledger.spent_usd:.4f}" + (" + ?" if ledger.unpriced_models() else "") if ledger is not None and ledger.rows else "$0"
    line = f"tieragent {command}: {status} (exit {int(exit_code)}; cost {cost})"
    if error:
        line += f": {' '.join(error.split())}"
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
