"""`tieragent bench`: calibrate the model portfolio on real tasks.

Each (task, policy) pair runs `tieragent fix --json` as a subprocess in a fresh checkout under the
policy's config, then the task's hidden check; the report compares the policies (solved with a
Wilson interval, cost per solved task, escalation and false-accept rates, wall time).

- `tasks`: task files and suites (`load_suite`); `smoke` / `smoke_tasks`: the built-in suite.
- `mining`: tasks mined from this repository's commits (`--from-history`).
- `policies`: cascade, frontier-/mid-/small-only, the suite's variants, and each run's config.
- `checkout`: fresh clones and the commands run in them; `runs`: one run and the preflight;
  `schedule`: every pair, in parallel, within the budget, resumable; `report`: the arithmetic;
`shards`: `--shard K/N` and merging the shards' results; `result`: the run skeleton's result for a bench.

It returns results and prints nothing: progress goes to an `on_progress` callback.
May import: what `tieragent.flows` may import (`core`, `model`, `repo`, `judge`, `risk`, `routing`),
and `tieragent.flows.skeleton`. Never `tieragent.cli`, and never the fix flow's internals: a run is a
`tieragent fix` process, exactly as a user would start it.
"""

from .checkout import Procs, resolve_sources
from .mining import Mined, Skipped, check_command, mine_history
from .policies import BUILTIN_POLICIES, CASCADE, FORCED, Policy, resolve_policies, user_layer
from .report import OTHER_SHARD, PolicyStats, Report, build_report, wilson
from .result import SCRIPTED_NOTE, BenchResult
from .runs import ERROR, FAILED, FALSE_ACCEPT, SOLVED, FixArgv, RunContext, fix_summary
from .schedule import BenchProgress, BenchRun, read_results, run_bench
from .shards import Merged, Shard, check_resumed_shard, merge_results, plan_line, read_plan
from .smoke import write_smoke_suite
from .tasks import Suite, Task, load_suite, select_tasks

__all__ = [
    "BUILTIN_POLICIES",
    "CASCADE",
    "ERROR",
    "FAILED",
    "FALSE_ACCEPT",
    "FORCED",
    "OTHER_SHARD",
    "SCRIPTED_NOTE",
    "SOLVED",
    "BenchProgress",
    "BenchResult",
    "BenchRun",
    "FixArgv",
    "Merged",
    "Mined",
    "Policy",
    "PolicyStats",
    "Procs",
    "Report",
    "RunContext",
    "Shard",
    "Skipped",
    "Suite",
    "Task",
    "build_report",
    "check_command",
    "check_resumed_shard",
    "fix_summary",
    "load_suite",
    "merge_results",
    "mine_history",
    "plan_line",
    "read_plan",
    "read_results",
    "resolve_policies",
    "resolve_sources",
    "run_bench",
    "select_tasks",
    "user_layer",
    "wilson",
    "write_smoke_suite",
]
