"""How a chat session's views look on the terminal (rich; plain under NO_COLOR, which rich honours)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from ..core.errors import ExitCode
from ..core.vocab import TIERS
from ..flows.chat.views import (
    AnswerView,
    CostView,
    DiffView,
    FixView,
    HelpView,
    Level,
    Notice,
    SuiteRunView,
    View,
)
from ..flows.skeleton import Status
from ..repo.diffs import summarize
from .render import frontier_line, money, tier_table

KEYS = [
    ("Enter", "send the line: a request, or a /command"),
    ("Tab", "complete a /command or a file path"),
    ("Up / Down", "earlier lines (kept across sessions, in .git/tieragent/)"),
    ("Ctrl-C", "cancel the message under way (the tree is restored); twice at the prompt: leave"),
    ("Ctrl-D", "leave (the session is saved: tieragent chat --resume)"),
]
NOTICE_STYLE = {Level.INFO: "dim", Level.WARNING: "yellow", Level.ERROR: "bold red"}


def diff_syntax(diff: str) -> Syntax:
    return Syntax(diff, "diff", theme="ansi_dark", word_wrap=False)


def render(view: View, out: Console) -> None:
    if isinstance(view, Notice):
        prefix = {Level.WARNING: "warning: ", Level.ERROR: "error: "}.get(view.level, "")
        out.print(prefix + view.text, style=NOTICE_STYLE[view.level], markup=False, highlight=False)
    elif isinstance(view, FixView):
        render_fix(view, out)
    elif isinstance(view, AnswerView):
        out.print(view.message.answer or "(no answer)", markup=False, highlight=False)
        out.print(f"({view.tier} tier: {view.why}; {money(view.message.cost_usd)})", style="dim", markup=False)
    elif isinstance(view, DiffView):
        out.print(diff_syntax(view.diff))
    elif isinstance(view, SuiteRunView):
        code = "timed out" if view.exit_code is None else f"exit {view.exit_code}"
        style = "green" if view.exit_code == 0 else "red"
        out.print(f"{view.command}: {code} in {view.seconds:.1f}s", style=style, markup=False, highlight=False)
        if view.tail:
            out.print(view.tail, markup=False, highlight=False)
    elif isinstance(view, CostView):
        render_cost(view, out)
    elif isinstance(view, HelpView):
        render_help(view, out)


def render_fix(view: FixView, out: Console) -> None:
    m, outcome = view.message, view.outcome
    route = " → ".join(step.split(":")[0] for step in outcome.route)
    cost = money(m.cost_usd)
    if m.status == Status.FIXED:
        if not view.diff_shown and m.diff:
            out.print(diff_syntax(m.diff))
        stats = ", ".join(f"{s.path} +{s.added} -{s.removed}" for s in summarize(m.diff))
        out.print(f"kept #{m.n}: {stats} ({route}; {cost})", style="green", markup=False, highlight=False)
        out.print("/undo reverts it; /commit commits the kept patches", style="dim", markup=False)
    elif m.status == Status.DISCARDED:
        out.print(f"discarded #{m.n}: your files are as they were ({route}; {cost})", markup=False)
    elif m.status == Status.FAILED:
        out.print(f"not fixed #{m.n}: no attempt passed your tests ({route}; {cost})", style="red", markup=False)
        out.print("your files are as they were", style="dim", markup=False)
        if outcome.saved_diff:
            out.print(f"best attempt saved to {outcome.saved_diff}", style="dim", markup=False)
    elif outcome.exit_code == ExitCode.INTERRUPTED:
        out.print(f"cancelled #{m.n}: your files are as they were ({cost})", style="yellow", markup=False)
    else:
        out.print(f"stopped #{m.n}: {outcome.error} ({cost})", style="yellow", markup=False, highlight=False)
        out.print("your files are as they were", style="dim", markup=False)


def render_cost(view: CostView, out: Console) -> None:
    table = Table(title="Session ledger", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("#", "message", *TIERS, "cost", "frontier-only"):
        table.add_column(name, justify="left" if name == "message" else "right", no_wrap=name != "message")
    for line in view.lines:
        text = line.text if len(line.text) <= 50 else line.text[:49] + "…"
        table.add_row(
            str(line.n),
            f"{line.kind}: {text}",
            *(str(line.calls[t] or "") for t in TIERS),
            money(line.cost_usd) + (" + ?" if line.unpriced else ""),
            money(line.frontier_usd),
        )
    out.print(table)
    out.print(tier_table(view.ledger))
    out.print(frontier_line(view.ledger).replace("this run", "this session"), markup=False)
    if view.budget_usd is not None:
        left = max(view.budget_usd - view.total_usd, 0.0)
        out.print(f"Budget: {money(view.budget_usd)} for the session; {money(left)} left", markup=False)


def render_help(view: HelpView, out: Console) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column()
    table.add_row("any other line", "a request: patched, tested, and shown for y (keep) / n (discard) / e (amend)")
    for usage, what in view.commands:
        table.add_row(usage, what)
    for key, what in KEYS:
        table.add_row(key, what)
    out.print(table)
