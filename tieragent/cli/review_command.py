"""`tieragent review`: what to review, the output format, output files and the exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .. import __version__
from ..core.errors import ExitCode, TieragentError, UsageError
from ..core.vocab import TIERS
from .common import ask_on_terminal, fail, overrides, time_limit
from .streams import ci_mode, console, print_json, status_line, write_file

FORMATS = ("text", "json", "markdown", "github", "sarif")
FAIL_ON = ("high", "medium", "low", "never")


def review(
    staged: bool = typer.Option(False, "--staged", help="Review the index (what the next commit holds) against HEAD."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REF", help="Review merge-base(REF, HEAD)..HEAD, as a pull request would be."),
    diff: Optional[str] = typer.Option(None, "--diff", metavar="FILE", help="Review a unified diff from FILE, or from stdin with -."),
    output_format: Optional[str] = typer.Option(None, "--format", help="text | json | markdown | github | sarif (default: text; json in CI mode)."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    ci: Optional[bool] = typer.Option(None, "--ci/--no-ci", help="CI mode: JSON on stdout unless --format says otherwise, no prompts or colours. On when CI=true or stdin is not a terminal."),
    output: Optional[Path] = typer.Option(None, "--output", metavar="FILE", help="Also write the JSON document to FILE."),
    sarif: Optional[Path] = typer.Option(None, "--sarif", metavar="FILE", help="Also write SARIF 2.1.0 to FILE."),
    fail_on: str = typer.Option("high", "--fail-on", help="Exit 1 when a finding is at or above: high | medium | low | never."),
    run_tests: bool = typer.Option(False, "--run-tests", help="Also run the tests and the linter; report what the diff breaks."),
    allow_incomplete: bool = typer.Option(False, "--allow-incomplete", help="Pass (exit 0) although hunks could not be reviewed (unusable replies, too large); they are still listed. Without it: status incomplete, exit 3."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Budget in USD for this review (budget.max_cost_usd)."),
    max_calls: Optional[int] = typer.Option(None, "--max-calls", help="At most this many model calls."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS", help="Stop after this long; unreviewed hunks are listed (exit 3)."),
    test: Optional[str] = typer.Option(None, "--test", help="Test command for --run-tests (validate.test)."),
    lint: Optional[str] = typer.Option(None, "--lint", help="Lint command for --run-tests (validate.lint)."),
    small: Optional[str] = typer.Option(None, "--small", help="Model for the small tier (triage)."),
    mid: Optional[str] = typer.Option(None, "--mid", help="Model for the mid tier (low and medium risk hunks)."),
    frontier: Optional[str] = typer.Option(None, "--frontier", help="Model for the frontier tier (high risk hunks)."),
    trust_config: bool = typer.Option(False, "--trust-config", help="Trust this repository's .tieragent.yaml when it names key "
                                      "variables or hands variables to the tests (remembered until the file changes)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines and no ledger table on stderr."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Review a diff hunk by hunk: no model for what needs none, the frontier only where the risk is."""
    from ..core.events import Event
    from ..flows.review import ReviewOptions, run_review
    from .render import ledger_summary, progress
    from .review_formats import print_review, to_github, to_markdown, to_sarif
    from .wiring import prepare_review

    in_ci = ci_mode(ci)
    fmt = "json" if as_json else output_format or ("json" if in_ci else "text")
    machine = fmt == "json"
    try:
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        if fail_on not in FAIL_ON:
            raise UsageError(f"--fail-on {fail_on!r}: use {', '.join(FAIL_ON)}")
        if sum(bool(x) for x in (staged, base, diff)) > 1:
            raise UsageError("--staged, --base and --diff choose what to review: give one of them")
        kind = "diff" if diff else "staged" if staged else "base" if base else "worktree"
        stdin_text = sys.stdin.read() if diff == "-" else None
        interactive = not in_ci and diff != "-" and sys.stdin.isatty() and sys.stderr.isatty()
        deps, source, warnings = prepare_review(directory, overrides(max_cost, max_calls, test, lint, dict(zip(TIERS, (small, mid, frontier)))),
                                                kind, base, diff, stdin_text, trust_flag=trust_config,
                                                ask=ask_on_terminal if interactive else None)
    except TieragentError as err:
        fail(err, machine)
    with progress(spinner=not in_ci, quiet=quiet) as shown:
        deps.on_event = shown.on_event
        for w in warnings:
            shown.on_event(Event("warning", w))
        with time_limit(timeout):
            result = run_review(source, deps, ReviewOptions(fail_on=fail_on, run_tests=run_tests, allow_incomplete=allow_incomplete))
    result.warnings[:0] = warnings
    document = result.to_json()
    try:
        if output is not None:
            write_file(output, _dumps(document), "--output")
        if sarif is not None:
            write_file(sarif, _dumps(to_sarif(result, __version__)), "--sarif")
    except TieragentError as err:
        fail(err, machine)
    if fmt == "json":
        print_json(document)
        status_line("review", result.status, result.exit_code, document["error"], result.ledger)
    elif fmt == "sarif":
        print_json(to_sarif(result, __version__))
    elif fmt == "github":
        lines = to_github(result).rstrip("\n")
        sys.stdout.write(lines + "\n" if lines else "")
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(result).rstrip("\n") + "\n")
    else:  # a review that ended in an error reports on stderr, like every other error
        print_review(result, console(stderr=result.status == "error"))
    if result.ledger is not None and result.ledger.rows and not quiet:
        ledger_summary(result.ledger, console(stderr=True))
    if result.exit_code == ExitCode.INTERRUPTED:
        sys.exit(ExitCode.INTERRUPTED)
    raise typer.Exit(int(result.exit_code))


def _dumps(document: dict) -> str:
    import json

    return json.dumps(document, indent=2) + "\n"
