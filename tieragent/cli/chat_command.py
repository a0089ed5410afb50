"""`tieragent chat`: the interactive session, wired to the fix flow; and the seam `fix --continue` shares."""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..core.errors import TieragentError, UsageError
from . import options
from .common import ask_on_terminal, fail, overrides, tier_models
from .streams import ci_mode, console, is_terminal

if TYPE_CHECKING:  # the flows load when a command runs, not for --help
    from ..flows.chat import ChatDeps, SessionRecord
    from ..flows.chat.session import FixCall
    from ..flows.fix import FixDeps, FixOptions, FixResult

NO_TERMINAL = (
    "tieragent chat needs a terminal (stdin and stdout); for one request without one, use "
    '`tieragent fix "REQUEST"`, or `tieragent fix --continue "REQUEST"` to follow up the last run or session'
)


def fix_for_chat(deps: FixDeps, base: FixOptions) -> FixCall:
    """The fix flow as chat calls it: each message with its own budget, follow-up and keep question."""
    from ..flows.chat import FollowUp
    from ..flows.fix import run_fix

    def call(request: str, follow: FollowUp) -> FixResult:
        budget = deps.config.budget.model_copy(update={"max_cost_usd": follow.max_cost_usd})
        run_deps = replace(
            deps,
            config=deps.config.model_copy(update={"budget": budget}),
            keep=follow.keep,
            confirm=follow.confirm,
            on_event=follow.on_event,
        )
        opts = replace(
            base, earlier=follow.earlier, pinned=follow.pinned, start_tier=follow.start_tier, next_baseline=True
        )
        return run_fix(request, run_deps, opts)

    return call


def chat(
    resume: bool = options.flag("--resume", "Continue the last session: its requests, kept patches and ledger."),
    yes: bool = options.flag("--yes", "Keep every validated patch without asking.", "-y"),
    max_cost: float | None = typer.Option(
        None, "--max-cost", metavar="USD", help="Budget for the whole session (budget.max_cost_usd)."
    ),
    max_message_cost: float | None = typer.Option(
        None, "--max-message-cost", metavar="USD", help="Budget for each message (default: what the session has left)."
    ),
    max_calls: int | None = typer.Option(
        None, "--max-calls", metavar="N", help="At most this many model calls a message."
    ),
    allow_test_edits: bool = options.flag("--allow-test-edits", "Accept patches that edit tests, CI or lint config."),
    trust_config: bool = options.TRUST_CONFIG,
    test: str | None = options.TEST,
    lint: str | None = options.LINT,
    small: str | None = options.SMALL,
    mid: str | None = options.MID,
    frontier: str | None = options.FRONTIER,
    directory: Path = options.DIRECTORY,
) -> None:
    """An interactive session: each request patched at the tier it needs, shown, and kept only if you say so."""
    from ..flows.chat import ChatOptions, run_chat, store
    from ..flows.fix import FixOptions
    from .wiring import prepare_fix

    if ci_mode(None) or not (is_terminal(sys.stdin) and is_terminal(sys.stdout)):
        fail(UsageError(NO_TERMINAL), False)
    try:
        deps, warnings = prepare_fix(
            directory,
            overrides(max_cost, max_calls, test, lint, tier_models(small, mid, frontier)),
            trust_flag=trust_config,
            ask=ask_on_terminal,
        )
        record = store.load_latest(deps.ws.state_dir) if resume else None
        if resume and record is None:
            raise UsageError("no saved session in this repository to resume; start one with `tieragent chat`")
    except TieragentError as err:
        fail(err, False)
    out = console()
    for w in warnings:
        console(stderr=True).print("warning: " + w, style="yellow", markup=False)
    out.print("tieragent chat: type a request, or /help. Ctrl-D leaves.", style="bold", markup=False)
    result = run_chat(
        _session_deps(deps, FixOptions(allow_test_edits=allow_test_edits)),
        ChatOptions(keep_all=yes, max_message_cost_usd=max_message_cost, resume=record),
    )
    out.print(f"session {result.session_id} saved; `tieragent chat --resume` continues it", style="dim", markup=False)
    raise typer.Exit(int(result.exit_code))


def _session_deps(deps: FixDeps, base: FixOptions) -> ChatDeps:
    """The session's parts: the fix flow, the terminal, and SIGTERM ending the session after what runs."""
    from ..flows.chat import COMMANDS, ChatDeps
    from ..flows.skeleton import redactor_for
    from .chat_terminal import TerminalIO

    commands = [usage.split()[0] for usage, _ in COMMANDS]
    mask = redactor_for(deps.config).at_rest  # the prompt's history is kept masked, like every file of tieragent's
    io = TerminalIO(console(), console(stderr=True), deps.ws.state_dir, commands, deps.ws.list_files, mask)
    stopping: list[bool] = []

    def terminate(signum: int, frame: Any) -> None:  # cancel what runs (the tree restored), then leave
        stopping.append(True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    return ChatDeps(
        ws=deps.ws,
        config=deps.config,
        models=deps.models,
        repo_map=deps.repo_map,
        runner=deps.runner,
        test_command=deps.test_command,
        fix=fix_for_chat(deps, base),
        io=io,
        should_stop=lambda: bool(stopping),
    )


def continued_options(deps: FixDeps, fix_options: FixOptions) -> tuple[FixOptions, SessionRecord, set[str]]:
    """`fix --continue`: the options that make the run a follow-up of the last run or session, that session,
    and the files with uncommitted changes of the user's own (not the session's kept patches)."""
    from ..flows.chat import store
    from ..flows.chat.context import history_limit, render_earlier

    record = store.continue_target(deps.ws.state_dir)
    if record is None:
        raise UsageError(
            "nothing to continue: no earlier run or chat session in this repository",
            hint='Run `tieragent fix "REQUEST"` first (or `tieragent chat`).',
        )
    earlier = render_earlier(record, history_limit({}))
    yours = deps.ws.dirty_paths() - {f for m in record.kept() for f in m.files}
    options = replace(fix_options, earlier=earlier, pinned=tuple(record.pinned), start_tier=record.start_tier)
    return options, record, yours


def record_continued(deps: FixDeps, record: SessionRecord, request: str, result: FixResult, yours: set[str]) -> None:
    """The follow-up added to the session it continued (saved; a warning when it cannot be)."""
    from ..flows.chat import store
    from ..flows.chat.requests import follow_up

    follow_up(record, request, result, yours)
    try:
        store.save(deps.ws.state_dir, record, result.redactor.at_rest if result.redactor else str)
    except OSError as err:
        result.warnings.append(f"could not save the session: {err}")
