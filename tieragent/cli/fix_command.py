"""`tieragent fix`: flags, CI mode and output files around the fix flow."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ..core.errors import ExitCode, TieragentError, UsageError
from ..core.vocab import TIERS
from .common import ask_on_terminal, fail, overrides, time_limit
from .streams import ci_mode, console, print_json, status_line, write_file


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
        raise UsageError("say what to fix: tieragent fix \"REQUEST\" (or --request-file FILE, - for stdin)")
    if not text.strip():
        raise UsageError("the request is empty: say what to fix")
    return text.rstrip("\r\n") if request_file is not None else text  # a file's (or a pipe's) last newline is not part of it


def fix(
    request: Optional[str] = typer.Argument(None, help="What to fix or change, in plain words."),
    request_file: Optional[str] = typer.Option(None, "--request-file", metavar="FILE", help="Read the request from FILE (- for stdin)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    ci: Optional[bool] = typer.Option(None, "--ci/--no-ci", help="CI mode: JSON on stdout, no prompts or colours. On when CI=true or stdin is not a terminal."),
    output: Optional[Path] = typer.Option(None, "--output", metavar="FILE", help="Also write the JSON document to FILE."),
    patch_out: Optional[Path] = typer.Option(None, "--patch-out", metavar="FILE", help="Write the validated diff to FILE."),
    commit: bool = typer.Option(False, "--commit", help="Commit the validated patch (the small model writes the message)."),
    branch: Optional[str] = typer.Option(None, "--branch", metavar="NAME", help="Commit the validated patch on a new branch NAME (never pushed)."),
    repro: bool = typer.Option(False, "--repro", help="First write a test that reproduces the request; the patch must make it pass."),
    keep_repro: bool = typer.Option(False, "--keep-repro", help="Keep the --repro test in the tree."),
    allow_test_edits: bool = typer.Option(False, "--allow-test-edits", help="Accept patches that edit tests, CI or lint config."),
    trust_config: bool = typer.Option(False, "--trust-config", help="Trust this repository's .tieragent.yaml when it names key "
                                      "variables or hands variables to the tests (remembered until the file changes)."),
    exit_code_only: bool = typer.Option(False, "--exit-code-only", help="When tests fail before the patch and the runner gives no "
                                        "per-test results, go on and accept a patch only when the whole test command passes."),
    explain_routing: bool = typer.Option(False, "--explain-routing", help="Print the routing decision and why."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Budget in USD for this run (budget.max_cost_usd)."),
    max_calls: Optional[int] = typer.Option(None, "--max-calls", help="At most this many model calls."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS", help="Stop the whole run after this long (exit 3, tree restored)."),
    test: Optional[str] = typer.Option(None, "--test", help="Test command (validate.test)."),
    lint: Optional[str] = typer.Option(None, "--lint", help="Lint command (validate.lint)."),
    small: Optional[str] = typer.Option(None, "--small", help="Model for the small tier."),
    mid: Optional[str] = typer.Option(None, "--mid", help="Model for the mid tier."),
    frontier: Optional[str] = typer.Option(None, "--frontier", help="Model for the frontier tier."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings, errors and the result; no progress lines."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also the routing decision and every attempt."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Fix REQUEST in the current git repository, escalating only when a cheaper patch fails your tests."""
    from ..core.events import Event
    from ..flows.fix import FixOptions, run_fix
    from .render import print_fix_result, progress
    from .wiring import prepare_fix

    machine = as_json or ci_mode(ci)
    interactive = not machine and sys.stdin.isatty() and sys.stderr.isatty()
    try:
        text = read_request(request, request_file)
        deps, warnings = prepare_fix(directory, overrides(max_cost, max_calls, test, lint, dict(zip(TIERS, (small, mid, frontier)))),
                                     trust_flag=trust_config, ask=ask_on_terminal if interactive else None, branch=branch)
    except TieragentError as err:
        fail(err, machine, {"request": request})
    options = FixOptions(commit=commit or bool(branch), branch=branch, repro=repro or keep_repro, keep_repro=keep_repro,
                         allow_test_edits=allow_test_edits, exit_code_only=exit_code_only)
    with progress(spinner=not machine, quiet=quiet) as shown:
        deps.on_event = shown.on_event
        deps.confirm = shown.confirm if interactive else None
        for w in warnings:
            shown.on_event(Event("warning", w))
        with time_limit(timeout):
            result = run_fix(text, deps, options)
    result.warnings[:0] = warnings
    if os.environ.get("TIERAGENT_PROFILE"):
        console(stderr=True).print("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()), markup=False)
    document = result.to_json()
    try:
        if output is not None:
            write_file(output, _dumps(document), "--output")
        if patch_out is not None and result.status == "fixed":
            write_file(patch_out, result.patch, "--patch-out")
    except TieragentError as err:  # the fix stands; only the file could not be written
        result.warnings.append(err.message)
        console(stderr=True).print(f"warning: {err.message}", markup=False)
    if machine:
        print_json(document)
        status_line("fix", result.status, result.exit_code, document["error"], result.ledger)
    else:  # a run that ended in an error reports on stderr, like every other error
        print_fix_result(result, console(stderr=result.status == "error"), explain_routing=explain_routing or verbose)
    if result.exit_code == ExitCode.INTERRUPTED:
        sys.exit(ExitCode.INTERRUPTED)  # reported above; bypass main()'s generic interrupt message
    raise typer.Exit(int(result.exit_code))


def _dumps(document: dict) -> str:
    import json

    return json.dumps(document, indent=2) + "\n"
