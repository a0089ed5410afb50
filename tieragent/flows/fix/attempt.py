"""One patch attempt: ask a tier, plan the edit, guard it, apply it, validate it, have it checked (verify.py).

`make_attempt` returns an `Attempt` saying what became of it. An attempt that is not accepted
leaves the tree as it was before it (the journal rewinds it) and carries the feedback for the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ...core import prompts
from ...core.errors import ProviderError, TieragentError
from ...core.tokens import estimate_tokens
from ...core.vocab import SMALL, Outcome, Step
from ...judge.failure_output import condense, needs_summary, validation_feedback
from ...judge.tamper import protected_edit, protected_edit_feedback
from ...judge.testresults import target_tests
from ...judge.validation import Baseline, Validation
from ...model.ledger import LedgerRow
from ...repo.diffs import EditStat
from ...repo.patching import PATCH_FORMATS, FileChange, PatchError
from ...risk.rules import capability_additions, patch_risk, public_signatures
from ...routing.policy import Rung
from .context import PatchContext
from .session import Session
from .staged import validate
from .verify import Candidate, check_patch


@dataclass(frozen=True)
class PatchTask:
    """What every attempt of one run works from."""

    request: str
    context: PatchContext
    wait_baseline: Callable[[], Baseline]  # the baseline, waited for (it runs while the first patch is written)
    risk_reasons: tuple[str, ...]  # why the task is high-risk before any patch (empty: it is not)
    keep: frozenset[str] = frozenset()  # files a rewind leaves in place (the --repro test)

    @property
    def baseline(self) -> Baseline:
        """The tests on the unpatched tree; the first use waits for them (and may stop the run)."""
        return self.wait_baseline()

    @cached_property
    def targets(self) -> tuple[frozenset[str], str]:
        """The failing tests the request is about, and how they were chosen (see `target_tests`)."""
        found, rule = target_tests(self.baseline.tests.failing, self.request, list(self.context.files.texts))
        return frozenset(found), rule


@dataclass(frozen=True)
class Attempt:
    rung: Rung
    outcome: Outcome  # PROVIDER_ERROR: the tier was unavailable and no reply came
    row: LedgerRow  # the attempt's own ledger row
    diff: str = ""  # what the attempt changed, or tried to ("" when nothing usable)
    feedback: str = ""  # what the next attempt is told
    failed_path: str | None = None  # the file whose diff could not be applied
    validation: Validation | None = None
    risk_after: tuple[str, ...] = ()  # risk the patch itself shows (size, deletions, signatures)
    test_edits: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # edits to what judges the patch
    over_window: bool = False  # no reply: the prompt was over the tier's context window

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def reached_model(self) -> bool:
        return self.outcome is not Outcome.PROVIDER_ERROR

    def failure(self) -> frozenset | None:
        """How the patch failed its judges, comparable between attempts; None when it never got that far
        (feedback about the format or the apply is what a retry can act on)."""
        v = self.validation
        if v is None or v.ok:
            return None
        if v.outcome == "lint-failed":
            return frozenset(("lint", p) for p in v.checks.get("lint_new_problems", []))
        return v.tests.failure_signature() if v.tests is not None else None


def run_diff(s: Session, exclude: frozenset[str] = frozenset()) -> str:
    """What the run has changed so far, against the tree as it was before the run."""
    return "".join(
        EditStat(rel, s.journal.original(rel), s.current(rel)).diff()
        for rel in s.journal.touched()
        if rel not in exclude
    )


def make_attempt(s: Session, task: PatchTask, rung: Rung, feedback: str) -> Attempt:
    fmt = PATCH_FORMATS[rung.edit_format]
    call = s.gw.call(
        Step.PATCH,
        rung.tier,
        _prompt(s, task, rung, feedback),
        note=rung.why if rung.whole_files else "",
        edit_format=rung.edit_format,
        effort=rung.effort,
        effort_raise=rung.effort_raise,
    )
    call.row.edit_format_reason = rung.format_why or None
    if call.reply is None:  # the tier is unavailable, or the prompt too big for it; the gateway recorded it and warned
        over = isinstance(call.error, ProviderError) and call.error.kind == "context_window"
        return Attempt(rung, Outcome.PROVIDER_ERROR, call.row, over_window=over)
    if call.reply.truncated:  # a diff or a file cut short must never be applied as if complete
        limit = s.cfg.tier(rung.tier).max_output_tokens
        call.row.truncated = True
        s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, f"the reply was cut off at max_tokens ({limit})")
        return Attempt(rung, Outcome.FORMAT_ERROR, call.row, feedback=fmt.shorter(limit))
    try:  # the baseline, waited for before the reply is used: one that cannot judge stops the run, tree untouched
        task.wait_baseline()
    except TieragentError as err:
        s.gw.ledger.set_outcome(call.row, Outcome.DISCARDED, f"not applied: the tests cannot judge a patch ({err})")
        raise
    return _judge(s, task, rung, call.text, call.row)


def _prompt(s: Session, task: PatchTask, rung: Rung, feedback: str) -> tuple[dict[str, str], ...]:
    related = task.context.related
    related_block = f"\nSignatures in related files (for reference):\n{related}\n" if related else ""
    fmt = PATCH_FORMATS[rung.edit_format]
    shown = task.context.files.texts
    read_only = {p: text for p, text in shown.items() if p not in rung.whole_files} if rung.whole_files else {}
    files = fmt.prompt_files(s.ws.root, rung.whole_files, task.context.files.render(), read_only)
    return prompts.render(fmt.prompt, request=task.request, related=related_block, feedback=feedback, **files)


def _judge(s: Session, task: PatchTask, rung: Rung, text: str, row: LedgerRow) -> Attempt:
    """Everything after the reply; marks the attempt's ledger row with what became of it."""
    root, text = s.ws.root, s.gw.unmask(text)  # a masked line the model copied gets its real value back
    baseline = task.baseline  # waited for already (make_attempt)
    paths = rung.whole_files or tuple(task.context.files.texts)
    try:
        changes = PATCH_FORMATS[rung.edit_format].plan(text, root, paths, s.refuse)
    except PatchError as err:
        s.gw.ledger.set_outcome(
            row, Outcome.FORMAT_ERROR if err.kind == "no-diff" else Outcome.APPLY_FAILED, err.reason
        )
        looks_like_diff = "@@" in text or "+++" in text
        return Attempt(rung, row.outcome, row, text if looks_like_diff else "", err.feedback, failed_path=err.path)
    edits = [EditStat(ch.path, s.current(ch.old_path), ch.new_content) for ch in changes]
    edits += [
        EditStat(ch.old_path, s.current(ch.old_path), None) for ch in changes if ch.old_path and ch.old_path != ch.path
    ]
    refusal, test_edits = _guard(s, edits)
    if refusal is not None:  # refused before it touches the tree
        s.gw.ledger.set_outcome(row, Outcome.TEST_EDIT_REFUSED, refusal[0])
        return Attempt(
            rung, Outcome.TEST_EDIT_REFUSED, row, "".join(e.diff() for e in edits), refusal[1], test_edits=test_edits
        )
    _apply(s, changes)
    diff = run_diff(s, exclude=task.keep if not s.opts.keep_repro else frozenset())
    v = validate(s, baseline, task.targets, [e.path for e in edits], task.keep)
    if not v.ok:
        s.gw.ledger.set_outcome(row, v.outcome, v.reason)
        feedback = failure_feedback(s, v, diff)
        s.journal.rewind(keep=task.keep)
        return Attempt(rung, Outcome(v.outcome), row, diff, feedback, validation=v, test_edits=test_edits)
    post = patch_risk(edits, s.risk_rules, public_signatures) + capability_additions(edits, task.request)
    risk = list(dict.fromkeys(list(task.risk_reasons) + post))
    rejection = check_patch(s, task.request, task.baseline, Candidate(rung.tier, diff, v, edits, risk))
    if rejection is not None:  # fed back like a failing test
        s.journal.rewind(keep=task.keep)
        s.gw.ledger.set_outcome(row, rejection.outcome, rejection.reason)
        return Attempt(
            rung,
            rejection.outcome,
            row,
            diff,
            rejection.feedback,
            validation=v,
            risk_after=tuple(post),
            test_edits=test_edits,
        )
    return Attempt(rung, Outcome.OK, row, diff, validation=v, risk_after=tuple(post), test_edits=test_edits)


