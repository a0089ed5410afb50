"""One bench run, and the preflight that finds broken tasks.

A run: a fresh checkout of the task, its setup, the policy's config written into the checkout,
`tieragent fix --json` as a subprocess (the same installation: the caller gives the argv), then,
when tieragent said fixed, the hidden check. The result is one JSON-able record (a line of the
results file). A preflight checks out the task once and runs its setup and its check: a setup that
fails, or a check that already passes, makes the task broken (reported, never scored).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.private_files import append_private, private_dir, write_private
from ...core.vocab import TIERS, Tier
from .checkout import Done, Procs, RunProblem, command_env, make_checkout, remove
from .policies import Policy, run_config, write_run_config
from .tasks import Task

FixArgv = Callable[
    [Path | None], list[str]
]  # the command before `fix ...`; given the scripted replies' file in --scripted mode
GRACE_S = 60.0  # beyond --timeout, for the fix to restore its tree and print its JSON
SOLVED, FAILED, FALSE_ACCEPT, ERROR = "solved", "failed", "false_accept", "error"


@dataclass(frozen=True)
class RunContext:
    """What every run of one bench shares."""

    bench_id: str
    workdir: Path
    user: dict[str, Any]  # the user's config as a layer (see policies.user_layer)
    fix_argv: FixArgv
    procs: Procs
    run_timeout: float
    run_max_cost: float | None
    keep_checkouts: bool = False
    scripted: bool = False
    role_models: dict[Tier, str] = field(default_factory=dict)  # --scripted: which model answers as which tier
    key_names: tuple[str, ...] = ()  # provider key variables kept from setup and check commands
    passthrough: tuple[str, ...] = ()
    validate_env: dict[str, str] = field(default_factory=dict)

    def env(self, checkout: Path) -> dict[str, str]:
        return command_env(checkout, self.key_names, self.passthrough, self.validate_env)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def preflight(task: Task, ctx: RunContext) -> str | None:
    """Why the task is broken (its setup fails, its check passes before any fix), or None."""
    where = ctx.workdir / "preflight" / task.id
    try:
        checkout = make_checkout(task, where / "repo")
        env = ctx.env(checkout)
        if task.setup:
            done = ctx.procs.run(task.setup, cwd=checkout, env=env, timeout=ctx.run_timeout)
            if not done.ok and not ctx.procs.cancelled.is_set():
                return f"setup fails ({_how(done)}): {_last_lines(done)}"
        done = ctx.procs.run(task.check, cwd=checkout, env=env, timeout=ctx.run_timeout)
        if done.ok:
            return "the check passes before the fix"
        return None
    except RunProblem as problem:
        return str(problem)
    finally:
        remove(where)


def broken_record(task: Task, reason: str, ctx: RunContext) -> dict[str, Any]:
    return {"kind": "broken", "bench_id": ctx.bench_id, "task": task.id, "reason": reason, "time": now()}


def run_pair(task: Task, policy: Policy, ctx: RunContext) -> dict[str, Any] | None:
    """The record of one (task, policy) run; None when the bench was interrupted meanwhile."""
    started = time.monotonic()
    run_dir = ctx.workdir / "runs" / f"{task.id}--{policy.name}"
    remove(run_dir)
    run_dir.mkdir(parents=True)
    checkout = run_dir / "repo"
    record: dict[str, Any] = {
        "kind": "run",
        "bench_id": ctx.bench_id,
        "task": task.id,
        "policy": policy.name,
        "commit": task.sha,
        "dir": str(run_dir),
        "started": round(time.time(), 3),
    }
    try:
        env, history = _prepare_checkout(task, policy, ctx, checkout)
        fix = _run_fix(task, policy, ctx, run_dir, checkout)
        if ctx.procs.cancelled.is_set():
            return None
        record["fix_seconds"] = round(fix.seconds, 3)
        doc = _fix_document(fix, ctx, run_dir)
        _keep_history(history, checkout)
        record.update(fix_summary(doc))
        judged = _judge_fix(task, ctx, checkout, env, doc)
        if judged is None:
            return None
        record.update(judged)
    except RunProblem as problem:
        if ctx.procs.cancelled.is_set():
            return None
        record.setdefault("cost_usd", 0.0)
        record.update(outcome=ERROR, error=str(problem))
    finally:
        if not ctx.keep_checkouts:
            remove(checkout)
    record["wall_seconds"] = round(time.monotonic() - started, 3)
    record["ended"] = round(time.time(), 3)
    record["time"] = now()
    return record


def _prepare_checkout(task: Task, policy: Policy, ctx: RunContext, checkout: Path) -> tuple[dict[str, str], Path]:
    """The task's commit checked out and set up, with the policy's config and history; the environment
    its commands run in and the policy's shared history file."""
    make_checkout(task, checkout)
    env = ctx.env(checkout)
    if task.setup:
        done = ctx.procs.run(task.setup, cwd=checkout, env=env, timeout=ctx.run_timeout)
        if not done.ok:
            raise RunProblem(f"setup failed ({_how(done)}): {_last_lines(done)}")
    write_run_config(run_config(ctx.user, policy, task.test, task.lint, checkout), checkout)
    return env, _share_history(ctx, policy, checkout)


