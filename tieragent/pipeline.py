"""`tieragent fix`: classify, gather context, patch, validate, escalate, finish.

The pipeline returns a `FixResult` and prints nothing; progress goes to an `on_event` callback
that the CLI renders. Every edit goes through the workspace journal, and every way out of the
run that is not a validated patch (a failure, a budget stop, a provider error, Ctrl-C, a bug)
restores the tree first.
"""

from __future__ import annotations

import signal
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from . import prompts_loader
from .classify import ClassificationFormatError, heuristic_classification, parse_classification
from .config import Config, Price, Tier
from .context import FileContext, gather_files
from .diffs import file_diff
from .errors import BudgetExceeded, ExitCode, ProviderError, TieragentError
from .ledger import Ledger, LedgerRow, append_history
from .patching import WHOLE_FILE_MAX_LINES, FileChange, PatchError, plan_patch, plan_whole_file
from .provider import ModelReply, ModelRequest, Provider, estimate_tokens
from .redact import Redactor
from .repomap import RepoMap
from .routing import Classification, Rung, budget_check, patch_ladder, skip_tier, worst_case_cost
from .runner import CommandRunner
from .validate import Validation, trim_output, validate
from .workspace import FileJournal, GitWorkspace


@dataclass(frozen=True)
class Event:
    kind: str  # "step" (a model call starts), "validate", "info", "warning"
    message: str


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


@dataclass
class FixResult:
    run_id: str
    request: str
    status: str = "failed"  # fixed | failed | budget_exceeded | error
    exit_code: int = ExitCode.NOT_FIXED
    classification: Classification | None = None
    ledger: Ledger | None = None
    patch: str = ""
    validation: Validation | None = None
    saved_diff: Path | None = None
    commit_sha: str | None = None
    route: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict:
        ledger = self.ledger
        return {
            "status": self.status,
            "exit_code": int(self.exit_code),
            "request": self.request,
            "run_id": self.run_id,
            "classification": self.classification.to_json() if self.classification else None,
            "steps": [r.to_json() for r in ledger.rows] if ledger else [],
            "totals": ledger.totals() if ledger else None,
            "patch": self.patch,
            "validation": self.validation.to_json() if self.validation else None,
            "route": self.route,
            "saved_diff": str(self.saved_diff) if self.saved_diff else None,
            "commit": self.commit_sha,
            "warnings": self.warnings,
            "error": self.error,
        }


_OUTCOME_RANK = {"lint-failed": 3, "tests-failed": 2, "apply-failed": 1, "format-error": 0}


