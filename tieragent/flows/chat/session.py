"""What a chat session asks of the fix flow, and what it keeps.

- `ChatOptions`: --yes, the message budget, the session to resume. (`deps.py` has the parts it is handed.)
- `FollowUp`: what a message asks of the fix flow beyond its request (the session so far, pinned
  files, a start tier, its budget, the keep-or-discard question); `FixOutcome`: what chat reads back.
- `Message` and `SessionRecord`: the session as it is saved under `.git/tieragent/sessions/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ...core.events import OnEvent, ignore_events
from ...core.vocab import StrEnum, Tier
from ...model.ledger import LedgerRow
from ..skeleton import Decision, KeptEdit, Status

if TYPE_CHECKING:
    from ...model.ledger import Ledger


@dataclass(frozen=True)
class FollowUp:
    """What one message asks of the fix flow besides its request; the CLI maps it onto FixOptions/FixDeps."""

    earlier: str = ""  # the session so far, as the models read it
    pinned: tuple[str, ...] = ()  # files always in the patch step's context
    start_tier: Tier | None = None  # /tier; None: routing decides
    max_cost_usd: float | None = None  # this message's budget: the smaller of its own and what the session has left
    keep: Callable[[str], Decision] | None = None  # asked with the validated diff; None keeps it (--yes)
    confirm: Callable[[str, str], bool] | None = None  # the test-edit guard's question
    on_event: OnEvent = ignore_events


class FixOutcome(Protocol):
    """What chat reads of a fix run's result (the fix flow's FixResult has these fields)."""

    run_id: str
    status: Status
    exit_code: int
    error: str | None
    patch: str
    ledger: Ledger | None
    kept: list[KeptEdit]
    decision: Decision | None
    route: list[str]
    saved_diff: Path | None


FixCall = Callable[[str, FollowUp], FixOutcome]


@dataclass(frozen=True)
class ChatOptions:
    keep_all: bool = False  # --yes: keep every validated patch without asking
    max_message_cost_usd: float | None = None  # each message's budget; the session's is config.budget.max_cost_usd
    resume: SessionRecord | None = None  # --resume: the session to continue


class Kind(StrEnum):
    FIX = "fix"  # a request, handled by the fix flow
    ASK = "ask"  # /ask
    COMMIT = "commit"  # /commit (the small tier's commit message)


@dataclass
class Message:
    """One turn of the session with its ledger rows (a compaction's row goes with the message it preceded)."""

    n: int
    kind: Kind
    text: str  # the request, the question, or the commit's subject
    status: str  # a fix run's Status, or "answered" / "not answered" / "committed"
    rows: list[LedgerRow] = field(default_factory=list)
    diff: str = ""  # fix: the validated patch
    files: list[str] = field(default_factory=list)  # fix: the files the kept patch changed
    edits: list[KeptEdit] = field(default_factory=list)  # fix: those files before and after, for /undo
    answer: str = ""  # ask: the reply, masked
    run_id: str | None = None  # fix: the run's id (its line in ledger.jsonl)
    undone: bool = False
    commit: str | None = None  # the sha /commit made of this message's patch
    mixed: list[str] = field(default_factory=list)  # kept files that held uncommitted changes of the user's before

    @property
    def kept(self) -> bool:
        """A patch of this session that is in the tree now."""
        return self.kind is Kind.FIX and self.status == Status.FIXED and not self.undone

    @property
    def cost_usd(self) -> float:
        return round(sum(r.cost_usd or 0.0 for r in self.rows), 6)


@dataclass
class SessionRecord:
    id: str
    started: str
    messages: list[Message] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    start_tier: Tier | None = None
    summary: str = ""  # the small tier's summary of the first `summarized` messages
    summarized: int = 0

    def kept(self) -> list[Message]:
        return [m for m in self.messages if m.kept]

    def spent_usd(self) -> float:
        return round(sum(m.cost_usd for m in self.messages), 6)

    def next_n(self) -> int:
        return len(self.messages) + 1
