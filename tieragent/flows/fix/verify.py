"""A stronger tier's look at a cheaper tier's validated patch, before it is accepted.

Two reasons to look, one mechanism:

- review (`routing.review_high_risk`): the task or the patch is high-risk; the frontier reviews it. No
  usable answer (the frontier unavailable, a reply without a verdict) keeps the patch out: a high-risk
  patch is not accepted unreviewed.
- verify (`routing.verify`): the tests say little about the patch (`judge/evidence.py`); the verify tier
  (frontier by default, at low effort) reads the request and the diff, nothing else, and says whether the
  diff does what was asked. No usable answer keeps the patch, with a warning: the tests passed, and the
  verifier only adds evidence.

A "reject" is fed to the next attempt like a failing test, and the tree is rewound. Only one look is
taken: a high-risk patch gets the review, which asks the same question and more.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...core import prompts
from ...core.vocab import FRONTIER, Effort, Outcome, Step, Tier
from ...judge.coverage import uncovered_lines
from ...judge.evidence import count_assertions, thin_reasons
from ...judge.validation import Baseline, Validation
from ...repo.diffs import EditStat
from ...routing.verification import verify_applies
from ..replies import ReplyFormatError, json_objects, norm
from .session import Session


@dataclass(frozen=True)
class Look:
    """Which tier looks at the patch, through which prompt, why, and what a missing answer means."""

    step: Step
    tier: Tier
    why: tuple[str, ...]  # risk reasons (review) or why the evidence is thin (verify)
    strict: bool  # no usable answer keeps the patch out
    effort: Effort | None = None
    rejected: Outcome = Outcome.REVIEW_REJECTED


@dataclass(frozen=True)
class Rejection:
    outcome: Outcome
    reason: str  # for the ledger row of the patch
    feedback: str  # for the next attempt


def parse_verdict(text: str) -> tuple[bool, str]:
    """(accept, reason) from a reviewer's JSON reply; raises ReplyFormatError when there is none."""
    for obj in json_objects(text):
        verdict = norm(obj.get("verdict", ""))
        if verdict in ("accept", "accepted", "approve", "approved"):
            return True, str(obj.get("reason", ""))[:500]
        if verdict in ("reject", "rejected", "request_changes"):
            return False, str(obj.get("reason", ""))[:500]
    raise ReplyFormatError('no {"verdict": "accept" | "reject"} object in the reply')


@dataclass(frozen=True)
class Candidate:
    """A validated patch: the tier that wrote it, its diff, how it was judged, and the risk it shows."""

    tier: Tier
    diff: str
    validation: Validation
    edits: list[EditStat]
    risk: list[str]  # why the task or the patch is high-risk (empty: it is not)


def check_patch(s: Session, request: str, baseline: Baseline, patch: Candidate) -> Rejection | None:
    """None accepts the patch; else why not, and what the next attempt is told."""
    look = _review(s, patch.tier, patch.risk) or _verification(s, baseline, patch)
    if look is None:
        return None
    reason = _ask(s, look, request, patch.diff)
    if reason is None:
        return None
    who = "a review" if look.step is Step.REVIEW else f"a check by the {look.tier} tier"
    feedback = (
        f"Your patch passed the tests, but {who} rejected it: {reason}\nYour patch was:\n```diff\n{patch.diff}```\n"
    )
    return Rejection(look.rejected, reason, feedback)


def _review(s: Session, tier: Tier, risk: list[str]) -> Look | None:
    if not risk or tier == FRONTIER or not s.cfg.routing.review_high_risk:
        return None
    return Look(Step.REVIEW, FRONTIER, tuple(risk), strict=True)


def _verification(s: Session, baseline: Baseline, patch: Candidate) -> Look | None:
    routing = s.cfg.routing
    if not verify_applies(routing.verify, patch.tier, routing.verify_tier):
        return None
    why = (
        ("every cheaper tier's patch is verified (routing.verify: always)",)
        if routing.verify == "always"
        else _thin(s, baseline, patch)
    )
    if not why:
        return None
    s.events.info(f"verifying at {routing.verify_tier}: {'; '.join(why)}")
    return Look(
        Step.VERIFY,
        routing.verify_tier,
        why,
        strict=False,
        effort=routing.verify_effort,
        rejected=Outcome.VERIFY_REJECTED,
    )


def _thin(s: Session, baseline: Baseline, patch: Candidate) -> tuple[str, ...]:
    """Why the tests say little about this patch; coverage is measured (another test run) only when the
    cheaper signals found nothing."""
    v = patch.validation
    checks = v.checks.get("tests") or {}
    if checks.get("per_test"):
        fixed = len(checks.get("fixed") or [])
        about = list(checks.get("targets") or []) or list(checks.get("fixed") or [])
    else:  # judged by exit code: a test run that went from failing to passing fixed something
        green = v.tests is not None and v.tests.result.exit_code == 0
        fixed, about = int(baseline.tests.result.exit_code != 0 and green), []
    assertions = count_assertions(s.ws.root, about) if about else None
    reasons = thin_reasons(fixed, assertions, None)
    if reasons:
        return reasons
    return thin_reasons(fixed, assertions, uncovered_lines(s.validator, patch.edits))


def _ask(s: Session, look: Look, request: str, diff: str) -> str | None:
    """None accepts the patch; otherwise why it is not accepted."""
    bullets = "\n".join(f"- {r}" for r in look.why)
    if look.step is Step.REVIEW:
        messages = prompts.render("review", request=request, risk=bullets, diff=diff)
    else:
        messages = prompts.render("verify", request=request, evidence=bullets, diff=diff)
    call = s.gw.call(look.step, look.tier, messages, effort=look.effort)
    if call.reply is None:
        why = call.error.message if call.error else "no reply"
        if not look.strict:  # the gateway has warned, saying the patch is kept
            return None
        return _no_answer(s, look, f"the {_name(look)} could not be had ({why})")
    try:
        accept, reason = parse_verdict(call.text)
    except ReplyFormatError as err:
        s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, str(err))
        return _no_answer(s, look, f"the {_name(look)}'s answer was unusable ({err})")
    reason = s.gw.redactor(" ".join(reason.split()))  # the model's words, on one line, masked
    s.gw.ledger.set_outcome(call.row, Outcome.OK, ("accepted: " if accept else "rejected: ") + reason)
    return None if accept else (reason or "rejected without a reason")


def _name(look: Look) -> str:
    return "frontier review" if look.step is Step.REVIEW else f"verification at {look.tier}"


def _no_answer(s: Session, look: Look, what: str) -> str | None:
    if look.strict:
        return f"{what}; a high-risk patch is not accepted unreviewed"
    s.events.warn(f"{what}; the patch is kept on the tests' evidence alone")
    return None
