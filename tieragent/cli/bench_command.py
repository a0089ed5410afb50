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
from .common import fail
from .streams import console, print_json

if TYPE_CHECKING:
    from ..core.config import Config
    from ..flows.bench import Mined, Policy, RunContext, Task
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


def prepare(
    directory: Path,
    suite: str | None,
    from_history: int | None,
    task_ids: list[str],
    policy_names: list[str],
    scripted: bool,
    run_timeout: float,
    run_max_cost: float | None,
    resume: Path | None,
    results: Path | None,
    workdir: Path | None,
    setup: str | None,
    keep: bool,
    say: Any,
    trust_flag: bool = False,
) -> BenchPlan:
    """Every check that can fail before the first run: the options, the config, the suite, the
    policies, the history, each task's repository and commit. Failures exit 2."""
    from ..core.errors import ConfigError, EnvironmentProblem
    from ..flows.bench import (
        Procs,
        RunContext,
        load_suite,
        resolve_policies,
        resolve_sources,
        select_tasks,
        user_layer,
        write_smoke_suite,
    )
    from ..flows.skeleton import new_run_id
    from ..repo.workspace import GitWorkspace

    if not suite and not from_history:
        raise UsageError("say what to run: --suite DIR|FILE|builtin, or --from-history N (or both)")
    if scripted and from_history:
        raise UsageError("--scripted needs each task's scripted replies; tasks mined with --from-history have none")
    if resume is not None and not resume.is_file():
        raise UsageError(f"--resume {resume}: no such results file")
    if resume is not None and results is not None:
        raise UsageError("--resume FILE continues FILE; --results is for a new bench")
    try:
        ws: GitWorkspace | None = GitWorkspace.open(directory)
    except EnvironmentProblem:
        if from_history:
            raise
        ws = None  # a suite can run anywhere; its work directory is then a temporary one
    cfg = base_config(ws, scripted, trust_flag)
    bench_id = new_run_id()
    if workdir is None:
        workdir = (
            resume.parent
            if resume
            else ws.state_dir / "bench" / bench_id
            if ws
            else Path(tempfile.mkdtemp(prefix="tieragent-bench-"))
        )
    workdir = workdir.resolve()
    results = resume or results or workdir / "results.jsonl"
    if results.exists() and resume is None:
        raise UsageError(
            f"--results {results} already exists: continue it with --resume {results}, or choose another file"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    tasks: list[Task] = []
    variants: dict[str, dict] = {}
    variants_source = ""
    if suite:
        loaded = load_suite(write_smoke_suite(workdir / "builtin-suite") if suite == BUILTIN_SUITE else Path(suite))
        tasks, variants, variants_source = loaded.tasks, loaded.variants, loaded.variants_source
    policies = resolve_policies(
        policy_names, variants, variants_source, cfg
    )  # before mining: a typo should not wait for it
    procs = Procs()
    mined = _mine(ws, cfg, from_history, workdir, procs, setup, run_timeout, say) if from_history else None
    if mined is not None:
        clash = {t.id for t in tasks} & {t.id for t in mined.tasks}
        if clash:
            raise UsageError(f"--from-history: task id {sorted(clash)[0]} is also in the suite")
        tasks += mined.tasks
    tasks = select_tasks(tasks, task_ids)
    if not tasks:
        raise UsageError("no task to run: no commit in the history qualified (the reasons are above)")
    for t in tasks if scripted else ():
        if not t.scripted:
            raise ConfigError(t.source, t.key("scripted"), "missing: --scripted runs need the task's scripted replies")
    tasks = resolve_sources(
        tasks, ws.state_dir / "bench" / "repos" if ws else workdir / "repos"
    )  # clones of URLs, kept for the next bench
    ctx = RunContext(
        bench_id=bench_id,
        workdir=workdir,
        user=user_layer(cfg),
        fix_argv=fix_argv,
        procs=procs,
        run_timeout=run_timeout,
        run_max_cost=run_max_cost if run_max_cost is not None else cfg.budget.max_cost_usd,
        keep_checkouts=keep,
        scripted=scripted,
        role_models={t: cfg.tier(t).model for t in TIERS},
        key_names=key_names(cfg),
        passthrough=tuple(cfg.validation.env_passthrough),
        validate_env=dict(cfg.validation.env),
    )
    notes = (
        ["scripted model replies: no model was called; costs are estimated at the demo's list prices"]
        if scripted
        else []
    )
    (workdir / f"bench-{bench_id}.json").write_text(
        json.dumps(
            {
                "bench_id": bench_id,
                "suite": suite,
                "from_history": from_history,
                "scripted": scripted,
                "results": str(results),
                "tasks": [{"id": t.id, "source": t.source, "repo": t.repo, "commit": t.sha} for t in tasks],
                "policies": [p.to_json() for p in policies],
                "run_timeout": run_timeout,
                "run_max_cost": ctx.run_max_cost,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return BenchPlan(tasks, policies, ctx, results, mined, notes, suite or "")


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
    suite: str | None = typer.Option(
        None,
        "--suite",
        metavar="DIR|FILE|builtin",
        help="Task files: a directory, one YAML file, or 'builtin' (the smoke suite).",
    ),
    from_history: int | None = typer.Option(
        None,
        "--from-history",
        metavar="N",
        min=1,
        help="Also mine this repository's last N commits that fixed something their tests prove.",
    ),
    tasks: str | None = typer.Option(None, "--tasks", metavar="ID,ID", help="Only these tasks."),
    policies: str | None = typer.Option(
        None,
        "--policies",
        metavar="NAME,NAME",
        help="Policies to compare (default: cascade, frontier-only, mid-only, small-only and the suite's variants).",
    ),
    scripted: bool = typer.Option(
        False, "--scripted", help="Scripted model replies from the tasks (no keys, no calls), at the demo's prices."
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Runs at a time."),
    run_timeout: float = typer.Option(
        900.0, "--run-timeout", metavar="SECONDS", help="Each run's limit (tieragent fix --timeout)."
    ),
    run_max_cost: float | None = typer.Option(
        None,
        "--run-max-cost",
        metavar="USD",
        help="Each run's budget (tieragent fix --max-cost; default budget.max_cost_usd).",
    ),
    max_cost: float | None = typer.Option(
        None, "--max-cost", metavar="USD", help="The whole bench's budget: no run starts that could pass it."
    ),
    resume: Path | None = typer.Option(
        None,
        "--resume",
        metavar="FILE",
        help="Continue the bench whose results are in FILE, skipping the pairs it holds.",
    ),
    results: Path | None = typer.Option(
        None,
        "--results",
        metavar="FILE",
        help="Where to write the results (JSON lines; default in the work directory).",
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", metavar="DIR", help="Checkouts and results (default .git/tieragent/bench/<run-id>/)."
    ),
    setup: str | None = typer.Option(
        None, "--setup", metavar="CMD", help="For --from-history tasks: a command run in each fresh checkout first."
    ),
    keep_checkouts: bool = typer.Option(
        False, "--keep-checkouts", help="Keep each run's checkout (for a look at what the patch did)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object on stdout."),
    csv_out: Path | None = typer.Option(None, "--csv", metavar="FILE", help="Also write the per-policy report as CSV."),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        metavar="FILE",
        help="Where to write the cost-versus-success PNG (default: in the work directory; needs matplotlib).",
    ),
    trust_config: bool = typer.Option(
        False,
        "--trust-config",
        help="Trust this repository's .tieragent.yaml when it names key "
        "variables or hands variables to the tests (remembered until the file changes).",
    ),
    directory: Path = typer.Option(Path("."), "-C", help="Run as if started in this directory."),
) -> None:
    """Run tasks under several routing policies and compare solved rate, cost, escalation and false accepts."""
    from ..flows.bench import build_report, run_bench
    from .bench_render import bench_progress, print_report, write_csv, write_plot

    err = console(stderr=True)
    try:
        if (max_cost is not None and max_cost < 0) or (run_max_cost is not None and run_max_cost < 0):
            raise UsageError("--max-cost and --run-max-cost must not be negative")
        plan = prepare(
            directory,
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
            lambda line: err.print(line, markup=False, highlight=False),
            trust_flag=trust_config,
        )
    except TieragentError as e:
        fail(e, as_json)
    with bench_progress(err, enabled=True) as view:
        policies = f"{len(plan.policies)} polic{'y' if len(plan.policies) == 1 else 'ies'}"
        view.info(f"bench: {len(plan.tasks)} task(s) × {policies}; work directory {plan.ctx.workdir}")
        run = run_bench(
            plan.tasks, plan.policies, plan.ctx, plan.results, jobs=jobs, max_cost=max_cost, on_progress=view
        )
    report = build_report([t.id for t in plan.tasks], [p.name for p in plan.policies], run.records, run.not_run)
    notes = list(plan.notes)
    if run.resumed:
        notes.append(f"resumed: {run.resumed} line(s) from {plan.results} were kept as they were")
    if run.interrupted:
        pending = sum(cell == "not_run" for row in report.matrix.values() for cell in row.values())
        notes.append(f"interrupted: {pending} run(s) not made; continue with --resume {plan.results}")
    plot_path, plot_note = write_plot(plot or plan.ctx.workdir / "cost_vs_success.png", report)
    notes.append(plot_note)
    status = "interrupted" if run.interrupted else "budget_stopped" if run.not_run else "complete"
    code = ExitCode.INTERRUPTED if run.interrupted else ExitCode.BUDGET if run.not_run else 0
    doc: dict[str, Any] = {
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
    if csv_out is not None:
        write_csv(csv_out, report.csv_rows())
    if as_json:
        print_json(doc)
    else:
        print_report(report, doc, console())
    err.print(
        f"tieragent bench: {status} (exit {int(code)}; spent ${run.spent_usd:.4f})", markup=False, highlight=False
    )
    raise typer.Exit(int(code))


def register(app: typer.Typer) -> None:
    """Add `bench` to the CLI."""
    app.command("bench")(bench)
