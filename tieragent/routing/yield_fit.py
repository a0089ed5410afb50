"""`routing.start: auto`: each task class starts at the tier with the least expected cost per solved task.

The evidence is a `Tally` per model and task class (flows/yield_history.py gathers it from the ledger's
history or a bench's results): the runs in which the model made patch attempts on a task of that class,
how many of those it solved, and what its attempts cost. For each tier of the ladder (its configured model):

- P(the tier solves) = (solved + S·p0) / (runs + S): a Beta prior of S = PRIOR_RUNS pseudo-runs whose
  mean p0 comes from the built-in table: PRIOR_AT_OR_ABOVE for the class's tier there and above it,
  PRIOR_BELOW for the tiers below it.
- C (the tier's cost per run) = the mean cost of the model's runs on this class; else on any class; else
  the tier's price × typical tokens of a patch call × the tier's attempts.

The ladder from tier i costs E_i = C_i + (1 - P_i)·E_next and solves S_i = P_i + (1 - P_i)·S_next (both 0
past the top), so E_i / S_i is its expected cost per solved task. Starting at i beats starting at the next
tier exactly when C_i < P_i × (E_next / S_next): a cheap tier is worth its attempts while they cost less
than its chance of success times what a solved task costs from the tier above. The start is the tier with
the least cost per solved task (a tie goes to the higher tier). A class with no recorded runs keeps the
built-in table's tier, as does a class whose ladder has a tier of unknown cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core.config import DEFAULT_START, Price
from ..core.vocab import TIERS, TaskClass, Tier

PRIOR_RUNS = 4.0  # the table's opinion weighs as much as four recorded runs
PRIOR_AT_OR_ABOVE = 0.8  # P(solves) the table implies for the tier it names and the tiers above it
PRIOR_BELOW = 0.3  # ... and for the tiers below it
TYPICAL_INPUT_TOKENS = 8_000  # one patch call's prompt (request, outline, files), for a tier with no history
TYPICAL_OUTPUT_TOKENS = 1_000


@dataclass
class Tally:
    """One model's recorded runs on one task class."""

    runs: int = 0  # runs in which the model made at least one patch attempt
    calls: int = 0  # its patch calls in them
    solved: int = 0  # runs whose accepted patch was the model's
    cost_usd: float = 0.0  # over the priced runs
    priced_runs: int = 0  # runs whose every patch call of the model had a price

    def add(self, other: Tally) -> None:
        self.runs += other.runs
        self.calls += other.calls
        self.solved += other.solved
        self.cost_usd += other.cost_usd
        self.priced_runs += other.priced_runs

    def mean_cost(self) -> float | None:
        return self.cost_usd / self.priced_runs if self.priced_runs else None

    def to_json(self) -> dict[str, Any]:
        mean = self.mean_cost()
        return {
            "runs": self.runs,
            "calls": self.calls,
            "solved": self.solved,
            "observed_rate": round(self.solved / self.runs, 4) if self.runs else None,
            "mean_cost_usd": None if mean is None else round(mean, 6),
        }


Rates = Mapping[tuple[str, str], Tally]  # (model, task class) -> its tally


@dataclass(frozen=True)
class TierInput:
    """A tier as the configuration has it: its model, its attempts, its price (None: unknown)."""

    tier: Tier
    model: str
    attempts: int
    price: Price | None


@dataclass(frozen=True)
class TierEstimate:
    tier: Tier
    model: str
    runs: int
    solved: int
    p: float  # P(the tier solves a run of this class), the prior included
    cost_usd: float | None  # C: the tier's expected cost per run
    cost_from: str  # "history", "history, all classes", "prices" or "unknown"
    per_solved_usd: float | None = None  # expected cost per solved task of the ladder starting here

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "model": self.model,
            "runs": self.runs,
            "solved": self.solved,
            "p": round(self.p, 4),
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "cost_from": self.cost_from,
            "per_solved_usd": None if self.per_solved_usd is None else round(self.per_solved_usd, 6),
        }


@dataclass(frozen=True)
class StartChoice:
    """Where a task class starts under `auto`, why, and the estimates behind it."""

    task_class: TaskClass
    tier: Tier
    why: str
    table: Tier  # the built-in table's tier (the prior, and the choice without evidence)
    estimates: tuple[TierEstimate, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "task_class": self.task_class,
            "start": self.tier,
            "why": self.why,
            "table": self.table,
            "estimates": [e.to_json() for e in self.estimates],
        }


