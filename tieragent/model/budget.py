"""May the next call be made? A pure function of the budget, what was spent, and the call's worst case."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import BudgetConfig
from ..core.money import usd


@dataclass(frozen=True)
class BudgetVerdict:
    allowed: bool
    reason: str = ""


def budget_check(
    budget: BudgetConfig, spent_usd: float, calls_made: int, worst_case_usd: float | None
) -> BudgetVerdict:
    """Worst case: the call's prompt at the input price plus max_tokens at the output price."""
    if budget.max_calls is not None and calls_made >= budget.max_calls:
        return BudgetVerdict(False, f"max calls reached ({budget.max_calls})")
    cap = budget.max_cost_usd
    if cap is not None and worst_case_usd is not None and spent_usd + worst_case_usd > cap:
        return BudgetVerdict(
            False,
            f"the next call could cost up to {usd(worst_case_usd)}; with {usd(spent_usd)} spent "
            f"that passes the budget of {usd(cap)}",
        )
    return BudgetVerdict(True)
