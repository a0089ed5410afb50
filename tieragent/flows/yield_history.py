"""What recorded runs say about each model's yield per task class: the evidence of `routing.start: auto`.

The decision is routing's (routing/yield_fit.py); this module counts, per model and task class, the runs
in which the model made patch attempts, the runs it solved, its patch calls and their cost. The fix flow
gives the tallies of this repository's ledger history, `tieragent ledger --fit` shows them, and
`tieragent bench --apply` gives those of a bench's results (flows/bench/yields.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core.config import Config, Price
from ..core.vocab import TASK_CLASSES, TIERS, Step, TaskClass, Tier
from ..model.ledger import read_history
from ..routing.yield_fit import Rates, StartChoice, Tally, TierInput, choose_start
from .ledger_summary import NO_REPLY

Tallies = dict[tuple[str, str], Tally]
JUDGING = (Step.VERIFY, Step.REVIEW)  # calls that judge the patch before them


def add_run(out: Tallies, task_class: str, steps: Iterable[dict[str, Any]], solved_by: str | None) -> None:
    """One run's patch calls, per model; `solved_by`: the model whose patch was accepted (None: none was).
    A verify or review call is part of what the patch it judged cost: a cheap patch that needs the frontier's
    second look is not free."""
    per_model: dict[str, Tally] = {}
    unpriced: set[str] = set()
    judged: str | None = None  # the model of the last patch that got a reply
    for row in steps:
        if row.get("step") in JUDGING and judged is not None and row.get("outcome") not in NO_REPLY:
            _add_cost(per_model[judged], row, judged, unpriced)
            continue
        if row.get("step") != Step.PATCH or row.get("outcome") in NO_REPLY or not row.get("model"):
            continue  # a call that was not made, or that said nothing about the model's output
        judged = model = str(row["model"])
        tally = per_model.setdefault(model, Tally(runs=1, priced_runs=1))
        tally.calls += 1
        _add_cost(tally, row, model, unpriced)
    for model, tally in per_model.items():
        if model in unpriced:  # part of the run's cost unknown: its outcome counts, its cost does not
            tally.cost_usd, tally.priced_runs = 0.0, 0
        tally.solved = int(model == solved_by)
        out.setdefault((model, task_class), Tally()).add(tally)


def _add_cost(tally: Tally, row: dict[str, Any], model: str, unpriced: set[str]) -> None:
    if row.get("cost_usd") is None:
        unpriced.add(model)
    else:
        tally.cost_usd += float(row["cost_usd"])


def tallies_from_history(runs: Iterable[dict[str, Any]]) -> Tallies:
    """From the ledger's history lines: fix runs of a known task class; solved means the run's accepted
    patch (or, in lines that do not name it, the last ok patch of a fixed run) was the model's."""
    out: Tallies = {}
    for run in runs:
        task_class = (run.get("classification") or {}).get("task_class")
        if run.get("flow", "fix") != "fix" or task_class not in TASK_CLASSES:
            continue
        steps = run.get("steps") or []
        accepted = run.get("accepted_step") if "accepted_step" in run else _last_ok_patch(steps, run.get("status"))
        solver = steps[accepted].get("model") if isinstance(accepted, int) and 0 <= accepted < len(steps) else None
        add_run(out, task_class, steps, solver)
    return out


def _last_ok_patch(steps: list[dict[str, Any]], status: Any) -> int | None:
    if status != "fixed":
        return None
    return max(
        (i for i, r in enumerate(steps) if r.get("step") == Step.PATCH and r.get("outcome") == "ok"), default=None
    )


def tier_inputs(cfg: Config, prices: Mapping[Tier, Price | None]) -> list[TierInput]:
    """The configured tiers, cheapest first, as the decision sees them."""
    out = []
    for tier in TIERS:
        tc = getattr(cfg.tiers, tier)
        if tc is not None:
            out.append(TierInput(tier, tc.model, cfg.routing.attempts.get(tier, 0), tc.price or prices.get(tier)))
    return out


def fitted_starts(cfg: Config, prices: Mapping[Tier, Price | None], rates: Rates) -> dict[TaskClass, StartChoice]:
    """Every task class's start as `auto` would choose it with these tallies."""
    inputs = tier_inputs(cfg, prices)
    return {c: choose_start(c, inputs, rates) for c in TASK_CLASSES}


def fitted_start(
    state_dir: Path, cfg: Config, prices: Mapping[Tier, Price | None], task_class: TaskClass
) -> StartChoice:
    """One class's start from this repository's ledger history (the fix flow, when its class is auto)."""
    return choose_start(task_class, tier_inputs(cfg, prices), tallies_from_history(read_history(state_dir)))


def tallies_to_json(rates: Rates) -> list[dict[str, Any]]:
    return [
        {"model": model, "task_class": task_class, **tally.to_json()}
        for (model, task_class), tally in sorted(rates.items())
    ]
