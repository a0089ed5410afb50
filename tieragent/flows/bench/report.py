"""The bench report: per policy, how often it solved a task and what that cost; per task, who solved it.

Definitions (every rate says its denominator):

- runs: the pairs run for tasks that are not broken (an error counts as a run that did not solve).
- solved: tieragent said fixed AND the hidden check passed. Rate over runs, with a 95% Wilson
  score interval (it stays inside [0, 1] and is honest for the small counts a bench has).
- cost per solved task: everything the policy's runs cost, failed runs included, over the solved count.
- escalation rate: runs whose accepted patch came from a tier above the route's start, or whose patch
  attempts used more than one tier; over runs.
- false-accept rate: runs tieragent validated (said fixed) whose hidden check failed; over the
  validated runs, so it reads as "how far to trust a green tieragent run".
- mean wall time: of the `tieragent fix` process (checkout, setup and the check are the bench's own
  cost, the same for every policy).

A broken task (its setup fails, or its check passes before any fix) is listed and never scored.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from .runs import ERROR, FAILED, FALSE_ACCEPT, SOLVED

Z95 = 1.959963984540054
OTHER_SHARD = "other_shard"  # a pair another shard runs (`--shard K/N`)
CELL = {SOLVED: "✓", FAILED: "✗", ERROR: "✗", FALSE_ACCEPT: "!", "not_run": "–", "broken": "broken", OTHER_SHARD: "·"}


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 1) when there is no observation."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class PolicyStats:
    policy: str
    runs: int = 0
    solved: int = 0
    failed: int = 0
    false_accepts: int = 0
    errors: int = 0
    validated: int = 0  # tieragent said fixed
    escalated: int = 0
    not_run: int = 0
    cost_usd: float = 0.0
    cost_complete: bool = True
    solved_rate: float | None = None
    solved_ci95: tuple[float, float] = (0.0, 1.0)
    cost_per_solved_usd: float | None = None
    mean_cost_usd: float | None = None
    escalation_rate: float | None = None
    false_accept_rate: float | None = None
    mean_wall_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["solved_ci95"] = [round(x, 4) for x in self.solved_ci95]
        for k in ("cost_usd", "cost_per_solved_usd", "mean_cost_usd"):
            d[k] = None if d[k] is None else round(d[k], 6)
        for k in ("solved_rate", "escalation_rate", "false_accept_rate", "mean_wall_s"):
            d[k] = None if d[k] is None else round(d[k], 4)
        return d


@dataclass
class Report:
    tasks: list[str]
    policies: list[PolicyStats]
    matrix: dict[str, dict[str, str]]  # task -> policy -> solved|failed|false_accept|error|not_run|broken
    broken: dict[str, str] = field(default_factory=dict)  # task -> why
    errors: list[dict[str, str]] = field(default_factory=list)  # runs that ended in an error, with the message
    not_run: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "policies": [p.to_json() for p in self.policies],
            "tasks": self.tasks,
            "matrix": self.matrix,
            "broken": self.broken,
            "errors": self.errors,
            "not_run": [{"task": t, "policy": p} for t, p in self.not_run],
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per policy, for a spreadsheet."""
        rows = []
        for p in self.policies:
            d = p.to_json()
            d["solved_ci95_low"], d["solved_ci95_high"] = d.pop("solved_ci95")
            rows.append(d)
        return rows


def build_report(
    task_ids: list[str],
    policy_names: list[str],
    records: list[dict[str, Any]],
    not_run: list[tuple[str, str]] | None = None,
    only: Collection[tuple[str, str]] | None = None,
) -> Report:
    """The report over `records` (results-file lines) for these tasks and policies; the latest line
    wins when a pair was run twice. With `only` (a shard's pairs), the other pairs are another shard's."""
    not_run = list(not_run or [])
    broken = {
        r["task"]: r.get("reason", "") for r in records if r.get("kind") == "broken" and r.get("task") in task_ids
    }
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        if (
            r.get("kind") == "run"
            and r.get("task") in task_ids
            and r.get("policy") in policy_names
            and r["task"] not in broken
        ):
            latest[(r["task"], r["policy"])] = r
    matrix: dict[str, dict[str, str]] = {}
    for t in task_ids:
        matrix[t] = {p: _cell(t, p, broken, latest, only) for p in policy_names}
    stats = []
    for p in policy_names:
        runs = [r for (t, q), r in latest.items() if q == p]
        stats.append(_stats(p, runs, sum(1 for t, q in not_run if q == p)))
    errors = [
        {"task": r["task"], "policy": r["policy"], "error": str(r.get("error") or "")}
        for r in latest.values()
        if r.get("outcome") == ERROR
    ]
    return Report(task_ids, stats, matrix, broken, errors, not_run)


def _cell(
    task: str,
    policy: str,
    broken: dict[str, str],
    latest: dict[tuple[str, str], dict[str, Any]],
    only: Collection[tuple[str, str]] | None,
) -> str:
    if task in broken:
        return "broken"
    if (task, policy) in latest:
        return str(latest[(task, policy)].get("outcome", ERROR))
    return OTHER_SHARD if only is not None and (task, policy) not in only else "not_run"


def _stats(policy: str, runs: list[dict[str, Any]], not_run: int) -> PolicyStats:
    s = PolicyStats(policy, runs=len(runs), not_run=not_run)
    for r in runs:
        outcome = r.get("outcome")
        s.solved += outcome == SOLVED
        s.false_accepts += outcome == FALSE_ACCEPT
        s.failed += outcome == FAILED
        s.errors += outcome == ERROR
        s.validated += r.get("status") == "fixed"
        s.escalated += bool(r.get("escalated"))
        s.cost_usd += float(r.get("cost_usd") or 0.0)
        s.cost_complete = s.cost_complete and bool(r.get("cost_complete", True))
    if runs:
        s.solved_rate = s.solved / len(runs)
        s.mean_cost_usd = s.cost_usd / len(runs)
        s.escalation_rate = s.escalated / len(runs)
        walls = [float(r["fix_seconds"]) for r in runs if r.get("fix_seconds") is not None]
        s.mean_wall_s = sum(walls) / len(walls) if walls else None
    s.solved_ci95 = wilson(s.solved, len(runs))
    s.cost_per_solved_usd = s.cost_usd / s.solved if s.solved else None
    s.false_accept_rate = s.false_accepts / s.validated if s.validated else None
    return s
