"""What a bench (or a merge of its shards) returns: the run skeleton's result with the bench's report.

The status and exit code follow from what the runs left, never from a message:
complete (0): every pair has a result; budget_stopped (3): the bench's --max-cost left runs out;
incomplete (3): a merge found pairs no shard has a result for; interrupted (130): Ctrl-C, the
results so far kept in the results file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import ExitCode
from ..skeleton import RunResult, Status
from .mining import Mined
from .report import Report

SCRIPTED_NOTE = "scripted model replies: no model was called; costs are estimated at the demo's list prices"
EVERY_PAIR_DONE = ExitCode(0)  # the bench ran, whatever the tasks' outcomes


@dataclass
class BenchResult(RunResult):
    """A bench's figures and where its files are; `report` is None only before the runs end."""

    suite: str = ""
    workdir: Path | None = None
    results_file: Path | None = None
    report: Report | None = None
    spent_usd: float = 0.0
    cost_complete: bool = True
    policy_definitions: list[dict[str, Any]] = field(default_factory=list)
    history: Mined | None = None
    shard: str | None = None  # "K/N" when the bench ran one shard
    merged: list[str] | None = None  # the results files a merge read
    plot: Path | None = None
    notes: list[str] = field(default_factory=list)

    def finish(self, *, interrupted: bool, left_out: bool, unreported: bool = False) -> BenchResult:
        """End with the status the runs left (see the module docstring)."""
        if interrupted:
            return self.end(Status.INTERRUPTED, ExitCode.INTERRUPTED)
        if left_out:
            return self.end(Status.BUDGET_STOPPED, ExitCode.BUDGET)
        if unreported:
            return self.end(Status.INCOMPLETE, ExitCode.BUDGET)
        return self.end(Status.COMPLETE, EVERY_PAIR_DONE)

    def cost_text(self) -> str:
        """The runs' cost (they are `tieragent fix` processes: the bench's own ledger holds no call)."""
        return f"${self.spent_usd:.4f}" + ("" if self.cost_complete else " + ?")

    def _document(self) -> dict[str, Any]:
        """The `--json` document (the text report is made from it too)."""
        report = self.report.to_json() if self.report else {}
        return {
            "status": str(self.status),
            "exit_code": int(self.exit_code),
            "bench_id": self.run_id,
            "suite": self.suite,
            "shard": self.shard,
            "merged": self.merged,
            "workdir": str(self.workdir) if self.workdir else None,
            "results_file": str(self.results_file) if self.results_file else None,
            "spent_usd": round(self.spent_usd, 6),
            **report,
            "policy_definitions": self.policy_definitions,
            "history": None if self.history is None else _history(self.history),
            "plot": str(self.plot) if self.plot else None,
            "notes": self.notes,
            "warnings": self.warnings,
            "error": self.error,
        }


def _history(mined: Mined) -> dict[str, Any]:
    return {
        "qualified": [t.id for t in mined.tasks],
        "examined": mined.examined,
        "skipped": [s.to_json() for s in mined.skipped],
    }
