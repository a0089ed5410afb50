"""Reviewing batches of hunks: the code shown around each, one call per batch, and what came of it.

`Reviewer.review` returns a `BatchReview` (hunks reviewed, hunks not reviewed with their cause, the
findings placed on changed lines); the flow adds them up. Nothing here writes into the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...core import prompts
from ...core.config import Config
from ...core.errors import BudgetExceeded, ProviderError, TieragentError
from ...core.tokens import estimate_tokens
from ...core.vocab import Outcome, Step, Tier
from ...judge.tamper import protected_edit
from ...model.gateway import Gateway
from ...model.protocol import Models
from ...repo.changes import DiffSource, new_content, old_content
from ...repo.context import DEFAULT_CONTEXT_WINDOW, PROMPT_RESERVE_TOKENS
from ...repo.map import RepoMap
from ...repo.workspace import GitWorkspace
from ...risk.rules import signature_changes
from ..replies import ReplyFormatError
from .batch import Part, changes_block
from .context import enclosing_span, numbered_code, split_hunk
from .findings import parse_findings, place
from .model import Assessed, Finding, Hunk, Unreviewed, UnreviewedCause

RELATED_TOKENS = 600
REVIEW_TRIES = 2  # an unusable reply is asked again once, with the reason


@dataclass(frozen=True)
class CallOutcome:
    """What one review call (or the pieces of one hunk) gave: findings, or the cause it gave none."""

    findings: tuple[Finding, ...] = ()
    moved: int = 0
    dropped: int = 0
    cause: UnreviewedCause | None = None
    reason: str = ""

    @classmethod
    def not_reviewed(cls, cause: UnreviewedCause, reason: str) -> CallOutcome:
        return cls(cause=cause, reason=reason)

    def __add__(self, other: CallOutcome) -> CallOutcome:
        return CallOutcome(self.findings + other.findings, self.moved + other.moved, self.dropped + other.dropped)

    def of(self, batch: list[Assessed]) -> BatchReview:
        """This outcome as the batch's: every hunk of it reviewed, or every one not reviewed."""
        if self.cause is not None:  # what earlier pieces of a split hunk found still stands
            unreviewed = tuple(Unreviewed(a.hunk.id, a.hunk.path, a.risk, self.reason, self.cause) for a in batch)
            return BatchReview((), unreviewed, self.findings, self.moved, self.dropped)
        return BatchReview(tuple(a.hunk.id for a in batch), (), self.findings, self.moved, self.dropped)


@dataclass(frozen=True)
class BatchReview:
    reviewed: tuple[str, ...] = ()  # hunk ids
    unreviewed: tuple[Unreviewed, ...] = ()
    findings: tuple[Finding, ...] = ()
    moved: int = 0  # findings moved onto the nearest changed line of their hunk
    dropped: int = 0  # findings outside what was shown

    def __add__(self, other: BatchReview) -> BatchReview:
        return BatchReview(
            self.reviewed + other.reviewed,
            self.unreviewed + other.unreviewed,
            self.findings + other.findings,
            self.moved + other.moved,
            self.dropped + other.dropped,
        )


class Contents:
    """Both sides of each file, read once."""

    def __init__(self, ws: GitWorkspace, source: DiffSource):
        self.ws, self.source = ws, source
        # per instance: a cache on the method would keep every run's workspace alive for the process's life
        self._old_by_path: dict[str, bytes | None] = {}
        self._new_by_path: dict[str, bytes | None] = {}

    def old(self, path: str) -> bytes | None:
        if path not in self._old_by_path:
            self._old_by_path[path] = old_content(self.ws, self.source, path)
        return self._old_by_path[path]

    def new(self, path: str) -> bytes | None:
        if path not in self._new_by_path:
            self._new_by_path[path] = new_content(self.ws, self.source, path)
        return self._new_by_path[path]

    def guarded(self, path: str, commands: tuple[str | None, ...]) -> str | None:
        """Why the file judges changes (tests, their configuration, CI, lint), from both sides."""
        return protected_edit(path, self.old(path), self.new(path), commands)

    def signature_changes(self, path: str) -> list:
        old, new = self.old(path), self.new(path)
        return signature_changes(path, old, new) if old is not None and new is not None else []


