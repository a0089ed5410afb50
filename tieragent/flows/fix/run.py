"""`tieragent fix`: baseline, classify, route, gather context, walk the ladder of attempts, finish.

`run_fix` reads top to bottom; each step returns a value the next one takes. It returns a
`FixResult` and prints nothing: progress goes to `deps.on_event`. Every edit goes through the
journal, and every way out that is not an accepted patch (a failure, a budget stop, a provider
error, Ctrl-C, a bug) restores the tree first. The run's common parts (the result's ending, the
redactor, ledger and gateway, the history line) are the skeleton's (`flows/skeleton.py`).
"""

from __future__ import annotations

import functools
from typing import Any

from ...core.errors import ExitCode, ProviderError, TieragentError
from ...core.vocab import AUTO
from ...judge.validation import Baseline, Validator
from ...repo.journal import FileJournal
from ...risk.rules import RiskRules, sensitive_paths
from ...routing.policy import Classification, RoutePlan, plan_route
from ..format_memory import remember
from ..skeleton import Decision, Run, Status, signals_held
from ..yield_history import fitted_start
from .attempt import Attempt, PatchTask
from .baseline import PendingBaseline
from .classify import classify
from .context import gather
from .finish import keep_patch, kept_edits, save_best
from .format_choice import routing_view, start_formats
from .ladder import walk_ladder
from .repro import Repro, write_repro
from .result import FixResult
from .session import FIX_POLICIES, FixDeps, FixOptions, Session

MAX_REQUEST_CHARS = 40_000  # about 10,000 tokens: a long issue body fits, a pasted log is cut


def run_fix(request: str, deps: FixDeps, options: FixOptions | None = None) -> FixResult:
    opts = options or FixOptions()
    result = FixResult(request=request)
    run = Run("fix", deps.config, result, deps.on_event)
    busy = deps.ws.operation_in_progress()
    if busy:  # the tree holds git's half-done work: editing it would mix the two
        return result.end(
            Status.ERROR,
            ExitCode.USAGE,
            f"{busy} is in progress here; finish or abort it, then run tieragent fix again",
        )
    request = result.request = _within_limit(request, run)
    try:
        journal = deps.ws.journal()
    except TieragentError as exc:  # another run is active, or a killed run left files to recover
        return result.end(Status.ERROR, exc.exit_code, str(exc))
    attempts: list[Attempt] = []
    try:
        _steps(run, result, request, deps, opts, journal, attempts)
    except BaseException as exc:
        with signals_held():
            journal.restore()
        result.saved_diff = save_best(deps.ws.state_dir, result.run_id, attempts, run.redactor)
        if not result.stopped(exc):
            _record(run, deps)
            raise  # a bug: the tree is restored; the CLI reports it
    _record(run, deps)
    return result


def _steps(
    run: Run,
    result: FixResult,
    request: str,
    deps: FixDeps,
    opts: FixOptions,
    journal: FileJournal,
    attempts: list[Attempt],
) -> None:
    """Everything between the journal's start and the run's end; `attempts` fills as they are made."""
    clock = run.clock
    dirty_before = deps.ws.dirty_paths()
    s, pending = _open_session(run, result, deps, opts, journal)
    try:
        accepted, repro = _attempts(run, result, s, pending, request, attempts)
    except TieragentError:  # a provider or budget stop while the baseline ran: a baseline that cannot judge comes first
        pending.get()
        raise
    finally:
        pending.stop()  # an error or Ctrl-C before the baseline was waited for: its tests must not run on
    if accepted is None:
        _no_patch(run, result, deps, journal, attempts)
        return
    result.accept(accepted)
    if deps.keep is not None:  # chat: the user sees the validated diff and says whether to keep it
        result.decision = deps.keep(accepted.diff)
        if result.decision is not Decision.KEEP:
            with signals_held():
                journal.restore()
            result.end(Status.DISCARDED, ExitCode.NOT_FIXED)
            return
    with clock.phase("finish"):
        result.commit_sha = keep_patch(s, request, accepted.diff, repro.path if repro else None, dirty_before)
    result.kept = kept_edits(journal)
    v = accepted.validation
    validated_tree = repro is None or opts.keep_repro  # else the repro test, validated with it, is gone
    if opts.next_baseline and v is not None and v.tests is not None and validated_tree:
        s.validator.remember(deps.ws.tree_fingerprint(), Baseline(v.tests, v.lint))
    result.end(Status.FIXED, ExitCode.FIXED)


