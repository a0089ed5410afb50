"""A plain line of the session: a request, handled by the fix flow with the session so far.

The fix run sees the earlier messages and the pinned files, starts where /tier says, spends at most
this message's budget, and asks (unless --yes) whether to keep its validated patch before its
journal closes: y keeps it, n restores the tree byte for byte, e discards it and lets the user
reword the request, which then runs as the next message.
"""

from __future__ import annotations

from ...model.ledger import LedgerRow
from ..skeleton import Decision, Status
from .session import FixOutcome, FollowUp, Kind, Message, SessionRecord
from .state import Chat
from .views import FixView


def handle_request(chat: Chat, text: str) -> None:
    """Run `text`, and its rewordings while the user answers `e`."""
    while text.strip():
        outcome = run_request(chat, text)
        if outcome is None or outcome.decision is not Decision.AMEND:
            return
        text = chat.io.amend(text) or ""


def run_request(chat: Chat, text: str) -> FixOutcome | None:
    """One fix run as one message; None when the session's budget is spent."""
    if chat.out_of_budget():
        return None
    mark = chat.begin()
    earlier = chat.earlier()
    asked: list[bool] = []

    def keep(diff: str) -> Decision:
        asked.append(True)
        return chat.io.decide(diff)

    follow = FollowUp(
        earlier=earlier,
        pinned=chat.pinned(),
        start_tier=chat.record.start_tier,
        max_cost_usd=chat.left_now(mark),
        keep=None if chat.opts.keep_all else keep,
        confirm=chat.io.confirm,
        on_event=chat.io.on_event,
    )
    session_files = {f for m in chat.record.kept() for f in m.files}
    yours = chat.deps.ws.dirty_paths() - session_files  # uncommitted changes of the user's own, before this run
    with chat.io.busy():
        outcome = chat.deps.fix(text, follow)
    message = fix_message(chat.record.next_n(), text, outcome, chat.rows_since(mark), yours)
    if outcome.status == Status.FIXED:
        chat.pin(message.files)  # a follow-up sees these files as they are now
    chat.add(message)
    chat.show(FixView(message, outcome, diff_shown=bool(asked)))
    return outcome


def fix_message(n: int, text: str, outcome: FixOutcome, own_rows: list[LedgerRow], yours: set[str]) -> Message:
    """A fix run as a message of the session; `yours`: files with uncommitted changes of the user's before it."""
    return Message(
        n,
        Kind.FIX,
        text,
        str(outcome.status),
        rows=own_rows + (list(outcome.ledger.rows) if outcome.ledger else []),
        diff=outcome.patch,
        files=[e.path for e in outcome.kept],
        edits=list(outcome.kept),
        run_id=outcome.run_id,
        mixed=sorted({e.path for e in outcome.kept} & yours),
    )


def follow_up(record: SessionRecord, text: str, outcome: FixOutcome, yours: set[str]) -> None:
    """`fix --continue`: the run added to the session it followed, its kept files pinned."""
    record.messages.append(fix_message(record.next_n(), text, outcome, [], yours))
    if outcome.status == Status.FIXED:
        record.pinned = list(dict.fromkeys([*record.pinned, *(e.path for e in outcome.kept)]))
