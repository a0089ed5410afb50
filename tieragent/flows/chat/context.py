"""The session so far, as the next request's models read it; compacted when it outgrows its share.

Each earlier message appears with its outcome: a kept patch with its diff (the files it touched are
pinned as well), a discarded or failed one by its request alone, a question with the start of its
answer. When that text would take more than `HISTORY_SHARE` of the smallest context window among
the tiers, the small tier summarizes all but the last `KEEP_RECENT` messages; when it cannot (it is
unavailable, or the budget is spent) the oldest messages are left out instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...core import prompts
from ...core.tokens import estimate_tokens
from ...core.vocab import SMALL, TIERS, Outcome, Step, Tier
from ...model.gateway import Gateway
from ...repo.context import DEFAULT_CONTEXT_WINDOW
from .session import Kind, Message, SessionRecord

HISTORY_SHARE = 0.15  # of the smallest window on the route: files, instructions and the reply need the rest
KEEP_RECENT = 2  # messages always shown as they were, never summarized
ANSWER_CHARS = 600
DIFF_CHARS = 6000  # a kept patch longer than this is shown by its files only


def history_limit(windows: Mapping[Tier, int | None]) -> int:
    """Tokens the session so far may take in a prompt."""
    smallest = min((windows.get(t) or DEFAULT_CONTEXT_WINDOW) for t in TIERS)
    return int(smallest * HISTORY_SHARE)


def describe(m: Message) -> str:
    """One earlier message, as the models read it."""
    if m.kind is Kind.ASK:
        answer = m.answer if len(m.answer) <= ANSWER_CHARS else m.answer[:ANSWER_CHARS] + " [...]"
        return f"{m.n}. Question: {m.text}\n   Answer: {answer}"
    if m.kind is Kind.COMMIT:
        return f"{m.n}. The kept patches were committed: {m.text}"
    head = f"{m.n}. Request: {m.text}\n   Outcome: "
    if m.status == "fixed":
        state = "undone later by the user" if m.undone else "in the tree now"
        files = ", ".join(m.files) or "no files"
        text = head + f"patch kept ({files}; {state})"
        if m.diff and not m.undone:
            text += "\n" + (m.diff if len(m.diff) <= DIFF_CHARS else "   (the diff is long; the files are shown above)")
        return text
    outcome = {"discarded": "a patch validated, but the user discarded it", "failed": "no patch passed the tests"}
    return head + outcome.get(m.status, m.status)


def render_earlier(record: SessionRecord, limit: int | None = None) -> str:
    """The session so far for the next request ("" when it is empty); with `limit`, the oldest messages
    that do not fit are left out."""
    shown = record.messages[record.summarized :]
    parts = [describe(m) for m in shown]
    summary = f"Summary of the earlier messages:\n{record.summary}\n" if record.summary else ""
    dropped = 0
    while limit is not None and parts and estimate_tokens(summary + "\n".join(parts)) > limit:
        parts.pop(0)
        dropped += 1
    if not parts and not summary:
        return ""
    left_out = f"({dropped} earlier message(s) left out)\n" if dropped else ""
    return "Earlier in this session (oldest first):\n" + summary + left_out + "\n".join(parts)


def compact(gw: Gateway, record: SessionRecord, limit: int) -> list[str]:
    """Summarize the session's older messages when its text is over `limit`; returns the warnings.
    The call's ledger row is on the gateway's ledger (the caller files it with the next message)."""
    if estimate_tokens(render_earlier(record)) <= limit:
        return []
    end = len(record.messages) - KEEP_RECENT
    if end <= record.summarized:
        return []  # nothing old enough to summarize: render_earlier leaves the oldest out
    older = "\n".join(describe(m) for m in record.messages[record.summarized : end])
    previous = f"Summary so far:\n{record.summary}\n\n" if record.summary else ""
    call = gw.call(
        Step.COMPACT,
        SMALL,
        prompts.render("compact", earlier=previous + older),
        note=f"messages {record.summarized + 1}-{end}",
    )
    text = call.text.strip()
    if call.reply is None:
        return []  # the gateway warned, and said what happens instead
    if not text:
        gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, "empty summary")
        return ["the session's summary came back empty; its oldest messages are left out instead"]
    record.summary, record.summarized = text, end
    return []
