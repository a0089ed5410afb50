"""What the model-calling commands share: config overrides from flags, and failing with a message."""

from __future__ import annotations

from typing import Any, NoReturn

import typer

from ..core.errors import TieragentError
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


def fail(err: TieragentError, as_json: bool, request: str | None = None) -> NoReturn:
    raise typer.Exit(report_error(err, as_json, request))
