"""What every flow shares: run ids, the warnings a run keeps, signals held while restoring, history."""

from __future__ import annotations

import signal
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..core.events import Event, OnEvent
from ..model.ledger import append_history


class Timings:
    """Seconds per phase of a run (for `--json`'s `timings` and TIERAGENT_PROFILE=1), and the total."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.monotonic() - started, 3)

    def stop(self) -> None:
        self.phases["total"] = round(time.monotonic() - self.started, 3)


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class Reporter:
    """Forwards a flow's events to the listener, and keeps its warnings for the result."""

    def __init__(self, listener: OnEvent):
        self.listener = listener
        self.warnings: list[str] = []

    def __call__(self, event: Event) -> None:
        if event.kind == "warning":
            self.warnings.append(event.message)
        self.listener(event)

    def warn(self, message: str) -> None:
        self(Event("warning", message))

    def info(self, message: str) -> None:
        self(Event("info", message))

    def validating(self, message: str) -> None:
        self(Event("validate", message))

    def routing(self, message: str) -> None:
        self(Event("routing", message))


@contextmanager
def signals_held() -> Iterator[None]:
    """Defer Ctrl-C, SIGTERM and --timeout's alarm while the tree is being restored, so nothing cuts it short."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def record_history(state_dir: Path, flow: str, record: dict[str, Any]) -> str | None:
    """Append the run's line to `.git/tieragent/ledger.jsonl`; a warning when it cannot be written."""
    line = {**record, "flow": flow, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        append_history(state_dir, line)
    except OSError as err:
        return f"could not write the ledger history: {err}"
    return None
