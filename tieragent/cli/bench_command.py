"""`tieragent bench`: run a suite of tasks under several routing policies and compare them.

Added to the CLI by `register(app)`. The work is in `tieragent.flows.bench`; this module is the
flags, the wiring (the user's config, the work directory, the fix command to run), the progress and
the report's output (tables, `--json`, `--csv`, the plot).

Exit codes: 0 the bench ran (whatever the tasks' outcomes), 2 usage or a bad suite, 3 runs left out
by `--max-cost`, 130 interrupted (the results so far are kept; `--resume FILE` continues).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..core.errors import ExitCode, TieragentError, UsageError
from ..core.vocab import TIERS
from .bench_options import (
    APPLY,
    AS_JSON,
    CSV_OUT,
    DIRECTORY,
    FROM_HISTORY,
    JOBS,
    KEEP_CHECKOUTS,
    MAX_COST,
    PLOT,
    POLICIES,
    RESULTS,
    RESUME,
    RUN_MAX_COST,
    RUN_TIMEOUT,
    SCRIPTED,
    SETUP,
    SUITE,
    TASKS,
    TRUST_CONFIG,
    WORKDIR,
    YES,
)
from .common import fail
from .streams import console, print_json

if TYPE_CHECKING:
    from ..core.config import Config
    from ..flows.bench import BenchRun, Mined, Policy, Procs, Report, RunContext, Task
    from ..repo.workspace import GitWorkspace

BUILTIN_SUITE = "builtin"


@dataclass
class BenchPlan:
    """Everything decided before the first run."""

    tasks: list[Task]
    policies: list[Policy]
    ctx: RunContext
    results: Path
    history: Mined | None = None
    notes: list[str] = field(default_factory=list)
    suite: str = ""


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def fix_argv(script: Path | None) -> list[str]:
    """`tieragent fix` from this very installation; with `--scripted`, the scripted entry point."""
    if script is not None:
        return [sys.executable, "-m", "tieragent.cli.bench_scripted", str(script)]
    return [sys.executable, "-m", "tieragent"]


def base_config(ws: GitWorkspace | None, scripted: bool, trust_flag: bool = False) -> Config:
    """The user's effective config (as `tieragent fix` would load it here, trusted as it would be); with
    `--scripted`, its tiers replaced by the demo's models and list prices (no keys are needed, none is called)."""
    from ..core.config import Tiers, load_config, require_models
    from .config_trust import load_trusted_config
    from .demo import DEMO_TIERS

    cfg = (
        load_config(None)
        if ws is None
        else load_trusted_config(ws, trust_flag=trust_flag, check_trust=not scripted).config
    )
    if scripted:  # the tasks' scripted replies are unified diffs, whatever format the demo's models would get
        routing = cfg.routing.model_copy(update={"edit_formats": {"*": "diff"}})
        return cfg.model_copy(update={"tiers": Tiers(**DEMO_TIERS), "routing": routing})
    require_models(cfg)
    return cfg


def key_names(cfg: Config) -> tuple[str, ...]:
    return tuple(c.api_key_env for c in (cfg.tiers.small, cfg.tiers.mid, cfg.tiers.frontier) if c and c.api_key_env)


@dataclass(frozen=True)
class BenchRequest:
    """What the command line asks of a bench, before anything is checked."""

    suite: str | None
    from_history: int | None
    task_ids: list[str]
    policy_names: list[str]
    scripted: bool
    run_timeout: float
    run_max_cost: float | None
    resume: Path | None
    results: Path | None
    workdir: Path | None
    setup: str | None
    keep: bool
    trust_flag: bool = False