def prior_p(table_tier: Tier, tier: Tier) -> float:
    return PRIOR_AT_OR_ABOVE if TIERS.index(tier) >= TIERS.index(table_tier) else PRIOR_BELOW


def typical_cost(price: Price | None, attempts: int) -> float | None:
    """A run's cost at list price when the tier has no history: typical tokens × its attempts."""
    if price is None:
        return None
    per_call = TYPICAL_INPUT_TOKENS * price.input_per_mtok + TYPICAL_OUTPUT_TOKENS * price.output_per_mtok
    return per_call / 1_000_000 * max(attempts, 1)


def estimate(t: TierInput, task_class: TaskClass, table_tier: Tier, rates: Rates) -> TierEstimate:
    """P and C for one tier on one class (without the ladder's cost per solved task)."""
    own = rates.get((t.model, task_class), Tally())
    p = (own.solved + PRIOR_RUNS * prior_p(table_tier, t.tier)) / (own.runs + PRIOR_RUNS)
    anywhere = Tally()
    for (model, _), tally in rates.items():
        if model == t.model:
            anywhere.add(tally)
    cost, source = own.mean_cost(), "history"
    if cost is None:
        cost, source = anywhere.mean_cost(), "history, all classes"
    if cost is None:
        cost = typical_cost(t.price, t.attempts)
        source = "prices" if cost is not None else "unknown"
    return TierEstimate(t.tier, t.model, own.runs, own.solved, p, cost, source)


def ladder_costs(estimates: Sequence[TierEstimate]) -> list[TierEstimate]:
    """Each estimate with the expected cost per solved task of the ladder that starts at it (cheapest
    first; every cost known)."""
    spent, solves = 0.0, 0.0
    out: list[TierEstimate] = []
    for e in reversed(estimates):
        spent = (e.cost_usd or 0.0) + (1 - e.p) * spent
        solves = e.p + (1 - e.p) * solves
        out.append(replace(e, per_solved_usd=spent / solves if solves else None))
    return out[::-1]


def choose_start(
    task_class: TaskClass, tiers: Sequence[TierInput], rates: Rates, table: Mapping[TaskClass, Tier] = DEFAULT_START
) -> StartChoice:
    """The start tier of `task_class` among `tiers` (the ladder's tiers with attempts, cheapest first)."""
    table_tier = table.get(task_class, "mid")
    usable = [t for t in tiers if t.attempts > 0]
    estimates = [estimate(t, task_class, table_tier, rates) for t in usable]
    if not usable or not any(e.runs for e in estimates):
        why = f"auto: no recorded runs of {task_class} tasks yet, so the built-in table's {table_tier}"
        return StartChoice(task_class, table_tier, why, table_tier, tuple(estimates))
    unknown = next((e for e in estimates if e.cost_usd is None), None)
    if unknown is not None:
        why = (
            f"auto: no cost known for the {unknown.tier} tier ({unknown.model}: no priced run, no price), "
            f"so the built-in table's {table_tier}"
        )
        return StartChoice(task_class, table_tier, why, table_tier, tuple(estimates))
    costed = ladder_costs(estimates)
    best = min(range(len(costed)), key=lambda i: (costed[i].per_solved_usd or 0.0, -i))
    return StartChoice(task_class, costed[best].tier, _why(costed, best), table_tier, tuple(costed))


def _why(costed: Sequence[TierEstimate], best: int) -> str:
    """The comparison that decided: the chosen tier against the ladder above it, and the tier below
    against the chosen ladder."""
    chosen = costed[best]
    parts = [f"auto: {chosen.tier} solves {chosen.solved}/{chosen.runs} recorded runs (P {chosen.p:.2f})"]
    if best + 1 < len(costed):
        above = costed[best + 1]
        parts.append(
            f"its ${chosen.cost_usd:.4f} a run < {chosen.p:.2f} × "
            f"${above.per_solved_usd:.4f} per solved task from {above.tier}"
        )
    if best > 0:
        below = costed[best - 1]
        parts.append(
            f"{below.tier}'s ${below.cost_usd:.4f} a run ≥ its {below.p:.2f} × "
            f"${chosen.per_solved_usd:.4f} per solved task from {chosen.tier}"
        )
    return "; ".join(parts)
