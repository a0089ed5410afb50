"""`tieragent review`: what to review, the output format, output files and the exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..core.errors import TieragentError, UsageError
from ..core.version import __version__
from . import options
from .common import RunFlags, ask_on_terminal, fail, overrides, tier_models
from .streams import OutputMode, output_mode, print_json

if TYPE_CHECKING:
    from ..flows.review import ReviewResult
    from ..flows.review.run import ReviewDeps
    from ..repo.changes import DiffSource

FORMATS = ("text", "json", "markdown", "github", "sarif")
FAIL_ON = ("high", "medium", "low", "never")


BASE = typer.Option(
    None, "--base", metavar="REF", help="Review merge-base(REF, HEAD)..HEAD, as a pull request would be."
)
DIFF = typer.Option(None, "--diff", metavar="FILE", help="Review a unified diff from FILE, or from stdin with -.")
FORMAT = typer.Option(
    None,
    "--format",
    metavar="FORMAT",
    help="text | json | markdown | github | sarif (default: text; json in CI mode when stdout is not a terminal).",
)
SARIF = typer.Option(None, "--sarif", metavar="FILE", help="Also write SARIF 2.1.0 to FILE.")
FAIL_ON_OPTION = typer.Option(
    "high",
    "--fail-on",
    metavar="SEVERITY",
    help="Exit 1 when a finding is at or above: high | medium | low | never.",
)
ALLOW_INCOMPLETE = options.flag(
    "--allow-incomplete",
    "Pass (exit 0) although hunks could not be reviewed (unusable "
    "replies, too large); they are still listed. Without it: status incomplete, exit 3.",
)


def review(
    staged: bool = options.flag("--staged", "Review the index (what the next commit holds) against HEAD."),
    base: str | None = BASE,
    diff: str | None = DIFF,
    output_format: str | None = FORMAT,
    as_json: bool = options.flag("--json", "Same as --format json."),
    ci: bool | None = options.CI,
    output: Path | None = options.OUTPUT,
    sarif: Path | None = SARIF,
    fail_on: str = FAIL_ON_OPTION,
    run_tests: bool = options.flag("--run-tests", "Also run the tests and the linter; report what the diff breaks."),
    allow_incomplete: bool = ALLOW_INCOMPLETE,
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
    from ..flows.review import ReviewOptions, run_review
    from .ending import OutputFile, dumps, end_run, output_files
    from .render import Progress
    from .review_sarif import to_sarif
    from .running import run_shown

    mode = output_mode(ci, "json" if as_json else output_format)
    config = overrides(max_cost, max_calls, test, lint, tier_models(small, mid, frontier))
    flags = RunFlags(directory, config, trust_config, timeout, quiet, verbose)
    deps, source, warnings = _prepare_review(mode, flags, fail_on, staged=staged, base=base, diff=diff)
    review_options = ReviewOptions(fail_on=fail_on, run_tests=run_tests, allow_incomplete=allow_incomplete)

    def flow(shown: Progress) -> ReviewResult:
        deps.on_event = shown.on_event
        return run_review(source, deps, review_options)

    result = run_shown(mode, flags, warnings, flow)
    files = output_files(result, output)
    if sarif is not None:
        files.append(OutputFile(sarif, lambda: dumps(to_sarif(result, __version__)), "--sarif"))
    end_run("review", result, mode, lambda: show_review(result, mode, quiet=quiet, verbose=verbose), files)


def _prepare_review(
    mode: OutputMode, flags: RunFlags, fail_on: str, *, staged: bool, base: str | None, diff: str | None
) -> tuple[ReviewDeps, DiffSource, list[str]]:
    """The flags checked, then the repository, config and the diff to review (a failure ends the command)."""
    from .wiring import prepare_review

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
        return prepare_review(
            flags.directory,
            flags.config,
            kind,
            base,
            diff,
            stdin_text,
            trust_flag=flags.trust_config,
            ask=ask,
        )
    except TieragentError as err:
        fail(err, mode.machine)


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
