"""The command line: the Typer app, the small commands, and `main()` (exit codes, interrupts, bugs).

`fix` and `review` live in their own modules and are registered here. Exit codes (see README):
0 fixed / review complete; 1 no validated patch / a blocking finding; 2 usage, config or
environment error; 3 budget exceeded; 4 provider error after retries; 70 internal error;
130 interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import typer

from ..core.errors import ExitCode, TieragentError
from ..core.version import __version__
from .bench_command import register as register_bench_command
from .chat_command import chat
from .common import fail as _fail
from .fix_command import fix
from .review_command import review
from .setup_commands import register as register_setup_commands
from .streams import console, output_mode, print_json

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    # plain help text: no boxes, and no `<bool>` after a flag as if it took a value (docs/ quotes it verbatim)
    rich_markup_mode=None,
    context_settings={"max_content_width": 100},
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


app.command()(fix)
app.command()(review)
app.command()(chat)
register_setup_commands(app)  # init, doctor, config show
register_bench_command(app)


@app.command()
def ledger(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    since: str | None = typer.Option(None, "--since", help="Only runs since: 7d, 12h, 2w or a date (2026-11-01)."),
    fit: bool = typer.Option(
        False,
        "--fit",
        help="Each model's solved rate and mean cost per task class, and the start tiers "
        "routing.start: auto would choose from them.",
    ),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """What recorded runs in this repository cost, per task class and tier, and what tiering saved."""
    from ..flows.ledger_summary import parse_since, summarize_history
    from ..model.ledger import read_history
    from ..repo.workspace import GitWorkspace
    from .render import print_history

    try:
        ws = GitWorkspace.open(directory)
        start = parse_since(since) if since else None
        if fit:
            _ledger_fit(ws, start, as_json)
            return
        summary = summarize_history(read_history(ws.state_dir), start)
    except TieragentError as err:
        _fail(err, as_json)
    if as_json:
        print_json(summary.to_json())
    else:
        print_history(summary, console())


def _ledger_fit(ws: Any, since: Any, as_json: bool) -> None:
    """`ledger --fit`, with the configuration as `fix` would read it (only models, prices and attempts are used)."""
    from .config_trust import load_trusted_config
    from .yield_view import fit_document, print_fit

    doc = fit_document(ws, load_trusted_config(ws, check_trust=False).config, since)
    if as_json:
        print_json(doc)
    else:
        print_fit(doc, console())


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
) -> None:
    """Run the real pipeline on a throwaway repository, with scripted model replies (no keys needed)."""
    from .demo import run_demo
    from .render import print_fix_result, progress

    err = console(stderr=True)
    if not as_json:
        console().print(
            "[bold]tieragent demo[/]: the model replies below are SCRIPTED (no model is called, no key is needed).\n"
            "Everything else is real: a git repository, its tests run as subprocesses, patch application, "
            "validation, escalation and the ledger.\n"
        )
    with progress(output_mode(None, "json" if as_json else None)) as shown:
        try:
            result, repo = run_demo(shown.on_event)
        except TieragentError as e:
            _fail(e, as_json)
    if as_json:
        out = result.to_json()
        out["demo"] = {"repository": str(repo), "scripted_replies": True}
        print_json(out)
    else:
        print_fix_result(result, console())
        err.print(f"\nThe throwaway repository is at {repo} (delete it when done).")
    raise typer.Exit(int(result.exit_code))


@app.command("map")
def map_cmd(
    request: str | None = typer.Argument(None, help="Rank files for this request."),
    tokens: int | None = typer.Option(None, "--tokens", help="Token budget (default: context.outline_tokens)."),
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
        report = do_recover(
            ws.root, ws.state_dir, discard=discard
        )  # a run still going: its journal is left alone, exit 2
    except TieragentError as err:
        _fail(err, False)
    out = console()
    for p in report.restored:
        out.print(f"restored {p}")
    for p, why in report.kept.items():
        out.print(f"left {p}: {why}")
    if not report.restored and not report.kept:
        out.print("nothing to recover")


SUGGESTION_CUTOFF = 0.75  # click suggests from 0.6: `--bogus` would get "Possible options: --verbose"


def _keep_close_suggestions(exc: Any) -> None:
    """An unknown option's suggestions, only those that look like a typo of it."""
    import difflib

    name, possible = getattr(exc, "option_name", None), getattr(exc, "possibilities", None)
    if isinstance(name, str) and possible:
        exc.possibilities = [p for p in possible if difflib.SequenceMatcher(None, name, p).ratio() >= SUGGESTION_CUTOFF]


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
    except typer.Abort:  # Ctrl-C at a prompt
        sys.stderr.write(INTERRUPTED_MESSAGE)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:
        # A usage mistake (missing argument, unknown option or command): click's exceptions, which newer
        # typer versions vendor, so they are recognised by what they can do rather than by class.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            _keep_close_suggestions(exc)
            show()
            sys.exit(ExitCode.USAGE if exit_code else 0)
        from ..model.redact import Redactor

        sys.stderr.write(Redactor.from_environment()(f"tieragent: internal error: {type(exc).__name__}: {exc}\n"))
        if os.environ.get("TIERAGENT_DEBUG"):  # masked: an exception's text can quote a key or a file's secret
            sys.stderr.write(Redactor.from_environment()(traceback.format_exc()))
        else:
            sys.stderr.write(
                "Your files were restored. Set TIERAGENT_DEBUG=1 to see the traceback, and please report it.\n"
            )
        sys.exit(INTERNAL_ERROR)


def entry() -> None:
    """The console script and `python -m tieragent`: `main()`, then a quick exit.

    Tearing down litellm's modules at interpreter exit takes about a second and cleans up nothing of
    ours (the journal is closed and every output flushed before this point), so a process that
    imported litellm leaves with os._exit. Tests call `main()`, which exits normally.
    """
    try:
        main()
    except SystemExit as done:
        if "litellm" not in sys.modules:
            raise
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if not isinstance(done.code, (int, type(None))):
            sys.stderr.write(f"{done.code}\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