class Reviewer:
    """Reviews batches of assessed hunks; each batch's outcome is returned, never written into the result."""

    def __init__(self, gw: Gateway, config: Config, models: Models, read: Contents, repo_map: Callable[[], RepoMap]):
        self.gw, self.config, self.models, self.read, self.repo_map = gw, config, models, read, repo_map
        self._codes: dict[str, tuple[str, tuple[int, int] | None]] = {}  # hunk id -> (code shown, its lines)

    def _budget(self, tier: Tier) -> int:
        window = self.models.context_windows.get(tier) or DEFAULT_CONTEXT_WINDOW
        return window - self.gw.output_cap(Step.REVIEW, tier) - PROMPT_RESERVE_TOKENS

    def _related(self, path: str) -> str:
        try:
            text = self.repo_map().related_signatures([path], RELATED_TOKENS)
        except Exception:  # a map that cannot be built must not stop the review
            return ""
        return f"\nSignatures of related code (for reference):\n{text}\n" if text else ""

    def _shown_code(self, h: Hunk) -> tuple[str, tuple[int, int] | None]:
        """The code shown around a hunk and the lines it covers, worked out once per hunk."""
        if h.id not in self._codes:
            new = self.read.new(h.path)
            span = enclosing_span(h.path, new, h)
            self._codes[h.id] = (numbered_code(new, span), span)
        return self._codes[h.id]

    def _part(self, a: Assessed) -> Part:
        """`a`'s hunk as its reviewer sees it."""
        code, span = self._shown_code(a.hunk)
        return Part(a.hunk, code, _risk_note(a), span)

    def code(self, a: Assessed) -> str:
        """The code shown around a hunk: what batching counts, once per call."""
        return self._shown_code(a.hunk)[0]

    def review(self, batch: list[Assessed]) -> BatchReview:
        """One call for the batch; a single hunk too large for one call is split into pieces."""
        if len(batch) > 1:
            parts = [self._part(a) for a in batch]
            tier, related, budget = batch[0].tier, self._related(batch[0].hunk.path), self._budget(batch[0].tier)
            changes_tokens = estimate_tokens(changes_block(parts))
            if changes_tokens > budget:  # a tier with a small context window: one call per hunk after all
                return sum((self.review([a]) for a in batch), BatchReview())
            if changes_tokens + estimate_tokens(related) > budget:
                related = ""
            return self._call(tier, parts, related).of(batch)
        a = batch[0]
        h, tier = a.hunk, a.tier
        budget = self._budget(tier)
        code, related = self._shown_code(h)[0], self._related(h.path)
        if estimate_tokens(h.text + code + related) > budget:
            related = ""
        if estimate_tokens(h.text + code) > budget:
            code = "(omitted: the change is too large to show its surroundings)"
        pieces = [h]
        if estimate_tokens(h.text + code) > budget:
            split = split_hunk(h, self.read.new(h.path), h.path, budget)
            if split is None:
                return CallOutcome.not_reviewed(
                    UnreviewedCause.TOO_LARGE, f"too large for the {tier} tier's context"
                ).of(batch)
            pieces = split
        found = CallOutcome()
        for piece in pieces:
            outcome = self._call(tier, [self._piece_part(a, piece, code, len(pieces) > 1)], related)
            if outcome.cause is not None:
                return CallOutcome(found.findings, found.moved, found.dropped, outcome.cause, outcome.reason).of(batch)
            found = found + outcome
        return found.of(batch)

    def _piece_part(self, a: Assessed, piece: Hunk, code: str, split: bool) -> Part:
        if split:  # each piece with the code around it
            new = self.read.new(a.hunk.path)
            span = enclosing_span(a.hunk.path, new, piece)
            return Part(piece, numbered_code(new, span), _risk_note(a), span)
        if code == self._shown_code(a.hunk)[0]:
            return self._part(a)
        return Part(a.hunk, code, _risk_note(a))  # the surroundings were left out: no lines were shown

    def _call(self, tier: Tier, parts: list[Part], related: str) -> CallOutcome:
        """One review call for `parts` (asked again once after an unusable reply): its findings, or why not."""
        hunks = [p.hunk for p in parts]
        feedback, ids = "", ", ".join(h.id for h in hunks)
        changes = changes_block(parts)
        for _ in range(REVIEW_TRIES):
            messages = prompts.render(
                "review-hunks", path=hunks[0].path, changes=changes, related=related, feedback=feedback
            )
            call = self.gw.call(Step.REVIEW, tier, messages, note=ids)
            if call.reply is None:
                return _not_made(call.error, tier)
            if call.reply.truncated:  # findings cut short: ask again for a shorter answer
                self.gw.ledger.set_outcome(
                    call.row, Outcome.FORMAT_ERROR, f"{ids}: the reply was cut off at max_tokens"
                )
                feedback = (
                    "\nYour previous answer was cut off at the output limit. Report fewer findings, each more briefly."
                )
                continue
            try:
                raw = parse_findings(call.text)
            except ReplyFormatError as err:
                self.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, f"{ids}: {err}")
                feedback = f"\nYour previous answer was not usable: {err}. Answer with the JSON object only."
                continue
            placed = place(raw, hunks, tier, {p.hunk.id: p.span for p in parts if p.span is not None})
            self.gw.ledger.set_outcome(call.row, Outcome.OK, f"{ids}: {len(placed.findings)} finding(s)")
            return CallOutcome(tuple(placed.findings), placed.moved, placed.dropped)
        return CallOutcome.not_reviewed(UnreviewedCause.UNUSABLE, f"the {tier} tier's replies were unusable")


def _not_made(error: TieragentError | None, tier: Tier) -> CallOutcome:
    if isinstance(error, BudgetExceeded):
        return CallOutcome.not_reviewed(
            UnreviewedCause.OVER_BUDGET, f"over budget ({error.message.removeprefix('budget: ')})"
        )
    kind = error.kind if isinstance(error, ProviderError) else "error"
    if kind == "context_window":
        return CallOutcome.not_reviewed(UnreviewedCause.TOO_LARGE, f"too large for the {tier} tier's context window")
    return CallOutcome.not_reviewed(UnreviewedCause.UNAVAILABLE, f"the {tier} tier was unavailable ({kind})")


def _risk_note(a: Assessed) -> str:
    return f"{a.risk} risk" + (f": {'; '.join(a.reasons)}" if a.reasons else "")
