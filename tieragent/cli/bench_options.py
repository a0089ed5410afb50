"""The options of `tieragent bench`, defined once here so the command reads as what it does."""

from __future__ import annotations

from pathlib import Path

import typer

SUITE = typer.Option(
    None,
    "--suite",
    metavar="DIR|FILE|builtin",
    help="Task files: a directory, one YAML file, or 'builtin' (the smoke suite).",
)
FROM_HISTORY = typer.Option(
    None,
    "--from-history",
    metavar="N",
    min=1,
    help="Also mine this repository's last N commits that fixed something their tests prove.",
)
TASKS = typer.Option(None, "--tasks", metavar="ID,ID", help="Only these tasks.")
POLICIES = typer.Option(
    None,
    "--policies",
    metavar="NAME,NAME",
    help="Policies to compare (default: cascade, frontier-only, mid-only, small-only and the suite's variants).",
)
SCRIPTED = typer.Option(
    False, "--scripted", help="Scripted model replies from the tasks (no keys, no calls), at the demo's prices."
)
JOBS = typer.Option(1, "--jobs", "-j", min=1, help="Runs at a time.")
RUN_TIMEOUT = typer.Option(
    900.0, "--run-timeout", metavar="SECONDS", help="Each run's limit (tieragent fix --timeout)."
)
RUN_MAX_COST = typer.Option(
    None,
    "--run-max-cost",
    metavar="USD",
    help="Each run's budget (tieragent fix --max-cost; default budget.max_cost_usd).",
)
MAX_COST = typer.Option(
    None, "--max-cost", metavar="USD", help="The whole bench's budget: no run starts that could pass it."
)
RESUME = typer.Option(
    None,
    "--resume",
    metavar="FILE",
    help="Continue the bench whose results are in FILE, skipping the pairs it holds.",
)
RESULTS = typer.Option(
    None,
    "--results",
    metavar="FILE",
    help="Where to write the results (JSON lines; default in the work directory).",
)
WORKDIR = typer.Option(
    None, "--workdir", metavar="DIR", help="Checkouts and results (default .git/tieragent/bench/<run-id>/)."
)
SETUP = typer.Option(
    None, "--setup", metavar="CMD", help="For --from-history tasks: a command run in each fresh checkout first."
)
KEEP_CHECKOUTS = typer.Option(
    False, "--keep-checkouts", help="Keep each run's checkout (for a look at what the patch did)."
)
AS_JSON = typer.Option(False, "--json", help="Print the report as one JSON object on stdout.")
CSV_OUT = typer.Option(None, "--csv", metavar="FILE", help="Also write the per-policy report as CSV.")
PLOT = typer.Option(
    None,
    "--plot",
    metavar="FILE",
    help="Where to write the cost-versus-success PNG (default: in the work directory; needs matplotlib).",
)
TRUST_CONFIG = typer.Option(
    False,
    "--trust-config",
    help="Trust this repository's .tieragent.yaml when it names key "
    "variables or hands variables to the tests (remembered until the file changes).",
)
DIRECTORY = typer.Option(Path("."), "-C", help="Run as if started in this directory.")
SHARD = typer.Option(
    None,
    "--shard",
    metavar="K/N",
    help="Run only the K-th of N slices of the (task, policy) pairs, the same on every machine; "
    "report the shards as one with `tieragent bench merge`.",
)
MERGE_FILES = typer.Argument(..., metavar="FILE", help="The results file of every shard.", show_default=False)
MERGE_PLOT = typer.Option(
    None, "--plot", metavar="FILE", help="Also write the cost-versus-success PNG (needs matplotlib)."
)
APPLY = typer.Option(
    False,
    "--apply",
    help="After a complete bench, write the start tier it measured for each task class into this repository's "
    ".tieragent.yaml (routing.start), after showing the change and asking.",
)
YES = typer.Option(False, "--yes", help="With --apply: write without asking (needed in CI mode or without a terminal).")
