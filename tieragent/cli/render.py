"""Rendering results for people (rich) and for programs (JSON). The pipeline itself prints nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..core.errors import ExitCode
from ..core.events import Event
from ..core.vocab import TIERS, Outcome
from ..flows.fix import FixResult
from ..flows.ledger_summary import HistorySummary
from ..model.ledger import Ledger
from ..repo.diffs import summarize
from .streams import OutputMode
from .yield_view import estimate_line


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
    """One row per model call; why a call failed is listed under the table by its number. The reasoning
    columns (the effort sent, the output tokens spent reasoning) appear when some call has them."""
    table = Table(title="Cost ledger", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    reasoning = any(r.effort or r.reasoning_tokens for r in ledger.rows)
    columns = [("#", "right"), ("step", "left"), ("tier", "left"), ("model", "left")]
    columns += [("effort", "left")] if reasoning else []
    columns += [("in", "right"), ("cached", "right"), ("out", "right")]
    columns += [("reasoning", "right")] if reasoning else []
    columns += [("cost", "right"), ("sec", "right"), ("outcome", "left")]
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name != "model")  # type: ignore[arg-type]
    for n, r in enumerate(ledger.rows, 1):
        est = "~" if r.usage_estimated else ""
        cells = [str(n), r.step, r.tier, _short_model(r.model)] + ([r.effort or "-"] if reasoning else [])
        cells += [f"{est}{r.input_tokens:,}", f"{r.cached_input_tokens:,}", f"{est}{r.output_tokens:,}"]
        cells += [f"{r.reasoning_tokens:,}"] if reasoning else []
        cells += [money(r.cost_usd), f"{r.seconds:.1f}"]
        table.add_row(*cells, Text(r.outcome, style="green" if r.outcome is Outcome.OK else "red"))
    return table


def tier_table(ledger: Ledger) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("tier", "calls", "in", "cached", "out", "cost"):
        table.add_column(name, justify="left" if name == "tier" else "right")
    for t, v in ledger.by_tier().items():
        if v.calls:
            cost = money(v.cost_usd) + (" + ?" if v.unpriced_calls else "")
            table.add_row(
                t, str(v.calls), f"{v.input_tokens:,}", f"{v.cached_input_tokens:,}", f"{v.output_tokens:,}", cost
            )
    total = money(ledger.spent_usd) + (" + ?" if ledger.unpriced_models() else "")
    table.add_row(
        Text("total", style="bold"), str(ledger.calls), "", "", "", Text(total, style="bold")
    )  # calls made, as totals.calls
    return table


def failure_notes(ledger: Ledger) -> list[str]:
    return [
        f"{n}. {r.outcome}: {r.note}" for n, r in enumerate(ledger.rows, 1) if r.outcome is not Outcome.OK and r.note
    ]


def frontier_line(ledger: Ledger) -> str:
    est = ledger.frontier_only_estimate()
    if est is None:
        return "Frontier-only estimate: ? (the frontier tier has no known price)"
    line = f"Frontier-only estimate: {money(est)} (the same tokens at frontier prices)"
    if not ledger.unpriced_models() and est > 0:
        saved = est - ledger.spent_usd
        line += (
            f"; this run cost {ledger.spent_usd / est:.0%} of that" if saved >= 0 else "; this run cost more than that"
        )
    return line


class MaskedConsole:
    """A console that masks every string it prints, as the result's JSON is masked: a model's text
    (a classification's reason, a finding) may echo a secret the run's redactor knows."""

    def __init__(self, console: Console, mask: Callable[[str], str] | None):
        self.console, self.mask = console, mask

    def print(self, *objects: Any, **kwargs: Any) -> None:
        mask = self.mask
        self.console.print(*(mask(o) if mask and isinstance(o, str) else o for o in objects), **kwargs)


def print_routing(routing: dict[str, Any], console: Console | MaskedConsole) -> None:
    """`--explain-routing`: the decision, the policy it came from, and the evidence."""
    if not routing:
        return
    console.print("[bold]Routing[/]")
    console.print(
        f"  task class {routing['task_class']}; the small model said {routing['model_risk']} risk", markup=False
    )
    for rule in routing.get("risk_rules", []):
        console.print(f"  risk rule: {rule} → high", markup=False)
    console.print(f"  starts at {routing['start']} ({routing['why']})", markup=False)
    for estimate in (routing.get("auto_start") or {}).get("estimates", []):
        console.print(f"  auto estimate at {estimate_line(estimate)}", markup=False)
    policy = routing["policy"]
    console.print(
        f"  policy: start {policy['start']}, high_risk → {policy['high_risk']}, attempts {policy['attempts']}, "
        f"review_high_risk {policy['review_high_risk']}",
        markup=False,
    )
    verify = policy.get("verify")
    if verify:
        effort = verify["effort"] or "its tier's"
        console.print(f"  verify: {verify['when']}, at {verify['tier']} (effort {effort})", markup=False)
    console.print(
        "  planned attempts: " + " → ".join(step.split(":")[0] for step in routing.get("ladder", [])), markup=False
    )
    for tier, choice in routing.get("edit_formats", {}).items():
        console.print(f"  edit format at {tier}: {choice['format']}: {choice['why']}", markup=False)
    for post in routing.get("risk_after_patch", []):
        console.print(f"  after the patch: {post}", markup=False)
    budget = routing.get("budget", {})
    console.print(f"  budget: max ${budget.get('max_cost_usd')} , max calls {budget.get('max_calls')}", markup=False)


def _validation_summary(result: FixResult) -> str | None:
    v = result.validation
    if v is None or not v.ok:
        return None
    t = v.checks.get("tests", {})
    parts = []
    if t.get("per_test"):
        parts.append("no test that passed before fails")
        if t.get("fixed"):
            parts.append(f"now passing: {', '.join(t['fixed'][:3])}")
    else:
        parts.append("the test command passes")
    if v.checks.get("lint_ok"):
        parts.append("no new lint problems")
    return "; ".join(parts)


def print_fix_result(result: FixResult, plain: Console, *, explain_routing: bool = False, ledger: bool = True) -> None:
    console = MaskedConsole(plain, result.redactor)
    c = result.classification
    if result.baseline:
        b = result.baseline["tests"]
        counted = (
            f"{b['tests']} tests, {len(b['failing'])} failing"
            if b["tests"] is not None
            else f"exit code {b['exit_code']}"
        )
        console.print(
            f"[bold]Baseline[/]: {counted}"
            + (" (reused: the tree is unchanged)" if result.baseline.get("reused") else "")
        )
    if c is not None:
        src = " (heuristic)" if c.source == "heuristic" else ""
        console.print(f"[bold]Classified[/]{src}: {c.task_class}, {c.risk} risk — {c.reason}")
        if c.files:
            console.print(f"  files: {', '.join(c.files)}")
    if explain_routing:
        print_routing(result.routing, console)
    elif result.routing.get("risk_rules"):
        console.print(f"  high risk: {'; '.join(result.routing['risk_rules'])}", markup=False)
    if result.repro:
        console.print(f"[bold]Repro[/]: {result.repro['path']} {result.repro['status']}", markup=False)
    if result.route:
        console.print("[bold]Route[/]: " + " → ".join(step.split(":")[0] for step in result.route))
    for edit in result.test_edits:
        verdict = "allowed" if edit["allowed"] else "refused"
        console.print(f"[yellow]Test edit {verdict}[/] ({edit['decided_by']}): {edit['path']} — {edit['reason']}")
    if result.status == "fixed":
        console.print("[bold green]Fixed[/]: the patch passed validation and is applied in your working tree.")
        summary = _validation_summary(result)
        if summary:
            console.print(f"  {summary}", markup=False)
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
        console.print(f"[bold yellow]Stopped[/]: {result.error}", highlight=False)
        console.print("Your files are exactly as they were.")
    else:
        console.print(f"[bold red]Error[/]: {result.error}", highlight=False)
        console.print("Your files are exactly as they were.")
    if ledger and result.ledger and result.ledger.rows:
        ledger_summary(result.ledger, console)
    # warnings were shown on stderr as they happened; they are in --json's "warnings" too


def ledger_summary(ledger: Ledger, console: Console | MaskedConsole) -> None:
    """The cost ledger with its notes, the per-tier totals and the frontier-only comparison."""
    console.print(ledger_table(ledger))
    for note in failure_notes(ledger):
        console.print(note, markup=False)
    console.print(tier_table(ledger))
    console.print(frontier_line(ledger))
    if any(r.usage_estimated for r in ledger.rows):
        console.print("~ token counts estimated from text length (the provider reported no usage).")


class Progress:
    """Renders pipeline events on stderr: a spinner on a terminal, plain lines otherwise.

    `confirm` asks a yes/no question on the terminal (the spinner paused while it waits).
    """

    def __init__(self, console: Console, status: Any | None, quiet: bool = False):
        self.err, self.status, self.quiet = console, status, quiet
        self.shown_warnings: set[str] = set()

    def on_event(self, e: Event) -> None:
        if e.kind == "warning":
            if e.message not in self.shown_warnings:  # each warning once, however often it is raised
                self.shown_warnings.add(e.message)
                self.err.print("[yellow]warning[/]: ", end="")
                self.err.print(e.message, markup=False)
        elif self.quiet:
            return
        elif self.status is not None and e.kind in ("step", "validate"):
            self.status.update(e.message)
        else:
            self.err.print("· " + e.message, markup=False)

    def confirm(self, question: str, diff: str) -> bool:
        from rich.prompt import Confirm
        from rich.syntax import Syntax

        if self.status is not None:
            self.status.stop()
        try:
            self.err.print(Syntax(diff, "diff", theme="ansi_dark"))
            return Confirm.ask(question, default=False, console=self.err)
        finally:
            if self.status is not None:
                self.status.start()


@contextmanager
def progress(mode: OutputMode, quiet: bool = False) -> Iterator[Progress]:
    """Events on stderr: a spinner on a terminal (never in CI mode), else plain lines."""
    err = mode.console(stderr=True)
    if not mode.ci and err.is_terminal and not quiet:
        with err.status("starting…") as status:
            yield Progress(err, status)
    else:
        yield Progress(err, None, quiet)


def print_history(summary: HistorySummary, console: Console) -> None:
    if not summary.runs:
        console.print("No recorded runs (tieragent fix records each run under .git/tieragent/ledger.jsonl).")
        return
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary.by_status.items()))
    console.print(f"[bold]{summary.runs} run(s)[/]: {statuses}")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("task class", "tier", "calls", "patch attempts", "validated", "cost"):
        table.add_column(name, justify="left" if name in ("task class", "tier") else "right")
    for task_class, cells in sorted(summary.by_class.items()):
        for tier in TIERS:
            cell = cells.get(tier)
            if cell:
                cost = money(cell.cost_usd) + (" + ?" if cell.unpriced_calls else "")
                table.add_row(task_class, tier, str(cell.calls), str(cell.attempts), str(cell.validated), cost)
    console.print(table)
    console.print(f"Total cost: {money(summary.cost_usd)}")
    if summary.frontier_only_estimate_usd:
        console.print(
            f"Frontier-only estimate: {money(summary.frontier_only_estimate_usd)}; saved {money(summary.saved_usd)}"
            + (
                f" (over {summary.runs - summary.runs_without_estimate} runs with a frontier price)"
                if summary.runs_without_estimate
                else ""
            )
        )
    if summary.formats:
        table = Table(title="Patch formats", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("tier", "format", "attempts", "applied", "apply rate"):
            table.add_column(name, justify="left" if name in ("tier", "format") else "right")
        for tier in TIERS:
            for fmt, tally in sorted(summary.formats.get(tier, {}).items()):
                rate = f"{tally['applied'] / tally['attempts']:.0%}" if tally["attempts"] else "-"
                table.add_row(tier, fmt, str(tally["attempts"]), str(tally["applied"]), rate)
        console.print(table)
