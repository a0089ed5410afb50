"""What a `fix` run returns: its status, classification, ledger, patch and the evidence behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import ExitCode
from ...judge.validation import Validation
from ...model.ledger import Ledger
from ...model.redact import MaskedDocument, Redactor
from ...routing.policy import Classification


@dataclass
class FixResult(MaskedDocument):
    run_id: str
    request: str
    status: str = "failed"  # fixed | failed | budget_exceeded | error
    exit_code: int = ExitCode.NOT_FIXED
    classification: Classification | None = None
    ledger: Ledger | None = None
    patch: str = ""
    validation: Validation | None = None
    saved_diff: Path | None = None
    commit_sha: str | None = None
    route: list[str] = field(default_factory=list)  # each patch attempt: tier, number, why
    routing: dict[str, Any] = field(default_factory=dict)  # the decision and the evidence behind it
    baseline: dict[str, Any] | None = None
    repro: dict[str, Any] | None = None
    test_edits: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    accepted_step: int | None = None  # index in the ledger of the call whose patch was accepted
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, and the total
    redactor: Redactor | None = field(default=None, repr=False)  # masks secrets in everything to_json returns

    def end(self, status: str, exit_code: int, error: str | None = None) -> FixResult:
        self.status, self.exit_code, self.error = status, exit_code, error
        return self

    def _document(self) -> dict[str, Any]:
        ledger = self.ledger
        return {
            "status": self.status,
            "exit_code": int(self.exit_code),
            "request": self.request,
            "run_id": self.run_id,
            "classification": self.classification.to_json() if self.classification else None,
            "steps": [r.to_json() for r in ledger.rows] if ledger else [],
            "totals": ledger.totals() if ledger else None,
            "patch": self.patch,
            "validation": self.validation.to_json() if self.validation else None,
            "baseline": self.baseline,
            "routing": self.routing,
            "route": self.route,
            "repro": self.repro,
            "test_edits": self.test_edits,
            "saved_diff": str(self.saved_diff) if self.saved_diff else None,
            "commit": self.commit_sha,
            "warnings": self.warnings,
            "error": self.error,
            "accepted_step": self.accepted_step,
            "timings": self.timings,
        }
