"""The frontier's review of a cheaper tier's validated patch on a high-risk task.

A patch is accepted only with the frontier's "accept". A rejection, an unusable answer and a
review that could not be had (the frontier unavailable) all keep the patch out, each with its row.
"""

from __future__ import annotations

from ...core import prompts
from ...core.vocab import FRONTIER, Outcome, Step
from ..replies import ReplyFormatError, json_objects, norm
from .session import Session


def parse_verdict(text: str) -> tuple[bool, str]:
    """(accept, reason) from a reviewer's JSON reply; raises ReplyFormatError when there is none."""
    for obj in json_objects(text):
        verdict = norm(obj.get("verdict", ""))
        if verdict in ("accept", "accepted", "approve", "approved"):
            return True, str(obj.get("reason", ""))[:500]
        if verdict in ("reject", "rejected", "request_changes"):
            return False, str(obj.get("reason", ""))[:500]
    raise ReplyFormatError('no {"verdict": "accept" | "reject"} object in the reply')


def review_patch(s: Session, request: str, diff: str, reasons: list[str]) -> str | None:
    """None accepts the patch; otherwise why it is not accepted."""
    messages = prompts.render("review", request=request, risk="\n".join(f"- {r}" for r in reasons), diff=diff)
    call = s.gw.call(Step.REVIEW, FRONTIER, messages)
    if call.reply is None:
        why = call.error.message if call.error else "no reply"
        return f"the frontier review could not be had ({why}); a high-risk patch is not accepted unreviewed"
    try:
        accept, reason = parse_verdict(call.text)
    except ReplyFormatError as err:
        s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, str(err))
        return f"the review's answer was unusable ({err}); a high-risk patch is not accepted without one"
    s.gw.ledger.set_outcome(call.row, Outcome.OK, ("accepted: " if accept else "rejected: ") + reason)
    return None if accept else (reason or "rejected without a reason")