def _attempts(
    run: Run, result: FixResult, s: Session, pending: PendingBaseline, request: str, attempts: list[Attempt]
) -> tuple[Attempt | None, Repro | None]:
    """Classify, route, gather the context and walk the ladder while the baseline runs; the accepted attempt
    (None: none) and the --repro test. The baseline is waited for before anything touches the tree."""
    clock, opts = run.clock, s.opts
    task_request = with_earlier(request, opts.earlier)  # what the models read: the session so far, then the request
    with clock.phase("classify"):
        result.classification = classification = classify(s, task_request)
    plan = route(s, classification)
    result.routing = dict(plan.explanation)
    with clock.phase("context"):
        context = gather(s, task_request, plan)
    repro: Repro | None = None
    if opts.repro:
        pending.get()  # the repro test is written into the tree: not before the baseline is in and can judge
        with clock.phase("context"):
            repro = write_repro(s, task_request, context.files)
    result.repro = repro.info if repro else None
    keep = frozenset({repro.path}) if repro and repro.path else frozenset()
    task = PatchTask(task_request, context, pending.get, plan.risk_reasons, keep)
    starts = start_formats(s, task, [r.tier for r in plan.ladder])
    result.routing["edit_formats"] = routing_view(starts)
    with clock.phase("attempts"):
        for attempt in walk_ladder(s, task, plan.ladder, starts):
            attempts.append(attempt)
            result.record_attempt(attempt)
    pending.get()  # no attempt was judged (none reached the tree): a baseline that cannot judge still says so
    accepted = attempts[-1] if attempts and attempts[-1].accepted else None
    return accepted, repro


def _open_session(
    run: Run, result: FixResult, deps: FixDeps, opts: FixOptions, journal: FileJournal
) -> tuple[Session, PendingBaseline]:
    """The baseline started in the background, the repository indexed and the models ready: what every later
    step works with."""
    cfg, clock = deps.config, run.clock
    validator = Validator(
        deps.runner,
        deps.ws.root,
        deps.ws.state_dir,
        deps.test_command,
        deps.lint_command,
        cfg.validation.timeout_s,
        junit_xml=cfg.validation.junit_xml,
        mask=run.redactor.at_rest,
    )
    repo_map = functools.cache(deps.repo_map)

    def baseline_ready(doc: dict[str, Any]) -> None:
        result.baseline = doc

    pending = PendingBaseline(validator, deps, opts, run.events, clock, baseline_ready)
    try:
        with clock.phase("map"):
            repo_map()  # indexed while the models load and the baseline runs in the background
        with clock.phase("models"):
            models = deps.models()  # litellm's import and the key checks, started before the run
        gateway = run.open_gateway(models, FIX_POLICIES)
    except BaseException:
        pending.stop()
        raise
    rules = RiskRules.from_config(cfg.risk)
    session = Session(deps, opts, gateway, journal, validator, rules, run.events, repo_map, models.context_windows)
    return session, pending


def _no_patch(run: Run, result: FixResult, deps: FixDeps, journal: FileJournal, attempts: list[Attempt]) -> None:
    """Nothing validated: the tree restored and the best attempt saved; no tier reachable is a provider error."""
    if attempts and not any(a.reached_model for a in attempts):
        why = "; ".join(dict.fromkeys(a.row.note for a in attempts if a.row.note))  # each names its tier's endpoint
        raise ProviderError(
            "unreachable", "no tier could be reached for the patch step" + (f": {why}" if why else ""), retryable=False
        )
    with signals_held():
        journal.restore()
    result.saved_diff = save_best(deps.ws.state_dir, result.run_id, attempts, run.redactor)
    result.end(Status.FAILED, ExitCode.NOT_FIXED)


def with_earlier(request: str, earlier: str) -> str:
    """The request as the models read it in a follow-up: the session so far, then the request itself."""
    if not earlier.strip():
        return request
    return f"{earlier.rstrip()}\n\nThe request now (it may refer to the earlier ones):\n{request}"


def _within_limit(request: str, run: Run) -> str:
    if len(request) <= MAX_REQUEST_CHARS:
        return request
    run.events.warn(
        f"the request is {len(request):,} characters; only its first and last {MAX_REQUEST_CHARS // 2:,} are used"
    )
    half = MAX_REQUEST_CHARS // 2
    return request[:half] + "\n[... the middle of the request was cut ...]\n" + request[-half:]


def route(s: Session, c: Classification) -> RoutePlan:
    """Risk from the model and from path rules (either saying high makes it high), then the ladder."""
    rules = sensitive_paths(c.files, s.risk_rules)
    fitted = None
    if s.cfg.routing.start.get(c.task_class) == AUTO:  # the class's start from the ledger's measured yields
        fitted = fitted_start(s.ws.state_dir, s.cfg, s.gw.ledger.prices, c.task_class)
    plan = plan_route(s.cfg.routing, s.cfg.budget, c, rules, s.opts.start_tier, fitted)
    s.events.routing(
        f"route: {plan.effective.task_class}, {plan.effective.risk} risk → starts at {plan.start} ({plan.why})"
        + (f"; {'; '.join(rules)}" if rules else "")
    )
    return plan


def _record(run: Run, deps: FixDeps) -> None:
    kept = [e.path for e in run.result.kept] if isinstance(run.result, FixResult) else []
    run.record(  # kept_files: what a later `fix --continue` pins
        deps.ws.state_dir,
        leave_out=("patch", "validation", "baseline"),
        test_command=deps.test_command,
        kept_files=kept,
    )
    ledger = run.result.ledger
    if deps.format_memory is not None and ledger is not None:
        try:  # what this run's edits taught about each model, for runs in any repository
            remember(deps.format_memory, ledger.rows)
        except OSError as err:
            run.result.warnings.append(f"could not write the edit-format record {deps.format_memory}: {err}")
