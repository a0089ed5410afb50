"""What `tieragent bench` decides before its first run: the request, the config, the work directory,
the tasks and policies (and the shard's pairs), and the plan written beside the results.

Every check that can fail is made here, so a typo fails in a second, not after an hour of runs.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import UsageError
from ..core.vocab import TIERS

if TYPE_CHECKING:
    from ..core.config import Config
    from ..flows.bench import Mined, Policy, Procs, RunContext, Shard, Task
    from ..model.redact import Redactor
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
    shard: Shard | None = None
    pairs: list[tuple[str, str]] | None = None  # the shard's (task, policy) pairs; None: every pair
    redactor: Redactor | None = None  # masks the environment's secrets and the tiers' keys in the report

    def pair_count(self) -> int:
        return len(self.pairs) if self.pairs is not None else len(self.tasks) * len(self.policies)


def split_list(value: str | None) -> list[str]:
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
    shard: Shard | None = None


def request_from(params: dict[str, Any]) -> BenchRequest:
    """The request from the command's parameters (click's `ctx.params`), the shard's spec checked."""
    from ..flows.bench import Shard

    return BenchRequest(
        suite=params["suite"],
        from_history=params["from_history"],
        task_ids=split_list(params["tasks"]),
        policy_names=split_list(params["policies"]),
        scripted=params["scripted"],
        run_timeout=params["run_timeout"],
        run_max_cost=params["run_max_cost"],
        resume=params["resume"],
        results=params["results"],
        workdir=params["workdir"],
        setup=params["setup"],
        keep=params["keep_checkouts"],
        trust_flag=params["trust_config"],
        shard=Shard.parse(params["shard"]) if params["shard"] is not None else None,
    )


def prepare(directory: Path, req: BenchRequest, say: Any) -> BenchPlan:
    """Every check that can fail before the first run: the options, the config, the suite, the
    policies, the history, each task's repository and commit. Failures exit 2."""
    from ..flows.bench import SCRIPTED_NOTE, RunContext, user_layer
    from ..flows.skeleton import new_run_id, redactor_for

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
    notes = [SCRIPTED_NOTE] if req.scripted else []
    plan = BenchPlan(
        tasks, policies, ctx, results, mined, notes, req.suite or "", req.shard, redactor=redactor_for(cfg)
    )
    if req.shard is not None:
        plan.pairs = req.shard.pairs([t.id for t in tasks], [p.name for p in policies])
    _write_plan(req, plan)
    return plan


def _check_request(req: BenchRequest) -> None:
    if not req.suite and not req.from_history:
        raise UsageError("say what to run: --suite DIR|FILE|builtin, or --from-history N (or both)")
    if req.scripted and req.from_history:
        raise UsageError("--scripted needs each task's scripted replies; tasks mined with --from-history have none")
    if req.resume is not None and not req.resume.is_file():
        raise UsageError(f"--resume {req.resume}: no such results file")
    if req.resume is not None and req.results is not None:
        raise UsageError("--resume FILE continues FILE; --results is for a new bench")
    if req.resume is not None:
        from ..flows.bench import check_resumed_shard

        check_resumed_shard(req.resume, req.shard)


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


def _write_plan(req: BenchRequest, plan: BenchPlan) -> None:
    """The bench's plan beside its results (what was asked, which tasks and policies that meant), and as
    the first line of a new results file, which `bench merge` reads to tell the shards of one bench."""
    from ..flows.bench import plan_line

    ctx, tasks, policies = plan.ctx, plan.tasks, plan.policies
    (ctx.workdir / f"bench-{ctx.bench_id}.json").write_text(
        json.dumps(
            {
                "bench_id": ctx.bench_id,
                "suite": req.suite,
                "from_history": req.from_history,
                "scripted": req.scripted,
                "shard": str(req.shard) if req.shard else None,
                "results": str(plan.results),
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
    if req.resume is None:
        line = plan_line(
            ctx.bench_id, plan.suite, req.scripted, [t.id for t in tasks], [p.to_json() for p in policies], req.shard
        )
        plan.results.parent.mkdir(parents=True, exist_ok=True)
        plan.results.write_text(json.dumps(line, sort_keys=True) + "\n", encoding="utf-8")


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
