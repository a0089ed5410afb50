"""The ladder of patch attempts: which tier tries next, with which edit format, until one is accepted.

Each failure is fed to the next attempt; an unavailable tier is skipped; a retry that would repeat
the same failure is skipped (unless `routing.retry_same_failure`), but not the tier's attempt with
more reasoning effort (`routing.raise_effort_before_escalating`), which is skipped only when the model
cannot reason harder; a tier whose diffs do not land writes whole files instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...core.tokens import estimate_tokens
from ...core.vocab import Outcome, Tier
from ...model.ledger import read_history
from ...model.reasoning import can_raise
from ...repo.patching import whole_file_eligible
from ...routing.policy import Rung, choose_format, effort_retry, skip_tier
from ..ledger_summary import diff_record
from .attempt import Attempt, PatchTask, make_attempt
from .session import Session

WHOLE_FILE_AFTER = 2  # failed diffs for one file before the same tier writes the whole file


def walk_ladder(s: Session, task: PatchTask, planned: tuple[Rung, ...]) -> Iterator[Attempt]:
    """Attempts in ladder order until one is accepted. Each failure is fed to the next attempt; an
    unavailable tier is skipped; a tier writes whole files when its edit format says so, or after two
    of its diffs failed to apply or parse (whatever files they named)."""
    ladder = list(planned)
    failed_diffs: dict[str, int] = {}  # per tier: diffs that did not apply or could not be read
    went_whole: set[str] = set()
    format_retried: set[str] = set()
    feedback, i = "", 0
    before = task.baseline.tests.failure_signature()  # how things failed before any patch
    whole_targets = _whole_targets(s, task)
    while i < len(ladder):
        rung = ladder[i]
        if rung.effort_raise and not _can_raise(s, rung):
            s.events.info(f"{rung.tier}: its model cannot reason harder; not retrying at {rung.tier} with more effort")
            i += 1
            continue
        if not rung.whole_files and rung.tier not in went_whole and whole_targets:
            fmt, why = _tier_format(s, rung.tier, whole_targets)
            if fmt == "whole":
                rung = ladder[i] = replace(rung, whole_files=whole_targets, why=f"{rung.why}; whole files ({why})")
        attempt = make_attempt(s, task, rung, feedback)
        yield attempt
        if attempt.accepted:
            return
        if attempt.over_window:  # a smaller prompt at the same tier, or else a tier with a bigger window
            smaller = task.context.smaller()
            if smaller is not None:
                task = replace(task, context=smaller[0])
                s.gw.ledger.set_outcome(
                    attempt.row, Outcome.PROVIDER_ERROR, f"over the context window: retrying without {smaller[1]}"
                )
                continue
            s.gw.ledger.set_outcome(
                attempt.row, Outcome.PROVIDER_ERROR, "over the context window with the least context: moving up a tier"
            )
        if not attempt.reached_model:
            i = skip_tier(ladder, i, rung.tier)
            continue
        failure = attempt.failure()
        if failure is not None and failure == before and not s.cfg.routing.retry_same_failure:
            # the same tests failing the same way again: feedback did not help, so the tier's retry is skipped
            s.events.info(f"{rung.tier} failed the same way as before; not retrying at {rung.tier}")
            i = effort_retry(ladder, i, rung.tier) or skip_tier(ladder, i, rung.tier)
            continue
        if failure is not None:
            before = failure
        last_at_tier = i + 1 >= len(ladder) or ladder[i + 1].tier != rung.tier
        if (
            attempt.outcome is Outcome.FORMAT_ERROR
            and last_at_tier
            and rung.tier not in format_retried
            and rung.attempt == 1
        ):
            # a tier with a single attempt (small, by default) is asked once more when its reply was unusable
            format_retried.add(rung.tier)
            retry = Rung(
                rung.tier, rung.attempt + 1, f"retry at {rung.tier}: the reply was unusable", effort=rung.effort
            )
            ladder.insert(i + 1, retry)
        feedback = f"\nA previous attempt ({rung.tier} tier) failed: {attempt.row.note}\n{attempt.feedback}\n"
        if not rung.whole_files and attempt.outcome in (Outcome.APPLY_FAILED, Outcome.FORMAT_ERROR):
            failed_diffs[rung.tier] = failed_diffs.get(rung.tier, 0) + 1
            diff_only = s.cfg.tier(rung.tier).edit_format == "diff"  # the user asked for diffs and nothing else
            if (
                failed_diffs[rung.tier] >= WHOLE_FILE_AFTER
                and rung.tier not in went_whole
                and whole_targets
                and not diff_only
            ):
                # this tier's diffs do not land: the same tier writes the whole files instead, once
                went_whole.add(rung.tier)
                later = [n for n, r in enumerate(ladder) if n > i and r.tier == rung.tier]
                fallback = Rung(
                    rung.tier,
                    rung.attempt + 1,
                    f"whole-file fallback for {', '.join(whole_targets)}",
                    whole_files=whole_targets,
                    effort=rung.effort,
                )
                if later:
                    nxt = ladder[later[0]]
                    ladder[later[0]] = replace(fallback, attempt=nxt.attempt, effort_raise=nxt.effort_raise)
                else:
                    ladder.insert(i + 1, fallback)
        i += 1


def _can_raise(s: Session, rung: Rung) -> bool:
    cfg = s.cfg.tier(rung.tier)
    return can_raise(cfg.model, rung.effort or cfg.reasoning_effort)


def _whole_targets(s: Session, task: PatchTask) -> tuple[str, ...]:
    """The files the request is about that can be written out whole (existing text files of at most
    400 lines that may be patched)."""
    return tuple(p for p in task.context.files.texts if whole_file_eligible(p, s.ws.root) and not s.refuse(p))


def _tier_format(s: Session, tier: Tier, targets: tuple[str, ...]) -> tuple[str, str]:
    cfg = s.cfg.tier(tier)
    size = sum(estimate_tokens((s.ws.root / p).read_text(errors="replace")) for p in targets)
    fits = size <= cfg.max_output_tokens * 0.8  # room for every line of them, and a sentence
    history = diff_record(read_history(s.ws.state_dir), cfg.model) if cfg.edit_format == "auto" else None
    return choose_format(cfg.edit_format, history, fits)
