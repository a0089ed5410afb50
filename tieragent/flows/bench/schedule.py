"""Running the bench: preflights, then every (task, policy) pair, in parallel, within a total budget.

Results are appended to a JSON-lines file as each run ends (one line per pair, one per broken
task), so an interrupted bench loses only the runs under way; `--resume FILE` skips the pairs (and
broken tasks) the file already holds and counts their cost against the budget.

The budget: a run may spend up to its own `--max-cost`, so a run starts only when what was spent,
plus what the runs under way may still spend, plus its own cap stay within the bench's
`--max-cost`. When it does not fit, the bench waits for the runs under way; when nothing is under
way and it still does not fit, no further run starts and the rest are reported as not run.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import UsageError
from ...core.private_files import append_private
from .policies import Policy
from .runs import RunContext, broken_record, preflight, run_pair
from .tasks import Task


@dataclass(frozen=True)
class BenchProgress:
    """One update for the progress display: the runs done (this session), the spend, the ETA."""

    done: int
    total: int
    spent_usd: float  # resumed runs included
    eta_s: float | None
    message: str
    phase: str = "run"  # "preflight" | "run"


OnProgress = Callable[[BenchProgress], None]


@dataclass
class BenchRun:
    records: list[dict[str, Any]]  # every line for these tasks and policies, resumed ones included
    not_run: list[tuple[str, str]] = field(default_factory=list)  # (task, policy) the budget left out
    interrupted: bool = False
    resumed: int = 0  # lines taken from the results file as they were
    spent_usd: float = 0.0


def read_results(path: Path) -> list[dict[str, Any]]:
    """The records of a results file; a line cut short by a kill is skipped, anything else unreadable is an error."""
    if not path.exists():
        return []
    out = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if n == len(lines):  # the last line, cut short by a kill
                continue
            raise UsageError(f"{path}: line {n} is not JSON; is this a bench results file?") from None
        if isinstance(record, dict) and record.get("kind") in ("run", "broken"):
            out.append(record)
    return out


class _Results:
    """Appends records, one write per line (O_APPEND), from the scheduling thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            append_private(self.path, json.dumps(record, sort_keys=True) + "\n")


def run_bench(
    tasks: list[Task],
    policies: list[Policy],
    ctx: RunContext,
    results_path: Path,
    *,
    jobs: int = 1,
    max_cost: float | None = None,
    on_progress: OnProgress | None = None,
    only: Collection[tuple[str, str]] | None = None,
) -> BenchRun:
    """Every pair not already in `results_path` (and in `only`, a shard's pairs, when given), `jobs` at a
    time, within `max_cost`. Returns every record for these tasks and policies; an interrupt (Ctrl-C)
    stops the runs under way and returns."""
    emit = on_progress or (lambda p: None)
    names = {p.name for p in policies}
    ids = {t.id for t in tasks}
    previous = [
        r
        for r in read_results(results_path)
        if r.get("task") in ids and (r["kind"] == "broken" or r.get("policy") in names)
    ]
    results = _Results(results_path)
    broken = {r["task"] for r in previous if r["kind"] == "broken"}
    done_pairs = {(r["task"], r["policy"]) for r in previous if r["kind"] == "run"}
    if only is not None:  # another shard's pairs count as done here
        done_pairs |= {(t.id, p.name) for t in tasks for p in policies} - set(only)
    run = BenchRun(
        list(previous), resumed=len(previous), spent_usd=sum(float(r.get("cost_usd") or 0.0) for r in previous)
    )
    todo = [t for t in tasks if t.id not in broken and any((t.id, p.name) not in done_pairs for p in policies)]
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="tieragent-bench")
    try:
        checked = _preflights(pool, todo, ctx, emit)
        for task in todo:
            if checked.get(task.id):
                record = broken_record(task, checked[task.id] or "", ctx)
                results.append(record)
                run.records.append(record)
        pairs = [(t, p) for t in todo if not checked.get(t.id) for p in policies if (t.id, p.name) not in done_pairs]
        _pairs(pool, pairs, ctx, run, results, max(1, jobs), max_cost, emit)
    except KeyboardInterrupt:
        ctx.procs.cancel()
        run.interrupted = True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _remove_empty(ctx.workdir / "preflight")
    return run


def _remove_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()  # each preflight removes its own checkout; the folder goes when nothing was left in it


def _preflights(
    pool: ThreadPoolExecutor, tasks: list[Task], ctx: RunContext, emit: OnProgress
) -> dict[str, str | None]:
    futures = {pool.submit(preflight, t, ctx): t for t in tasks}
    out: dict[str, str | None] = {}
    for n, future in enumerate(_as_done(futures), 1):
        task = futures[future]
        out[task.id] = future.result()
        note = f"broken: {out[task.id]}" if out[task.id] else "ok"
        emit(BenchProgress(n, len(tasks), 0.0, None, f"preflight {task.id}: {note}", phase="preflight"))
    return out


def _as_done(futures: dict[Future, Any]):
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from finished


def _pairs(
    pool: ThreadPoolExecutor,
    pairs: list[tuple[Task, Policy]],
    ctx: RunContext,
    run: BenchRun,
    results: _Results,
    jobs: int,
    max_cost: float | None,
    emit: OnProgress,
) -> None:
    queue = list(pairs)
    under_way: dict[Future, tuple[Task, Policy]] = {}
    cap = ctx.run_max_cost or 0.0  # what one run may spend at most (its --max-cost)
    started_at, finished = time.monotonic(), 0
    while queue or under_way:
        while queue and len(under_way) < jobs:
            if max_cost is not None and run.spent_usd + cap * (len(under_way) + 1) > max_cost + 1e-12:
                break  # does not fit now; wait for the runs under way, or stop
            task, policy = queue.pop(0)
            under_way[pool.submit(run_pair, task, policy, ctx)] = (task, policy)
        if not under_way:
            break  # the budget leaves no room for another run
        finished_now, _ = wait(set(under_way), return_when=FIRST_COMPLETED)
        for future in finished_now:
            task, policy = under_way.pop(future)
            record = future.result()
            if record is None:  # interrupted under way: not recorded, so --resume runs it again
                continue
            results.append(record)
            run.records.append(record)
            run.spent_usd += float(record.get("cost_usd") or 0.0)
            finished += 1
            left = len(queue) + len(under_way)
            elapsed = time.monotonic() - started_at
            eta = elapsed / finished * left if finished else None
            emit(
                BenchProgress(
                    finished,
                    len(pairs),
                    run.spent_usd,
                    eta,
                    f"{task.id} × {policy.name}: {record.get('outcome')} (${float(record.get('cost_usd') or 0):.4f})",
                )
            )
    run.not_run = [(t.id, p.name) for t, p in queue]
