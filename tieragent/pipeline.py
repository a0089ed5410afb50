"""`tieragent fix`: baseline, classify, route, gather context, patch, validate, escalate, finish.

The pipeline returns a `FixResult` and prints nothing; progress goes to an `on_event` callback
that the CLI renders. Every edit goes through the workspace journal, and every way out of the
run that is not an accepted patch (a failure, a budget stop, a provider error, Ctrl-C, a bug)
restores the tree first.
"""

from __future__ import annotations

import signal
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from . import prompts_loader
from .classify import ClassificationFormatError, heuristic_classification, parse_classification, parse_verdict
from .config import Config, Price, Tier
from .context import FileContext, context_budget, gather_files
from .errors import BudgetExceeded, EnvironmentProblem, ExitCode, ProviderError, TieragentError
from .failure_output import condense, needs_summary, validation_feedback
from .guards import EditStat, RiskRules, patch_risk, protected_edit, protected_edit_feedback, public_signatures, sensitive_paths
from .ledger import Ledger, LedgerRow, append_history
from .patching import FileChange, PatchError, fence_file, plan_patch, plan_whole_file, whole_file_eligible
from .provider import ModelReply, Provider, ModelRequest, estimate_tokens
from .redact import Redactor
from .repomap import RepoMap
from .repro import write_repro
from .results import Event, FixResult
from .routing import Classification, Rung, budget_check, explain, patch_ladder, skip_tier, worst_case_cost
from .runner import CommandRunner
from .testresults import target_tests, unusable_baseline
from .validation import Baseline, Validation, Validator
from .workspace import FileJournal, GitWorkspace

# Which failed attempt's diff is worth saving when nothing validates: the one that got furthest.
_OUTCOME_RANK = {"review-rejected": 5, "lint-failed": 4, "tests-failed": 3, "test-edit-refused": 2, "apply-failed": 1, "format-error": 0}

Confirm = Callable[[str, str], bool]  # (question, diff) -> the user's answer


@dataclass
class FixOptions:
    commit: bool = False
    repro: bool = False  # write a failing test first; the patch must make it pass
    keep_repro: bool = False
    allow_test_edits: bool = False


@dataclass
class FixDeps:
    ws: GitWorkspace
    config: Config
    provider: Provider
    runner: CommandRunner
    prices: dict[Tier, Price | None]
    repo_map: Callable[[], RepoMap]
    test_command: str
    lint_command: str | None = None
    on_event: Callable[[Event], None] = lambda e: None
    confirm: Confirm | None = None  # None: nobody to ask (CI, --json); protected edits are refused
    context_windows: dict[Tier, int | None] = field(default_factory=dict)  # per tier; None: unknown


