"""`tieragent review`: a tiered review of a diff.

`run_review` reads top to bottom: parse the diff, skip what needs no model, rate each hunk's risk
(rules, then the small tier's triage), review each hunk at the tier its risk calls for (riskiest
first, within the budget; small hunks of one file share a call), place and merge the findings,
optionally run the tests and the linter against the base, and decide the exit code from the
typed causes. It returns a `ReviewResult` and prints nothing; the run's common parts are the
skeleton's (`flows/skeleton.py`). It never writes to the work tree or the index.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from ...core.config import Config
from ...core.errors import ExitCode, TieragentError
from ...core.events import OnEvent, ignore_events
from ...core.vocab import FRONTIER, MID, Risk, Step, Tier
from ...model.gateway import CallPolicy, Unavailable
from ...model.protocol import Models
from ...repo.changes import DiffSource, base_attributes, change_attributes
from ...repo.map import RepoMap
from ...repo.runner import CommandRunner
from ...repo.workspace import GitWorkspace
from ...risk.rules import RiskRules
from ..skeleton import Reporter, Run, Status, Stop
from .assess import rule_reasons, triage
from .batch import plan_batches
from .diff import parse_diff
from .findings import merge_duplicates
from .model import Assessed, FileChange, Finding, Hunk, ReviewResult, Severity, Unreviewed, UnreviewedCause, blocks
from .prefilter import Prefiltered, Sides, prefilter
from .reviewer import BatchReview, Contents, Reviewer

# What each step of `review` does when its call cannot be made (see model/gateway.py); triage runs at
# the model's lowest reasoning effort.
REVIEW_POLICIES: dict[Step, CallPolicy] = {
    Step.REVIEW_TRIAGE: CallPolicy(
        Unavailable.FALL_BACK, "the risk rules decide alone", over_budget_falls_back=True, least_effort=True
    ),
    Step.REVIEW: CallPolicy(Unavailable.FALL_BACK, "the hunk is listed as not reviewed", over_budget_falls_back=True),
}
REVIEWER: dict[Risk, Tier] = {"low": MID, "medium": MID, "high": FRONTIER}
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
    result = ReviewResult(source=source.description, fail_on=opts.fail_on)
    run = Run("review", deps.config, result, deps.on_event)  # one redactor: findings may quote masked code
    stopped: TieragentError | None = None
    try:
        files = parse_diff(source.text)
        result.files, result.hunks = len(files), sum(len(f.hunks) for f in files)
        read = Contents(deps.ws, source)
        filtered = _prefiltered(files, read, deps, source, run)
        result.skipped = filtered.skipped
        result.unreviewed += [
            Unreviewed(f"{p}#binary", p, "high", why, UnreviewedCause.BINARY)
            for p, why in filtered.unreviewable.items()
        ]
        if filtered.hunks:
            stopped = _review_hunks(run, result, deps, read, filtered)
        if opts.run_tests:
            result.judges = _run_judges(deps, source, files, result, run.events)
    except BaseException as exc:
        if not result.stopped(exc):
            raise  # a bug: the CLI reports it
        if Stop.of(exc) is Stop.TIME_LIMIT:  # the review so far stands; what was not reviewed is listed
            result.unreviewed += _left_over(result, f"not reviewed: {exc}", UnreviewedCause.OVER_BUDGET)
        return _record(run, deps, result)
    result.findings.sort(key=lambda f: (-f.severity.rank, f.path or "", f.line or 0))
    return _record(run, deps, _verdict(result, stopped, opts.allow_incomplete))


def _prefiltered(
    files: list[FileChange], read: Contents, deps: ReviewDeps, source: DiffSource, run: Run
) -> Prefiltered:
    paths = [f.path for f in files]
    sides = Sides(
        read.old, read.new, base_attributes(deps.ws, source, paths), change_attributes(deps.ws, source, paths)
    )
    filtered = prefilter(files, sides)
    for path, note in filtered.notes.items():
        run.events.warn(f"{path}: {note}")
    return filtered


def _review_hunks(
    run: Run, result: ReviewResult, deps: ReviewDeps, read: Contents, filtered: Prefiltered
) -> TieragentError | None:
    """Triage, then every batch at its tier; the error that stopped the reviews (a bad key), if any."""
    models = deps.models()
    gw = run.open_gateway(models, REVIEW_POLICIES)
    rules = RiskRules.from_config(deps.config.risk)
    commands = (deps.test_command, deps.lint_command)
    rules_say = {
        h.id: rule_reasons(h, rules, read.signature_changes(h.path), read.guarded(h.path, commands))
        for h in filtered.hunks
    }
    rated, result.triage = triage(gw, filtered.hunks, rules_say, run.events.warn)
    result.assessed = [
        Assessed(r.hunk, r.risk, r.reasons + _noted(filtered.notes, r.hunk), REVIEWER[r.risk]) for r in rated
    ]
    reviewer = Reviewer(gw, deps.config, models, read, functools.cache(deps.repo_map))
    stopped = None
    try:
        for batch in plan_batches(result.assessed, reviewer.code):
            result.add(reviewer.review(batch))
    except TieragentError as err:  # a bad key, an unknown model: nothing more can be reviewed
        stopped = err
        result.unreviewed += _left_over(result, f"not reviewed: {err.message}", UnreviewedCause.STOPPED)
    result.findings, result.merged_findings = merge_duplicates(result.findings)
    return stopped


def _left_over(result: ReviewResult, reason: str, cause: UnreviewedCause) -> list[Unreviewed]:
    """The assessed hunks neither reviewed nor listed as unreviewed yet."""
    done = set(result.reviewed) | {u.hunk for u in result.unreviewed}
    return [Unreviewed(a.hunk.id, a.hunk.path, a.risk, reason, cause) for a in result.assessed if a.hunk.id not in done]


def _verdict(result: ReviewResult, stopped: TieragentError | None, allow_incomplete: bool = False) -> ReviewResult:
    """1 when a finding is at or above --fail-on; else 2/4 when models could not be used, 3 for a budget stop
    or hunks left unreviewed (unless --allow-incomplete), 0. Decided by the causes, never by their wording."""
    if any(blocks(f.severity, result.fail_on) for f in result.findings):
        return result.end(Status.FAILED, ExitCode.NOT_FIXED, str(stopped) if stopped else None)
    if stopped is not None:
        return result.end(Status.ERROR, stopped.exit_code, str(stopped))
    causes = {u.cause for u in result.unreviewed}
    if UnreviewedCause.UNAVAILABLE in causes:
        return result.end(Status.ERROR, ExitCode.PROVIDER, "some hunks could not be reviewed: a tier was unavailable")
    if UnreviewedCause.OVER_BUDGET in causes:
        return result.end(Status.BUDGET_EXCEEDED, ExitCode.BUDGET, "the budget ran out before every hunk was reviewed")
    left = sum(u.cause in INCOMPLETE for u in result.unreviewed)
    if left and not allow_incomplete:
        return result.end(
            Status.INCOMPLETE,
            ExitCode.BUDGET,
            f"{left} hunk(s) could not be reviewed (see the list); --allow-incomplete lets such a review pass",
        )
    return result.end(Status.PASSED, ExitCode.FIXED)


def _noted(notes: dict[str, str], h: Hunk) -> tuple[str, ...]:
    """The note on a file the change itself calls generated or vendored, for its hunks' reasons (and the reviewer)."""
    note = notes.get(h.path)
    return (note,) if note else ()