def _run_fix(task: Task, policy: Policy, ctx: RunContext, run_dir: Path, checkout: Path) -> Done:
    """`tieragent fix --json` on the checkout, as a user runs it, in its own process."""
    request_file = run_dir / "request.txt"
    request_file.write_text(task.request, encoding="utf-8")
    argv = [
        *ctx.fix_argv(_script(task, ctx, run_dir)),
        "fix",
        "--json",
        "--trust-config",
        "--request-file",
        str(request_file),
        "-C",
        str(checkout),
        "--timeout",
        f"{ctx.run_timeout:g}",
    ]
    if ctx.run_max_cost is not None:
        argv += ["--max-cost", f"{ctx.run_max_cost:g}"]
    return ctx.procs.run(
        argv,
        cwd=run_dir,
        env=_fix_env(ctx.workdir / "state" / policy.name),
        timeout=ctx.run_timeout + GRACE_S,
        stderr_path=run_dir / "fix.stderr.txt",
    )


def _fix_document(fix: Done, ctx: RunContext, run_dir: Path) -> dict[str, Any]:
    """The run's JSON document, kept beside it; a RunProblem saying why when there is none."""
    doc = _parse(fix.output)
    if doc is None:
        stderr = (run_dir / "fix.stderr.txt").read_text(errors="replace")
        why = (
            f"the fix run did not end within {ctx.run_timeout + GRACE_S:g}s"
            if fix.timed_out
            else f"tieragent fix printed no JSON (exit {fix.exit_code}): {stderr.strip()[-500:]}"
        )
        raise RunProblem(why)
    (run_dir / "fix.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return doc


def _judge_fix(
    task: Task, ctx: RunContext, checkout: Path, env: dict[str, str], doc: dict[str, Any]
) -> dict[str, Any] | None:
    """The outcome: a fixed run is judged by the task's check; None when the bench was interrupted."""
    if doc.get("status") != "fixed":
        # the tree was restored: the check would judge the unfixed code
        return {"check": None, "outcome": FAILED if doc.get("status") in ("failed", "budget_exceeded") else ERROR}
    check = ctx.procs.run(task.check, cwd=checkout, env=env, timeout=ctx.run_timeout)
    if ctx.procs.cancelled.is_set():
        return None
    return {
        "check": {
            "passed": check.ok,
            "exit_code": check.exit_code,
            "seconds": round(check.seconds, 3),
            "timed_out": check.timed_out,
            "output_tail": check.tail(1500),
        },
        "outcome": SOLVED if check.ok else FALSE_ACCEPT,
    }


def _share_history(ctx: RunContext, policy: Policy, checkout: Path) -> Path:
    """The policy's runs so far, as the run's ledger history: as in a repository used over time, what
    earlier runs learnt (e.g. `edit_format: auto` seeing a model's diffs fail) carries to the next."""
    shared = ctx.workdir / "history" / f"{policy.name}.jsonl"
    if shared.is_file():
        write_private(private_dir(checkout / ".git" / "tieragent") / "ledger.jsonl", shared.read_bytes())
    return shared


def _keep_history(shared: Path, checkout: Path) -> None:
    """Add the run's own history line to the policy's shared history."""
    ledger = checkout / ".git" / "tieragent" / "ledger.jsonl"
    try:
        lines = ledger.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    if lines:  # one write per line: parallel runs do not interleave
        append_private(private_dir(shared.parent) / shared.name, lines[-1] + "\n")


def fix_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What the report needs from a `tieragent fix --json` document."""
    steps = doc.get("steps") or []
    totals = doc.get("totals") or {}
    patch_tiers = [s.get("tier") for s in steps if s.get("step") == "patch"]
    accepted = doc.get("accepted_step")
    accepted_tier = steps[accepted].get("tier") if isinstance(accepted, int) and 0 <= accepted < len(steps) else None
    start = (doc.get("routing") or {}).get("start")
    above_start = accepted_tier in TIERS and start in TIERS and TIERS.index(accepted_tier) > TIERS.index(start)
    return {
        "status": doc.get("status"),
        "exit_code": doc.get("exit_code"),
        "error": doc.get("error"),
        "cost_usd": float(totals.get("cost_usd") or 0.0),
        "cost_complete": bool(totals.get("cost_complete", True)),
        "calls": int(totals.get("calls") or 0),
        "cost_by_tier": {t: v.get("cost_usd", 0.0) for t, v in (totals.get("by_tier") or {}).items() if v.get("calls")},
        "start_tier": start,
        "accepted_tier": accepted_tier,
        "tiers_used": list(dict.fromkeys(t for t in patch_tiers if t)),
        "escalated": bool(above_start or len(set(patch_tiers)) > 1),
        "steps": [
            {
                k: s.get(k)
                for k in (
                    "step",
                    "tier",
                    "model",
                    "input_tokens",
                    "output_tokens",
                    "cost_usd",
                    "outcome",
                    "edit_format",
                )
            }
            for s in steps
        ],
        "task_class": (doc.get("classification") or {}).get("task_class"),
        "patch": doc.get("patch") or "",
    }


def _script(task: Task, ctx: RunContext, run_dir: Path) -> Path | None:
    if not ctx.scripted:
        return None
    path = run_dir / "script.json"
    path.write_text(json.dumps({"models": ctx.role_models, "replies": task.scripted or {}}, indent=2), encoding="utf-8")
    return path


def _fix_env(state_home: Path) -> dict[str, str]:
    """The user's environment without config variables (`TIERAGENT_X__Y`: already in the user's config
    the run's file holds, and they would override the policy). PYTHONPATH is left as it is: the
    tieragent process must import this installation, not the checkout. Each policy has its own user state
    (XDG_STATE_HOME), as it has its own ledger history: what its runs teach `edit_format: auto` about a
    model stays with it, and the user's own record is neither read nor changed by a bench."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("TIERAGENT_") and "__" in k)}
    env["NO_COLOR"] = "1"
    env["XDG_STATE_HOME"] = str(state_home)
    return env


def _parse(stdout: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(stdout)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and "status" in doc else None


def _how(done: Done) -> str:
    return "timed out" if done.timed_out else f"exit {done.exit_code}"


def _last_lines(done: Done, n: int = 3) -> str:
    lines = [ln.strip() for ln in done.output.strip().splitlines() if ln.strip()]
    return " / ".join(lines[-n:]) or "no output"
