"""`tieragent review`: a tiered review of a diff.

`run_review` reads top to bottom: parse the diff, skip what needs no model, rate each hunk's
risk (rules, then the small tier's triage), review each hunk at the tier its risk calls for
(riskiest first, within the budget; small hunks of one file share a call), place and merge the findings, optionally run the tests and
the linter against the base, and decide the exit code. It returns a `ReviewResult` and prints
nothing. It never writes to the work tree or the index.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from ...core import prompts
from ...core.config import Config
from ...core.errors import BudgetExceeded, ExitCode, ProviderError, RunTimeout, TieragentError
from ...core.events import OnEvent, ignore_events
from ...core.tokens import estimate_tokens
from ...core.vocab import FRONTIER, MID, TIERS, Outcome, Risk, Step, Tier
from ...judge.tamper import protected_edit
from ...model.gateway import CallPolicy, Gateway, Unavailable
from ...model.ledger import Ledger
from ...model.protocol import Models
from ...model.redact import Redactor
from ...repo.changes import DiffSource, base_attributes, change_attributes, new_content, old_content
from ...repo.context import DEFAULT_CONTEXT_WINDOW, PROMPT_RESERVE_TOKENS
from ...repo.map import RepoMap
from ...repo.runner import CommandRunner
from ...repo.workspace import GitWorkspace
from ...risk.rules import RiskRules, signature_changes
from ..base import Reporter, new_run_id, record_history
from ..replies import ReplyFormatError
from .assess import rule_reasons, triage
from .batch import Part, changes_block, plan_batches
from .context import enclosing_span, numbered_code, split_hunk
from .diff import parse_diff
from .findings import merge_duplicates, parse_findings, place
from .model import Assessed, Finding, Hunk, ReviewResult, Severity, Unreviewed, UnreviewedCause, blocks
from .prefilter import Sides, prefilter

# What each step of `review` does when its call cannot be made (see model/gateway.py).
REVIEW_POLICIES: dict[Step, CallPolicy] = {
    Step.REVIEW_TRIAGE: CallPolicy(Unavailable.FALL_BACK, "the risk rules decide alone", over_budget_falls_back=True),
    Step.REVIEW: CallPolicy(Unavailable.FALL_BACK, "the hunk is listed as not reviewed", over_budget_falls_back=True),
}
REVIEWER: dict[Risk, Tier] = {"low": MID, "medium": MID, "high": FRONTIER}
RELATED_TOKENS = 600
REVIEW_TRIES = 2  # an unusable reply is asked again once, with the reason
# Hunks left unreviewed for these causes end the review `incomplete`, exit 3 (as a budget stop does:
# "hunks left unreviewed"), unless --allow-incomplete; a budget stop and an unavailable tier keep their own.
INCOMPLETE = (UnreviewedCause.TOO_LARGE, UnreviewedCause.UNUSABLE, UnreviewedCause.BINARY)


@dataclass
class ReviewDeps:
    ws: GitWorkspace
    config: Config
    models: Callable[[], Models]  # built only when a hunk needs a model (litellm is slow to import)
    repo_map: Callable[[], RepoMap]
    runner: CommandRunner
    test_command: str | None = None  # for --run-tests
    lint_command: str | None = None
    on_event: OnEvent = ignore_events


@dataclass
class ReviewOptions:
    fail_on: str = "high"  # high | medium | low | never
    run_tests: bool = False
    allow_incomplete: bool = False  # hunks left unreviewed for a reason in INCOMPLETE still let the review pass


def run_review(source: DiffSource, deps: ReviewDeps, options: ReviewOptions | None = None) -> ReviewResult:
    opts = options or ReviewOptions()
    result = ReviewResult(run_id=new_run_id(), source=source.description, fail_on=opts.fail_on)
    events = Reporter(deps.on_event)
    result.warnings = events.warnings
    # one redactor for the prompts and for everything the result shows: findings may quote masked code
    redactor = result.redactor = Redactor.from_environment(
        extra_names=tuple(c.api_key_env for c in (deps.config.tiers.small, deps.config.tiers.mid, deps.config.tiers.frontier) if c and c.api_key_env))
    stopped: TieragentError | None = None
    try:
        files = parse_diff(source.text)
        result.files, result.hunks = len(files), sum(len(f.hunks) for f in files)
        read = _Contents(deps.ws, source)
        paths = [f.path for f in files]
        sides = Sides(read.old, read.new, base_attributes(deps.ws, source, paths), change_attributes(deps.ws, source, paths))
        filtered = prefilter(files, sides)
        hunks, result.skipped = filtered.hunks, filtered.skipped
        for path, note in filtered.notes.items():
            events.warn(f"{path}: {note}")
        result.unreviewed += [Unreviewed(f"{path}#binary", path, "high", why, UnreviewedCause.BINARY) for path, why in filtered.unreviewable.items()]
        if hunks:
            models = deps.models()
            result.warnings.extend(models.warnings)
            result.ledger = Ledger(models.prices, {t: deps.config.tier(t).model for t in TIERS}, mask=redactor)
            gw = Gateway(models.provider, result.ledger, {t: deps.config.tier(t) for t in TIERS}, deps.config.budget,
                         REVIEW_POLICIES, redactor=redactor, on_event=events)
            rules = RiskRules.from_config(deps.config.risk)
            commands = (deps.test_command, deps.lint_command)
            rules_say = {h.id: rule_reasons(h, rules, read.signature_changes(h.path), read.guarded(h.path, commands)) for h in hunks}
            rated, result.triage = triage(gw, hunks, rules_say, events.warn)
            result.assessed = [Assessed(r.hunk, r.risk, r.reasons + _noted(filtered.notes, r.hunk), REVIEWER[r.risk]) for r in rated]
            reviewer = _Reviewer(gw, deps, models, read, functools.cache(deps.repo_map))
            try:
                for batch in plan_batches(result.assessed, reviewer.code):
                    reviewer.review(batch, result)
            except TieragentError as err:  # a bad key, an unknown model: nothing more can be reviewed
                stopped = err
                done = set(result.reviewed) | {u.hunk for u in result.unreviewed}
                result.unreviewed += [Unreviewed(a.hunk.id, a.hunk.path, a.risk, f"not reviewed: {err.message}", UnreviewedCause.STOPPED)
                                      for a in result.assessed if a.hunk.id not in done]
            result.findings, result.merged_findings = merge_duplicates(result.findings)
        if opts.run_tests:
            result.judges = _run_judges(deps, source, files, result, events)
    except RunTimeout as stop:  # the review so far stands; what was not reviewed is listed
        done = set(result.reviewed) | {u.hunk for u in result.unreviewed}
        result.unreviewed += [Unreviewed(a.hunk.id, a.hunk.path, a.risk, f"not reviewed: {stop}", UnreviewedCause.OVER_BUDGET)
                              for a in result.assessed if a.hunk.id not in done]
        return _record(deps, _end(result, "budget_exceeded", ExitCode.BUDGET, str(stop)))
    except KeyboardInterrupt:
        return _record(deps, _end(result, "error", ExitCode.INTERRUPTED, "interrupted"))
    except TieragentError as err:
        return _record(deps, _end(result, "error", err.exit_code, str(err)))
    result.findings.sort(key=lambda f: (-f.severity.rank, f.path or "", f.line or 0))
    return _record(deps, _verdict(result, stopped, opts.allow_incomplete))


def _end(result: ReviewResult, status: str, code: int, error: str | None = None) -> ReviewResult:
    result.status, result.exit_code, result.error = status, code, error
    return result


def _verdict(result: ReviewResult, stopped: TieragentError | None, allow_incomplete: bool = False) -> ReviewResult:
    """1 when a finding is at or above --fail-on; else 2/4 when models could not be used, 3 for a budget stop
    or hunks left unreviewed (unless --allow-incomplete), 0. Decided by the causes, never by their wording."""
    if any(blocks(f.severity, result.fail_on) for f in result.findings):
        return _end(result, "failed", ExitCode.NOT_FIXED, str(stopped) if stopped else None)
    if stopped is not None:
        return _end(result, "error", stopped.exit_code, str(stopped))
    causes = {u.cause for u in result.unreviewed}
    if UnreviewedCause.UNAVAILABLE in causes:
        return _end(result, "error", ExitCode.PROVIDER, "some hunks could not be reviewed: a tier was unavailable")
    if UnreviewedCause.OVER_BUDGET in causes:
        return _end(result, "budget_exceeded", ExitCode.BUDGET, "the budget ran out before every hunk was reviewed")
    left = sum(u.cause in INCOMPLETE for u in result.unreviewed)
    if left and not allow_incomplete:
        return _end(result, "incomplete", ExitCode.BUDGET,
                    f"{left} hunk(s) could not be reviewed (see the list); --allow-incomplete lets such a review pass")
    return _end(result, "passed", ExitCode.FIXED)


def _noted(notes: dict[str, str], h: Hunk) -> tuple[str, ...]:
    """The note on a file the change itself calls generated or vendored, for its hunks' reasons (and the reviewer)."""
    note = notes.get(h.path)
    return (note,) if note else ()