@contextmanager
def _signals_held() -> Iterator[None]:
    """Defer Ctrl-C and SIGTERM while the tree is being restored, so a second Ctrl-C can't cut it short."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class FixRun:
    def __init__(self, request: str, deps: FixDeps, options: FixOptions | None = None):
        self.deps, self.cfg, self.opts = deps, deps.config, options or FixOptions()
        self.result = FixResult(run_id=time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6], request=request)
        self.ledger = Ledger(deps.prices, {t: deps.config.tier(t).model for t in ("small", "mid", "frontier")})
        self.result.ledger = self.ledger
        self.redactor = Redactor.from_environment()
        self.validator = Validator(deps.runner, deps.ws.root, deps.ws.state_dir, deps.test_command, deps.lint_command, self.cfg.validation.timeout_s)
        self.risk_rules = RiskRules(
            tuple(self.cfg.risk.sensitive_paths or RiskRules().sensitive_paths) + tuple(self.cfg.risk.extra_sensitive_paths),
            self.cfg.risk.max_files,
            self.cfg.risk.max_changed_lines,
            self.cfg.risk.max_deleted_lines,
        )
        self.journal: FileJournal | None = None
        self._map: RepoMap | None = None
        self._baseline: Baseline | None = None
        self._targets: tuple[set[str], str] = (set(), "")
        self._repro_path: str | None = None
        self._risk_reasons: list[str] = []
        self._best: tuple[int, str] | None = None
        self._dirty_before: set[str] = set()

    # ------------------------------------------------------------ plumbing
    def _event(self, kind: str, message: str) -> None:
        if kind == "warning":
            self.result.warnings.append(message)
        self.deps.on_event(Event(kind, message))

    def repo_map(self) -> RepoMap:
        if self._map is None:
            self._map = self.deps.repo_map()
        return self._map

    def _call(self, step: str, tier: Tier, messages: tuple[dict[str, str], ...]) -> ModelReply:
        """One model call, after the budget allows it. Provider errors propagate to the caller."""
        tier_cfg = self.cfg.tier(tier)
        messages = tuple({**m, "content": self.redactor(m["content"])} for m in messages)
        request = ModelRequest(step, tier, messages, tier_cfg.max_output_tokens)
        worst = worst_case_cost(self.deps.prices.get(tier), estimate_tokens(request.prompt_text()), request.max_tokens)
        verdict = budget_check(self.cfg.budget, self.ledger.spent_usd, len(self.ledger.rows), worst)
        if not verdict.allowed:
            raise BudgetExceeded(f"budget: {verdict.reason}")
        self._event("step", f"{step} · {tier} ({tier_cfg.model})")
        return self.deps.provider.complete(request)

    def _diff(self) -> str:
        """What the run has changed so far, against the tree as it was before (the repro test excluded)."""
        assert self.journal is not None
        skip = self._repro_path if not self.opts.keep_repro else None
        return "".join(EditStat(rel, self.journal.original(rel), self._current(rel)).diff() for rel in self.journal.touched() if rel != skip)

    def _keep_best(self, outcome: str, diff: str) -> None:
        rank = _OUTCOME_RANK.get(outcome, -1)
        if diff.strip() and (self._best is None or rank >= self._best[0]):
            self._best = (rank, diff)

    def _refuse(self, path: str) -> str | None:
        _, refused = self.deps.ws.shareable([path])
        return refused.get(path)

    def _rewind(self) -> None:
        assert self.journal is not None
        self.journal.rewind(keep={self._repro_path} if self._repro_path else set())

    # ------------------------------------------------------------ before patching
    def take_baseline(self) -> None:
        self._event("validate", f"baseline: {self.deps.test_command}")
        baseline, reused = self.validator.baseline(self.deps.ws.tree_fingerprint())
        if baseline.tests.result.timed_out:
            raise EnvironmentProblem(
                f"the test command timed out before any patch ({self.cfg.validation.timeout_s:.0f}s)",
                hint="Raise validate.timeout_s, or point validate.test at a faster subset of the tests.",
            )
        problem = unusable_baseline(baseline.tests, self.opts.repro)
        if problem:
            raise EnvironmentProblem(problem, hint="Set validate.test in .tieragent.yaml or pass --test 'CMD'.")
        self._baseline = baseline
        self.result.baseline = {**baseline.to_json(), "reused": reused}
        failing = len(baseline.tests.failing) if baseline.tests.cases is not None else None
        if failing:
            self._event("info", f"{failing} test(s) fail before the patch")

    def classify(self) -> Classification:
        outline = self.repo_map().outline(self.result.request, self.cfg.context.outline_tokens)
        feedback = ""
        for _ in (1, 2):
            messages = prompts_loader.render("classify", request=self.result.request, outline=outline, feedback=feedback)
            try:
                reply = self._call("classify", "small", messages)
            except ProviderError as err:
                if not err.retryable:
                    raise
                self.ledger.record("classify", "small", None, "provider-error", err.message)
                self._event("warning", f"classify failed ({err.kind}); using the heuristic")
                break
            try:
                c = parse_classification(reply.text)
            except ClassificationFormatError as err:
                self.ledger.record("classify", "small", reply, "format-error", str(err))
                feedback = f"\nYour previous answer was not usable: {err}. Answer with the JSON object only."
                continue
            self.ledger.record("classify", "small", reply, "ok", f"{c.task_class}, {c.risk} risk")
            return c
        ranked = [f.path for f in self.repo_map().rank(self.result.request)]
        self._event("warning", "the small model's classification was unusable; classified by heuristic")
        return heuristic_classification(self.result.request, ranked, "the small model's reply was unusable")

    def route(self, c: Classification) -> Classification:
        """Risk from the model and from path rules; either saying high makes it high."""
        rules = sensitive_paths(c.files, self.risk_rules)
        effective = replace(c, risk="high") if rules else c
        self._risk_reasons = ([f"the small model said {c.risk} risk"] if c.risk == "high" else []) + rules
        self.result.routing = explain(self.cfg.routing, self.cfg.budget, c, effective, rules)
        tier, why = self.result.routing["start"], self.result.routing["why"]
        self._event("routing", f"route: {effective.task_class}, {effective.risk} risk → starts at {tier} ({why})" + (f"; {'; '.join(rules)}" if rules else ""))
        return effective

    def gather(self, c: Classification) -> FileContext:
        picked = []
        for name in c.files:  # the small model's picks, checked against the repository
            resolved = name if (self.deps.ws.root / name).is_file() else self.repo_map().resolve(name)
            picked.append(resolved or name)
        route = {r.tier: self.cfg.tier(r.tier).max_output_tokens for r in patch_ladder(self.cfg.routing, c)}
        budget = context_budget(self.cfg.context.max_file_tokens, {t: (self.deps.context_windows.get(t), out) for t, out in route.items()})
        ctx = gather_files(self.deps.ws, list(dict.fromkeys(picked)), budget)
        for path, why in ctx.dropped.items():
            self._event("warning", f"not shown to the model: {path} ({why})")
        failing = self._baseline.tests.failing if self._baseline else set()
        self._targets = target_tests(failing, self.result.request, list(ctx.texts))
        return ctx

    # ------------------------------------------------------------ patching
    def patch_loop(self, c: Classification, ctx: FileContext) -> bool:
        ladder = patch_ladder(self.cfg.routing, c)
        related = self.repo_map().related_signatures(list(ctx.texts), 1000) if ctx.texts else ""
        related_block = f"\nSignatures in related files (for reference):\n{related}\n" if related else ""
        feedback, failures = "", {}  # type: ignore[var-annotated]
        provider_failed_last = False
        i = 0
        while i < len(ladder):
            rung: Rung = ladder[i]
            self.result.route.append(f"{rung.tier} #{rung.attempt}: {rung.why}")
            whole = rung.whole_file
            if whole:
                content = fence_file(whole, (self.deps.ws.root / whole).read_text(errors="replace"))
                messages = prompts_loader.render("patch-whole-file", request=self.result.request, path=whole, content=content, feedback=feedback)
            else:
                messages = prompts_loader.render("patch", request=self.result.request, files=ctx.render(), related=related_block, feedback=feedback)
            try:
                reply = self._call("patch", rung.tier, messages)
            except ProviderError as err:
                if not err.retryable:
                    raise
                self.ledger.record("patch", rung.tier, None, "provider-error", err.message)
                self._event("warning", f"{rung.tier} tier unavailable ({err.kind}); moving on")
                provider_failed_last = True
                i = skip_tier(ladder, i, rung.tier)
                continue
            provider_failed_last = False
            row = self.ledger.record("patch", rung.tier, reply, "ok", "whole-file fallback" if whole else "")
            failure = self._attempt(reply.text, row, whole, failures)
            if failure is None:
                return True
            feedback = f"\nA previous attempt ({row.tier} tier) failed: {row.note}\n{failure}\n"
            target = self._whole_file_target(failures)
            if target:  # two diffs for this file failed to apply: the same tier writes the whole file
                ladder.insert(i + 1, Rung(rung.tier, rung.attempt + 1, f"whole-file fallback for {target}", whole_file=target))
            i += 1
        if provider_failed_last and not any(r.outcome in _OUTCOME_RANK for r in self.ledger.rows if r.step == "patch"):
            raise ProviderError("unreachable", "no tier could be reached for the patch step", retryable=False)
        return False

    def _whole_file_target(self, failures: dict[str, int]) -> str | None:
        for path, n in failures.items():
            if n >= 2 and whole_file_eligible(path, self.deps.ws.root):
                failures[path] = -10  # once per file and run
                return path
        return None

    def _attempt(self, text: str, row: LedgerRow, whole: str | None, failures: dict[str, int]) -> str | None:
        """Plan, guard, apply, validate and (for high risk) review one reply.

        None when the patch is accepted; otherwise the feedback for the next attempt (the tree rewound).
        """
        root = self.deps.ws.root
        try:
            changes = [plan_whole_file(text, whole, root, refuse=self._refuse)] if whole else plan_patch(text, root, refuse=self._refuse)
        except PatchError as err:
            outcome = "format-error" if err.kind == "no-diff" else "apply-failed"
            self.ledger.set_outcome(row, outcome, err.reason)
            if err.path:
                failures[err.path] = failures.get(err.path, 0) + 1
            self._keep_best(outcome, text if ("@@" in text or "+++" in text) else "")
            return err.feedback
        edits = [EditStat(ch.path, self._current(ch.old_path), ch.new_content) for ch in changes]
        edits += [EditStat(ch.old_path, self._current(ch.old_path), None) for ch in changes if ch.old_path and ch.old_path != ch.path]
        refusal = self._guard(edits, row)
        if refusal:  # refused before it touches the tree
            self._keep_best("test-edit-refused", "".join(e.diff() for e in edits))
            return refusal
        self._apply(changes)
        diff = self._diff()
        self._event("validate", f"validating: {self.deps.test_command}" + (f" && {self.deps.lint_command}" if self.deps.lint_command else ""))
        targets, rule = self._targets
        v = self.validator.check(self._baseline, [e.path for e in edits], targets, rule)
        self.result.validation = v
        if not v.ok:
            self.ledger.set_outcome(row, v.outcome, v.reason)
            self._keep_best(v.outcome, diff)
            feedback = self._failure_feedback(v, diff)
            self._rewind()
            return feedback
        post = patch_risk(edits, self.risk_rules, public_signatures)
        reasons = list(dict.fromkeys(self._risk_reasons + post))
        if reasons and row.tier != "frontier" and self.cfg.routing.review_high_risk:
            rejection = self._review(diff, reasons)
            if rejection is not None:
                self.ledger.set_outcome(row, "review-rejected", rejection)
                self._keep_best("review-rejected", diff)
                self._rewind()
                return f"Your patch passed the tests, but a review rejected it: {rejection}\nYour patch was:\n```diff\n{diff}```\n"
        if post:
            self.result.routing["risk_after_patch"] = post
        self.result.patch = diff
        return None

    def _current(self, rel: str | None) -> bytes | None:
        if rel is None:
            return None
        p = self.deps.ws.root / rel
        return p.read_bytes() if p.is_file() else None

    def _apply(self, changes: list[FileChange]) -> None:
        assert self.journal is not None
        for ch in changes:
            if ch.old_path and ch.old_path != ch.path:
                self.journal.delete(ch.old_path)
            if ch.new_content is None:
                self.journal.delete(ch.path)
            else:
                self.journal.write(ch.path, ch.new_content)

    def _guard(self, edits: list[EditStat], row: LedgerRow) -> str | None:
        """Feedback refusing the patch when it edits tests, CI or lint config without permission; None to go on."""
        hits = {e.path: why for e in edits if (why := protected_edit(e.path, e.old, e.new))}
        if not hits:
            return None
        listing = "; ".join(f"{p} ({w})" for p, w in hits.items())
        if self.opts.allow_test_edits:
            allowed, how = True, "--allow-test-edits"
        elif self.deps.confirm is not None:
            preview = "".join(e.diff() for e in edits if e.path in hits)
            allowed, how = self.deps.confirm(f"This patch {listing}. Accept it?", preview), "asked"
        else:
            allowed, how = False, "not interactive"
        self.result.test_edits.extend({"path": p, "reason": w, "allowed": allowed, "decided_by": how} for p, w in hits.items())
        if allowed:
            self._event("warning", f"accepted edits to what judges the patch: {listing} ({how})")
            return None
        self.ledger.set_outcome(row, "test-edit-refused", listing)
        return protected_edit_feedback(listing)

    def _review(self, diff: str, reasons: list[str]) -> str | None:
        """The frontier reviews a cheaper tier's validated high-risk patch. None accepts; else the reason it rejects."""
        messages = prompts_loader.render("review", request=self.result.request, risk="\n".join(f"- {r}" for r in reasons), diff=diff)
        reply = self._call("review", "frontier", messages)
        try:
            accept, reason = parse_verdict(reply.text)
        except ClassificationFormatError as err:
            self.ledger.record("review", "frontier", reply, "format-error", str(err))
            return f"the review's answer was unusable ({err}); a high-risk patch is not accepted without one"
        self.ledger.record("review", "frontier", reply, "ok", ("accepted: " if accept else "rejected: ") + reason)
        return None if accept else (reason or "rejected without a reason")

    def _failure_feedback(self, v: Validation, diff: str) -> str:
        output = condense(v.failed_output())
        if needs_summary(output):
            command = self.deps.lint_command if v.outcome == "lint-failed" else self.deps.test_command
            try:
                reply = self._call("summarize", "small", prompts_loader.render("summarize", command=command or "", output=output))
                if reply.text.strip():
                    self.ledger.record("summarize", "small", reply, "ok", f"{estimate_tokens(output)} tokens of output")
                    output = reply.text.strip()
                else:
                    self.ledger.record("summarize", "small", reply, "format-error", "empty summary")
            except ProviderError as err:
                self.ledger.record("summarize", "small", None, "provider-error", err.message)
        return validation_feedback(v.reason, diff, output)

    # ------------------------------------------------------------ finishing
    def finish_fixed(self) -> None:
        assert self.journal is not None
        if self._repro_path and not self.opts.keep_repro:
            self.journal.revert(self._repro_path)
        touched = self.journal.touched()
        if self.opts.commit:
            dirty_before = [p for p in touched if p in self._dirty_before]
            if dirty_before:
                self._event("warning", f"not committed: {', '.join(dirty_before)} had uncommitted changes of yours")
            else:
                message = self._commit_message()
                try:
                    self.result.commit_sha = self.deps.ws.commit(touched, message)
                except TieragentError as err:
                    self._event("warning", f"not committed: {err.message}")
        self.journal.close()
        self.result.status, self.result.exit_code = "fixed", ExitCode.FIXED

    def _commit_message(self) -> str:
        fallback = f"tieragent: {self.result.request.strip().splitlines()[0][:60]}"
        messages = prompts_loader.render("commit-message", request=self.result.request, diff=self.result.patch)
        try:
            reply = self._call("commit-message", "small", messages)
        except (ProviderError, BudgetExceeded) as err:
            self._event("warning", f"commit message from the fallback ({err.message})")
            return fallback
        text = reply.text.strip().strip("`").strip()
        self.ledger.record("commit-message", "small", reply, "ok" if text else "format-error")
        return text or fallback

    def save_best(self) -> None:
        if self._best is None:
            return
        out = self.deps.ws.state_dir / "attempts" / f"{self.result.run_id}.diff"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self._best[1])
        self.result.saved_diff = out

    # ------------------------------------------------------------ the run
    def run(self) -> FixResult:
        r = self.result
        try:
            self.journal = self.deps.ws.journal()
        except TieragentError as exc:  # another run is active, or a killed run left files to recover
            r.status, r.exit_code, r.error = "error", exc.exit_code, str(exc)
            return r
        self._dirty_before = self.deps.ws.dirty_paths()
        try:
            self.take_baseline()
            c = self.classify()
            r.classification = c
            effective = self.route(c)
            ctx = self.gather(effective)
            if self.opts.repro:
                write_repro(self, ctx)
            if self.patch_loop(effective, ctx):
                self.finish_fixed()
            else:
                with _signals_held():
                    self.journal.restore()
                self.save_best()
                r.status, r.exit_code = "failed", ExitCode.NOT_FIXED
        except BaseException as exc:
            with _signals_held():
                self.journal.restore()
            self.save_best()
            if isinstance(exc, KeyboardInterrupt):  # Ctrl-C or SIGTERM: report what was spent so far
                r.status, r.exit_code, r.error = "error", ExitCode.INTERRUPTED, "interrupted"
            elif isinstance(exc, BudgetExceeded):
                r.status, r.exit_code, r.error = "budget_exceeded", ExitCode.BUDGET, exc.message
            elif isinstance(exc, TieragentError):
                r.status, r.exit_code, r.error = "error", exc.exit_code, str(exc)
            else:
                self._record_history()
                raise  # a bug: the tree is restored; the CLI reports it
        self._record_history()
        return r

    def _record_history(self) -> None:
        record = {k: v for k, v in self.result.to_json().items() if k not in ("patch", "validation", "baseline")}
        record["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        record["test_command"] = self.deps.test_command
        try:
            append_history(self.deps.ws.state_dir, record)
        except OSError as err:
            self.result.warnings.append(f"could not write the ledger history: {err}")


def run_fix(request: str, deps: FixDeps, options: FixOptions | None = None) -> FixResult:
    return FixRun(request, deps, options).run()
