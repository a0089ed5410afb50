"""What a review works on and returns: hunks, why some were skipped or left unreviewed, and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...core.errors import ExitCode
from ...core.vocab import Risk, StrEnum, Tier
from ..skeleton import RunResult, Status


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}
FAIL_ON = ("high", "medium", "low", "never")


def blocks(severity: Severity, fail_on: str) -> bool:
    """Does a finding of `severity` fail the review under `--fail-on fail_on`?"""
    return fail_on != "never" and severity.rank >= Severity(fail_on).rank


@dataclass(frozen=True)
class Hunk:
    """One hunk of the reviewed diff. Line numbers are the diff's own (1-based)."""

    id: str  # "path#n": the n-th hunk of the file in the diff
    path: str  # the path after the change (before it, for a deleted file)
    old_path: str | None  # the path before the change (None for a new file)
    status: str  # modified | added | removed | renamed
    header: str  # "@@ -a,b +c,d @@ section"
    text: str  # the hunk as unified diff lines, header included
    new_start: int
    new_len: int
    old_start: int
    old_len: int
    added: tuple[tuple[int, str], ...] = ()  # (new line number, text) of each added line
    removed: tuple[tuple[int, str], ...] = ()  # (old line number, text) of each removed line

    @property
    def changed_new_lines(self) -> tuple[int, ...]:
        """New-side lines a finding may point at: the added lines, else the lines around a deletion."""
        if self.added:
            return tuple(n for n, _ in self.added)
        return (max(self.new_start, 1),)

    def covers(self, line: int) -> bool:
        return self.new_start <= line < self.new_start + max(self.new_len, 1)


@dataclass(frozen=True)
class FileChange:
    """One file of the diff: its hunks, or why it has none to review (binary, pure rename)."""

    path: str
    old_path: str | None
    status: str  # modified | added | removed | renamed
    binary: bool = False
    hunks: tuple[Hunk, ...] = ()


@dataclass(frozen=True)
class Skipped:
    path: str
    hunk: str | None  # None: the whole file
    reason: str  # whitespace only | renamed | moved | lock file | generated | vendored | binary | looks like a secret


@dataclass(frozen=True)
class Assessed:
    """A hunk that goes to review, with its risk and the evidence for it."""

    hunk: Hunk
    risk: Risk
    reasons: tuple[str, ...]  # rules and the triage's reason
    tier: Tier  # who reviews it


class UnreviewedCause(StrEnum):
    """Why a hunk that needed a model got none: it decides the review's status and exit code."""

    OVER_BUDGET = "over-budget"  # --max-cost, --max-calls or --timeout ran out first
    UNAVAILABLE = "unavailable"  # its tier could not be reached
    TOO_LARGE = "too-large"  # larger than its tier's context window, even split at definitions
    UNUSABLE = "unusable-replies"  # the replies could not be read, twice
    BINARY = "binary"  # a source file git shows as binary: there is no diff to review
    STOPPED = "stopped"  # an error (a bad key, an unknown model) stopped the review before it


@dataclass(frozen=True)
class Unreviewed:
    hunk: str
    path: str
    risk: Risk
    reason: str  # over budget | the frontier tier was unavailable | too large for the tier's context | ...
    cause: UnreviewedCause


@dataclass(frozen=True)
class Finding:
    path: str | None  # None for a finding about no file (a test command that now fails)
    line: int | None  # a new-side line of the diff; None for a finding about no line
    severity: Severity
    category: str
    message: str
    suggestion: str = ""
    hunk: str | None = None  # the hunk it is about
    tier: Tier | None = None  # who found it; None for the test and lint judges
    moved_from: int | None = None  # the line the model named, when it was outside the diff

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "severity": str(self.severity),
            "category": self.category,
            "message": self.message,
            "suggestion": self.suggestion,
            "hunk": self.hunk,
            "tier": self.tier,
            "moved_from": self.moved_from,
        }


@dataclass
class ReviewResult(RunResult):
    source: str = ""  # what was reviewed: "the working tree and the index against HEAD", "main...HEAD", ...
    fail_on: str = "high"
    status: Status = (
        Status.PASSED
    )  # passed | failed (a finding at or above --fail-on) | incomplete | budget_exceeded | error
    exit_code: int = ExitCode.FIXED
    files: int = 0
    hunks: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    assessed: list[Assessed] = field(default_factory=list)  # every hunk that went to review, riskiest first
    reviewed: list[str] = field(default_factory=list)  # ids of the hunks a model did review
    unreviewed: list[Unreviewed] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    dropped_findings: int = 0  # findings on a line outside the diff, with no changed line to move to
    moved_findings: int = 0  # findings moved onto the nearest changed line of their hunk
    merged_findings: int = 0  # duplicates merged into one
    triage: str = ""  # "model", "rules only (…)", or "" when nothing was triaged
    judges: dict[str, Any] | None = None  # --run-tests: what the test and lint runs found

    def add(self, batch: Any) -> None:
        """A batch's review (`reviewer.BatchReview`): what it reviewed, left unreviewed and found."""
        self.reviewed += batch.reviewed
        self.unreviewed += batch.unreviewed
        self.findings += batch.findings
        self.moved_findings += batch.moved
        self.dropped_findings += batch.dropped

    def by_tier(self) -> dict[str, list[str]]:
        """Which hunks each tier reviewed."""
        out: dict[str, list[str]] = {}
        for a in self.assessed:
            if a.hunk.id in self.reviewed:
                out.setdefault(a.tier, []).append(a.hunk.id)
        return out

    def _document(self) -> dict[str, Any]:
        common = self.common_document()
        return {
            "status": common["status"],
            "exit_code": common["exit_code"],
            "run_id": self.run_id,
            "source": self.source,
            "fail_on": self.fail_on,
            "summary": {
                "files": self.files,
                "hunks": self.hunks,
                "skipped": len(self.skipped),
                "reviewed": len(self.reviewed),
                "unreviewed": len(self.unreviewed),
                "findings": len(self.findings),
                "dropped_findings": self.dropped_findings,
                "moved_findings": self.moved_findings,
                "merged_findings": self.merged_findings,
            },
            "findings": [f.to_json() for f in self.findings],
            "skipped": [{"path": s.path, "hunk": s.hunk, "reason": s.reason} for s in self.skipped],
            "reviewed": [
                {"hunk": a.hunk.id, "path": a.hunk.path, "risk": a.risk, "reasons": list(a.reasons), "tier": a.tier}
                for a in self.assessed
                if a.hunk.id in self.reviewed
            ],
            "unreviewed": [
                {"hunk": u.hunk, "path": u.path, "risk": u.risk, "reason": u.reason, "cause": str(u.cause)}
                for u in self.unreviewed
            ],
            "by_tier": self.by_tier(),
            "triage": self.triage,
            "judges": self.judges,
            "steps": common["steps"],
            "totals": common["totals"],
            "warnings": self.warnings,
            "error": self.error,
        }
