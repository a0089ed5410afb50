"""Which tier makes each patch attempt, from the task's class and risk.

`plan_route` turns a classification and the risk rules' reasons into a `RoutePlan`: the effective
risk, the ladder of attempts, and the evidence behind it. The fix flow walks the ladder until a
patch validates. Tests drive these functions table by table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..core.config import DEFAULT_START, BudgetConfig, RoutingConfig
from ..core.vocab import MID, TIERS, EditFormat, Effort, Risk, TaskClass, Tier
from .yield_fit import StartChoice


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
    effort: Effort | None = None  # the task class's reasoning effort (routing.reasoning_effort); None: the tier's
    effort_raise: int = 0  # levels of effort above that (routing.raise_effort_before_escalating)

    def describe(self) -> str:
        """The rung as the route shows it."""
        effort = f"; effort {self.effort}" if self.effort else ""
        raised = f"; effort +{self.effort_raise}" if self.effort_raise else ""
        return f"{self.tier} #{self.attempt}: {self.why}{effort}{raised}"


def start_tier(
    policy: RoutingConfig, c: Classification, chosen: Tier | None = None, fitted: StartChoice | None = None
) -> tuple[Tier, str]:
    """Where the ladder starts, and why; `chosen` is the user's own start (chat's /tier), which wins.
    `fitted`: the measured choice for the class (routing/yield_fit.py), used where the table says auto."""
    if chosen is not None:
        return chosen, f"chosen by the user ({chosen})"
    if c.risk == "high":
        return policy.high_risk, "high risk"
    setting = policy.start.get(c.task_class, MID)
    fixed = next((t for t in TIERS if t == setting), None)  # None: auto
    if fixed is not None:
        return fixed, f"task class {c.task_class}"
    if fitted is not None and fitted.task_class == c.task_class:
        return fitted.tier, fitted.why
    table = DEFAULT_START.get(c.task_class, MID)
    return table, f"auto, without a fit: the built-in table's {table}"


def patch_ladder(
    policy: RoutingConfig, c: Classification, chosen: Tier | None = None, fitted: StartChoice | None = None
) -> list[Rung]:
    """Every patch attempt in order: the start tier's attempts (`chosen`: the user's own start), then each
    tier above it. With `raise_effort_before_escalating`, a tier below the last one gets one more attempt,
    with more effort."""
    first, why = start_tier(policy, c, chosen, fitted)
    effort = policy.reasoning_effort.get(c.task_class)
    tiers = [t for t in TIERS[TIERS.index(first) :] if policy.attempts.get(t, 0)]
    rungs: list[Rung] = []
    for tier in tiers:
        attempts = policy.attempts[tier]
        for n in range(1, attempts + 1):
            if tier == first:
                reason = f"starts at {tier}: {why}" if n == 1 else f"retry {n - 1} at {tier} with the failure"
            else:
                reason = "escalated: cheaper attempts failed" if n == 1 else f"retry {n - 1} at {tier} with the failure"
            rungs.append(Rung(tier, n, reason, effort=effort))
        if policy.raise_effort_before_escalating and tier != tiers[-1]:
            rungs.append(Rung(tier, attempts + 1, f"retry at {tier} with more effort", effort=effort, effort_raise=1))
    return rungs


def skip_tier(ladder: list[Rung], position: int, tier: Tier) -> int:
    """The next position after `position` that is not on `tier` (a tier whose provider is down)."""
    i = position + 1
    while i < len(ladder) and ladder[i].tier == tier:
        i += 1
    return i


def effort_retry(ladder: list[Rung], position: int, tier: Tier) -> int | None:
    """The position of `tier`'s attempt with more effort after `position`, if it has one: what a tier
    whose retries would repeat the same failure tries before moving up."""
    for i in range(position + 1, skip_tier(ladder, position, tier)):
        if ladder[i].effort_raise:
            return i
    return None


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


def plan_route(
    policy: RoutingConfig,
    budget: BudgetConfig,
    c: Classification,
    rule_reasons: list[str],
    chosen: Tier | None = None,
    fitted: StartChoice | None = None,
) -> RoutePlan:
    """Either the model or a rule saying high makes the task high-risk. `chosen`: the user's start tier
    (chat's /tier); a high-risk patch from below the frontier is still reviewed. `fitted`: the measured
    start of the task's class, for `routing.start: auto`."""
    effective = replace(c, risk="high") if rule_reasons else c
    reasons = ([f"the small model said {c.risk} risk"] if c.risk == "high" else []) + list(rule_reasons)
    tier, why = start_tier(policy, effective, chosen, fitted)
    ladder = tuple(patch_ladder(policy, effective, chosen, fitted))
    explanation = {
        "task_class": effective.task_class,
        "model_risk": c.risk,
        "risk_rules": list(rule_reasons),
        "risk": effective.risk,
        "start": tier,
        "why": why,
        "ladder": [r.describe() for r in ladder],
        "policy": {
            "start": dict(policy.start),
            "high_risk": policy.high_risk,
            "attempts": dict(policy.attempts),
            "review_high_risk": policy.review_high_risk,
            "verify": {"when": policy.verify, "tier": policy.verify_tier, "effort": policy.verify_effort},
            "reasoning_effort": dict(policy.reasoning_effort),
            "raise_effort_before_escalating": policy.raise_effort_before_escalating,
        },
        "budget": {"max_cost_usd": budget.max_cost_usd, "max_calls": budget.max_calls},
    }
    if fitted is not None:  # routing.start: auto for this class: the estimates behind the start
        explanation["auto_start"] = fitted.to_json()
    return RoutePlan(c, effective, tuple(reasons), tier, why, ladder, explanation)
