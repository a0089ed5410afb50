"""The ladder of patch attempts: which tier tries next, with which edit format, until one is accepted.

Each failure is fed to the next attempt; an unavailable tier is skipped; a retry that would repeat
the same failure is skipped (unless `routing.retry_same_failure`), but not the tier's attempt with
more reasoning effort (`routing.raise_effort_before_escalating`), which is skipped only when the model
cannot reason harder. Each tier starts with the edit format chosen for its model (format_choice.py);
a tier whose edits do not land writes whole files instead, and one whose whole files are cut off at
the output limit goes back to its edit format.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...core.vocab import EditFormat, Outcome, Tier
from ...model.reasoning import can_raise
from ...repo.patching import PATCH_FORMATS
from ...routing.edit_format import FormatChoice
from ...routing.policy import Rung, effort_retry, skip_tier
from .attempt import Attempt, PatchTask, make_attempt
from .format_choice import start_formats, whole_targets
from .session import Session

WHOLE_FILE_AFTER = 2  # failed edits (diffs or blocks) at one tier before the same tier writes the whole files
SHOWN = {"whole": "whole files", "search_replace": "search/replace blocks"}  # how a rung's why names a format


class Formats:
    """Which edit format each rung uses: its tier's start choice, until the run shows it does not work."""

    def __init__(self, s: Session, starts: dict[Tier, FormatChoice], targets: tuple[str, ...]):
        self.s, self.starts, self.targets = s, starts, targets
        self.failed_edits: dict[Tier, int] = {}
        self.switched: dict[Tier, tuple[EditFormat, str]] = {}  # the tier's format from now on, and why

    def decide(self, rung: Rung) -> Rung:
        """The rung with its edit format (a rung made by a fallback has one already)."""
        if rung.format_why:
            return rung
        start = self.starts[rung.tier]
        fmt, why = self.switched.get(rung.tier, (start.format, start.why))
        shown = f"{rung.why}; {SHOWN[fmt]} ({why})" if fmt in SHOWN else rung.why
        files = self.targets if fmt == "whole" else ()
        return replace(rung, why=shown, edit_format=fmt, whole_files=files, format_why=why)

    def after(self, ladder: list[Rung], i: int, attempt: Attempt) -> None:
        """Switch the tier's format when this attempt shows its format does not work."""
        rung, tier = ladder[i], ladder[i].tier
        if rung.edit_format == "whole":
            if attempt.row.truncated and tier not in self.switched:  # the files do not fit one reply
                limit = self.s.cfg.tier(tier).max_output_tokens
                self.switched[tier] = (self.starts[tier].fallback, f"whole files were cut off at {limit} tokens")
            return
        if attempt.outcome not in (Outcome.APPLY_FAILED, Outcome.FORMAT_ERROR):
            return
        failed = self.failed_edits[tier] = self.failed_edits.get(tier, 0) + 1
        explicit = self.s.cfg.tier(tier).edit_format in ("diff", "search_replace")  # that format and nothing else
        if failed < WHOLE_FILE_AFTER or tier in self.switched or not self.targets or explicit:
            return
        why = f"{failed} failed {PATCH_FORMATS[rung.edit_format].plural} at {tier} in this run"
        self.switched[tier] = ("whole", why)
        fallback = Rung(
            tier,
            rung.attempt + 1,
            f"whole-file fallback for {', '.join(self.targets)}",
            whole_files=self.targets,
            edit_format="whole",
            format_why=why,
            effort=rung.effort,
        )
        later = [n for n, r in enumerate(ladder) if n > i and r.tier == tier]
        if later:
            nxt = ladder[later[0]]
            ladder[later[0]] = replace(fallback, attempt=nxt.attempt, effort_raise=nxt.effort_raise)
        else:
            ladder.insert(i + 1, fallback)


