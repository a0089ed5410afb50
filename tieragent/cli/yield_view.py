"""`tieragent ledger --fit`: each model's measured yield per task class, and the start each class would
get under `routing.start: auto` (routing/yield_fit.py decides; flows/yield_history.py counts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..core.config import Config, Price
from ..core.vocab import TIERS, TaskClass, Tier
from ..flows.ledger_summary import runs_since
from ..flows.yield_history import fitted_starts, tallies_from_history, tallies_to_json
from ..model.ledger import read_history
from ..model.model_map import known_price
from ..repo.workspace import GitWorkspace
from ..routing.yield_fit import StartChoice


def config_prices(cfg: Config) -> dict[Tier, Price | None]:
    """Each configured tier's price: the config's, else the model map's (no provider is contacted)."""
    out: dict[Tier, Price | None] = {}
    for tier in TIERS:
        tc = getattr(cfg.tiers, tier)
        if tc is not None:
            out[tier] = tc.price or known_price(tc.model)
    return out


def starts_json(cfg: Config, starts: Mapping[TaskClass, StartChoice]) -> dict[str, Any]:
    """Each class's fitted start beside what the configuration says now."""
    return {c: {**choice.to_json(), "configured": cfg.routing.start.get(c)} for c, choice in starts.items()}


def fit_document(ws: GitWorkspace, cfg: Config, since: datetime | None) -> dict[str, Any]:
    """The `--fit --json` document: the tallies per model and class, and the routing they imply."""
    rates = tallies_from_history(runs_since(read_history(ws.state_dir), since))
    starts = fitted_starts(cfg, config_prices(cfg), rates)
    return {
        "tiers": {t: getattr(cfg.tiers, t).model for t in TIERS if getattr(cfg.tiers, t) is not None},
        "rates": tallies_to_json(rates),
        "routing": starts_json(cfg, starts),
    }


def money(x: float | None) -> str:
    return "?" if x is None else f"${x:.4f}"


def estimate_line(e: dict[str, Any]) -> str:
    """One tier's estimate, as `--explain-routing` and `ledger --fit` show it."""
    return (
        f"{e['tier']} ({e['model']}): P {e['p']:.2f} from {e['solved']}/{e['runs']} runs, "
        f"{money(e['cost_usd'])} a run ({e['cost_from']}), {money(e['per_solved_usd'])} per solved task from here"
    )


def print_fit(doc: dict[str, Any], console: Console) -> None:
    if not doc["rates"]:
        console.print("No recorded fix runs of a known task class: `auto` starts where the built-in table does.")
    else:
        table = Table(title="Measured yield", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("model", "task class", "runs", "patch calls", "solved", "rate", "mean cost a run"):
            table.add_column(name, justify="left" if name in ("model", "task class") else "right")
        for r in doc["rates"]:
            rate = "-" if r["observed_rate"] is None else f"{r['observed_rate']:.0%}"
            row = (r["model"], r["task_class"], str(r["runs"]), str(r["calls"]), str(r["solved"]), rate)
            table.add_row(*row, money(r["mean_cost_usd"]))
        console.print(table)
    console.print("[bold]Routing they imply[/] (routing.start: auto)")
    for task_class, choice in doc["routing"].items():
        now = choice["configured"]
        note = "" if now == "auto" else f"; configured now: {now}"
        console.print(f"  {task_class}: starts at {choice['start']}{note}", markup=False)
        console.print(f"    {choice['why']}", markup=False)
        for e in choice["estimates"]:
            console.print(f"    {estimate_line(e)}", markup=False)
