"""`tieragent ledger`: what the recorded runs of this repository cost, and which tier earned it.

Reads the one-line-per-run history under `.git/tieragent/ledger.jsonl` (every flow writes one
line per run) and sums it per task class and tier: attempts at each flow's main step, accepted
results, cost, and the saving against the frontier-only estimate.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core.errors import UsageError
from ..core.vocab import EDIT_FORMATS, EditFormat, Step
from ..routing.edit_format import FormatStats

_DURATION = re.compile(r"^(\d+)([hdw])$")


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`7d`, `12h`, `2w`, or an ISO date/time (`2026-11-01`, `2026-11-01T09:00`)."""
    now = now or datetime.now(timezone.utc)
    m = _DURATION.match(value.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now - {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--since {value!r}: use a duration like 7d, 12h, 2w or a date like 2026-11-01") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=now.tzinfo)


def _run_time(run: dict[str, Any]) -> datetime | None:
    try:
        return datetime.strptime(run["time"], "%Y-%m-%dT%H:%M:%S%z")
    except (KeyError, ValueError, TypeError):
        return None


def runs_since(runs: list[dict[str, Any]], since: datetime | None) -> list[dict[str, Any]]:
    """The runs recorded at or after `since` (all of them when it is None)."""
    if since is None:
        return runs
    return [r for r in runs if (t := _run_time(r)) is not None and t >= since]


NO_REPLY = ("provider-error", "budget-stop", "interrupted")  # calls that say nothing about a model's output

# The step whose calls count as a flow's attempts.
MAIN_STEP = {"fix": Step.PATCH, "review": Step.REVIEW}


@dataclass
class Cell:
    attempts: int = 0  # calls at the flow's main step (fix: patch) at this tier
    validated: int = 0  # attempts whose result was accepted (fix: the validated patch)
    calls: int = 0  # every model call at this tier (classify, patch, summarize, ...)
    cost_usd: float = 0.0
    unpriced_calls: int = 0


@dataclass
class HistorySummary:
    runs: int = 0
    fixed: int = 0
    cost_usd: float = 0.0
    frontier_only_estimate_usd: float = 0.0  # over the runs that have one
    cost_of_estimated_runs_usd: float = 0.0  # what those same runs cost
    runs_without_estimate: int = 0
    by_class: dict[str, dict[str, Cell]] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_flow: dict[str, int] = field(default_factory=dict)
    # patch attempts per tier and edit format, and how many of them applied (were readable and landed)
    formats: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    @property
    def saved_usd(self) -> float:
        return self.frontier_only_estimate_usd - self.cost_of_estimated_runs_usd

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "fixed": self.fixed,
            "by_status": self.by_status,
            "by_flow": self.by_flow,
            "formats": self.formats,
            "cost_usd": round(self.cost_usd, 6),
            "frontier_only_estimate_usd": round(self.frontier_only_estimate_usd, 6),
            "saved_usd": round(self.saved_usd, 6),
            "runs_without_estimate": self.runs_without_estimate,
            "by_class": {
                k: {t: {**asdict(c), "cost_usd": round(c.cost_usd, 6)} for t, c in v.items()}
                for k, v in self.by_class.items()
            },
        }


def summarize_history(runs: list[dict[str, Any]], since: datetime | None = None) -> HistorySummary:
    s = HistorySummary()
    for run in runs:
        if since is not None:
            t = _run_time(run)
            if t is None or t < since:
                continue
        s.runs += 1
        status = str(run.get("status", "unknown"))
        s.by_status[status] = s.by_status.get(status, 0) + 1
        s.fixed += status == "fixed"
        totals = run.get("totals") or {}
        s.cost_usd += totals.get("cost_usd") or 0.0
        est = totals.get("frontier_only_estimate_usd")
        if est is None:
            s.runs_without_estimate += 1
        else:  # only runs with an estimate count toward the saving, on both sides
            s.frontier_only_estimate_usd += est
            s.cost_of_estimated_runs_usd += totals.get("cost_usd") or 0.0
        flow = str(run.get("flow", "fix"))  # lines written before flows were named are fix runs
        s.by_flow[flow] = s.by_flow.get(flow, 0) + 1
        task_class = (run.get("classification") or {}).get("task_class") or "unclassified"
        cells = s.by_class.setdefault(task_class, {})
        steps = run.get("steps") or []
        main = MAIN_STEP.get(flow)
        accepted = run.get("accepted_step") if "accepted_step" in run else _last_ok(steps, main, status)
        for i, row in enumerate(steps):
            cell = cells.setdefault(row.get("tier", "?"), Cell())
            cell.calls += 1
            if row.get("cost_usd") is None:
                cell.unpriced_calls += 1
            else:
                cell.cost_usd += row["cost_usd"]
            if main is not None and row.get("step") == main:
                cell.attempts += 1
            if row.get("step") == Step.PATCH and row.get("outcome") not in NO_REPLY:
                tally = s.formats.setdefault(str(row.get("tier", "?")), {}).setdefault(
                    str(row.get("edit_format") or "diff"), {"attempts": 0, "applied": 0}
                )
                tally["attempts"] += 1
                tally["applied"] += row.get("outcome") not in ("apply-failed", "format-error")
            if i == accepted:
                cell.validated += 1
    return s


def _last_ok(steps: list[dict[str, Any]], main: Step | None, status: str) -> int | None:
    """For history lines that do not say which call was accepted: the last ok call at the main step of a fixed run."""
    if status != "fixed":
        return None
    return max((i for i, r in enumerate(steps) if r.get("step") == main and r.get("outcome") == "ok"), default=None)


RECENT_ATTEMPTS = 20  # per model and format: the window `edit_format: auto` learns from
UNUSABLE = ("apply-failed", "format-error")  # outcomes of an edit that did not apply or could not be read


def format_records(runs: list[dict[str, Any]], model: str) -> dict[EditFormat, FormatStats]:
    """How `model`'s most recent patch attempts in this repository went, per edit format (rows written
    before formats were recorded are diffs)."""
    by_format: dict[EditFormat, list[dict[str, Any]]] = {}
    for run in runs:
        for r in run.get("steps") or []:
            fmt = r.get("edit_format") or "diff"
            mine = r.get("step") == Step.PATCH and r.get("model") == model and r.get("outcome") not in NO_REPLY
            if mine and fmt in EDIT_FORMATS:
                by_format.setdefault(fmt, []).append(r)
    out: dict[EditFormat, FormatStats] = {}
    for fmt, rows in by_format.items():
        recent = rows[-RECENT_ATTEMPTS:]
        failed = sum(r.get("outcome") in UNUSABLE for r in recent)
        out[fmt] = FormatStats(len(recent), failed, sum(bool(r.get("truncated")) for r in recent))
    return out
