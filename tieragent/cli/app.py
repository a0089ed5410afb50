"""The command line: parse flags, build the pipeline's parts, render what it returns.

Exit codes (see README): 0 fixed; 1 no validated patch; 2 usage, config or environment error;
3 budget exceeded; 4 provider error after retries; 70 internal error; 130 interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from .. import __version__
from ..core.errors import ExitCode, TieragentError
from ..core.vocab import TIERS
from .errors import report_error

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # Pretty tracebacks print local variables, which can include API keys.
    pretty_exceptions_enable=False,
    help="A coding agent that sizes the model to the task, proves patches with your tests, and itemises cost per step.",
)

INTERNAL_ERROR = 70
INTERRUPTED_MESSAGE = "\ntieragent: interrupted; your files are as they were before the run.\n"


def _version(value: bool) -> None:
    if value:
        print(f"tieragent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    pass


def _overrides(
    max_cost: float | None, max_calls: int | None, test: str | None, lint: str | None, models: dict[str, str | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if max_cost is not None:
        out.setdefault("budget", {})["max_cost_usd"] = max_cost
    if max_calls is not None:
        out.setdefault("budget", {})["max_calls"] = max_calls
    if test:
        out.setdefault("validate", {})["test"] = test
    if lint:
        out.setdefault("validate", {})["lint"] = lint
    for tier, model in models.items():
        if model:
            out.setdefault("tiers", {}).setdefault(tier, {})["model"] = model
    return out


def _fail(err: TieragentError, as_json: bool, request: str | None = None) -> None:
    raise typer.Exit(report_error(err, as_json, request))


@app.command()
def fix(
    request: str = typer.Argument(..., help="What to fix or change, in plain words."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    commit: bool = typer.Option(False, "--commit", help="Commit the validated patch (the small model writes the message)."),
    repro: bool = typer.Option(False, "--repro", help="First write a test that reproduces the request; the patch must make it pass."),
    keep_repro: bool = typer.Option(False, "--keep-repro", help="Keep the --repro test in the tree."),
    allow_test_edits: bool = typer.Option(False, "--allow-test-edits", help="Accept patches that edit tests, CI or lint config."),
    explain_routing: bool = typer.Option(False, "--explain-routing", help="Print the routing decision and why."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Budget in USD for this run (budget.max_cost_usd)."),
    max_calls: Optional[int] = typer.Option(None, "--max-calls", help="At most this many model calls."),
    test: Optional[str] = typer.Option(None, "--test", help="Test command (validate.test)."),
    lint: Optional[str] = typer.Option(None, "--lint", help="Lint command (validate.lint)."),
    small: Optional[str] = typer.Option(None, "--small", help="Model for the small tier."),
    mid: Optional[str] = typer.Option(None, "--mid", help="Model for the mid tier."),
    frontier: Optional[str] = typer.Option(None, "--frontier", help="Model for the frontier tier."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Fix REQUEST in the current git repository, escalating only when a cheaper patch fails your tests."""
    from ..core.events import Event
    from ..flows.fix import FixOptions, run_fix
    from .render import print_fix_result, print_json, progress
    from .wiring import prepare_fix

    if not request.strip():
        _fail(TieragentError("the request is empty: say what to fix"), as_json)
    try:
        deps, warnings = prepare_fix(directory, _overrides(max_cost, max_calls, test, lint, dict(zip(TIERS, (small, mid, frontier)))))
    except TieragentError as err:
        _fail(err, as_json, request)
    options = FixOptions(commit=commit, repro=repro or keep_repro, keep_repro=keep_repro, allow_test_edits=allow_test_edits)
    interactive = not as_json and sys.stdin.isatty() and sys.stderr.isatty()
    with progress(spinner=True) as shown:
        deps.on_event = shown.on_event
        deps.confirm = shown.confirm if interactive else None
        for w in warnings:
            shown.on_event(Event("warning", w))
        result = run_fix(request, deps, options)
    result.warnings[:0] = warnings
    if as_json:
        print_json(result.to_json())
    else:
        # a run that ended in an error reports on stderr, like every other error
        console = stdout_console() if result.status != "error" else Console(stderr=True, highlight=False)
        print_fix_result(result, console, explain_routing=explain_routing)
    if result.exit_code == ExitCode.INTERRUPTED:
        sys.exit(ExitCode.INTERRUPTED)  # reported above; bypass main()'s generic interrupt message
    raise typer.Exit(int(result.exit_code))


