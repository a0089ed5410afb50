"""The session's slash commands other than /ask and /undo: /diff, /test, /add, /drop, /tier, /cost,
/commit and /help. `COMMANDS` lists them all, for /help and the prompt's completion."""

from __future__ import annotations

from pathlib import Path

from ...core import prompts
from ...core.errors import TieragentError
from ...core.vocab import SMALL, TIERS, Outcome, Step
from ...judge.validation import output_tail
from ...repo.diffs import EditStat
from ...repo.patching import PathRefused, check_path, strip_git_prefix
from .result import session_ledger
from .session import Kind, Message
from .state import Chat
from .views import CostView, DiffView, HelpView, Level, SuiteRunView, cost_line

COMMANDS: list[tuple[str, str]] = [
    ("/ask QUESTION", "answer without editing (small or mid tier, by a rule)"),
    ("/ask! QUESTION", "the same, by the frontier tier"),
    ("/undo", "revert the last kept patch (refused if you changed its files since)"),
    ("/diff", "the session's changes so far"),
    ("/test", "run the test command"),
    ("/add FILE...", "pin files into every request's context"),
    ("/drop FILE...", "unpin files"),
    ("/tier small|mid|frontier|auto", "where the next requests start"),
    ("/cost", "the session's cost: per message, by tier, and the frontier-only estimate"),
    ("/commit", "commit the kept patches (the small tier writes the message)"),
    ("/help", "this list"),
    ("/exit", "leave (also Ctrl-D, or Ctrl-C twice)"),
]
NAMES = tuple(usage.split()[0] for usage, _ in COMMANDS)
TEST_TAIL_LINES = 15


def _current(root: Path, rel: str) -> bytes | None:
    p = root / rel
    return p.read_bytes() if p.is_file() and not p.is_symlink() else None


def session_diff(chat: Chat, messages: list[Message] | None = None) -> str:
    """The kept patches' files now, against how they were before the session first patched them."""
    before: dict[str, bytes | None] = {}
    for m in messages if messages is not None else chat.record.kept():
        for e in m.edits:
            before.setdefault(e.path, e.before)
    root = chat.deps.ws.root
    return "".join(EditStat(p, old, _current(root, p)).diff() for p, old in before.items())


def handle_diff(chat: Chat) -> None:
    diff = session_diff(chat)
    if not diff:
        chat.say("no changes: no patch of this session is in the tree")
        return
    chat.show(DiffView(chat.run.redactor(diff)))


def handle_test(chat: Chat) -> None:
    deps = chat.deps
    with chat.io.busy():
        result = deps.runner.run(deps.test_command, deps.ws.root, deps.config.validation.timeout_s)
    lines = result.output.rstrip().splitlines()[-TEST_TAIL_LINES:]
    tail = chat.run.redactor("\n".join(lines)) if lines else output_tail(result)
    chat.show(SuiteRunView(deps.test_command, None if result.timed_out else result.exit_code, tail, result.seconds))


def handle_pin(chat: Chat, arg: str, add: bool) -> None:
    names = arg.split()
    if not names:
        chat.say(f"say which files: /{'add' if add else 'drop'} FILE...", Level.WARNING)
        return
    root = chat.deps.ws.root
    if not add:
        gone = [n for n in names if n in chat.record.pinned]
        chat.record.pinned = [p for p in chat.record.pinned if p not in names]
        chat.save()
        chat.say(f"unpinned: {', '.join(gone)}" if gone else "none of those files is pinned")
        return
    ok: list[str] = []
    for raw in names:
        try:
            rel = check_path(strip_git_prefix(raw, root), root)
        except PathRefused as refused:
            chat.say(f"not pinned: {raw} ({refused.why})", Level.WARNING)
            continue
        if not (root / rel).is_file():
            chat.say(f"not pinned: {raw} (no such file)", Level.WARNING)
            continue
        _, refused_paths = chat.deps.ws.shareable([rel])
        if rel in refused_paths:
            chat.say(f"not pinned: {rel} ({refused_paths[rel]})", Level.WARNING)
            continue
        ok.append(rel)
    if ok:
        chat.pin(ok)
        chat.save()
        chat.say(f"pinned: {', '.join(ok)} (every request sees them; /drop to unpin)")


def handle_tier(chat: Chat, arg: str) -> None:
    choice = arg.strip().lower()
    if choice not in (*TIERS, "auto"):
        chat.say("say which: /tier small|mid|frontier|auto", Level.WARNING)
        return
    chat.record.start_tier = None if choice == "auto" else choice  # type: ignore[assignment]
    chat.save()
    chat.say("requests start where routing decides" if choice == "auto" else f"requests start at the {choice} tier")


def handle_cost(chat: Chat) -> None:
    messages = chat.record.messages
    chat.show(CostView([cost_line(m) for m in messages], session_ledger(messages), chat.session_cap()))


def handle_help(chat: Chat) -> None:
    chat.show(HelpView(list(COMMANDS)))


def handle_commit(chat: Chat) -> None:
    """Commit the kept patches not yet committed, with the small tier's message; refused for files that held
    uncommitted changes of the user's, or that the user changed since."""
    todo = [m for m in chat.record.kept() if not m.commit]
    if not todo:
        chat.say("nothing to commit: no kept patch of this session is uncommitted")
        return
    root = chat.deps.ws.root
    mixed = sorted({p for m in todo for p in m.mixed})
    last_after = {e.path: e.after for m in todo for e in m.edits}
    changed = sorted(p for p, after in last_after.items() if _current(root, p) != after)
    if mixed or changed:
        why = "; ".join(
            ([f"{', '.join(mixed)} had uncommitted changes of yours"] if mixed else [])
            + ([f"{', '.join(changed)} changed since the session's patch"] if changed else [])
        )
        chat.say(f"not committed: {why}; commit with git yourself", Level.WARNING)
        return
    if chat.out_of_budget():
        return
    mark = chat.begin()
    files = list(dict.fromkeys(p for m in todo for p in m.files))
    message = _commit_message(chat, todo)
    try:
        sha = chat.deps.ws.commit(files, message)
    except TieragentError as err:
        chat.say(f"not committed: {err.message}", Level.ERROR)
        return
    for m in todo:
        m.commit = sha
    subject = message.splitlines()[0]
    chat.add(Message(chat.record.next_n(), Kind.COMMIT, subject, "committed", rows=chat.rows_since(mark), commit=sha))
    chat.say(f"committed {sha[:12]}: {subject} ({', '.join(files)})")


def _commit_message(chat: Chat, todo: list[Message]) -> str:
    requests = "\n".join(f"- {m.text}" for m in todo)
    fallback = f"tieragent: {todo[0].text.strip().splitlines()[0][:60]}" + (
        f" (and {len(todo) - 1} more)" if len(todo) > 1 else ""
    )
    gw = chat.gateway()
    call = gw.call(
        Step.COMMIT_MESSAGE, SMALL, prompts.render("commit-message", request=requests, diff=session_diff(chat, todo))
    )
    text = call.text.strip().strip("`").strip()
    if call.reply is not None and not text:
        gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, "empty commit message")
    return text or fallback