class _Contents:
    """Both sides of each file, read once."""

    def __init__(self, ws: GitWorkspace, source: DiffSource):
        self.ws, self.source = ws, source

    @functools.cache
    def old(self, path: str) -> bytes | None:
        return old_content(self.ws, self.source, path)

    @functools.cache
    def new(self, path: str) -> bytes | None:
        return new_content(self.ws, self.source, path)

    def guarded(self, path: str, commands: tuple[str | None, ...]) -> str | None:
        """Why the file judges changes (tests, their configuration, CI, lint), from both sides."""
        return protected_edit(path, self.old(path), self.new(path), commands)

    def signature_changes(self, path: str) -> list:
        old, new = self.old(path), self.new(path)
        return signature_changes(path, old, new) if old is not None and new is not None else []


class _Reviewer:
    def __init__(self, gw: Gateway, deps: ReviewDeps, models: Models, read: _Contents, repo_map: Callable[[], RepoMap]):
        self.gw, self.deps, self.models, self.read, self.repo_map = gw, deps, models, read, repo_map
        self._codes: dict[str, tuple[str, tuple[int, int] | None]] = {}  # hunk id -> (code shown, its lines)

    def _budget(self, tier: Tier) -> int:
        window = self.models.context_windows.get(tier) or DEFAULT_CONTEXT_WINDOW
        return window - self.deps.config.tier(tier).max_output_tokens - PROMPT_RESERVE_TOKENS

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

    def review(self, batch: list[Assessed], result: ReviewResult) -> None:
        """One call for the batch; a single hunk too large for one call is split into pieces."""
        if len(batch) > 1:
            parts = [self._part(a) for a in batch]
            tier, related, budget = batch[0].tier, self._related(batch[0].hunk.path), self._budget(batch[0].tier)
            changes_tokens = estimate_tokens(changes_block(parts))
            if changes_tokens > budget:  # a tier with a small context window: one call per hunk after all
                for a in batch:
                    self.review([a], result)
                return
            if changes_tokens + estimate_tokens(related) > budget:
                related = ""
            self._finish(batch, self._call(tier, parts, related, result), result)
            return
        a = batch[0]
        h, tier = a.hunk, a.tier
        budget = self._budget(tier)
        code, related = self._shown_code(h)[0], self._related(h.path)
        if estimate_tokens(h.text + code + related) > budget:
            related = ""
        if estimate_tokens(h.text + code) > budget:
            code = "(omitted: the change is too large to show its surroundings)"
        pieces: list[Hunk] | None = [h]
        if estimate_tokens(h.text + code) > budget:
            pieces = split_hunk(h, self.read.new(h.path), h.path, budget)
            if pieces is None:
                result.unreviewed.append(Unreviewed(h.id, h.path, a.risk, f"too large for the {tier} tier's context", UnreviewedCause.TOO_LARGE))
                return
        for piece in pieces:
            if len(pieces) > 1:  # each piece with the code around it
                new = self.read.new(h.path)
                span = enclosing_span(h.path, new, piece)
                part = Part(piece, numbered_code(new, span), _risk_note(a), span)
            elif code == self._shown_code(h)[0]:
                part = self._part(a)
            else:  # the surroundings were left out: no lines were shown
                part = Part(h, code, _risk_note(a))
            why_not = self._call(tier, [part], related, result)
            if why_not is not None:
                self._finish(batch, why_not, result)
                return
        self._finish(batch, None, result)

    @staticmethod
    def _finish(batch: list[Assessed], why_not: tuple[UnreviewedCause, str] | None, result: ReviewResult) -> None:
        if why_not is None:
            result.reviewed.extend(a.hunk.id for a in batch)
        else:
            result.unreviewed.extend(Unreviewed(a.hunk.id, a.hunk.path, a.risk, why_not[1], why_not[0]) for a in batch)

    def _call(self, tier: Tier, parts: list[Part], related: str, result: ReviewResult) -> tuple[UnreviewedCause, str] | None:
        """One review call for `parts` (asked again once after an unusable reply). None when reviewed; else why not."""
        hunks = [p.hunk for p in parts]
        feedback, ids = "", ", ".join(h.id for h in hunks)
        changes = changes_block(parts)
        for _ in range(REVIEW_TRIES):
            messages = prompts.render("review-hunks", path=hunks[0].path, changes=changes, related=related, feedback=feedback)
            call = self.gw.call(Step.REVIEW, tier, messages, note=ids)
            if call.reply is None:
                if isinstance(call.error, BudgetExceeded):
                    return UnreviewedCause.OVER_BUDGET, f"over budget ({call.error.message.removeprefix('budget: ')})"
                kind = call.error.kind if isinstance(call.error, ProviderError) else "error"
                if kind == "context_window":
                    return UnreviewedCause.TOO_LARGE, f"too large for the {tier} tier's context window"
                return UnreviewedCause.UNAVAILABLE, f"the {tier} tier was unavailable ({kind})"
            if call.reply.truncated:  # findings cut short: ask again for a shorter answer
                self.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, f"{ids}: the reply was cut off at max_tokens")
                feedback = "\nYour previous answer was cut off at the output limit. Report fewer findings, each more briefly."
                continue
            try:
                raw = parse_findings(call.text)
            except ReplyFormatError as err:
                self.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, f"{ids}: {err}")
                feedback = f"\nYour previous answer was not usable: {err}. Answer with the JSON object only."
                continue
            placed = place(raw, hunks, tier, {p.hunk.id: p.span for p in parts if p.span is not None})
            result.findings.extend(placed.findings)
            result.moved_findings += placed.moved
            result.dropped_findings += placed.dropped
            self.gw.ledger.set_outcome(call.row, Outcome.OK, f"{ids}: {len(placed.findings)} finding(s)")
            return None
        return UnreviewedCause.UNUSABLE, f"the {tier} tier's replies were unusable"


