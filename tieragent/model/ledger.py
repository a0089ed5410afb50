"""The cost ledger: one row per model call, totals per tier, and the frontier-only estimate.

A call whose model has no known price costs `None` (shown as `?`), never a silent $0. The
frontier-only estimate prices every call's tokens at the frontier tier's prices: what the same
work would have cost had every step gone to the frontier model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..core.config import Price
from ..core.private_files import append_private
from ..core.vocab import CALL_MADE, FRONTIER, TIERS, Outcome, Step, Tier
from .prices import cost_usd
from .protocol import ModelReply, Usage

USD_DECIMALS = 6  # a millionth of a dollar: rows keep no float noise, and they add up to the totals shown


def _usd(amount: float | None) -> float | None:
    return None if amount is None else round(amount, USD_DECIMALS)


def _one_line(note: str) -> str:
    return note.splitlines()[0][:200] if note else ""


@dataclass
class LedgerRow:
    step: Step
    tier: Tier
    model: str
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    cost_usd: float | None
    seconds: float
    outcome: Outcome
    note: str = ""  # one line: why it failed, or what the call was for
    usage_estimated: bool = False
    frontier_cost_usd: float | None = None  # the same tokens at frontier prices
    edit_format: str | None = None  # patch steps: "diff", "whole" or "search_replace"
    edit_format_reason: str | None = None  # patch steps: why that format ("built-in table: gpt-5 family", ...)
    truncated: bool = False  # the reply was cut off at max_tokens, so it was not used
    cache_write_tokens: int = 0  # of input_tokens, those written to the prompt cache (billed apart by Anthropic)
    reasoning_tokens: int = 0  # of output_tokens, those spent reasoning (priced as output)
    effort: str | None = None  # the reasoning effort sent (None: none sent, the provider's default)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["step"], d["outcome"] = str(self.step), str(self.outcome)
        d["seconds"] = round(self.seconds, 3)
        return d


@dataclass
class TierTotals:
    calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    reasoning_tokens: int = 0  # of output_tokens


@dataclass
class Ledger:
    prices: dict[Tier, Price | None]
    models: dict[Tier, str]
    rows: list[LedgerRow] = field(default_factory=list)
    mask: Callable[[str], str] = field(default=lambda note: note, repr=False)  # notes quote files and errors: mask them

    def record(
        self,
        step: Step | str,
        tier: Tier,
        reply: ModelReply | None,
        outcome: Outcome | str,
        note: str = "",
        edit_format: str | None = None,
        effort: str | None = None,
        seconds: float = 0.0,
    ) -> LedgerRow:
        """One row for one call (or one call not made). Any flow's steps; outcomes from `Outcome`;
        `seconds`: the wait of a call that brought no reply (a reply carries its own)."""
        usage = reply.usage if reply else Usage()
        row = LedgerRow(
            step=Step(step),
            tier=tier,
            model=reply.model if reply else self.models[tier],
            input_tokens=usage.input_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=_usd(cost_usd(usage, self.prices.get(tier))),
            seconds=reply.seconds if reply else seconds,
            outcome=Outcome(outcome),
            note=self.mask(_one_line(note)),
            usage_estimated=usage.estimated,
            frontier_cost_usd=_usd(cost_usd(usage, self.prices.get(FRONTIER))),
            edit_format=edit_format,
            cache_write_tokens=usage.cache_write_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            effort=effort,
        )
        self.rows.append(row)
        return row

    def set_outcome(self, row: LedgerRow, outcome: Outcome | str, note: str = "") -> None:
        """What the caller made of a reply (a format error, failed tests, ...), on the call's own row."""
        row.outcome = Outcome(outcome)
        row.note = self.mask(_one_line(note)) if note else row.note

    @property
    def spent_usd(self) -> float:
        return round(sum(r.cost_usd or 0.0 for r in self.rows), USD_DECIMALS)

    @property
    def calls(self) -> int:
        """Requests the provider received (a call stopped by the budget was never made)."""
        return sum(r.outcome in CALL_MADE for r in self.rows)

    def by_tier(self) -> dict[Tier, TierTotals]:
        out = {t: TierTotals() for t in TIERS}
        for r in self.rows:
            if r.outcome not in CALL_MADE:
                continue
            t = out[r.tier]
            t.calls += 1
            t.input_tokens += r.input_tokens
            t.cached_input_tokens += r.cached_input_tokens
            t.output_tokens += r.output_tokens
            t.reasoning_tokens += r.reasoning_tokens
            if r.cost_usd is None:
                t.unpriced_calls += 1
            else:
                t.cost_usd += r.cost_usd
        return out

    def frontier_only_estimate(self) -> float | None:
        if any(r.frontier_cost_usd is None for r in self.rows):
            return None
        return sum(r.frontier_cost_usd or 0.0 for r in self.rows)

    def unpriced_models(self) -> list[str]:
        return sorted({r.model for r in self.rows if r.cost_usd is None})

    def totals(self) -> dict[str, Any]:
        tiers = self.by_tier()
        return {
            "cost_usd": round(self.spent_usd, 6),
            "cost_complete": not self.unpriced_models(),  # False: some calls have no known price
            "calls": self.calls,
            "by_tier": {t: {**asdict(v), "cost_usd": round(v.cost_usd, 6)} for t, v in tiers.items()},
            "frontier_only_estimate_usd": _round(self.frontier_only_estimate()),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def append_history(state_dir: Path, record: dict[str, Any]) -> Path:
    """One JSON line per run, under the repo's .git directory (never in the tree), readable only by
    the user. The caller masks the record (the flows' results are `MaskedDocument`s)."""
    line = json.dumps(record, sort_keys=True) + "\n"
    return append_private(
        state_dir / "ledger.jsonl", line
    )  # one O_APPEND write: concurrent runs never interleave lines


def read_history(state_dir: Path) -> list[dict[str, Any]]:
    path = state_dir / "ledger.jsonl"
    if not path.exists():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            runs.append(json.loads(line))
        except ValueError:
            continue  # a torn last line from a killed run: skip it
    return runs
