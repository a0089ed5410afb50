"""What a chat session hands the terminal to show: values, rendered by the CLI (the flow prints nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ...core.vocab import CALL_MADE, TIERS, StrEnum, Tier
from ...model.ledger import Ledger
from .session import FixOutcome, Message


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class PromptLine:
    """What the prompt line says: the next message's number, its start tier, what the session spent."""

    n: int
    tier: str  # "auto" or the /tier chosen
    spent_usd: float
    kept: int  # patches of this session in the tree


@dataclass(frozen=True)
class Notice:
    text: str
    level: Level = Level.INFO


@dataclass(frozen=True)
class FixView:
    message: Message
    outcome: FixOutcome
    diff_shown: bool  # the diff was shown when the user was asked to keep it


@dataclass(frozen=True)
class AnswerView:
    message: Message
    tier: Tier
    why: str


@dataclass(frozen=True)
class DiffView:
    diff: str  # the session's changes, against the files as they were before it patched them


@dataclass(frozen=True)
class SuiteRunView:
    command: str
    exit_code: int | None  # None: timed out
    tail: str  # the output's last lines, masked
    seconds: float


@dataclass(frozen=True)
class CostLine:
    n: int
    kind: str
    text: str
    calls: dict[Tier, int]
    cost_usd: float
    unpriced: bool  # some call has no known price
    frontier_usd: float | None  # the same tokens at frontier prices (None: no frontier price)


@dataclass(frozen=True)
class CostView:
    lines: list[CostLine]
    ledger: Ledger  # every row of the session, for the per-tier totals and the frontier-only estimate
    budget_usd: float | None  # the session's budget

    @property
    def total_usd(self) -> float:
        return self.ledger.spent_usd


@dataclass(frozen=True)
class HelpView:
    commands: list[tuple[str, str]] = field(default_factory=list)  # (usage, what it does)


View = Union[Notice, FixView, AnswerView, DiffView, SuiteRunView, CostView, HelpView]  # noqa: UP007 (3.10 runtime)


def cost_line(m: Message) -> CostLine:
    calls = {t: sum(1 for r in m.rows if r.tier == t and r.outcome in CALL_MADE) for t in TIERS}
    frontier = (
        None if any(r.frontier_cost_usd is None for r in m.rows) else sum(r.frontier_cost_usd or 0 for r in m.rows)
    )
    unpriced = any(r.cost_usd is None for r in m.rows)
    return CostLine(m.n, str(m.kind), m.text, calls, m.cost_usd, unpriced, frontier)
