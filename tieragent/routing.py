"""Routing and escalation as pure functions of data.

`patch_ladder` says which tier makes each patch attempt, from the task's class and risk; the
pipeline walks it until a patch validates. `budget_check` says whether the next call may be
made. Neither looks at files, models or clocks, so tests drive them table by table.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import TIERS, BudgetConfig, Price, RoutingConfig, Tier


@dataclass(frozen=True)
class Classification:
    task_class: str  # mechanical | local | repository | long_horizon
    risk: str  # low | medium | high
    files: tuple[str, ...]
    reason: str
    source: str = "model"  # "model" or "heuristic" (the small model's reply was unusable twice)

    def to_json(self) -> dict:
        return {
            "task_class": self.task_class,
            "risk": self.risk,
            "files": list(self.files),
            "reason": self.reason,
            "source": self.source,
        }


@dataclass(frozen=True)
class Rung:
    tier: Tier
    attempt: int  # 1-based, within the tier
    why: str
    whole_file: str | None = None  # ask for this file's complete content instead of a diff


def start_tier(policy: RoutingConfig, c: Classification) -> tuple[Tier, str]:
    if c.risk == "high":
        return policy.high_risk, "high risk"
    tier = policy.start.get(c.task_class, "mid")  # type: ignore[call-overload]
    return tier, f"task class {c.task_class}"


def patch_ladder(policy: RoutingConfig, c: Classification) -> list[Rung]:
    """Every patch attempt in order: the start tier's attempts, then each tier above it."""
    first, why = start_tier(policy, c)
    rungs: list[Rung] = []
    for tier in TIERS[TIERS.index(first) :]:
        for n in range(1, policy.attempts.get(tier, 0) + 1):
            if tier == first:
                reason = f"starts at {tier}: {why}" if n == 1 else f"retry {n - 1} at {tier} with the failure"
            else:
                reason = "escalated: cheaper attempts failed" if n == 1 else f"retry {n - 1} at {tier} with the failure"
            rungs.append(Rung(tier, n, reason))
    return rungs


def skip_tier(ladder: list[Rung], position: int, tier: Tier) -> int:
    """The next position after `position` that is not on `tier` (a tier whose provider is down)."""
    i = position + 1
    while i < len(ladder) and ladder[i].tier == tier:
        i += 1
    return i


def worst_case_cost(price: Price | None, prompt_tokens: int, max_output_tokens: int) -> float | None:
    if price is None:
        return None
    return (prompt_tokens * price.input_per_mtok + max_output_tokens * price.output_per_mtok) / 1_000_000


@dataclass(frozen=True)
class BudgetVerdict:
    allowed: bool
    reason: str = ""


def budget_check(budget: BudgetConfig, spent_usd: float, calls_made: int, worst_case_usd: float | None) -> BudgetVerdict:
    """May the next call be made? Worst case: its prompt at the input price plus max_tokens at the output price."""
    if budget.max_calls is not None and calls_made >= budget.max_calls:
        return BudgetVerdict(False, f"max calls reached ({budget.max_calls})")
    if budget.max_cost_usd is not None and worst_case_usd is not None:
        if spent_usd + worst_case_usd > budget.max_cost_usd:
            return BudgetVerdict(
                False,
                f"the next call could cost up to ${worst_case_usd:.4f}; with ${spent_usd:.4f} spent "
                f"that passes the budget of ${budget.max_cost_usd:.2f}",
            )
    return BudgetVerdict(True)


def explain(policy: RoutingConfig, budget: BudgetConfig, model_view: Classification, effective: Classification, risk_rules: list[str]) -> dict:
    """The routing decision and the evidence behind it, as data (for --explain-routing and --json)."""
    tier, why = start_tier(policy, effective)
    return {
        "task_class": effective.task_class,
        "model_risk": model_view.risk,
        "risk_rules": list(risk_rules),
        "risk": effective.risk,
        "start": tier,
        "why": why,
        "ladder": [f"{r.tier} #{r.attempt}: {r.why}" for r in patch_ladder(policy, effective)],
        "policy": {"start": dict(policy.start), "high_risk": policy.high_risk, "attempts": dict(policy.attempts), "review_high_risk": policy.review_high_risk},
        "budget": {"max_cost_usd": budget.max_cost_usd, "max_calls": budget.max_calls},
    }
