"""Rendering results for people (rich) and for programs (JSON). The pipeline itself prints nothing."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any, Iterator

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .diffs import summarize
from .errors import ExitCode
from .ledger import Ledger
from .pipeline import Event, FixResult


def money(x: float | None) -> str:
    """Small amounts keep their significant digits: $0.000015, not a misleading $0.0000."""
    if x is None:
        return "?"
    if x == 0:
        return "$0"
    return f"${x:.4f}" if x >= 0.001 else f"${x:.6f}"


def _short_model(model: str) -> str:
    return model.split("/", 1)[1] if "/" in model else model


def ledger_table(ledger: Ledger) -> Table:
    """One row per model call; why a call failed is listed under the table by its number."""
    table = Table(title="Cost ledger", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in [("#", "right"), ("step", "left"), ("tier", "left"), ("model", "left"), ("in", "right"),
                          ("cached", "right"), ("out", "right"), ("cost", "right"), ("sec", "right"), ("outcome", "left")]:
        table.add_column(name, justify=justify, no_wrap=name != "model")  # type: ignore[arg-type]
    for n, r in enumerate(ledger.rows, 1):
        est = "~" if r.usage_estimated else ""
        table.add_row(
            str(n), r.step, r.tier, _short_model(r.model), f"{est}{r.input_tokens:,}", f"{r.cached_input_tokens:,}",
            f"{est}{r.output_tokens:,}", money(r.cost_usd), f"{r.seconds:.1f}",
            Text(r.outcome, style="green" if r.outcome == "ok" else "red"),
        )
    return table


def tier_table(ledger: Ledger) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("tier", "calls", "in", "cached", "out", "cost"):
        table.add_column(name, justify="left" if name == "tier" else "right")
    for t, v in ledger.by_tier().items():
        if v.calls:
            cost = money(v.cost_usd) + (" + ?" if v.unpriced_calls else "")
            table.add_row(t, str(v.calls), f"{v.input_tokens:,}", f"{v.cached_input_tokens:,}", f"{v.output_tokens:,}", cost)
    total = money(ledger.spent_usd) + (" + ?" if ledger.unpriced_models() else "")
    table.add_row(Text("total", style="bold"), str(len(ledger.rows)), "", "", "", Text(total, style="bold"))
    return table


def failure_notes(ledger: Ledger) -> list[str]:
    return [f"{n}. {r.outcome}: {r.note}" for n, r in enumerate(ledger.rows, 1) if r.outcome != "ok" and r.note]


def frontier_line(ledger: Ledger) -> str:
    est = ledger.frontier_only_estimate()
    if est is None:
        return "Frontier-only estimate: ? (the frontier tier has no known price)"
    line = f"Frontier-only estimate: {money(est)} (the same tokens at frontier prices)"
    if not ledger.unpriced_models() and est > 0:
        saved = est - ledger.spent_usd
        line += f"; this run cost {ledger.spent_usd / est:.0%} of that" if saved >= 0 else "; this run cost more than that"
    return line


def print_fix_result(result: FixResult, console: Console) -> None:
    c = result.classification
    if c is not None:
        src = " (heuristic)" if c.source == "heuristic" else ""
        console.print(f"[bold]Classified[/]{src}: {c.task_class}, {c.risk} risk — {c.reason}")
        if c.files:
            console.print(f"  files: {', '.join(c.files)}")
    if result.route:
        console.print("[bold]Route[/]: " + " → ".join(step.split(":")[0] for step in result.route))
    if result.status == "fixed":
        console.print("[bold green]Fixed[/]: the patch passed validation and is applied in your working tree.")
        for s in summarize(result.patch):
            console.print(f"  {s.status:<8} {s.path}  [green]+{s.added}[/] [red]-{s.removed}[/]")
        if result.commit_sha:
            console.print(f"  committed as {result.commit_sha[:12]}")
        else:
            console.print("  not committed (review with `git diff`; pass --commit to commit).")
    elif result.status == "failed":
        console.print("[bold red]Not fixed[/]: no attempt passed validation. Your files are exactly as they were.")
        if result.saved_diff:
            console.print(f"  best attempt saved to {result.saved_diff}")
    elif result.exit_code == ExitCode.INTERRUPTED:
        console.print("[bold yellow]Interrupted[/]: your files are exactly as they were before the run.")
    elif result.status == "budget_exceeded":
        console.print(f"[bold yellow]Stopped[/]: {result.error}. Your files are exactly as they were.")
    else:
        console.print(f"[bold red]Error[/]: {result.error}. Your files are exactly as they were.")
    if result.ledger and result.ledger.rows:
        console.print(ledger_table(result.ledger))
        for note in failure_notes(result.ledger):
            console.print(note, markup=False)
        console.print(tier_table(result.ledger))
        console.print(frontier_line(result.ledger))
        if any(r.usage_estimated for r in result.ledger.rows):
            console.print("~ token counts estimated from text length (the provider reported no usage).")
    for w in dict.fromkeys(result.warnings):
        console.print(f"[yellow]warning[/]: {w}", highlight=False)


def print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")
    sys.stdout.flush()


@contextmanager
def progress(enabled_spinner: bool) -> Iterator[Any]:
    """An on_event callback: a spinner on a terminal, plain lines otherwise; always on stderr."""
    err = Console(stderr=True, highlight=False)
    if enabled_spinner and err.is_terminal:
        with err.status("starting…") as status:

            def on_event(e: Event) -> None:
                if e.kind == "warning":
                    err.print(f"[yellow]warning[/]: {e.message}")
                else:
                    status.update(e.message)

            yield on_event
    else:

        def on_event(e: Event) -> None:
            err.print(("warning: " if e.kind == "warning" else "· ") + e.message, markup=False)

        yield on_event