def walk_ladder(
    s: Session, task: PatchTask, planned: tuple[Rung, ...], starts: dict[Tier, FormatChoice] | None = None
) -> Iterator[Attempt]:
    """Attempts in ladder order until one is accepted. Each failure is fed to the next attempt; an
    unavailable tier is skipped; each tier writes in its start format (`starts`, else chosen here)
    until the run shows that format does not work for it."""
    ladder = list(planned)
    formats = Formats(s, starts or start_formats(s, task, [r.tier for r in ladder]), whole_targets(s, task))
    failures = _Failures(s)
    feedback, i = "", 0
    while i < len(ladder):
        if ladder[i].effort_raise and not _can_raise(s, ladder[i]):
            s.events.info(f"{ladder[i].tier}: its model cannot reason harder; not retrying with more effort")
            i += 1
            continue
        rung = ladder[i] = formats.decide(ladder[i])
        attempt = make_attempt(s, task, rung, feedback)
        yield attempt
        if attempt.accepted:
            return
        if attempt.over_window:  # a smaller prompt at the same tier, or else a tier with a bigger window
            smaller = _smaller_context(s, task, attempt)
            if smaller is not None:
                task = smaller
                continue
        if not attempt.reached_model:
            i = skip_tier(ladder, i, rung.tier)
            continue
        if failures.repeated(task, attempt):
            # the same tests failing the same way again: feedback did not help, so the tier's retry is skipped
            s.events.info(f"{rung.tier} failed the same way as before; not retrying at {rung.tier}")
            i = effort_retry(ladder, i, rung.tier) or skip_tier(ladder, i, rung.tier)
            continue
        failures.retry_if_unusable(ladder, i, attempt)
        feedback = f"\nA previous attempt ({rung.tier} tier) failed: {attempt.row.note}\n{attempt.feedback}\n"
        formats.after(ladder, i, attempt)
        i += 1


def _smaller_context(s: Session, task: PatchTask, attempt: Attempt) -> PatchTask | None:
    """The task with less context after a prompt over the tier's window; None when it has the least already."""
    smaller = task.context.smaller()
    if smaller is None:
        note = "over the context window with the least context: moving up a tier"
        s.gw.ledger.set_outcome(attempt.row, Outcome.PROVIDER_ERROR, note)
        return None
    note = f"over the context window: retrying without {smaller[1]}"
    s.gw.ledger.set_outcome(attempt.row, Outcome.PROVIDER_ERROR, note)
    return replace(task, context=smaller[0])


class _Failures:
    """What the run's failures say about the next attempt: a repeat of the last one, or an unusable reply."""

    def __init__(self, s: Session):
        self.s = s
        self.before: frozenset | None = None  # how things failed before the last judged patch (first: the baseline)
        self.format_retried: set[str] = set()

    def repeated(self, task: PatchTask, attempt: Attempt) -> bool:
        """The attempt failed the same tests the same way as before it (retries would repeat it)."""
        failure = attempt.failure()
        if failure is None:
            return False
        if self.before is None:  # the baseline is ready: this attempt was judged against it
            self.before = task.baseline.tests.failure_signature()
        if failure == self.before and not self.s.cfg.routing.retry_same_failure:
            return True
        self.before = failure
        return False

    def retry_if_unusable(self, ladder: list[Rung], i: int, attempt: Attempt) -> None:
        """A tier with a single attempt (small, by default) is asked once more when its reply was unusable."""
        rung = ladder[i]
        last_at_tier = i + 1 >= len(ladder) or ladder[i + 1].tier != rung.tier
        unusable = attempt.outcome is Outcome.FORMAT_ERROR and last_at_tier and rung.tier not in self.format_retried
        if unusable and rung.attempt == 1:
            self.format_retried.add(rung.tier)
            why = f"retry at {rung.tier}: the reply was unusable"
            ladder.insert(i + 1, Rung(rung.tier, rung.attempt + 1, why, effort=rung.effort))


def _can_raise(s: Session, rung: Rung) -> bool:
    cfg = s.cfg.tier(rung.tier)
    return can_raise(cfg.model, rung.effort or cfg.reasoning_effort)
