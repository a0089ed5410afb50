"""The options the model-calling commands share, defined once (fix, review, and the interactive session).

Flags carry an empty metavar, so help shows `--json`, not `--json <bool>` (which reads as if it took a value).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

JSON = typer.Option(
    False, "--json", metavar="", help="Print one JSON object on stdout and nothing else (progress goes to stderr)."
)
CI = typer.Option(
    None,
    "--ci/--no-ci",
    metavar="",
    help="CI mode: no prompts, colours, wrapping or spinner, and the summary line "
    "last; JSON on stdout unless stdout is a terminal or a format is given. On when CI=true.",
)
OUTPUT = typer.Option(None, "--output", metavar="FILE", help="Also write the JSON document to FILE.")
MAX_COST = typer.Option(
    None, "--max-cost", metavar="USD", help="Budget in US dollars for this run (budget.max_cost_usd)."
)
MAX_CALLS = typer.Option(None, "--max-calls", metavar="N", help="At most this many model calls.")
TIMEOUT = typer.Option(
    None, "--timeout", metavar="SECONDS", help="Stop the whole run after this long (exit 3; fix restores the tree)."
)
TEST = typer.Option(None, "--test", metavar="CMD", help="Test command (validate.test).")
LINT = typer.Option(None, "--lint", metavar="CMD", help="Lint command (validate.lint).")
SMALL = typer.Option(None, "--small", metavar="MODEL", help="Model for the small tier.")
MID = typer.Option(None, "--mid", metavar="MODEL", help="Model for the mid tier.")
FRONTIER = typer.Option(None, "--frontier", metavar="MODEL", help="Model for the frontier tier.")
TRUST_CONFIG = typer.Option(
    False,
    "--trust-config",
    metavar="",
    help="Trust this repository's .tieragent.yaml when it names key "
    "variables or hands variables to the tests (remembered until the file changes).",
)
QUIET = typer.Option(
    False, "--quiet", "-q", metavar="", help="Only warnings, errors and the result: no progress lines, no ledger table."
)
VERBOSE = typer.Option(
    False, "--verbose", "-v", metavar="", help="Also the routing decision: each step's or hunk's tier, and why."
)
DIRECTORY = typer.Option(Path("."), "-C", metavar="DIR", help="Run as if started in DIR.")


def flag(name: str, help: str, *aliases: str) -> Any:
    """A command's own on/off flag, shown without a value."""
    return typer.Option(False, name, *aliases, metavar="", help=help)
