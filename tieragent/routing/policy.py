"""Which tier makes each patch attempt, from the task's class and risk.

`plan_route` turns a classification and the risk rules' reasons into a `RoutePlan`: the effective
risk, the ladder of attempts, and the evidence behind it. The fix flow walks the ladder until a
patch validates. Tests drive these functions table by table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..core.config import BudgetConfig, RoutingConfig
from ..core.vocab import MID, TIERS, EditFormat, Risk, TaskClass, Tier


@dataclass(frozen=True)
class Classification:
    task_class: TaskClass
    risk: Risk
    files: tuple[str, ...]
    reason: str
    source: str = "model"  # "model" or "heuristic" (the small model's reply was unusable twice)

    def to_json(self) -> dict[str, Any]:
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
    whole_files: tuple[str, ...] = ()  # with edit_format "whole": the files whose complete content is asked for
    edit_format: EditFormat = "diff"
    format_why: str = ""  # why this attempt uses its edit format (the ledger row's edit_format_reason)


def start_tier(policy: RoutingConfig, c: Classification) -> tuple[Tier, str]:
    if c.risk == "high":
        return policy.high_risk, "high risk"
    tier = policy.start.get(c.task_class, MID)
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


@dataclass(frozen=True)
class RoutePlan:
    """The routing decision for one task: what the model said, what the rules added, and the ladder."""

    model_view: Classification  # as the small model (or the heuristic) classified it
    effective: Classification  # with the risk the rules raised
    risk_reasons: tuple[str, ...]  # why the task is high-risk (empty when it is not)
    start: Tier
    why: str
    ladder: tuple[Rung, ...]
    explanation: dict[str, Any] = field(default_factory=dict)  # for --explain-routing and --json


def plan_route(policy: RoutingConfig, budget: BudgetConfig, c: Classification, rule_reasons: list[str]) -> RoutePlan:
    """Either the model or a rule saying high makes the task high-risk."""
    effective = replace(c, risk="high") if rule_reasons else c
    reasons = ([f"the small model said {c.risk} risk"] if c.risk == "high" else []) + list(rule_reasons)
    tier, why = start_tier(policy, effective)
    ladder = tuple(patch_ladder(policy, effective))
    explanation = {
        "task_class": effective.task_class,
        "model_risk": c.risk,
        "risk_rules": list(rule_reasons),
        "risk": effective.risk,
        "start": tier,
        "why": why,
        "ladder": [f"{r.tier} #{r.attempt}: {r.why}" for r in ladder],
        "policy": {
            "start": dict(policy.start),
            "high_risk": policy.high_risk,
            "attempts": dict(policy.attempts),
            "review_high_risk": policy.review_high_risk,
        },
        "budget": {"max_cost_usd": budget.max_cost_usd, "max_calls": budget.max_calls},
    }
    return RoutePlan(c, effective, tuple(reasons), tier, why, ladder, explanation)