@contextmanager
def _signals_held() -> Iterator[None]:
    """Defer Ctrl-C and SIGTERM while the tree is being restored, so a second Ctrl-C can't cut it short."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class FixRun:
    def __init__(self, request: str, deps: FixDeps, *, commit: bool = False):
        self.deps, self.cfg, self.commit = deps, deps.config, commit
        self.result = FixResult(run_id=time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6], request=request)
        self.ledger = Ledger(deps.prices, {t: deps.config.tier(t).model for t in ("small", "mid", "frontier")})
        self.result.ledger = self.ledger
        self.redactor = Redactor.from_environment()
        self.journal: FileJournal | None = None
        self._map: RepoMap | None = None
        self._best: tuple[int, str] | None = None  # (outcome rank, diff) of the best failed attempt
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

    # ------------------------------------------------------------ steps
    def classify(self) -> Classification:
        outline = self.repo_map().outline(self.result.request, self.cfg.context.outline_tokens)
        feedback = ""
        for attempt in (1, 2):
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

    def gather(self, c: Classification) -> FileContext:
        ctx = gather_files(self.deps.ws, list(c.files), self.cfg.context.max_file_tokens)
        for path, why in ctx.dropped.items():
            self._event("warning", f"not shown to the model: {path} ({why})")
        return ctx

    def _refuse(self, path: str) -> str | None:
        allowed, refused = self.deps.ws.shareable([path])
        return refused.get(path)

    def _attempt_diff(self) -> str:
        assert self.journal is not None
        parts = []
        for rel in self.journal.touched():
            p = self.deps.ws.root / rel
            now = p.read_bytes() if p.is_file() else None
            before = self.journal.original(rel)
            parts.append(file_diff(rel if before is not None else None, before, rel if now is not None else None, now))
        return "".join(parts)

    def _apply(self, changes: list[FileChange]) -> None:
        assert self.journal is not None
        for ch in changes:
            if ch.old_path and ch.old_path != ch.path:
                self.journal.delete(ch.old_path)
            if ch.new_content is None:
                self.journal.delete(ch.path)
            else:
                self.journal.write(ch.path, ch.new_content)

    def _keep_best(self, outcome: str, diff: str) -> None:
        rank = _OUTCOME_RANK.get(outcome, -1)
        if diff.strip() and (self._best is None or rank >= self._best[0]):
            self._best = (rank, diff)

    def patch_loop(self, c: Classification, ctx: FileContext) -> bool:
        ladder = patch_ladder(self.cfg.routing, c)
        related = self.repo_map().related_signatures(list(ctx.texts), 1000) if ctx.texts else ""
        related_block = f"\nSignatures in related files (for reference; not editable here):\n{related}\n" if related else ""
        feedback, apply_failures = "", {}  # type: ignore[var-annotated]
        provider_failed_last = False
        i = 0
        while i < len(ladder):
            rung: Rung = ladder[i]
            self.result.route.append(f"{rung.tier} #{rung.attempt}: {rung.why}")
            whole = self._whole_file_target(apply_failures, ctx)
            if whole:
                messages = prompts_loader.render(
                    "patch-whole-file", request=self.result.request, path=whole, content=ctx.texts[whole], feedback=feedback
                )
            else:
                messages = prompts_loader.render(
                    "patch", request=self.result.request, files=ctx.render(), related=related_block, feedback=feedback
                )
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
            failure = self._try_reply(reply.text, row, whole, apply_failures)
            if failure is None:
                return True
            feedback = f"\nA previous attempt ({row.tier} tier) failed: {row.note}\n{failure}\n"
            i += 1
        if provider_failed_last and not any(r.outcome in _OUTCOME_RANK for r in self.ledger.rows if r.step == "patch"):
            raise ProviderError("unreachable", "no tier could be reached for the patch step", retryable=False)
        return False

    def _whole_file_target(self, failures: dict[str, int], ctx: FileContext) -> str | None:
        for path, n in failures.items():
            if n >= 2 and path in ctx.texts and ctx.texts[path].count("\n") <= WHOLE_FILE_MAX_LINES:
                failures[path] = -10  # once per file
                return path
        return None

    def _try_reply(self, text: str, row: LedgerRow, whole: str | None, failures: dict[str, int]) -> str | None:
        """Apply and validate one reply. None when it validated; otherwise the feedback for the next attempt."""
        assert self.journal is not None
        root = self.deps.ws.root
        try:
            changes = [plan_whole_file(text, whole, root, refuse=self._refuse)] if whole else plan_patch(text, root, refuse=self._refuse)
        except PatchError as err:
            outcome = "format-error" if err.kind == "no-diff" else "apply-failed"
            self.ledger.set_outcome(row, outcome, err.reason)
            if err.path:
                failures[err.path] = failures.get(err.path, 0) + 1
            self._keep_best(outcome, _extract_diff_text(text))
            return err.feedback
        self._apply(changes)
        diff = self._attempt_diff()
        self._event("validate", f"validating: {self.deps.test_command}" + (f" && {self.deps.lint_command}" if self.deps.lint_command else ""))
        v = validate(self.deps.runner, root, self.deps.test_command, self.deps.lint_command, self.cfg.validation.timeout_s)
        self.result.validation = v
        if v.ok:
            self.result.patch = diff
            return None
        self.ledger.set_outcome(row, v.outcome, v.reason())
        failed = v.failed_result()
        feedback = (
            f"Your patch applied, but {v.reason()}. It has been undone; the files above are unchanged.\n"
            f"Your patch was:\n```diff\n{diff}```\nOutput (trimmed):\n```\n{trim_output(failed.output if failed else '')}\n```\n"
            "Send a corrected patch against the files as shown above."
        )
        self._keep_best(v.outcome, diff)
        self.journal.rewind()
        return feedback

    def finish_fixed(self) -> None:
        assert self.journal is not None
        touched = self.journal.touched()
        if self.commit:
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
            r.classification = c = self.classify()
            ctx = self.gather(c)
            if self.patch_loop(c, ctx):
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
        record = {k: v for k, v in self.result.to_json().items() if k not in ("patch", "validation")}
        record["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        record["test_command"] = self.deps.test_command
        try:
            append_history(self.deps.ws.state_dir, record)
        except OSError as err:
            self.result.warnings.append(f"could not write the ledger history: {err}")


def _extract_diff_text(reply: str) -> str:
    """The model's own diff text, for saving when nothing applied."""
    return reply if ("@@" in reply or "+++" in reply) else ""


def run_fix(request: str, deps: FixDeps, *, commit: bool = False) -> FixResult:
    return FixRun(request, deps, commit=commit).run()