def _run_judges(
    deps: ReviewDeps, source: DiffSource, files: list[FileChange], result: ReviewResult, events: Reporter
) -> dict:
    """--run-tests: the tests and the linter on the reviewed tree against the base, as findings."""
    from ...judge.tree_compare import judge_change

    if not deps.test_command and not deps.lint_command:
        events.warn("--run-tests: no test or lint command is configured or detected; nothing was run")
        return {"notes": ["no test or lint command"]}
    base = source.base_rev or "HEAD"
    commands = " and ".join(c for c in (deps.test_command, deps.lint_command) if c)
    events.validating(f"--run-tests: {commands} on the reviewed tree (and on {base[:12]} when something fails)")
    report = judge_change(
        deps.runner,
        deps.ws.root,
        deps.ws.state_dir,
        base,
        deps.test_command,
        deps.lint_command,
        [f.path for f in files],
        deps.config.validation.timeout_s,
        junit_xml=deps.config.validation.junit_xml,
    )
    result.findings += [
        Finding(path=j.path, line=j.line, severity=Severity(j.severity), category=j.category, message=j.message)
        for j in report.findings
    ]
    for note in report.notes:
        events.warn(f"--run-tests: {note}")
    return {"before": report.before, "after": report.after, "notes": report.notes, "findings": len(report.findings)}


def _record(run: Run, deps: ReviewDeps, result: ReviewResult) -> ReviewResult:
    if result.ledger is not None:  # else no model was called: nothing to account for
        run.record(deps.ws.state_dir, leave_out=("findings", "skipped", "judges"))
    return result


__all__ = ["INCOMPLETE", "REVIEW_POLICIES", "BatchReview", "ReviewDeps", "ReviewOptions", "run_review"]
