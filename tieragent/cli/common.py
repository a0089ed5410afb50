"""What the model-calling commands share: the flags they take as one value, config overrides from flags,
and failing with a message."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer

from ..core.errors import RunTimeout, TieragentError
from ..core.vocab import TIERS
from .errors import report_error


def overrides(
    max_cost: float | None, max_calls: int | None, test: str | None, lint: str | None, models: dict[str, str | None]
) -> dict[str, Any]:
    """Command-line flags as the top config layer."""
    out: dict[str, Any] = {}
    if max_cost is not None:
        out.setdefault("budget", {})["max_cost_usd"] = max_cost
    if max_calls is not None:
        out.setdefault("budget", {})["max_calls"] = max_calls
    if test:
        out.setdefault("validate", {})["test"] = test
    if lint:
        out.setdefault("validate", {})["lint"] = lint
    for tier, model in models.items():
        if model:
            out.setdefault("tiers", {}).setdefault(tier, {})["model"] = model
    return out


def tier_models(small: str | None, mid: str | None, frontier: str | None) -> dict[str, str | None]:
    """`--small`, `--mid` and `--frontier` by tier, for `overrides`."""
    return dict(zip(TIERS, (small, mid, frontier), strict=True))


@dataclass(frozen=True)
class RunFlags:
    """The flags fix and review share (defined in cli/options.py), as one value once the command line is read."""

    directory: Path
    config: dict[str, Any]  # the flags that set config (budget, commands, models): the top layer
    trust_config: bool
    timeout: float | None
    quiet: bool
    verbose: bool


def ask_on_terminal(question: str) -> bool:
    """A yes/no question on the terminal (stderr), no by default; Ctrl-C is a no."""
    try:
        return typer.confirm(question, default=False, err=True)
    except (typer.Abort, EOFError, KeyboardInterrupt):
        return False


def fail(err: TieragentError, as_json: bool, fields: dict[str, Any] | None = None) -> NoReturn:
    raise typer.Exit(report_error(err, as_json, fields))


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """`--timeout`: after `seconds`, the run stops where it is (the tree restored, exit 3)."""
    if not seconds:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise RunTimeout(f"the run's time limit (--timeout {seconds:g}s) passed")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