def prepare(directory: Path, req: BenchRequest, say: Any) -> BenchPlan:
    """Every check that can fail before the first run: the options, the config, the suite, the
    policies, the history, each task's repository and commit. Failures exit 2."""
    from ..flows.bench import RunContext, user_layer
    from ..flows.skeleton import new_run_id

    _check_request(req)
    ws = _workspace(directory, req)
    cfg = base_config(ws, req.scripted, req.trust_flag)
    bench_id = new_run_id()
    workdir, results = _places(req, ws, bench_id)
    tasks, policies, mined, procs = _tasks_and_policies(req, ws, cfg, workdir, say)
    ctx = RunContext(
        bench_id=bench_id,
        workdir=workdir,
        user=user_layer(cfg),
        fix_argv=fix_argv,
        procs=procs,
        run_timeout=req.run_timeout,
        run_max_cost=req.run_max_cost if req.run_max_cost is not None else cfg.budget.max_cost_usd,
        keep_checkouts=req.keep,
        scripted=req.scripted,
        role_models={t: cfg.tier(t).model for t in TIERS},
        key_names=key_names(cfg),
        passthrough=tuple(cfg.validation.env_passthrough),
        validate_env=dict(cfg.validation.env),
    )
    notes = (
        ["scripted model replies: no model was called; costs are estimated at the demo's list prices"]
        if req.scripted
        else []
    )
    _write_plan(req, ctx, results, tasks, policies)
    return BenchPlan(tasks, policies, ctx, results, mined, notes, req.suite or "")


def _check_request(req: BenchRequest) -> None:
    if not req.suite and not req.from_history:
        raise UsageError("say what to run: --suite DIR|FILE|builtin, or --from-history N (or both)")
    if req.scripted and req.from_history:
        raise UsageError("--scripted needs each task's scripted replies; tasks mined with --from-history have none")
    if req.resume is not None and not req.resume.is_file():
        raise UsageError(f"--resume {req.resume}: no such results file")
    if req.resume is not None and req.results is not None:
        raise UsageError("--resume FILE continues FILE; --results is for a new bench")


def _workspace(directory: Path, req: BenchRequest) -> GitWorkspace | None:
    """The repository the bench starts in; a suite can run anywhere, mining needs one."""
    from ..core.errors import EnvironmentProblem
    from ..repo.workspace import GitWorkspace

    try:
        return GitWorkspace.open(directory)
    except EnvironmentProblem:
        if req.from_history:
            raise
        return None  # its work directory is then a temporary one


