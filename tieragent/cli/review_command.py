"""`tieragent review`: what to review, the output format, output files and the exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..core.errors import TieragentError, UsageError
from ..core.version import __version__
from ..core.vocab import TIERS
from . import options
from .common import ask_on_terminal, fail, overrides, time_limit
from .streams import OutputMode, output_mode, print_json

if TYPE_CHECKING:
    from ..flows.review import ReviewResult

FORMATS = ("text", "json", "markdown", "github", "sarif")
FAIL_ON = ("high", "medium", "low", "never")


def review(
    staged: bool = options.flag("--staged", "Review the index (what the next commit holds) against HEAD."),
    base: str | None = typer.Option(
        None, "--base", metavar="REF", help="Review merge-base(REF, HEAD)..HEAD, as a pull request would be."
    ),
    diff: str | None = typer.Option(
        None, "--diff", metavar="FILE", help="Review a unified diff from FILE, or from stdin with -."
    ),
    output_format: str | None = typer.Option(
        None,
        "--format",
        metavar="FORMAT",
        help="text | json | markdown | github | sarif (default: text; json in CI mode when stdout is not a terminal).",
    ),
    as_json: bool = options.flag("--json", "Same as --format json."),
    ci: bool | None = options.CI,
    output: Path | None = options.OUTPUT,
    sarif: Path | None = typer.Option(None, "--sarif", metavar="FILE", help="Also write SARIF 2.1.0 to FILE."),
    fail_on: str = typer.Option(
        "high",
        "--fail-on",
        metavar="SEVERITY",
        help="Exit 1 when a finding is at or above: high | medium | low | never.",
    ),
    run_tests: bool = options.flag("--run-tests", "Also run the tests and the linter; report what the diff breaks."),
    allow_incomplete: bool = options.flag(
        "--allow-incomplete",
        "Pass (exit 0) although hunks could not be reviewed (unusable "
        "replies, too large); they are still listed. Without it: status incomplete, exit 3.",
    ),
    max_cost: float | None = options.MAX_COST,
    max_calls: int | None = options.MAX_CALLS,
    timeout: float | None = options.TIMEOUT,
    test: str | None = options.TEST,
    lint: str | None = options.LINT,
    small: str | None = options.SMALL,
    mid: str | None = options.MID,
    frontier: str | None = options.FRONTIER,
    trust_config: bool = options.TRUST_CONFIG,
    quiet: bool = options.QUIET,
    verbose: bool = options.VERBOSE,
    directory: Path = options.DIRECTORY,
) -> None:
    """Review a diff hunk by hunk: no model for what needs none, the frontier only where the risk is."""
    from ..core.events import Event
    from ..flows.review import ReviewOptions, run_review
    from .ending import OutputFile, dumps, end_run, output_files
    from .render import progress
    from .review_sarif import to_sarif
    from .wiring import prepare_review

    mode = output_mode(ci, "json" if as_json else output_format)
    try:
        if mode.fmt not in FORMATS:
            raise UsageError(f"--format {mode.fmt!r}: use one of {', '.join(FORMATS)}")
        if fail_on not in FAIL_ON:
            raise UsageError(f"--fail-on {fail_on!r}: use {', '.join(FAIL_ON)}")
        if sum(bool(x) for x in (staged, base, diff)) > 1:
            raise UsageError("--staged, --base and --diff choose what to review: give one of them")
        kind = "diff" if diff else "staged" if staged else "base" if base else "worktree"
        stdin_text = sys.stdin.read() if diff == "-" else None
        ask = ask_on_terminal if mode.interactive and diff != "-" else None  # stdin holds the diff: nobody to ask
        deps, source, warnings = prepare_review(
            directory,
            overrides(max_cost, max_calls, test, lint, dict(zip(TIERS, (small, mid, frontier), strict=True))),
            kind,
            base,
            diff,
            stdin_text,
            trust_flag=trust_config,
            ask=ask,
        )
    except TieragentError as err:
        fail(err, mode.machine)
    with progress(mode, quiet=quiet) as shown:
        deps.on_event = shown.on_event
        for w in warnings:
            shown.on_event(Event("warning", w))
        with time_limit(timeout):
            result = run_review(
                source, deps, ReviewOptions(fail_on=fail_on, run_tests=run_tests, allow_incomplete=allow_incomplete)
            )
    result.warnings[:0] = warnings
    files = output_files(result, output)
    if sarif is not None:
        files.append(OutputFile(sarif, lambda: dumps(to_sarif(result, __version__)), "--sarif"))
    end_run("review", result, mode, lambda: show_review(result, mode, quiet=quiet, verbose=verbose), files)


def show_review(result: ReviewResult, mode: OutputMode, *, quiet: bool, verbose: bool) -> None:
    """The review in its format on stdout (JSON is printed by the ending), then the ledger on stderr."""
    from ..flows.skeleton import Status
    from .render import ledger_summary
    from .review_formats import print_review, print_review_routing, to_github, to_markdown
    from .review_sarif import to_sarif

    if mode.fmt == "sarif":
        print_json(to_sarif(result, __version__))
    elif mode.fmt == "github":
        lines = to_github(result).rstrip("\n")
        sys.stdout.write(lines + "\n" if lines else "")
    elif mode.fmt == "markdown":
        sys.stdout.write(to_markdown(result).rstrip("\n") + "\n")
    elif mode.fmt == "text":  # a review that ended in an error reports on stderr, like every other error
        out = mode.console(stderr=result.status == Status.ERROR)
        if verbose:
            print_review_routing(result, out)
        print_review(result, out)
    if result.ledger is not None and result.ledger.rows and not quiet:
        ledger_summary(result.ledger, mode.console(stderr=True))
