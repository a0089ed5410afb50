"""`tieragent bench` and `tieragent bench merge`: run a suite of tasks under several routing policies and
compare them; report the shards of one bench (`--shard K/N`) as one.

Added to the CLI by `register(app)` as a group whose own callback is the bench, so `bench [OPTIONS]`
runs one and `bench merge FILE...` merges. The checks before the first run are in `bench_plan`, the
work in `tieragent.flows.bench`; this module is the flags, the progress, and the ending, which is
`end_run`'s, as for fix and review: `--csv` and `--output` files, the report (tables or `--json`), the
summary line in CI mode or with `--json`, and the exit code.

Exit codes (`flows.bench.result`): 0 every pair has a result (whatever the tasks' outcomes), 2 usage,
a bad suite or shards that are not one bench's, 3 runs left out by `--max-cost` (or, merging, pairs
no shard has a result for), 130 interrupted (the results so far are kept; `--resume FILE` continues).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ..core.errors import TieragentError, UsageError
from . import options
from .bench_options import (
    APPLY,
    AS_JSON,
    CSV_OUT,
    DIRECTORY,
    FROM_HISTORY,
    JOBS,
    KEEP_CHECKOUTS,
    MAX_COST,
    MERGE_FILES,
    MERGE_PLOT,
    PLOT,
    POLICIES,
    RESULTS,
    RESUME,
    RUN_MAX_COST,
    RUN_TIMEOUT,
    SCRIPTED,
    SETUP,
    SHARD,
    SUITE,
    TASKS,
    TRUST_CONFIG,
    WORKDIR,
    YES,
)
from .bench_plan import BenchPlan, prepare, request_from
from .common import fail
from .streams import OutputMode, output_mode

if TYPE_CHECKING:
    from ..flows.bench import BenchResult, BenchRun, Report

SUBCOMMANDS = "[merge FILE...]"


def bench(
    ctx: typer.Context,
    suite: str | None = SUITE,
    from_history: int | None = FROM_HISTORY,
    tasks: str | None = TASKS,
    policies: str | None = POLICIES,
    scripted: bool = SCRIPTED,
    shard: str | None = SHARD,
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
    ci: bool | None = options.CI,
    output: Path | None = options.OUTPUT,
    csv_out: Path | None = CSV_OUT,
    plot: Path | None = PLOT,
    trust_config: bool = TRUST_CONFIG,
    apply: bool = APPLY,
    yes: bool = YES,
    directory: Path = DIRECTORY,
) -> None:
    """Run tasks under several routing policies and compare solved rate, cost, escalation and false accepts."""
    if ctx.invoked_subcommand is not None:
        _no_options_before(ctx)
        return
    mode = output_mode(ci, "json" if as_json else None)
    err = mode.console(stderr=True)
    try:
        if (max_cost is not None and max_cost < 0) or (run_max_cost is not None and run_max_cost < 0):
            raise UsageError("--max-cost and --run-max-cost must not be negative")
        from .bench_apply import check_apply  # here: importing it loads pydantic, which --help must not pay

        applying = check_apply(apply, yes, directory)  # refused before any run when nobody can confirm
        plan = prepare(directory, request_from(ctx.params), lambda line: err.print(line, markup=False))
        # a resumed file's unreadable line is a usage error too
        result, records = run_plan(plan, jobs, max_cost, err)
    except TieragentError as e:
        fail(e, mode.machine)

    def apply_after_report(done: BenchResult) -> None:
        """`--apply`: the measured starts shown and written once the report is out; nothing written is exit 2."""
        from .bench_apply import apply_measured

        code = apply_measured(applying, done.status, records, plan.ctx, err)
        if code and not done.exit_code:
            done.exit_code = code

    after = apply_after_report if applying is not None else None
    end_bench(result, mode, output, csv_out, plot or plan.ctx.workdir / "cost_vs_success.png", after)


def _no_options_before(ctx: typer.Context) -> None:
    """`bench --suite x merge ...`: the bench's options would be silently ignored; say so instead."""
    given = [p.opts[0] for p in ctx.command.params if p.name in ctx.params and ctx.params[p.name] != p.default]
    if given:
        what = "is an option" if len(given) == 1 else "are options"
        sub = ctx.invoked_subcommand
        fail(UsageError(f"bench {sub}: {', '.join(given)} {what} of a bench run; {sub}'s own go after `{sub}`"), False)