def _places(req: BenchRequest, ws: GitWorkspace | None, bench_id: str) -> tuple[Path, Path]:
    """The work directory (made) and the results file (new unless resumed)."""
    workdir = req.workdir
    if workdir is None:
        workdir = (
            req.resume.parent
            if req.resume
            else ws.state_dir / "bench" / bench_id
            if ws
            else Path(tempfile.mkdtemp(prefix="tieragent-bench-"))
        )
    workdir = workdir.resolve()
    results = req.resume or req.results or workdir / "results.jsonl"
    if results.exists() and req.resume is None:
        raise UsageError(
            f"--results {results} already exists: continue it with --resume {results}, or choose another file"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir, results


def _tasks_and_policies(
    req: BenchRequest, ws: GitWorkspace | None, cfg: Config, workdir: Path, say: Any
) -> tuple[list[Task], list[Policy], Mined | None, Procs]:
    """The suite's tasks and the mined ones, selected and with their repositories at hand; the policies."""
    from ..core.errors import ConfigError
    from ..flows.bench import Procs, load_suite, resolve_policies, resolve_sources, select_tasks, write_smoke_suite

    tasks: list[Task] = []
    variants: dict[str, dict] = {}
    variants_source = ""
    if req.suite:
        suite = write_smoke_suite(workdir / "builtin-suite") if req.suite == BUILTIN_SUITE else Path(req.suite)
        loaded = load_suite(suite)
        tasks, variants, variants_source = loaded.tasks, loaded.variants, loaded.variants_source
    # before mining: a typo should not wait for it
    policies = resolve_policies(req.policy_names, variants, variants_source, cfg)
    procs = Procs()
    mined = None
    if req.from_history:
        mined = _mine(ws, cfg, req.from_history, workdir, procs, req.setup, req.run_timeout, say)
        clash = {t.id for t in tasks} & {t.id for t in mined.tasks}
        if clash:
            raise UsageError(f"--from-history: task id {sorted(clash)[0]} is also in the suite")
        tasks += mined.tasks
    tasks = select_tasks(tasks, req.task_ids)
    if not tasks:
        raise UsageError("no task to run: no commit in the history qualified (the reasons are above)")
    for t in tasks if req.scripted else ():
        if not t.scripted:
            raise ConfigError(t.source, t.key("scripted"), "missing: --scripted runs need the task's scripted replies")
    # clones of URLs, kept for the next bench
    return resolve_sources(tasks, ws.state_dir / "bench" / "repos" if ws else workdir / "repos"), policies, mined, procs


def _write_plan(req: BenchRequest, ctx: RunContext, results: Path, tasks: list[Task], policies: list[Policy]) -> None:
    """The bench's plan beside its results: what was asked, and which tasks and policies that meant."""
    (ctx.workdir / f"bench-{ctx.bench_id}.json").write_text(
        json.dumps(
            {
                "bench_id": ctx.bench_id,
                "suite": req.suite,
                "from_history": req.from_history,
                "scripted": req.scripted,
                "results": str(results),
                "tasks": [{"id": t.id, "source": t.source, "repo": t.repo, "commit": t.sha} for t in tasks],
                "policies": [p.to_json() for p in policies],
                "run_timeout": req.run_timeout,
                "run_max_cost": ctx.run_max_cost,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


def _mine(
    ws: Any, cfg: Config, count: int, workdir: Path, procs: Any, setup: str | None, timeout: float, say: Any
) -> Mined:
    """`--from-history`: the tasks, written as task files too (to run them again with --suite)."""
    from ..core.errors import EnvironmentProblem
    from ..flows.bench import mine_history
    from ..judge.validation import detect_test_command

    test = cfg.validation.test or detect_test_command(ws.root)
    if not test:
        raise EnvironmentProblem(
            "--from-history: no test command to run a commit's tests with",
            hint="Set validate.test in .tieragent.yaml, or pass it with TIERAGENT_VALIDATE__TEST.",
        )
    mined = mine_history(
        ws.root,
        count,
        workdir,
        procs,
        test_command=test,
        lint_command=cfg.validation.lint,
        setup=setup,
        timeout=timeout,
        env_settings=(key_names(cfg), tuple(cfg.validation.env_passthrough), dict(cfg.validation.env)),
        on_commit=lambda line: say(f"history: examining {line}"),
    )
    _save_mined(mined, workdir / "history-tasks")
    if len(mined.tasks) < count:
        say(f"history: {len(mined.tasks)} of {count} commit(s) qualified ({mined.examined} examined)")
    return mined


def _save_mined(mined: Mined, dest: Path) -> None:
    """The mined tasks as task files, so the same tasks can be run again with --suite."""
    import yaml

    if not mined.tasks:
        return
    dest.mkdir(parents=True, exist_ok=True)
    for t in mined.tasks:
        (dest / f"{t.id}.yaml").write_text(
            yaml.safe_dump(t.to_yaml_dict(), sort_keys=False, width=200), encoding="utf-8"
        )


def bench(
    suite: str | None = SUITE,
    from_history: int | None = FROM_HISTORY,
    tasks: str | None = TASKS,
    policies: str | None = POLICIES,
    scripted: bool = SCRIPTED,
    jobs: int = JOBS,
    run_timeout: float = RUN_TIMEOUT,
    run_max_cost: float | None = RUN_MAX_COST,
    max_cost: float | None = MAX_COST,
    resume: Path | None = RESUME,
    results: Path | None = RESULTS,
    workdir: Path | None = WORKDIR,
    setup: str | None = SETUP,
    keep_checkouts: bool = KEEP_CHECKOUTS,
    as_json: bool = AS_JSON,
    csv_out: Path | None = CSV_OUT,
    plot: Path | None = PLOT,
    trust_config: bool = TRUST_CONFIG,
    apply: bool = APPLY,
    yes: bool = YES,
    directory: Path = DIRECTORY,
) -> None:
    """Run tasks under several routing policies and compare solved rate, cost, escalation and false accepts."""
    from ..flows.bench import run_bench
    from .bench_apply import check_apply
    from .bench_render import bench_progress

    err = console(stderr=True)
    try:
        if (max_cost is not None and max_cost < 0) or (run_max_cost is not None and run_max_cost < 0):
            raise UsageError("--max-cost and --run-max-cost must not be negative")
        request = BenchRequest(
            suite,
            from_history,
            _split(tasks),
            _split(policies),
            scripted,
            run_timeout,
            run_max_cost,
            resume,
            results,
            workdir,
            setup,
            keep_checkouts,
            trust_config,
        )
        applying = check_apply(apply, yes, directory)
        plan = prepare(directory, request, lambda line: err.print(line, markup=False, highlight=False))
    except TieragentError as e:
        fail(e, as_json)
    with bench_progress(err, enabled=True) as view:
        view.info(
            f"bench: {len(plan.tasks)} task(s) × {len(plan.policies)} "
            f"polic{'y' if len(plan.policies) == 1 else 'ies'}; work directory {plan.ctx.workdir}"
        )
        run = run_bench(
            plan.tasks, plan.policies, plan.ctx, plan.results, jobs=jobs, max_cost=max_cost, on_progress=view
        )
    raise typer.Exit(_finish(plan, run, plot, csv_out, as_json, err, applying))


def _finish(
    plan: BenchPlan, run: BenchRun, plot: Path | None, csv_out: Path | None, as_json: bool, err: Any, applying: Any
) -> int:
    """The report made, plotted and shown, then `--apply`'s change (0, or 2: nothing written); the exit code."""
    from ..flows.bench import build_report
    from .bench_apply import apply_measured
    from .bench_render import write_plot

    report = build_report([t.id for t in plan.tasks], [p.name for p in plan.policies], run.records, run.not_run)
    plot_path, plot_note = write_plot(plot or plan.ctx.workdir / "cost_vs_success.png", report)
    doc = bench_document(plan, run, report, plot_path, [*_run_notes(plan, run, report), plot_note])
    _show(report, doc, run.spent_usd, csv_out, as_json, err)
    return int(doc["exit_code"]) or apply_measured(applying, doc["status"], run.records, plan.ctx, err)


def _show(report: Report, doc: dict[str, Any], spent_usd: float, csv_out: Path | None, as_json: bool, err: Any) -> None:
    """The report: as CSV too when asked, as JSON or tables on stdout, and the summary line last on stderr."""
    from .bench_render import print_report, write_csv

    if csv_out is not None:
        write_csv(csv_out, report.csv_rows())
    if as_json:
        print_json(doc)
    else:
        print_report(report, doc, console())
    err.print(
        f"tieragent bench: {doc['status']} (exit {doc['exit_code']}; spent ${spent_usd:.4f})",
        markup=False,
        highlight=False,
    )


def _run_notes(plan: BenchPlan, run: BenchRun, report: Report) -> list[str]:
    """The plan's notes, then what the run left: lines kept from a resumed file, runs an interrupt left out."""
    notes = list(plan.notes)
    if run.resumed:
        notes.append(f"resumed: {run.resumed} line(s) from {plan.results} were kept as they were")
    if run.interrupted:
        pending = sum(cell == "not_run" for row in report.matrix.values() for cell in row.values())
        notes.append(f"interrupted: {pending} run(s) not made; continue with --resume {plan.results}")
    return notes


def bench_document(
    plan: BenchPlan, run: BenchRun, report: Report, plot_path: Path | None, notes: list[str]
) -> dict[str, Any]:
    """The `--json` document (the text report is made from it too), with the bench's status and exit code."""
    status = "interrupted" if run.interrupted else "budget_stopped" if run.not_run else "complete"
    code = ExitCode.INTERRUPTED if run.interrupted else ExitCode.BUDGET if run.not_run else 0
    return {
        "status": status,
        "exit_code": int(code),
        "bench_id": plan.ctx.bench_id,
        "suite": plan.suite,
        "workdir": str(plan.ctx.workdir),
        "results_file": str(plan.results),
        "spent_usd": round(run.spent_usd, 6),
        **report.to_json(),
        "policy_definitions": [p.to_json() for p in plan.policies],
        "history": None
        if plan.history is None
        else {
            "qualified": [t.id for t in plan.history.tasks],
            "examined": plan.history.examined,
            "skipped": [s.to_json() for s in plan.history.skipped],
        },
        "plot": str(plot_path) if plot_path else None,
        "notes": notes,
    }


def register(app: typer.Typer) -> None:
    """Add `bench` to the CLI."""
    app.command("bench")(bench)
