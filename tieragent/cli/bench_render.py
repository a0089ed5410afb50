"""Rendering `tieragent bench`: its progress, the report's tables, the CSV and the cost-versus-success plot.

The progress is a rich bar on a terminal (runs done, spend, ETA) and one plain line per finished
run otherwise. The plot needs matplotlib (`pip install 'tieragent[plot]'`); without it the report
says so and goes on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..flows.bench import OTHER_SHARD, BenchProgress, Report
from .render import money

CELL_STYLE = {
    "solved": ("✓", "green"),
    "failed": ("✗", "red"),
    "error": ("✗", "red"),
    "false_accept": ("!", "bold yellow"),
    "not_run": ("–", "dim"),
    "broken": ("broken", "dim"),
    "other_shard": ("·", "dim"),
}
PLOT_EXTRA_NOTE = "no plot: matplotlib is not installed (pip install 'tieragent[plot]')"


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
    )


class BenchProgressView:
    """`on_progress` for the bench: a bar on a terminal, plain lines otherwise (a CI log keeps each)."""

    def __init__(self, err: Console, bar: Any | None) -> None:
        self.err, self.bar = err, bar
        self.task_id: Any = None

    def __call__(self, p: BenchProgress) -> None:
        if self.bar is None:
            if p.phase == "run":
                self.err.print(
                    f"bench [{p.done}/{p.total}] {p.message}; spent {money(p.spent_usd)}; ETA {_eta(p.eta_s)}",
                    markup=False,
                    highlight=False,
                )
            elif "broken" in p.message:
                self.err.print(f"bench {p.message}", markup=False, highlight=False)
            return
        if p.phase == "preflight":
            if "broken" in p.message:
                self.bar.console.print(f"[yellow]{p.message}[/]")
            return
        if self.task_id is None:
            self.task_id = self.bar.add_task("runs", total=p.total, spent="$0", eta="?")
        self.bar.update(self.task_id, completed=p.done, spent=money(p.spent_usd), eta=_eta(p.eta_s))
        self.bar.console.print(f"· {p.message}", markup=False, highlight=False)

    def info(self, message: str) -> None:
        (self.bar.console if self.bar is not None else self.err).print(message, markup=False, highlight=False)


@contextmanager
def bench_progress(err: Console, enabled: bool) -> Iterator[BenchProgressView]:
    if not (enabled and err.is_terminal):
        yield BenchProgressView(err, None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = [
        TextColumn("bench"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("spent {task.fields[spent]}"),
        TextColumn("ETA {task.fields[eta]}"),
    ]
    with Progress(*columns, console=err, transient=False) as bar:
        yield BenchProgressView(err, bar)


def policy_table(report: Report) -> Table:
    table = Table(title="Policies", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("policy", "solved", "95% CI", "cost", "$/solved", "escalated", "false accepts", "mean time"):
        table.add_column(name, justify="left" if name == "policy" else "right", no_wrap=name == "policy")
    for s in report.policies:
        low, high = s.solved_ci95
        solved = f"{s.solved}/{s.runs}" + (f" ({s.solved_rate:.0%})" if s.solved_rate is not None else "")
        fa = f"{s.false_accepts}/{s.validated}" + (
            f" ({s.false_accept_rate:.0%})" if s.false_accept_rate is not None else ""
        )
        esc = f"{s.escalated}/{s.runs}" if s.runs else "-"
        cost = money(s.cost_usd) + ("" if s.cost_complete else " + ?")
        table.add_row(
            s.policy,
            solved,
            f"{low:.0%}–{high:.0%}" if s.runs else "-",
            cost,
            money(s.cost_per_solved_usd) if s.cost_per_solved_usd is not None else "-",
            esc,
            fa,
            f"{s.mean_wall_s:.1f}s" if s.mean_wall_s is not None else "-",
        )
    return table


def matrix_table(report: Report) -> Table:
    names = [s.policy for s in report.policies]
    table = Table(
        title="Tasks (✓ solved, ✗ failed, ! false accept, – not run"
        + (", · another shard's)" if any(OTHER_SHARD in row.values() for row in report.matrix.values()) else ")"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("task", no_wrap=True)
    for n in names:
        table.add_column(n, justify="center", no_wrap=True)
    for task in report.tasks:
        cells = []
        for n in names:
            mark, style = CELL_STYLE.get(report.matrix[task][n], ("?", ""))
            cells.append(Text(mark, style=style))
        table.add_row(task, *cells)
    return table


def print_report(report: Report, doc: dict[str, Any], out: Console) -> None:
    out.print(policy_table(report))
    out.print(matrix_table(report))
    for task, why in report.broken.items():
        out.print(f"broken (not scored): {task}: {why}", markup=False)
    for e in report.errors:
        out.print(f"error: {e['task']} × {e['policy']}: {e['error']}", markup=False)
    if report.not_run:
        pairs = ", ".join(f"{t} × {p}" for t, p in report.not_run[:12]) + (" ..." if len(report.not_run) > 12 else "")
        why = "no shard has their result" if doc.get("merged") else "the bench's --max-cost"
        out.print(f"not run ({why}): {len(report.not_run)}: {pairs}", markup=False)
    history = doc.get("history")
    if history:
        out.print(
            f"from history: {len(history['qualified'])} task(s) from {history['examined']} commit(s) examined",
            markup=False,
        )
        for s in history["skipped"]:
            out.print(f"  skipped {s['commit'][:10]} {s['subject']}: {s['reason']}", markup=False)
    for note in doc.get("notes", []):
        out.print(note, markup=False)
    out.print(f"spent: ${doc['spent_usd']:.4f}", markup=False)
    if doc.get("merged"):
        out.print(f"merged: {', '.join(doc['merged'])}", markup=False)
    else:
        shard = f"shard {doc['shard']} " if doc.get("shard") else ""
        out.print(
            f"results: {shard}{doc['results_file']} (continue an interrupted bench with --resume FILE)", markup=False
        )


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The per-policy report as CSV (`--csv FILE`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["policy"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_plot(path: Path, report: Report) -> tuple[Path | None, str]:
    """Cost per task (x) against the solved rate with its 95% interval (y), one point per policy.
    Returns the file written (or None) and a note for the report."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None, PLOT_EXTRA_NOTE
    points = [s for s in report.policies if s.runs and s.mean_cost_usd is not None]
    if not points:
        return None, "no plot: no policy has runs"
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for n, s in enumerate(sorted(points, key=lambda s: s.mean_cost_usd or 0.0)):
        rate = s.solved_rate or 0.0
        low, high = s.solved_ci95
        ax.errorbar([s.mean_cost_usd], [rate], yerr=[[rate - low], [high - rate]], fmt="o", capsize=4)
        # neighbours in cost get their labels above and below the point, so close policies stay legible
        ax.annotate(s.policy, (s.mean_cost_usd, rate), textcoords="offset points", xytext=(6, 6 if n % 2 == 0 else -14))
    ax.set_xlabel("mean cost per task (USD)")
    ax.set_ylabel("solved (95% Wilson interval)")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(left=0)
    ax.grid(True, alpha=0.3)
    ax.set_title("tieragent bench: cost versus success")
    fig.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=120)
    except OSError as err:  # the report stands without its picture
        return None, f"no plot: cannot write {path} ({err.strerror})"
    finally:
        plt.close(fig)
    return path, f"plot: {path}"
