"""`tieragent fix`: flags, CI mode and output files around the fix flow."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from ..core.errors import TieragentError, UsageError
from . import options
from .common import RunFlags, ask_on_terminal, fail, overrides, tier_models
from .streams import OutputMode, output_mode

if TYPE_CHECKING:  # the flows load when a command runs, not for --help
    from ..flows.fix import FixOptions, FixResult

REQUEST_FILE = typer.Option(None, "--request-file", metavar="FILE", help="Read the request from FILE (- for stdin).")
PATCH_OUT = typer.Option(None, "--patch-out", metavar="FILE", help="Write the validated diff to FILE.")
BRANCH = typer.Option(
    None, "--branch", metavar="NAME", help="Commit the validated patch on a new branch NAME (never pushed)."
)
REPRO = options.flag("--repro", "First write a test that reproduces the request; the patch must make it pass.")
FOLLOW_UP = options.flag(
    "--continue",
    "Follow up the last run or chat session: the models see the earlier requests, and the files their "
    "kept patches changed.",
)
EXIT_CODE_ONLY = options.flag(
    "--exit-code-only",
    "When tests fail before the patch and the runner gives no per-test "
    "results, go on and accept a patch only when the whole test command passes.",
)


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
    request_file: str | None = REQUEST_FILE,
    as_json: bool = options.JSON,
    ci: bool | None = options.CI,
    output: Path | None = options.OUTPUT,
    patch_out: Path | None = PATCH_OUT,
    commit: bool = options.flag("--commit", "Commit the validated patch (the small model writes the message)."),
    branch: str | None = BRANCH,
    repro: bool = REPRO,
    keep_repro: bool = options.flag("--keep-repro", "Keep the --repro test in the tree."),
    follow_up: bool = FOLLOW_UP,
    allow_test_edits: bool = options.flag("--allow-test-edits", "Accept patches that edit tests, CI or lint config."),
    trust_config: bool = options.TRUST_CONFIG,
    exit_code_only: bool = EXIT_CODE_ONLY,
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
    from ..flows.fix import FixOptions

    mode = output_mode(ci, "json" if as_json else None)
    config = overrides(max_cost, max_calls, test, lint, tier_models(small, mid, frontier))
    flags = RunFlags(directory, config, trust_config, timeout, quiet, verbose)
    fix_options = FixOptions(
        commit=commit or bool(branch),
        branch=branch,
        repro=repro or keep_repro,
        keep_repro=keep_repro,
        allow_test_edits=allow_test_edits,
        exit_code_only=exit_code_only,
    )
    result = _run_fix(mode, flags, request, request_file, fix_options, follow_up=follow_up)
    _end_fix(result, mode, flags, output, patch_out, explain_routing=explain_routing)


def _run_fix(
    mode: OutputMode,
    flags: RunFlags,
    request: str | None,
    request_file: str | None,
    fix_options: FixOptions,
    *,
    follow_up: bool,
) -> FixResult:
    """The request read, the repository and config prepared, and the flow run (a follow-up with --continue)."""
    from ..flows.fix import run_fix
    from .chat_command import continued_options, record_continued
    from .render import Progress
    from .running import run_shown
    from .wiring import prepare_fix

    try:
        text = read_request(request, request_file)
        deps, warnings = prepare_fix(
            flags.directory,
            flags.config,
            trust_flag=flags.trust_config,
            ask=ask_on_terminal if mode.interactive else None,
            branch=fix_options.branch,
        )
        continued = continued_options(deps, fix_options) if follow_up else None
    except TieragentError as err:
        fail(err, mode.machine, {"request": request})
    if continued is not None:
        fix_options = continued[0]  # the follow-up's: the earlier requests, the pinned files, the tier to start at

    def flow(shown: Progress) -> FixResult:
        deps.on_event = shown.on_event
        deps.confirm = shown.confirm if mode.interactive else None
        return run_fix(text, deps, fix_options)

    result = run_shown(mode, flags, warnings, flow)
    if continued is not None:
        _, record, yours = continued
        record_continued(deps, record, text, result, yours)
    return result


def _end_fix(
    result: FixResult,
    mode: OutputMode,
    flags: RunFlags,
    output: Path | None,
    patch_out: Path | None,
    *,
    explain_routing: bool,
) -> NoReturn:
    """The run's files (`--output`, `--patch-out` once fixed), its report, and the exit code."""
    from ..flows.skeleton import Status
    from .ending import OutputFile, end_run, output_files
    from .render import print_fix_result

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
                explain_routing=explain_routing or flags.verbose,
                ledger=not flags.quiet,
            )

    end_run("fix", result, mode, show, files)
