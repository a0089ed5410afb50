"""`tieragent fix`: baseline, classify, route, gather context, walk the ladder of attempts, finish.

`run_fix` reads top to bottom; each step returns a value the next one takes. It returns a
`FixResult` and prints nothing: progress goes to `deps.on_event`. Every edit goes through the
journal, and every way out that is not an accepted patch (a failure, a budget stop, a provider
error, Ctrl-C, a bug) restores the tree first.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Iterator

from ...core.errors import BudgetExceeded, EnvironmentProblem, ExitCode, ProviderError, RunTimeout, TieragentError
from ...core.tokens import estimate_tokens
from ...core.vocab import TIERS, Outcome, Tier
from ...judge.testresults import unusable_baseline
from ...judge.validation import Baseline, Validator, output_tail
from ...model.gateway import Gateway
from ...model.ledger import Ledger, read_history
from ...model.redact import Redactor
from ...repo.patching import whole_file_eligible
from ...risk.rules import RiskRules, sensitive_paths
from ...routing.policy import Classification, RoutePlan, Rung, choose_format, plan_route, skip_tier
from ..base import Reporter, Timings, new_run_id, record_history, signals_held
from ..history import diff_record
from .attempt import Attempt, PatchTask, make_attempt
from .classify import classify
from .context import gather
from .finish import keep_patch, save_best
from .repro import write_repro
from .result import FixResult
from .session import FIX_POLICIES, FixDeps, FixOptions, Session

WHOLE_FILE_AFTER = 2  # failed diffs for one file before the same tier writes the whole file
MAX_REQUEST_CHARS = 40_000  # about 10,000 tokens: a long issue body fits, a pasted log is cut


def run_fix(request: str, deps: FixDeps, options: FixOptions | None = None) -> FixResult:
    opts = options or FixOptions()
    result = FixResult(run_id=new_run_id(), request=request)
    clock = Timings()
    result.timings = clock.phases
    events = Reporter(deps.on_event)
    result.warnings = events.warnings
    redactor = Redactor.from_environment(extra_names=tuple(c.api_key_env for c in (deps.config.tier(t) for t in TIERS) if c.api_key_env))
    result.redactor = redactor
    busy = deps.ws.operation_in_progress()
    if busy:  # the tree holds git's half-done work: editing it would mix the two
        return result.end("error", ExitCode.USAGE, f"{busy} is in progress here; finish or abort it, then run tieragent fix again")
    if len(request) > MAX_REQUEST_CHARS:
        events.warn(f"the request is {len(request):,} characters; only its first and last {MAX_REQUEST_CHARS // 2:,} are used")
        request = result.request = request[: MAX_REQUEST_CHARS // 2] + "\n[... the middle of the request was cut ...]\n" + request[-MAX_REQUEST_CHARS // 2 :]
    try:
        journal = deps.ws.journal()
    except TieragentError as exc:  # another run is active, or a killed run left files to recover
        return result.end("error", exc.exit_code, str(exc))
    cfg = deps.config
    validator = Validator(deps.runner, deps.ws.root, deps.ws.state_dir, deps.test_command, deps.lint_command, cfg.validation.timeout_s,
                          junit_xml=cfg.validation.junit_xml, mask=redactor.at_rest)
    repo_map = functools.cache(deps.repo_map)
    dirty_before = deps.ws.dirty_paths()
    attempts: list[Attempt] = []
    try:
        with clock.phase("baseline"):
            baseline = take_baseline(validator, deps, opts, events, result)
        with clock.phase("map"):
            repo_map()  # indexed while the models load in the background
        with clock.phase("models"):
            models = deps.models()  # litellm's import and the key checks, started before the run
        for warning in models.warnings:  # e.g. a model with no known price
            events.warn(warning)
        result.ledger = Ledger(models.prices, {t: cfg.tier(t).model for t in TIERS}, mask=redactor)
        gateway = Gateway(models.provider, result.ledger, {t: cfg.tier(t) for t in TIERS}, cfg.budget, FIX_POLICIES, redactor=redactor, on_event=events)
        s = Session(deps, opts, gateway, journal, validator, RiskRules.from_config(cfg.risk), events, repo_map, models.context_windows)
        with clock.phase("classify"):
            result.classification = classification = classify(s, request)
        plan = route(s, classification)
        result.routing = dict(plan.explanation)
        with clock.phase("context"):
            context = gather(s, request, plan, baseline)
            repro = write_repro(s, request, context.files) if opts.repro else None
        result.repro = repro.info if repro else None
        keep = frozenset({repro.path}) if repro and repro.path else frozenset()
        task = PatchTask(request, context, baseline, plan.risk_reasons, keep)
        with clock.phase("attempts"):
            for attempt in walk_ladder(s, task, plan.ladder):
                attempts.append(attempt)
                result.route.append(f"{attempt.rung.tier} #{attempt.rung.attempt}: {attempt.rung.why}")
                result.test_edits.extend(attempt.test_edits)
                result.validation = attempt.validation or result.validation
        accepted = attempts[-1] if attempts and attempts[-1].accepted else None
        if accepted is None and attempts and not any(a.reached_model for a in attempts):
            why = "; ".join(dict.fromkeys(a.row.note for a in attempts if a.row.note))  # each names its tier's endpoint
            raise ProviderError("unreachable", "no tier could be reached for the patch step" + (f": {why}" if why else ""), retryable=False)
        if accepted is not None:
            result.patch, result.accepted_step = accepted.diff, result.ledger.rows.index(accepted.row)
            if accepted.risk_after:
                result.routing["risk_after_patch"] = list(accepted.risk_after)
            with clock.phase("finish"):
                result.commit_sha = keep_patch(s, request, accepted.diff, repro.path if repro else None, dirty_before)
            result.end("fixed", ExitCode.FIXED)
        else:
            with signals_held():
                journal.restore()
            result.saved_diff = save_best(deps.ws.state_dir, result.run_id, attempts, redactor)
            result.end("failed", ExitCode.NOT_FIXED)
    except BaseException as exc:
        with signals_held():
            journal.restore()
        result.saved_diff = save_best(deps.ws.state_dir, result.run_id, attempts, redactor)
        if isinstance(exc, RunTimeout):  # --timeout: a budget of time, spent
            result.end("budget_exceeded", ExitCode.BUDGET, str(exc))
        elif isinstance(exc, KeyboardInterrupt):  # Ctrl-C or SIGTERM: report what was spent so far
            result.end("error", ExitCode.INTERRUPTED, "interrupted")
        elif isinstance(exc, BudgetExceeded):
            result.end("budget_exceeded", ExitCode.BUDGET, exc.message)
        elif isinstance(exc, TieragentError):
            result.end("error", exc.exit_code, str(exc))
        else:
            _record(deps, result, clock)
            raise  # a bug: the tree is restored; the CLI reports it
    _record(deps, result, clock)
    return result


def take_baseline(validator: Validator, deps: FixDeps, opts: FixOptions, events: Reporter, result: FixResult) -> Baseline:
    """The tests (and lint) on the unpatched tree; stops before any model call when they cannot judge.

    Only per-test results tell a patch that breaks a passing test from one that fixes the request
    when tests already fail before it; without them (a runner tieragent cannot read, a report that
    was not written) a red baseline stops the run here, unless --exit-code-only accepts judging by
    exit code: then the whole test command must pass.
    """
    events.validating(f"baseline: {deps.test_command}")
    baseline, reused = validator.baseline(deps.ws.tree_fingerprint())
    if baseline.tests.result.timed_out:
        raise EnvironmentProblem(
            f"the test command timed out before any patch ({deps.config.validation.timeout_s:.0f}s)",
            hint="Raise validate.timeout_s, or point validate.test at a faster subset of the tests.",
        )
    problem = unusable_baseline(baseline.tests, opts.repro)
    if problem:
        raise EnvironmentProblem(problem, hint="Set validate.test in .tieragent.yaml or pass --test 'CMD'.")
    tests = baseline.tests
    if tests.cases is None and tests.result.exit_code != 0:
        if not opts.exit_code_only:
            deps.models()  # a missing key or an unknown model is reported first, as it is when the baseline can judge
            said = output_tail(tests.result)
            raise EnvironmentProblem(
                f"the tests fail before any patch (`{tests.result.command}` exited {tests.result.exit_code}"
                + (f", ending: {said}" if said else "") + ") and there are no "
                f"per-test results to tell a patch that breaks a passing test from one that fixes the request: "
                f"{validator.why_no_per_test(tests)}",
                hint="Set validate.junit_xml to the JUnit XML your runner writes, point validate.test at a narrower command "
                "that passes now, or pass --exit-code-only to accept a patch only when the whole test command passes.",
            )
        events.warn(f"the tests fail before the patch and {validator.adapter.name} gives no per-test results: "
                    "a patch is accepted only when the whole test command passes (--exit-code-only)")
    result.baseline = {**baseline.to_json(), "reused": reused, "runner": validator.adapter.name}
    failing = len(tests.failing) if tests.cases is not None else None
    if failing:
        events.info(f"{failing} test(s) fail before the patch")
    return baseline


def route(s: Session, c: Classification) -> RoutePlan:
    """Risk from the model and from path rules (either saying high makes it high), then the ladder."""
    rules = sensitive_paths(c.files, s.risk_rules)
    plan = plan_route(s.cfg.routing, s.cfg.budget, c, rules)
    s.events.routing(
        f"route: {plan.effective.task_class}, {plan.effective.risk} risk → starts at {plan.start} ({plan.why})"
        + (f"; {'; '.join(rules)}" if rules else "")
    )
    return plan


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
                s.gw.ledger.set_outcome(attempt.row, Outcome.PROVIDER_ERROR, f"over the context window: retrying without {smaller[1]}")
                continue
            s.gw.ledger.set_outcome(attempt.row, Outcome.PROVIDER_ERROR, "over the context window with the least context: moving up a tier")
        if not attempt.reached_model:
            i = skip_tier(ladder, i, rung.tier)
            continue
        failure = attempt.failure()
        if failure is not None and failure == before and not s.cfg.routing.retry_same_failure:
            # the same tests failing the same way again: feedback did not help, so the tier's retry is skipped
            s.events.info(f"{rung.tier} failed the same way as before; not retrying at {rung.tier}")
            i = skip_tier(ladder, i, rung.tier)
            continue
        if failure is not None:
            before = failure
        last_at_tier = i + 1 >= len(ladder) or ladder[i + 1].tier != rung.tier
        if attempt.outcome is Outcome.FORMAT_ERROR and last_at_tier and rung.tier not in format_retried and rung.attempt == 1:
            # a tier with a single attempt (small, by default) is asked once more when its reply was unusable
            format_retried.add(rung.tier)
            ladder.insert(i + 1, Rung(rung.tier, rung.attempt + 1, f"retry at {rung.tier}: the reply was unusable"))
        feedback = f"\nA previous attempt ({rung.tier} tier) failed: {attempt.row.note}\n{attempt.feedback}\n"
        if not rung.whole_files and attempt.outcome in (Outcome.APPLY_FAILED, Outcome.FORMAT_ERROR):
            failed_diffs[rung.tier] = failed_diffs.get(rung.tier, 0) + 1
            diff_only = s.cfg.tier(rung.tier).edit_format == "diff"  # the user asked for diffs and nothing else
            if failed_diffs[rung.tier] >= WHOLE_FILE_AFTER and rung.tier not in went_whole and whole_targets and not diff_only:
                # this tier's diffs do not land: the same tier writes the whole files instead, once
                went_whole.add(rung.tier)
                later = [n for n, r in enumerate(ladder) if n > i and r.tier == rung.tier]
                fallback = Rung(rung.tier, rung.attempt + 1, f"whole-file fallback for {', '.join(whole_targets)}", whole_files=whole_targets)
                if later:
                    ladder[later[0]] = replace(fallback, attempt=ladder[later[0]].attempt)
                else:
                    ladder.insert(i + 1, fallback)
        i += 1


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


def _record(deps: FixDeps, result: FixResult, clock: Timings) -> None:
    clock.stop()
    record = {k: v for k, v in result.to_json().items() if k not in ("patch", "validation", "baseline")}
    record["test_command"] = result.redactor(deps.test_command) if result.redactor else deps.test_command  # it may hold a key
    warning = record_history(deps.ws.state_dir, "fix", record)
    if warning:
        result.warnings.append(warning)