REVIEW_FORMATS = ("text", "json", "markdown", "github", "sarif")


@app.command()
def review(
    staged: bool = typer.Option(False, "--staged", help="Review the index (what the next commit holds) against HEAD."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REF", help="Review merge-base(REF, HEAD)..HEAD, as a pull request would be."),
    diff: Optional[str] = typer.Option(None, "--diff", metavar="FILE", help="Review a unified diff from FILE, or from stdin with -."),
    output_format: str = typer.Option("text", "--format", help="text | json | markdown | github | sarif."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    fail_on: str = typer.Option("high", "--fail-on", help="Exit 1 when a finding is at or above: high | medium | low | never."),
    run_tests: bool = typer.Option(False, "--run-tests", help="Also run the tests and the linter on the base and the reviewed tree."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Budget in USD for this review (budget.max_cost_usd)."),
    max_calls: Optional[int] = typer.Option(None, "--max-calls", help="At most this many model calls."),
    test: Optional[str] = typer.Option(None, "--test", help="Test command for --run-tests (validate.test)."),
    lint: Optional[str] = typer.Option(None, "--lint", help="Lint command for --run-tests (validate.lint)."),
    small: Optional[str] = typer.Option(None, "--small", help="Model for the small tier (triage)."),
    mid: Optional[str] = typer.Option(None, "--mid", help="Model for the mid tier (low and medium risk hunks)."),
    frontier: Optional[str] = typer.Option(None, "--frontier", help="Model for the frontier tier (high risk hunks)."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Review a diff hunk by hunk: no model for what needs none, the frontier only where the risk is."""
    from ..core.errors import UsageError
    from ..flows.review import ReviewOptions, run_review
    from .render import ledger_summary, print_json, progress
    from .review_formats import print_review, to_github, to_markdown, to_sarif
    from .wiring import prepare_review

    fmt = "json" if as_json else output_format
    machine = fmt == "json"
    if fmt not in REVIEW_FORMATS:
        _fail(UsageError(f"--format {fmt!r}: use one of {', '.join(REVIEW_FORMATS)}"), False)
    if fail_on not in ("high", "medium", "low", "never"):
        _fail(UsageError(f"--fail-on {fail_on!r}: use high, medium, low or never"), machine)
    if sum(bool(x) for x in (staged, base, diff)) > 1:
        _fail(UsageError("--staged, --base and --diff choose what to review: give one of them"), machine)
    kind = "diff" if diff else "staged" if staged else "base" if base else "worktree"
    stdin_text = sys.stdin.read() if diff == "-" else None
    try:
        deps, source = prepare_review(directory, _overrides(max_cost, max_calls, test, lint, dict(zip(TIERS, (small, mid, frontier)))),
                                      kind, base, diff, stdin_text)
    except TieragentError as err:
        _fail(err, machine)
    with progress(spinner=True) as shown:
        deps.on_event = shown.on_event
        result = run_review(source, deps, ReviewOptions(fail_on=fail_on, run_tests=run_tests))
    if fmt == "json":
        print_json(result.to_json())
    elif fmt == "sarif":
        print_json(to_sarif(result, __version__))
    elif fmt == "github":
        lines = to_github(result).rstrip("\n")
        sys.stdout.write(lines + "\n" if lines else "")
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(result).rstrip("\n") + "\n")
    else:  # a review that ended in an error reports on stderr, like every other error
        print_review(result, stdout_console() if result.status != "error" else Console(stderr=True, highlight=False))
    if result.ledger is not None and result.ledger.rows:
        ledger_summary(result.ledger, Console(stderr=True, highlight=False))
    if result.exit_code == ExitCode.INTERRUPTED:
        sys.exit(ExitCode.INTERRUPTED)
    raise typer.Exit(int(result.exit_code))


@app.command()
def ledger(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    since: Optional[str] = typer.Option(None, "--since", help="Only runs since: 7d, 12h, 2w or a date (2026-11-01)."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """What recorded runs in this repository cost, per task class and tier, and what tiering saved."""
    from ..flows.history import parse_since, summarize_history
    from ..model.ledger import read_history
    from ..repo.workspace import GitWorkspace
    from .render import print_history, print_json

    try:
        ws = GitWorkspace.open(directory)
        summary = summarize_history(read_history(ws.state_dir), parse_since(since) if since else None)
    except TieragentError as err:
        _fail(err, as_json)
    if as_json:
        print_json(summary.to_json())
    else:
        print_history(summary, stdout_console())


def stdout_console() -> Console:
    """Logs and pipes are not 80 columns wide: don't wrap the ledger there."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=120)
    return console


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
) -> None:
    """Run the real pipeline on a throwaway repository, with scripted model replies (no keys needed)."""
    from .demo import run_demo
    from .render import print_fix_result, print_json, progress

    err = Console(stderr=True, highlight=False)
    if not as_json:
        stdout_console().print(
            "[bold]tieragent demo[/]: the model replies below are SCRIPTED (no model is called, no key is needed).\n"
            "Everything else is real: a git repository, its tests run as subprocesses, patch application, "
            "validation, escalation and the ledger.\n"
        )
    with progress(spinner=True) as shown:
        try:
            result, repo = run_demo(shown.on_event)
        except TieragentError as e:
            _fail(e, as_json)
    if as_json:
        out = result.to_json()
        out["demo"] = {"repository": str(repo), "scripted_replies": True}
        print_json(out)
    else:
        print_fix_result(result, stdout_console())
        err.print(f"\nThe throwaway repository is at {repo} (delete it when done).")
    raise typer.Exit(int(result.exit_code))


@app.command("map")
def map_cmd(
    request: Optional[str] = typer.Argument(None, help="Rank files for this request."),
    tokens: Optional[int] = typer.Option(None, "--tokens", help="Token budget (default: context.outline_tokens)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    explain: bool = typer.Option(False, "--explain", help="Show each file's score and the reasons for it."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Print the ranked repository outline that the small model would see. Calls no model."""
    from .map_command import run_map

    raise typer.Exit(run_map(directory, request, tokens, as_json, explain))


@app.command()
def recover(
    discard: bool = typer.Option(False, "--discard", help="Keep the files as they are and forget the journal."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Restore files left changed by a run that was killed before it could clean up."""
    from ..repo.journal import recover as do_recover
    from ..repo.workspace import GitWorkspace

    try:
        ws = GitWorkspace.open(directory)
    except TieragentError as err:
        _fail(err, False)
    report = do_recover(ws.root, ws.state_dir, discard=discard)
    out = Console(highlight=False)
    for p in report.restored:
        out.print(f"restored {p}")
    for p, why in report.kept.items():
        out.print(f"left {p}: {why}")
    if not report.restored and not report.kept:
        out.print("nothing to recover")


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        code = app(standalone_mode=False)  # returns the exit code of typer.Exit
        if code == ExitCode.INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130)
            sys.stderr.write(INTERRUPTED_MESSAGE)
        sys.exit(code or 0)
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED_MESSAGE)
        sys.exit(ExitCode.INTERRUPTED)
    except TieragentError as err:  # raised outside a command's own handling
        sys.stderr.write(f"tieragent: error: {err}\n")
        sys.exit(int(err.exit_code))
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.stderr.write(INTERRUPTED_MESSAGE)
            sys.exit(ExitCode.INTERRUPTED)
        sys.stderr.write(f"tieragent: internal error: {type(exc).__name__}: {exc}\n")
        if os.environ.get("TIERAGENT_DEBUG"):
            traceback.print_exc()
        else:
            sys.stderr.write("Your files were restored. Set TIERAGENT_DEBUG=1 to see the traceback, and please report it.\n")
        sys.exit(INTERNAL_ERROR)
