"""One line of `tieragent doctor`: a check's result, and how the lines are printed and summed up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "hint": self.hint}


Emit = Callable[[Check], None]


SYMBOL = {OK: "[green]✓[/]", WARN: "[yellow]![/]", FAIL: "[red]✗[/]"}


def printer(console: Any) -> Emit:
    """One line per check (and its hint, indented, when it did not pass)."""
    from rich.markup import escape

    def emit(c: Check) -> None:
        console.print(f"{SYMBOL[c.status]} [bold]{escape(c.name)}[/]: {escape(c.detail)}", soft_wrap=True)
        if c.hint:
            console.print(f"    {escape(c.hint)}", soft_wrap=True, style="dim")

    return emit


def summary(checks: list[Check]) -> tuple[bool, str]:
    failed = [c for c in checks if c.status == FAIL]
    warned = [c for c in checks if c.status == WARN]
    if failed:
        return False, f"{len(failed)} check(s) failed" + (f", {len(warned)} warning(s)" if warned else "") + "."
    return True, "Everything needed is in place" + (f" ({len(warned)} warning(s))." if warned else ".")
