"""The commands that get a repository ready: `init`, `doctor` and `config show`.

They live apart from `app.py` and are added to it by `register(app)`. Each command imports its
module when it runs, so `tieragent --help` stays quick (litellm is imported only by
`doctor`, and only when a tier is configured). The work is in `init_command`, `doctor` and
`config_show`; these functions are the flags, the output streams and the exit codes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..core.errors import TieragentError
from .errors import report_error

if TYPE_CHECKING:
    from rich.console import Console


def _console(*, stderr: bool = False) -> Console:
    """rich detects NO_COLOR and terminals itself; off a terminal, lines are never wrapped."""
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=True)


def init_cmd(
    preset: str | None = typer.Option(
        None, "--preset", help="openai | anthropic | gemini | mixed | local. Asked on a terminal when absent."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing .tieragent.yaml."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Write .tieragent.yaml: a model per tier from a preset, and the test and lint commands detected here."""
    from .init_command import run_init, stdin_and_stdout_are_terminals

    try:
        run_init(
            directory,
            preset,
            force,
            interactive=preset is None and stdin_and_stdout_are_terminals(),
            out=_console(),
            err=_console(stderr=True),
        )
    except TieragentError as err:
        raise typer.Exit(report_error(err, False)) from None


def doctor_cmd(
    ping: bool = typer.Option(False, "--ping", help="Send each tier a one-token request (costs a fraction of a cent)."),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Do not run the test command (the slowest check)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Check the config, each tier's model, key, price and window, git, and the test and lint commands."""
    from .doctor import run_doctor
    from .doctor_checks import printer, summary

    out = _console()
    emit = (lambda c: None) if as_json else printer(out)
    checks = run_doctor(directory, ping=ping, baseline=not no_baseline, emit=emit)
    ok, line = summary(checks)
    if as_json:
        sys.stdout.write(json.dumps({"ok": ok, "checks": [c.to_json() for c in checks]}, indent=2) + "\n")
        sys.stdout.flush()
    else:
        out.print(("\n[green]" if ok else "\n[red]") + line + "[/]")
    raise typer.Exit(0 if ok else 1)


def config_show_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Print the effective configuration, and where each value came from. Secret-looking values are masked."""
    from ..core.errors import EnvironmentProblem
    from ..repo.workspace import GitWorkspace
    from .config_show import config_report, render_report

    root: Path | None = None
    try:
        root = GitWorkspace.open(directory).root
    except EnvironmentProblem as err:  # the user file and the environment still apply
        sys.stderr.write(f"tieragent: {err.message}: showing the config without a .tieragent.yaml\n")
    try:
        report = config_report(root, environ=dict(os.environ))
    except TieragentError as err:
        raise typer.Exit(report_error(err, as_json)) from None
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(render_report(report))
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add `init`, `doctor` and the `config` group (`config show`) to the CLI."""
    app.command("init")(init_cmd)
    app.command("doctor")(doctor_cmd)
    config_app = typer.Typer(
        help="Inspect the configuration.", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )
    config_app.command("show")(config_show_cmd)
    app.add_typer(config_app, name="config")
