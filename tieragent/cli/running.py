"""How fix and review run their flow: progress on stderr, the warnings found while preparing the run shown
first (and kept first in the result), the whole run under `--timeout`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..core.events import Event
from ..flows.skeleton import RunResult
from .common import RunFlags, time_limit
from .render import Progress, progress
from .streams import OutputMode

R = TypeVar("R", bound=RunResult)


def run_shown(mode: OutputMode, flags: RunFlags, warnings: list[str], flow: Callable[[Progress], R]) -> R:
    """`flow(shown)` runs the flow, its events going to `shown`; the preparation's warnings lead the result's."""
    with progress(mode, quiet=flags.quiet) as shown:
        for w in warnings:
            shown.on_event(Event("warning", w))
        with time_limit(flags.timeout):
            result = flow(shown)
    result.warnings[:0] = warnings
    return result
