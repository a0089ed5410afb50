"""How risky is each hunk? The deterministic rules first, then the small tier's triage.

Either saying high makes a hunk high. A triage reply that cannot be used (no JSON, a hunk not
rated, the small tier unavailable or over budget) leaves those hunks to the rules alone: high
when a rule fires, otherwise medium. No hunk is ever skipped for want of a triage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...core import prompts
from ...core.tokens import estimate_tokens
from ...core.vocab import RISKS, SMALL, Outcome, Risk, Step
from ...judge.tamper import protected_edit
from ...model.gateway import Gateway
from ...risk.rules import RiskRules, SignatureChange, sensitive_paths
from ..replies import json_objects, norm
from .model import Hunk

TRIAGE_CALL_TOKENS = 6000  # hunks per triage call, at most this many tokens of them
TRIAGE_HUNK_CHARS = 3000  # a long hunk is cut for triage (the review sees all of it)
RISK_RANK = {r: i for i, r in enumerate(RISKS)}


@dataclass(frozen=True)
class Rated:
    hunk: Hunk
    risk: Risk
    reasons: tuple[str, ...]


def rule_reasons(h: Hunk, rules: RiskRules, signatures: list[SignatureChange], guarded: str | None = None) -> list[str]:
    """Why the rules call this hunk high-risk (empty: they do not). `guarded`: why its file judges changes,
    from both sides of the file (see `judge.tamper`); by its path alone when not given."""
    reasons = sensitive_paths([h.path], rules)
    guarded = guarded or protected_edit(h.path, None, None)
    if guarded:
        reasons.append(f"{guarded}: {h.path}")
    deleted = len(h.removed) - len(h.added)
    if deleted > rules.max_deleted_lines:
        reasons.append(f"deletes code: {deleted} lines net")
    old_end, new_end = h.old_start + max(h.old_len, 1), h.new_start + max(h.new_len, 1)
    for change in signatures:
        if (change.old_line is not None and h.old_start <= change.old_line < old_end) or (
            change.new_line is not None and h.new_start <= change.new_line < new_end
        ):
            reasons.append(change.what)
    return reasons


def triage(
    gw: Gateway, hunks: list[Hunk], rules_say: dict[str, list[str]], warn: Callable[[str], None]
) -> tuple[list[Rated], str]:
    """Every hunk rated, riskiest first; and how the rating was made (for the output)."""
    model_says: dict[str, tuple[Risk, str]] = {}
    unrated_batches = 0
    for batch in _batches(hunks):
        ids = {f"H{n}": h for n, h in enumerate(batch, 1)}
        blocks = "\n\n".join(f"### {hid}: {h.path}\n```diff\n{_cut(h.text)}```" for hid, h in ids.items())
        call = gw.call(Step.REVIEW_TRIAGE, SMALL, prompts.render("review-triage", ids=", ".join(ids), hunks=blocks))
        if call.reply is None:
            unrated_batches += 1
            continue
        rated = _parse(call.text, ids)
        missing = [hid for hid in ids if ids[hid].id not in rated]
        if len(missing) == len(ids):
            gw.ledger.set_outcome(
                call.row, Outcome.FORMAT_ERROR, "no usable rating in the reply; the rules decide alone"
            )
            unrated_batches += 1
        elif missing:
            gw.ledger.set_outcome(
                call.row, Outcome.OK, f"{len(ids) - len(missing)} of {len(ids)} hunks rated; the rules decide the rest"
            )
        model_says.update(rated)
    out = []
    for h in hunks:
        reasons = list(rules_say.get(h.id, []))
        risk: Risk = "high" if reasons else "medium"
        if h.id in model_says:
            said, why = model_says[h.id]
            risk = "high" if reasons or said == "high" else said
            reasons.append(f"triage: {said}" + (f" ({why})" if why else ""))
        out.append(Rated(h, risk, tuple(reasons)))
    if unrated_batches:
        warn("the small tier's triage was unusable for some hunks; the risk rules decided for them")
    how = (
        "model"
        if not unrated_batches
        else ("rules only" if not model_says else "model, rules where the triage was unusable")
    )
    out.sort(key=lambda r: (-RISK_RANK[r.risk], -len(r.reasons)))
    return out, how


def _cut(text: str) -> str:
    return text if len(text) <= TRIAGE_HUNK_CHARS else text[:TRIAGE_HUNK_CHARS] + "\n[... hunk cut for triage ...]\n"


def _batches(hunks: list[Hunk]) -> list[list[Hunk]]:
    batches: list[list[Hunk]] = [[]]
    used = 0
    for h in hunks:
        cost = estimate_tokens(_cut(h.text)) + 20
        if batches[-1] and used + cost > TRIAGE_CALL_TOKENS:
            batches.append([])
            used = 0
        batches[-1].append(h)
        used += cost
    return [b for b in batches if b]


def _parse(text: str, ids: dict[str, Hunk]) -> dict[str, tuple[Risk, str]]:
    """hunk id -> (risk, reason) for every hunk the reply rates usably."""
    entries = []
    for obj in json_objects(text):
        if isinstance(obj.get("hunks"), list):
            entries += [e for e in obj["hunks"] if isinstance(e, dict)]
        elif "id" in obj and "risk" in obj:
            entries.append(obj)
    out: dict[str, tuple[Risk, str]] = {}
    for e in entries:
        hid, risk = str(e.get("id", "")).strip().upper(), norm(e.get("risk", ""))
        hid = f"H{hid}" if hid.isdigit() else hid
        if hid in ids and risk in RISKS:
            out[ids[hid].id] = (risk, str(e.get("reason", ""))[:200])
    return out
