"""What a `fix` run returns: the skeleton's common fields, and its classification, patch and the
evidence behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...judge.validation import Validation
from ...routing.policy import Classification
from ..skeleton import Decision, KeptEdit, RunResult

if TYPE_CHECKING:
    from .attempt import Attempt


@dataclass
class FixResult(RunResult):
    request: str = ""
    classification: Classification | None = None
    patch: str = ""
    validation: Validation | None = None
    saved_diff: Path | None = None
    commit_sha: str | None = None
    route: list[str] = field(default_factory=list)  # each patch attempt: tier, number, why
    attempts: list[dict[str, Any]] = field(default_factory=list)  # each patch attempt's seconds: the latency per try
    routing: dict[str, Any] = field(default_factory=dict)  # the decision and the evidence behind it
    baseline: dict[str, Any] | None = None
    repro: dict[str, Any] | None = None
    test_edits: list[dict[str, Any]] = field(default_factory=list)
    accepted_step: int | None = None  # index in the ledger of the call whose patch was accepted
    decision: Decision | None = None  # what the user said of the validated patch, when asked (FixDeps.keep)
    kept: list[KeptEdit] = field(default_factory=list, repr=False)  # each file the kept patch changed, for chat's /undo

    def record_attempt(self, attempt: Attempt) -> None:
        self.route.append(f"{attempt.rung.tier} #{attempt.rung.attempt}: {attempt.rung.why}")
        self.attempts.append(attempt_timing(attempt))
        self.test_edits.extend(attempt.test_edits)
        self.validation = attempt.validation or self.validation

    def accept(self, attempt: Attempt) -> None:
        self.patch = attempt.diff
        self.accepted_step = self.ledger.rows.index(attempt.row) if self.ledger else None
        if attempt.risk_after:
            self.routing["risk_after_patch"] = list(attempt.risk_after)

    def _document(self) -> dict[str, Any]:
        common = self.common_document()
        return {
            "status": common["status"],
            "exit_code": common["exit_code"],
            "request": self.request,
            "run_id": self.run_id,
            "classification": self.classification.to_json() if self.classification else None,
            "steps": common["steps"],
            "totals": common["totals"],
            "patch": self.patch,
            "validation": self.validation.to_json() if self.validation else None,
            "baseline": self.baseline,
            "routing": self.routing,
            "route": self.route,
            "attempts": self.attempts,
            "repro": self.repro,
            "test_edits": self.test_edits,
            "saved_diff": str(self.saved_diff) if self.saved_diff else None,
            "commit": self.commit_sha,
            "warnings": self.warnings,
            "error": self.error,
            "accepted_step": self.accepted_step,
            "timings": self.timings,
        }


def attempt_timing(attempt: Attempt) -> dict[str, Any]:
    """One patch attempt's latency: the model's reply and the validation of its patch (both stages), in seconds;
    which stage decided (targeted: refused by its targeted tests; full: the full suite; None: not validated)."""
    v = attempt.validation
    stage = None if v is None else "targeted" if v.checks.get("stage") == "targeted" else "full"
    return {
        "tier": attempt.rung.tier,
        "attempt": attempt.rung.attempt,
        "outcome": str(attempt.outcome),
        "model_seconds": round(attempt.row.seconds, 3),
        "validation_seconds": round(v.seconds, 3) if v is not None else 0.0,
        "validated_by": stage,
    }