def run_plan(plan: BenchPlan, jobs: int, max_cost: float | None, err: Any) -> tuple[BenchResult, list[dict[str, Any]]]:
    """Every pair of the plan (or of its shard), with the progress on stderr; the result with its report, and
    the runs' records."""
    from ..flows.bench import BenchResult, build_report, run_bench
    from .bench_render import bench_progress

    task_ids, names = [t.id for t in plan.tasks], [p.name for p in plan.policies]
    shard = f" (shard {plan.shard}: {plan.pair_count()} pair(s))" if plan.shard else ""
    with bench_progress(err, enabled=True) as view:
        view.info(
            f"bench: {len(plan.tasks)} task(s) × {len(plan.policies)} "
            f"polic{'y' if len(plan.policies) == 1 else 'ies'}{shard}; work directory {plan.ctx.workdir}"
        )
        run = run_bench(
            plan.tasks,
            plan.policies,
            plan.ctx,
            plan.results,
            jobs=jobs,
            max_cost=max_cost,
            on_progress=view,
            only=plan.pairs,
        )
    report = build_report(task_ids, names, run.records, run.not_run, only=plan.pairs)
    result = BenchResult(
        run_id=plan.ctx.bench_id,
        redactor=plan.redactor,
        suite=plan.suite,
        workdir=plan.ctx.workdir,
        results_file=plan.results,
        report=report,
        spent_usd=run.spent_usd,
        cost_complete=all(r.get("cost_complete", True) for r in run.records),
        policy_definitions=[p.to_json() for p in plan.policies],
        history=plan.history,
        shard=str(plan.shard) if plan.shard else None,
    )
    result.notes = _run_notes(plan, run, report)
    return result.finish(interrupted=run.interrupted, left_out=bool(run.not_run)), run.records


def bench_merge(
    files: list[Path] = MERGE_FILES,
    as_json: bool = AS_JSON,
    ci: bool | None = options.CI,
    output: Path | None = options.OUTPUT,
    csv_out: Path | None = CSV_OUT,
    plot: Path | None = MERGE_PLOT,
) -> None:
    """Report the results files of every shard of one bench (--shard K/N) as one bench."""
    from ..flows.bench import merge_results
    from ..model.redact import Redactor

    mode = output_mode(ci, "json" if as_json else None)
    try:
        merged = merge_results(files)
    except TieragentError as e:
        fail(e, mode.machine)
    end_bench(merged.result(Redactor.from_environment()), mode, output, csv_out, plot)


def end_bench(
    result: BenchResult,
    mode: OutputMode,
    output: Path | None,
    csv_out: Path | None,
    plot: Path | None,
    after: Callable[[BenchResult], None] | None = None,
) -> NoReturn:
    """The plot, then `end_run`: the --csv and --output files, the report, the summary line, the exit code.
    `after` (bench --apply) runs once the report is on screen, or before the JSON document, which then
    holds its exit code."""
    from .bench_render import csv_text, print_report, write_plot
    from .ending import OutputFile, end_run, output_files

    report = result.report
    assert report is not None  # a result reaches its ending with its report
    if plot is not None:
        result.plot, note = write_plot(plot, report)
        result.notes.append(note)
    # the CSV first: a warning about it is then in the --output document too
    files = [OutputFile(csv_out, lambda: csv_text(report.csv_rows()), "--csv")] if csv_out is not None else []
    files += output_files(result, output)

    if after is not None and mode.machine:
        after(result)

    def show() -> None:
        if not mode.machine:
            print_report(report, result.to_json(), mode.console())
            if after is not None:
                after(result)

    end_run("bench", result, mode, show, files)


def _run_notes(plan: BenchPlan, run: BenchRun, report: Report) -> list[str]:
    """The plan's notes, then what the run left: lines kept from a resumed file, runs an interrupt left out."""
    notes = list(plan.notes)
    if run.resumed:
        notes.append(f"resumed: {run.resumed} line(s) from {plan.results} were kept as they were")
    if run.interrupted:
        pending = sum(cell == "not_run" for row in report.matrix.values() for cell in row.values())
        notes.append(f"interrupted: {pending} run(s) not made; continue with --resume {plan.results}")
    return notes


def register(app: typer.Typer) -> None:
    """Add `bench` (a group whose callback runs a bench) and `bench merge` to the CLI."""
    group = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    group.callback(invoke_without_command=True, subcommand_metavar=SUBCOMMANDS)(bench)
    group.command("merge")(bench_merge)
    app.add_typer(group, name="bench")
