"""`tieragent fix`: flags, CI mode and output files around the fix flow."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from ..core.errors import TieragentError, UsageError
from ..core.vocab import TIERS
from . import options
from .common import ask_on_terminal, fail, overrides, time_limit
from .streams import output_mode


def read_request(request: str | None, request_file: str | None) -> str:
    """The request from the argument or from `--request-file FILE|-` (an issue body, say)."""
    if request is not None and request_file is not None:
        raise UsageError("give the request as an argument or with --request-file, not both")
    if request_file is not None:
        if request_file == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(request_file).read_text(encoding="utf-8", errors="replace")
            except OSError as err:
                raise UsageError(f"--request-file {request_file}: cannot read it ({err.strerror})") from None
    elif request is not None:
        text = request
    else:
        raise UsageError('say what to fix: tieragent fix "REQUEST" (or --request-file FILE, - for stdin)')
    if not text.strip():
        raise UsageError("the request is empty: say what to fix")
    return (
        text.rstrip("\r\n") if request_file is not None else text
    )  # a file's (or a pipe's) last newline is not part of it


def fix(
    request: str | None = typer.Argument(None, help="What to fix or change, in plain words."),
    request_file: str | None = typer.Option(
        None, "--request-file", metavar="FILE", help="Read the request from FILE (- for stdin)."
    ),
    as_json: bool = options.JSON,
    ci: bool | None = options.CI,
    output: Path | None = options.OUTPUT,
    patch_out: Path | None = typer.Option(
        None, "--patch-out", metavar="FILE", help="Write the validated diff to FILE."
    ),
    commit: bool = options.flag("--commit", "Commit the validated patch (the small model writes the message)."),
    branch: str | None = typer.Option(
        None, "--branch", metavar="NAME", help="Commit the validated patch on a new branch NAME (never pushed)."
    ),
    repro: bool = options.flag(
        "--repro", "First write a test that reproduces the request; the patch must make it pass."
    ),
    keep_repro: bool = options.flag("--keep-repro", "Keep the --repro test in the tree."),
    follow_up: bool = options.flag(
        "--continue",
        "Follow up the last run or chat session: the models see the earlier requests, and the files their "
        "kept patches changed.",
    ),
    allow_test_edits: bool = options.flag("--allow-test-edits", "Accept patches that edit tests, CI or lint config."),
    trust_config: bool = options.TRUST_CONFIG,
    exit_code_only: bool = options.flag(
        "--exit-code-only",
        "When tests fail before the patch and the runner gives no per-test "
        "results, go on and accept a patch only when the whole test command passes.",
    ),
    explain_routing: bool = options.flag("--explain-routing", "Print the routing decision and why."),
    max_cost: float | None = options.MAX_COST,
    max_calls: int | None = options.MAX_CALLS,
    timeout: float | None = options.TIMEOUT,
    test: str | None = options.TEST,
    lint: str | None = options.LINT,
    small: str | None = options.SMALL,
    mid: str | None = options.MID,
    frontier: str | None = options.FRONTIER,
    quiet: bool = options.QUIET,
    verbose: bool = options.VERBOSE,
    directory: Path = options.DIRECTORY,
) -> None:
    """Fix REQUEST in the current git repository, escalating only when a cheaper patch fails your tests."""
    from ..core.events import Event
    from ..flows.fix import FixOptions, run_fix
    from ..flows.skeleton import Status
    from .ending import OutputFile, end_run, output_files
    from .render import print_fix_result, progress
    from .wiring import prepare_fix

    mode = output_mode(ci, "json" if as_json else None)
    try:
        text = read_request(request, request_file)
        deps, warnings = prepare_fix(
            directory,
            overrides(max_cost, max_calls, test, lint, dict(zip(TIERS, (small, mid, frontier), strict=True))),
            trust_flag=trust_config,
            ask=ask_on_terminal if mode.interactive else None,
            branch=branch,
        )
    except TieragentError as err:
        fail(err, mode.machine, {"request": request})
    fix_options = FixOptions(
        commit=commit or bool(branch),
        branch=branch,
        repro=repro or keep_repro,
        keep_repro=keep_repro,
        allow_test_edits=allow_test_edits,
        exit_code_only=exit_code_only,
    )
    continued = None
    if follow_up:
        from .chat_command import continued_options

        try:
            fix_options, continued, yours = continued_options(deps, fix_options)
        except TieragentError as err:
            fail(err, mode.machine, {"request": request})
    with progress(mode, quiet=quiet) as shown:
        deps.on_event = shown.on_event
        deps.confirm = shown.confirm if mode.interactive else None
        for w in warnings:
            shown.on_event(Event("warning", w))
        with time_limit(timeout):
            result = run_fix(text, deps, fix_options)
    if continued is not None:
        from .chat_command import record_continued

        record_continued(deps, continued, text, result, yours)
    result.warnings[:0] = warnings
    if os.environ.get("TIERAGENT_PROFILE"):
        mode.console(stderr=True).print(
            "timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()), markup=False
        )
    files = output_files(result, output)
    if patch_out is not None and result.status == Status.FIXED:
        files.append(OutputFile(patch_out, lambda: result.patch, "--patch-out"))

    def show() -> None:  # a run that ended in an error reports on stderr, like every other error
        if not mode.machine:
            print_fix_result(
                result,
                mode.console(stderr=result.status == Status.ERROR),
                explain_routing=explain_routing or verbose,
                ledger=not quiet,
            )

    end_run("fix", result, mode, show, files)
