"""Routing and budgets are pure functions: driven table by table."""

from __future__ import annotations

import pytest

from tieragent.core.config import BudgetConfig, Price, RoutingConfig
from tieragent.model.budget import budget_check
from tieragent.model.prices import worst_case_cost
from tieragent.routing.policy import Classification, patch_ladder, skip_tier


def c(task_class="local", risk="low"):
    return Classification(task_class, risk, (), "")


@pytest.mark.parametrize(
    "task_class,risk,expected",
    [
        ("local", "low", ["mid", "mid", "frontier", "frontier"]),
        ("local", "medium", ["mid", "mid", "frontier", "frontier"]),
        ("repository", "low", ["mid", "mid", "frontier", "frontier"]),
        ("mechanical", "low", ["small", "mid", "mid", "frontier", "frontier"]),
        ("local", "high", ["frontier", "frontier"]),
        ("long_horizon", "low", ["frontier", "frontier"]),
    ],
)
def test_default_ladder(task_class, risk, expected):
    assert [r.tier for r in patch_ladder(RoutingConfig(), c(task_class, risk))] == expected


def test_custom_policy_starts_small_and_counts_attempts():
    policy = RoutingConfig(
        start={"mechanical": "small", "local": "mid", "repository": "mid", "long_horizon": "frontier"},
        attempts={"small": 1, "mid": 1, "frontier": 3},
    )
    ladder = patch_ladder(policy, c("mechanical"))
    assert [(r.tier, r.attempt) for r in ladder] == [
        ("small", 1),
        ("mid", 1),
        ("frontier", 1),
        ("frontier", 2),
        ("frontier", 3),
    ]
    assert "starts at small" in ladder[0].why and "escalated" in ladder[1].why and "retry 1" in ladder[3].why


def test_zero_attempts_skips_a_tier():
    policy = RoutingConfig(attempts={"small": 1, "mid": 0, "frontier": 1})
    assert [r.tier for r in patch_ladder(policy, c())] == ["frontier"]


def test_high_risk_start_is_configurable():
    policy = RoutingConfig(high_risk="mid")
    assert [r.tier for r in patch_ladder(policy, c(risk="high"))] == ["mid", "mid", "frontier", "frontier"]


def test_skip_tier_moves_past_a_down_tier():
    ladder = patch_ladder(RoutingConfig(), c())
    assert skip_tier(ladder, 0, "mid") == 2
    assert skip_tier(ladder, 2, "frontier") == 4


PRICE = Price(input_per_mtok=10, output_per_mtok=30)


@pytest.mark.parametrize(
    "budget,spent,calls,worst,allowed",
    [
        (BudgetConfig(max_cost_usd=1.0), 0.0, 0, 0.5, True),
        (BudgetConfig(max_cost_usd=1.0), 0.6, 3, 0.5, False),
        (BudgetConfig(max_cost_usd=1.0), 0.5, 3, 0.5, True),  # exactly at the limit is allowed
        (BudgetConfig(max_cost_usd=None), 99.0, 3, 5.0, True),
        (BudgetConfig(max_cost_usd=1.0), 0.9, 3, None, True),  # unknown price: cannot bound it
        (BudgetConfig(max_cost_usd=None, max_calls=3), 0.0, 3, 0.0, False),
        (BudgetConfig(max_cost_usd=None, max_calls=3), 0.0, 2, 0.0, True),
    ],
)
def test_budget_check(budget, spent, calls, worst, allowed):
    assert budget_check(budget, spent, calls, worst).allowed is allowed


def test_worst_case_cost():
    assert worst_case_cost(PRICE, 1000, 2000) == pytest.approx((1000 * 10 + 2000 * 30) / 1e6)
    assert worst_case_cost(None, 1000, 2000) is None


def test_context_budget_fits_the_smallest_window_on_the_route():
    from tieragent.repo.context import context_budget

    assert context_budget(12000, {"mid": (200_000, 4096), "frontier": (200_000, 4096)}) == 12000
    assert context_budget(12000, {"small": (8192, 1024), "mid": (200_000, 4096)}) == 8192 - 1024 - 3000
    assert context_budget(12000, {"mid": (None, 4096)}) == 12000  # unknown window: 32k assumed
    assert context_budget(12000, {"mid": (4000, 4096)}) == 0


def test_documented_routing_table_matches_the_code():
    """The table in docs/routing.md is what patch_ladder does with the default policy."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "routing.md").read_text()
    table = page.split("## The policy", 1)[1].split("\n\n", 3)[2]
    rows = [r for r in table.splitlines() if r.startswith(("| `", "| any"))]
    assert len(rows) == 5
    for row in rows:
        label, start, then = [cell.strip() for cell in row.strip("|").split("|")]
        c = (
            Classification("local", "high", (), "")
            if label.startswith("any")
            else Classification(label.strip("`"), "low", (), "")
        )
        ladder = [(r.tier, r.attempt) for r in patch_ladder(RoutingConfig(), c)]
        documented = re.findall(r"(small|mid|frontier) \((\d+)", f"{start} {then}")
        expected = [(tier, n) for tier, count in documented for n in range(1, int(count) + 1)]
        assert ladder == expected, row


def test_a_partial_routing_table_keeps_the_other_defaults():
    policy = RoutingConfig(attempts={"mid": 3}, start={"mechanical": "mid"})
    assert policy.attempts == {"small": 1, "mid": 3, "frontier": 2}
    assert policy.start["mechanical"] == "mid" and policy.start["long_horizon"] == "frontier"
    ladder = patch_ladder(policy, Classification("local", "low", (), ""))
    assert [r.tier for r in ladder] == ["mid", "mid", "mid", "frontier", "frontier"]
