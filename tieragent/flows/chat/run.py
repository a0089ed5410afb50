"""`tieragent chat`: a session of messages, each sized to its task.

`run_chat` reads lines from the terminal port until /exit, Ctrl-D or Ctrl-C twice at the prompt. A
plain line is a request for the fix flow (`requests.py`); a line starting with `/` is a command.
Ctrl-C during a message cancels it (a fix run restores the tree and writes its ledger row itself)
and returns to the prompt. The session is saved after every message; its own model calls (/ask,
compaction, /commit's message) go through one gateway and make its history line.
"""

from __future__ import annotations

from ...core.errors import ExitCode, TieragentError
from ..skeleton import Run, Status
from . import store
from .ask import handle_ask
from .commands import (
    NAMES,
    handle_commit,
    handle_cost,
    handle_diff,
    handle_help,
    handle_pin,
    handle_test,
    handle_tier,
)
from .deps import ChatDeps
from .requests import handle_request
from .result import ChatResult
from .session import ChatOptions
from .state import Chat
from .undo import handle_undo
from .views import Level


def run_chat(deps: ChatDeps, options: ChatOptions | None = None) -> ChatResult:
    opts = options or ChatOptions()
    record = opts.resume or store.new_record()
    result = ChatResult(session_id=record.id, messages=record.messages)
    run = Run("chat", deps.config, result, deps.io.on_event)
    chat = Chat(deps, opts, run, result, record)
    if opts.resume is not None:
        chat.say(
            f"resumed session {record.id}: {len(record.messages)} message(s), "
            f"{len(record.kept())} kept patch(es), ${record.spent_usd():.4f} spent"
        )
    interrupts = 0
    while not deps.should_stop():
        try:
            line = deps.io.read(chat.prompt_line())
        except KeyboardInterrupt:
            interrupts += 1
            if interrupts >= 2:
                break
            chat.say("(Ctrl-C again, Ctrl-D or /exit to leave)")
            continue
        interrupts = 0
        if line is None or line.strip() in ("/exit", "/quit"):
            break
        try:
            dispatch(chat, line.strip())
        except KeyboardInterrupt:
            chat.say("cancelled", Level.WARNING)  # a fix run restored the tree itself; nothing else edits it
        except TieragentError as err:  # models that cannot load (a missing key), a git failure
            chat.say(str(err), Level.ERROR)
    chat.save()
    if result.ledger is not None and result.ledger.rows:
        run.record(deps.ws.state_dir, leave_out=("messages",))
    return result.end(Status.ENDED, ExitCode.FIXED)


def dispatch(chat: Chat, line: str) -> None:
    if not line:
        return
    if not line.startswith("/"):
        handle_request(chat, line)
        return
    name, _, arg = line.partition(" ")
    name = name.lower()
    handlers = {
        "/ask": lambda: handle_ask(chat, arg, escalate=False),
        "/ask!": lambda: handle_ask(chat, arg, escalate=True),
        "/undo": lambda: handle_undo(chat),
        "/diff": lambda: handle_diff(chat),
        "/test": lambda: handle_test(chat),
        "/add": lambda: handle_pin(chat, arg, add=True),
        "/drop": lambda: handle_pin(chat, arg, add=False),
        "/tier": lambda: handle_tier(chat, arg),
        "/cost": lambda: handle_cost(chat),
        "/commit": lambda: handle_commit(chat),
        "/help": lambda: handle_help(chat),
    }
    handler = handlers.get(name)
    if handler is None:
        close = [n for n in NAMES if n.startswith(name[:3])]
        chat.say(
            f"unknown command {name}" + (f" (did you mean {close[0]}?)" if close else "") + "; /help lists them",
            Level.WARNING,
        )
        return
    handler()