def _risk_note(a: Assessed) -> str:
    return f"{a.risk} risk" + (f": {'; '.join(a.reasons)}" if a.reasons else "")


def _run_judges(deps: ReviewDeps, source: DiffSource, files: list, result: ReviewResult, events: Reporter) -> dict:
    """--run-tests: the tests and the linter on the reviewed tree against the base, as findings."""
    from ...judge.tree_compare import judge_change

    if not deps.test_command and not deps.lint_command:
        events.warn("--run-tests: no test or lint command is configured or detected; nothing was run")
        return {"notes": ["no test or lint command"]}
    base = source.base_rev or "HEAD"
    commands = " and ".join(c for c in (deps.test_command, deps.lint_command) if c)
    events.validating(f"--run-tests: {commands} on the reviewed tree (and on {base[:12]} when something fails)")
    report = judge_change(deps.runner, deps.ws.root, deps.ws.state_dir, base, deps.test_command, deps.lint_command,
                          [f.path for f in files], deps.config.validation.timeout_s, junit_xml=deps.config.validation.junit_xml)
    for j in report.findings:
        result.findings.append(Finding(path=j.path, line=j.line, severity=Severity(j.severity), category=j.category, message=j.message))
    for note in report.notes:
        events.warn(f"--run-tests: {note}")
    return {"before": report.before, "after": report.after, "notes": report.notes, "findings": len(report.findings)}


def _record(deps: ReviewDeps, result: ReviewResult) -> ReviewResult:
    if result.ledger is None:
        return result  # no model was called: nothing to account for
    record = {k: v for k, v in result.to_json().items() if k not in ("findings", "skipped", "judges")}
    warning = record_history(deps.ws.state_dir, "review", record)
    if warning:
        result.warnings.append(warning)
    return result
