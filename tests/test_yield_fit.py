"""`routing.start: auto` as a pure function of a synthetic history: routing/yield_fit.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tieragent.core.config import BudgetConfig, Price, RoutingConfig
from tieragent.routing.policy import Classification, patch_ladder, plan_route
from tieragent.routing.yield_fit import Tally, TierInput, choose_start, ladder_costs, typical_cost

PRICES = {
    "small": Price(input_per_mtok=0.1, output_per_mtok=0.4),  # $0.0012 a typical call
    "mid": Price(input_per_mtok=1.0, output_per_mtok=4.0),  # $0.012
    "frontier": Price(input_per_mtok=5.0, output_per_mtok=20.0),  # $0.06
}
ATTEMPTS = {"small": 1, "mid": 2, "frontier": 2}


def tiers(prices=PRICES, attempts=ATTEMPTS):
    return [TierInput(t, f"m-{t}", attempts[t], prices[t]) for t in ("small", "mid", "frontier")]


def tally(runs, solved, cost_per_run, calls=None):
    return Tally(runs, calls or runs, solved, cost_per_run * runs, runs)


def test_no_recorded_runs_keeps_the_built_in_table():
    for task_class, table in (("mechanical", "small"), ("local", "mid"), ("long_horizon", "frontier")):
        choice = choose_start(task_class, tiers(), {})
        assert choice.tier == table and "no recorded runs" in choice.why


def test_a_cheap_tier_that_solves_is_chosen_and_one_that_fails_is_not():
    frontier = tally(10, 10, 0.10)
    solving = {("m-small", "local"): tally(10, 9, 0.002), ("m-frontier", "local"): frontier}
    choice = choose_start("local", tiers(), solving)
    assert choice.tier == "small"  # the table says mid; the history says small earns its calls
    assert "small solves 9/10" in choice.why
    failing = {
        ("m-small", "local"): tally(20, 0, 0.002),
        ("m-mid", "local"): tally(20, 1, 0.03),
        ("m-frontier", "local"): frontier,
    }
    assert choose_start("local", tiers(), failing).tier == "frontier"


def test_the_rule_is_cheap_cost_below_p_times_the_frontier_cost_per_solved():
    """Two tiers, a frontier that solves everything: start cheap exactly while C < P × C_frontier."""
    two = [t for t in tiers() if t.tier != "small"]
    frontier = tally(50, 50, 0.10)  # P = (50 + 3.2) / 54
    for mid_solved, expected in ((30, "mid"), (10, "frontier")):
        rates = {("m-mid", "local"): tally(50, mid_solved, 0.05), ("m-frontier", "local"): frontier}
        choice = choose_start("local", two, rates)
        mid, top = choice.estimates
        assert (mid.cost_usd < mid.p * top.per_solved_usd) == (expected == "mid")
        assert choice.tier == expected


def test_cost_per_solved_is_the_ladder_arithmetic():
    costed = ladder_costs(choose_start("local", tiers(), {("m-mid", "local"): tally(1, 1, 0.01)}).estimates)
    _, mid, top = costed
    assert top.per_solved_usd == pytest.approx(top.cost_usd / top.p)
    spent = mid.cost_usd + (1 - mid.p) * top.cost_usd
    assert mid.per_solved_usd == pytest.approx(spent / (mid.p + (1 - mid.p) * top.p))


def test_costs_come_from_history_then_the_model_elsewhere_then_prices():
    rates = {("m-mid", "local"): tally(4, 2, 0.5), ("m-small", "repository"): tally(3, 1, 0.004)}
    small, mid, top = choose_start("local", tiers(), rates).estimates
    assert (mid.cost_usd, mid.cost_from) == (pytest.approx(0.5), "history")
    assert (small.cost_usd, small.cost_from) == (pytest.approx(0.004), "history, all classes")
    assert (top.cost_usd, top.cost_from) == (pytest.approx(typical_cost(PRICES["frontier"], 2)), "prices")
    assert typical_cost(PRICES["frontier"], 2) == pytest.approx(0.12)


def test_prior_pulls_few_runs_toward_the_table():
    rates = {("m-small", "local"): tally(1, 1, 0.001)}
    small = choose_start("local", tiers(), rates).estimates[0]
    assert small.p == pytest.approx((1 + 4 * 0.3) / (1 + 4))  # one lucky run is not a 100% rate


def test_a_tier_of_unknown_cost_keeps_the_table():
    prices = {**PRICES, "frontier": None}
    choice = choose_start("local", tiers(prices), {("m-small", "local"): tally(5, 5, 0.001)})
    assert choice.tier == "mid" and "no cost known for the frontier tier" in choice.why


def test_a_tier_without_attempts_is_never_the_start():
    attempts = {**ATTEMPTS, "small": 0}
    choice = choose_start("local", tiers(attempts=attempts), {("m-small", "local"): tally(10, 10, 0.0001)})
    assert choice.tier != "small" and [e.tier for e in choice.estimates] == ["mid", "frontier"]


def test_config_accepts_auto_for_the_table_or_one_class():
    assert set(RoutingConfig(start="auto").start.values()) == {"auto"}
    one = RoutingConfig(start={"local": "auto"}).start
    assert one["local"] == "auto" and one["mechanical"] == "small"
    with pytest.raises(ValidationError, match="give auto, or a mapping of task class"):
        RoutingConfig(start="sometimes")


def test_the_ladder_starts_at_the_fitted_tier_only_where_the_table_says_auto():
    fitted = choose_start("local", tiers(), {("m-small", "local"): tally(10, 9, 0.002)})
    c = Classification("local", "low", (), "")
    auto = RoutingConfig(start={"local": "auto"})
    assert patch_ladder(auto, c, fitted=fitted)[0].tier == "small"
    assert patch_ladder(RoutingConfig(), c, fitted=fitted)[0].tier == "mid"  # a fixed table wins
    assert patch_ladder(auto, c)[0].tier == "mid"  # auto with no fit: the built-in table
    high = plan_route(auto, BudgetConfig(), Classification("local", "high", (), ""), [], fitted=fitted)
    assert high.start == "frontier"  # high risk still starts where high_risk says
    plan = plan_route(auto, BudgetConfig(), c, [], fitted=fitted)
    assert plan.explanation["auto_start"]["start"] == "small" and "small solves 9/10" in plan.why
