"""`tieragent review --format sarif`: a SARIF 2.1.0 log for code scanning.

Findings become results under one rule per category; hunks left unreviewed, warnings and the error
that stopped a run become tool notifications, so code scanning never shows an unreviewed change as
clean. Masked as every other format (`masked`).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

from ..flows.review.model import Finding, ReviewResult, Severity
from .review_formats import (
    by_location,
    category_of,
    full_message,
    hunk_start,
    masked,
    severity_of,
    unreviewed_text,
)

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "tieragent/v1"

_LEVEL = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}


def fingerprint(path: str, category: str, message: str) -> str:
    """Stable across pushes: no line number, and the message without digits, case or spacing."""
    norm = " ".join(re.sub(r"\d", "", message.lower()).split())
    key = "\0".join((path.replace("\\", "/"), category.strip().lower(), norm))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _uri(path: str) -> str:
    """The repo-relative path as a relative URI reference: forward slashes, percent-encoded."""
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return quote(p, safe="/")


def _location(path: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(path), "uriBaseId": "%SRCROOT%"}}
    if line is not None and line >= 1:
        physical["region"] = {"startLine": int(line)}
    return {"physicalLocation": physical}


def _rule_name(category: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", category)
    return "".join(w[:1].upper() + w[1:] for w in words) or "Finding"


def to_sarif(result: ReviewResult, tool_version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: one rule per category, one result per finding."""
    result = masked(result)
    findings = by_location(result.findings)
    categories = sorted({category_of(f) for f in findings})
    rules = [
        {
            "id": c,
            "name": _rule_name(c),
            "shortDescription": {"text": f"tieragent review: {c}"},
            "defaultConfiguration": {"level": "warning"},  # each result states its own level
        }
        for c in categories
    ]
    notifications = _notifications(result)
    invocation: dict[str, Any] = {"executionSuccessful": result.status != "error"}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "tieragent", "version": tool_version, "rules": rules}},
        "invocations": [invocation],
        "results": _results(findings, {c: i for i, c in enumerate(categories)}),
        "properties": {
            "runId": result.run_id,
            "source": result.source,
            "status": result.status,
            "failOn": result.fail_on,
            "summary": result.to_json()["summary"],
            "skipped": [{"path": s.path, "hunk": s.hunk, "reason": s.reason} for s in result.skipped],
            "unreviewed": [
                {"hunk": u.hunk, "path": u.path, "risk": u.risk, "reason": u.reason} for u in result.unreviewed
            ],
        },
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return result.redactor.mask_json(log) if result.redactor else log


def _results(findings: list[Finding], rule_index: dict[str, int]) -> list[dict[str, Any]]:
    """One result per finding, with a fingerprint that survives pushes (and tells twins apart)."""
    seen: Counter[str] = Counter()
    results = []
    for f in findings:
        c, sev = category_of(f), severity_of(f)
        fp = fingerprint(f.path or "", c, f.message)
        seen[fp] += 1  # the same finding twice in one file: keep both alerts apart
        item: dict[str, Any] = {
            "ruleId": c,
            "ruleIndex": rule_index[c],
            "level": _LEVEL[sev],
            "message": {"text": full_message(f)},
        }
        if f.path:
            item["locations"] = [_location(f.path, f.line)]
        item["partialFingerprints"] = {FINGERPRINT_KEY: fp if seen[fp] == 1 else f"{fp}:{seen[fp]}"}
        props: dict[str, Any] = {"severity": str(sev)}
        if f.tier:
            props["tier"] = str(f.tier)
        if f.hunk:
            props["hunk"] = f.hunk
        if f.moved_from is not None:
            props["movedFrom"] = f.moved_from
        item["properties"] = props
        results.append(item)
    return results


def _notifications(result: ReviewResult) -> list[dict[str, Any]]:
    """What is not a finding but must be seen: unreviewed hunks, warnings, and the error that stopped the run."""
    notifications: list[dict[str, Any]] = []
    for u in result.unreviewed:
        note: dict[str, Any] = {
            "level": "warning",
            "message": {"text": unreviewed_text(u)},
            "descriptor": {"id": "tieragent/not-reviewed"},
        }
        if u.path:
            note["locations"] = [_location(u.path, hunk_start(result, u.hunk))]
        notifications.append(note)
    for w in dict.fromkeys(result.warnings):
        notifications.append({"level": "warning", "message": {"text": w}, "descriptor": {"id": "tieragent/warning"}})
    if result.error:
        level = "error" if result.status == "error" else "warning"
        notifications.append(
            {"level": level, "message": {"text": result.error}, "descriptor": {"id": f"tieragent/{result.status}"}}
        )
    return notifications
