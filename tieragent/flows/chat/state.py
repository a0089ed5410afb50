"""The session's services and state, handed to every command: the record, the gateway for chat's own
calls, the budget left, and saving after each message."""

from __future__ import annotations

from ...core.config import BudgetConfig
from ...core.errors import TieragentError
from ...core.vocab import Step
from ...model.gateway import CallPolicy, Gateway, Unavailable
from ...model.ledger import LedgerRow
from ..skeleton import Run
from . import store
from .context import compact, history_limit, render_earlier
from .deps import ChatDeps, ChatIO
from .result import ChatResult
from .session import ChatOptions, Message, SessionRecord
from .views import Level, Notice, PromptLine, View

# What each of chat's own steps does when its tier cannot be reached (fix runs declare their own).
CHAT_POLICIES: dict[Step, CallPolicy] = {
    Step.ASK: CallPolicy(Unavailable.SKIP_TIER, "asking the next tier up"),
    Step.COMPACT: CallPolicy(
        Unavailable.FALL_BACK,
        "the oldest messages are left out of the context",
        over_budget_falls_back=True,
        least_effort=True,
    ),
    Step.COMMIT_MESSAGE: CallPolicy(
        Unavailable.FALL_BACK,
        "the commit message is made from the requests",
        over_budget_falls_back=True,
        least_effort=True,
    ),
}


class Chat:
    def __init__(self, deps: ChatDeps, opts: ChatOptions, run: Run, result: ChatResult, record: SessionRecord):
        self.deps, self.opts, self.run, self.result, self.record = deps, opts, run, result, record
        self._gateway: Gateway | None = None
        self._base: tuple[float, int] = (0.0, 0)  # chat's own spending and calls when the message began
        self._left: float | None = None

    @property
    def io(self) -> ChatIO:
        return self.deps.io

    def show(self, view: View) -> None:
        self.io.show(view)

    def say(self, text: str, level: Level = Level.INFO) -> None:
        self.io.show(Notice(text, level))

    # ---------------------------------------------------------------- money
    def session_cap(self) -> float | None:
        return self.deps.config.budget.max_cost_usd

    def budget_left(self) -> float | None:
        """This message's budget: its own cap, within what the session has left (None: no cap)."""
        caps = [c for c in (self.opts.max_message_cost_usd,) if c is not None]
        session = self.session_cap()
        if session is not None:
            caps.append(round(session - self.record.spent_usd(), 6))
        return min(caps) if caps else None

    def out_of_budget(self) -> bool:
        left = self.budget_left()
        if left is None or left > 0:
            return False
        self.say(
            f"the session's budget (${self.session_cap():g}) is spent; "
            "start another session, or `tieragent chat --resume --max-cost USD` with more",
            Level.WARNING,
        )
        return True

    def begin(self) -> int:
        """Start a message: its budget is fixed here, and its own calls start at the returned mark."""
        own = self.result.ledger
        self._base = (own.spent_usd, own.calls) if own else (0.0, 0)
        self._left = self.budget_left()
        return len(own.rows) if own else 0

    def left_now(self, mark: int) -> float | None:
        """What this message may still spend, after its own calls so far (a compaction)."""
        if self._left is None:
            return None
        return round(self._left - sum(r.cost_usd or 0.0 for r in self.rows_since(mark)), 6)

    def gateway(self) -> Gateway:
        """Chat's own calls (/ask, compaction, /commit's message), bounded by this message's budget."""
        if self._gateway is None:
            self._gateway = self.run.open_gateway(self.deps.models(), CHAT_POLICIES)
        spent, calls = self._base
        max_calls = self.deps.config.budget.max_calls
        self._gateway.budget = BudgetConfig(  # the gateway checks its own ledger: this message's allowance on top
            max_cost_usd=None if self._left is None else spent + self._left,
            max_calls=None if max_calls is None else calls + max_calls,
        )
        return self._gateway

    def rows_since(self, mark: int) -> list[LedgerRow]:
        return list(self.result.ledger.rows[mark:]) if self.result.ledger else []

    # ---------------------------------------------------------------- the session so far
    def earlier(self) -> str:
        """The session so far for the next message, summarized first when it has grown too long."""
        if not self.record.messages:
            return ""
        limit = history_limit(self.deps.models().context_windows)
        try:
            for warning in compact(self.gateway(), self.record, limit):
                self.run.events.warn(warning)
        except TieragentError as err:  # a provider error no retry helps: the oldest messages are left out instead
            self.run.events.warn(
                f"the session could not be summarized ({err.message}); its oldest messages are left out"
            )
        return render_earlier(self.record, limit)

    def pinned(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.record.pinned))

    def pin(self, paths: list[str]) -> None:
        self.record.pinned = list(dict.fromkeys([*self.record.pinned, *paths]))

    def add(self, message: Message) -> None:
        self.record.messages.append(message)
        self.save()

    def save(self) -> None:
        try:
            store.save(self.deps.ws.state_dir, self.record, self.run.redactor.at_rest)
        except OSError as err:
            self.run.events.warn(f"could not save the session: {err}")

    def prompt_line(self) -> PromptLine:
        return PromptLine(
            self.record.next_n(), self.record.start_tier or "auto", self.record.spent_usd(), len(self.record.kept())
        )