def _apply(s: Session, changes: list[FileChange]) -> None:
    for ch in changes:
        if ch.old_path and ch.old_path != ch.path:
            s.journal.delete(ch.old_path)
        if ch.new_content is None:
            s.journal.delete(ch.path)
        else:
            s.journal.write(ch.path, ch.new_content)


def _guard(s: Session, edits: list[EditStat]) -> tuple[tuple[str, str] | None, tuple[dict[str, Any], ...]]:
    """((ledger note, feedback) when the patch edits tests, CI or lint config without permission, else None;
    the record of every such edit and who decided)."""
    commands = (s.deps.test_command, s.deps.lint_command)
    hits = {e.path: why for e in edits if (why := protected_edit(e.path, e.old, e.new, commands))}
    if not hits:
        return None, ()
    listing = "; ".join(f"{p} ({w})" for p, w in hits.items())
    if s.opts.allow_test_edits:
        allowed, how = True, "--allow-test-edits"
    elif s.deps.confirm is not None:
        preview = "".join(e.diff() for e in edits if e.path in hits)
        allowed, how = s.deps.confirm(f"This patch {listing}. Accept it?", preview), "asked"
    else:
        allowed, how = False, "not interactive"
    record = tuple({"path": p, "reason": w, "allowed": allowed, "decided_by": how} for p, w in hits.items())
    if allowed:
        s.events.warn(f"accepted edits to what judges the patch: {listing} ({how})")
        return None, record
    return (listing, protected_edit_feedback(listing)), record


def failure_feedback(s: Session, v: Validation, diff: str) -> str:
    """The failure, cut to what a model needs; summarized by the small tier when still long."""
    output = condense(v.failed_output())
    if needs_summary(output):
        command = s.deps.lint_command if v.outcome == "lint-failed" else s.deps.test_command
        messages = prompts.render("summarize", command=command or "", output=output)
        call = s.gw.call(Step.SUMMARIZE, SMALL, messages, note=f"{estimate_tokens(output)} tokens of output")
        if call.reply is not None:
            if call.text.strip():
                output = call.text.strip()
            else:
                s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, "empty summary")
    return validation_feedback(v.reason, diff, output)
