"""The run skeleton every flow shares: what a run returns in common, how it ends, and its services.

- `RunResult`: the fields every flow's result has (status, exit code, run id, the ledger, warnings,
  the error, timings, the redactor that masks them) and one `end()`; `_document()` is the flow's own
  JSON, built on `common_document()`.
- `Stop`: why a run stopped early, from the exception that stopped it (`Stop.of`); it decides the
  status and the exit code, never a matched message.
- `Run`: the services a flow starts with: the event reporter, the one redactor (prompts and output
  mask the same secrets), the ledger and gateway (`open_gateway`), and the history line (`record`).

Flows import this module, never each other.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..core.config import Config
from ..core.errors import BudgetExceeded, ExitCode, RunTimeout, TieragentError
from ..core.events import Event, OnEvent
from ..core.vocab import TIERS, Step, StrEnum
from ..model.gateway import CallPolicy, Gateway
from ..model.ledger import Ledger, append_history
from ..model.protocol import Models
from ..model.redact import MaskedDocument, Redactor


class Status(StrEnum):
    """How a run ended, as `--json` says it."""

    FIXED = "fixed"  # fix: a validated patch is applied
    PASSED = "passed"  # review: complete, no blocking finding
    FAILED = "failed"  # fix: nothing validated; review: a blocking finding
    INCOMPLETE = "incomplete"  # review: hunks left unreviewed
    BUDGET_EXCEEDED = "budget_exceeded"
    ERROR = "error"  # exit 2, 4 or 70; 130 when interrupted
    DISCARDED = "discarded"  # fix in a chat session: a patch validated, and the user chose not to keep it
    ENDED = "ended"  # chat: the session ended (/exit or Ctrl-D)
    COMPLETE = "complete"  # bench: every pair has a result
    BUDGET_STOPPED = "budget_stopped"  # bench: its --max-cost left runs out (exit 3)
    INTERRUPTED = "interrupted"  # bench: Ctrl-C; the results so far are kept (exit 130)


class Decision(StrEnum):
    """What the user said of a validated patch before it is kept (chat asks; `fix` keeps without asking)."""

    KEEP = "keep"
    DISCARD = "discard"  # the tree is restored byte for byte
    AMEND = "amend"  # discarded too, and the user rewords the request


@dataclass(frozen=True)
class KeptEdit:
    """One file a kept patch changed, as it was before and after (None: no such file), for chat's /undo."""

    path: str
    before: bytes | None
    after: bytes | None
    mode: int | None = None  # the file's mode before the patch (None: it did not exist)


class Stop(StrEnum):
    """Why a run stopped before its flow finished, and the status and exit code that follow."""

    TIME_LIMIT = "time limit"  # --timeout: a budget of time, spent
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM
    BUDGET = "budget"
    ERROR = "error"  # a TieragentError: usage, config, environment, provider (its own exit code)

    @classmethod
    def of(cls, exc: BaseException) -> Stop | None:
        """The stop an exception means; None for a bug (which the caller re-raises)."""
        if isinstance(exc, RunTimeout):
            return cls.TIME_LIMIT
        if isinstance(exc, KeyboardInterrupt):
            return cls.INTERRUPTED
        if isinstance(exc, BudgetExceeded):
            return cls.BUDGET
        if isinstance(exc, TieragentError):
            return cls.ERROR
        return None

    def status(self) -> Status:
        return Status.BUDGET_EXCEEDED if self in (Stop.TIME_LIMIT, Stop.BUDGET) else Status.ERROR

    def exit_code(self, exc: BaseException) -> ExitCode:
        if self is Stop.INTERRUPTED:
            return ExitCode.INTERRUPTED
        if self in (Stop.TIME_LIMIT, Stop.BUDGET):
            return ExitCode.BUDGET
        return exc.exit_code if isinstance(exc, TieragentError) else ExitCode.USAGE

    @staticmethod
    def message(exc: BaseException) -> str:
        if isinstance(exc, BudgetExceeded):
            return exc.message
        return "interrupted" if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, RunTimeout) else str(exc)


R = TypeVar("R", bound="RunResult")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


@dataclass
class RunResult(MaskedDocument):
    """What every flow's result has; a flow's result adds its own fields and `_document()`."""

    run_id: str = field(default_factory=new_run_id)
    status: Status = Status.FAILED
    exit_code: int = ExitCode.NOT_FIXED
    ledger: Ledger | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, and the total
    redactor: Redactor | None = field(default=None, repr=False)  # masks secrets in everything to_json returns

    def end(self: R, status: Status, exit_code: int, error: str | None = None) -> R:
        self.status, self.exit_code, self.error = status, exit_code, error
        return self

    def stopped(self, exc: BaseException) -> bool:
        """End the run for `exc` (see `Stop`); False when it is a bug the caller must re-raise."""
        stop = Stop.of(exc)
        if stop is None:
            return False
        self.end(stop.status(), stop.exit_code(exc), Stop.message(exc))
        return True

    def cost_text(self) -> str:
        """What the run cost, for the summary line: the ledger's total, "+ ?" when a model has no price."""
        ledger = self.ledger
        if ledger is None or not ledger.rows:
            return "$0"
        return f"${ledger.spent_usd:.4f}" + (" + ?" if ledger.unpriced_models() else "")

    @property
    def interrupted(self) -> bool:
        return self.exit_code == ExitCode.INTERRUPTED

    def common_document(self) -> dict[str, Any]:
        """The fields every flow's JSON starts with, and its cost ledger."""
        ledger = self.ledger
        return {
            "status": str(self.status),
            "exit_code": int(self.exit_code),
            "run_id": self.run_id,
            "steps": [r.to_json() for r in ledger.rows] if ledger else [],
            "totals": ledger.totals() if ledger else None,
            "warnings": self.warnings,
            "error": self.error,
        }


class Timings:
    """Seconds per phase of a run (for `--json`'s `timings` and TIERAGENT_PROFILE=1), and the total."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.started = time.monotonic()
        self.phases = phases

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.monotonic() - started, 3)

    def stop(self) -> None:
        self.phases["total"] = round(time.monotonic() - self.started, 3)


class Reporter:
    """Forwards a flow's events to the listener, and keeps its warnings for the result."""

    def __init__(self, listener: OnEvent, warnings: list[str]):
        self.listener = listener
        self.warnings = warnings

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


def redactor_for(config: Config) -> Redactor:
    """The run's one redactor: the environment's secrets, and every tier's key variable."""
    names = tuple(
        c.api_key_env for c in (config.tiers.small, config.tiers.mid, config.tiers.frontier) if c and c.api_key_env
    )
    return Redactor.from_environment(extra_names=names)


class Run:
    """A run's services: events, the redactor, the clock, and (once models are ready) the gateway."""

    def __init__(self, flow: str, config: Config, result: RunResult, on_event: OnEvent):
        self.flow, self.config, self.result = flow, config, result
        self.events = Reporter(on_event, result.warnings)
        self.redactor = result.redactor = redactor_for(config)
        self.clock = Timings(result.timings)

    def open_gateway(self, models: Models, policies: Mapping[Step, CallPolicy]) -> Gateway:
        """The ledger (on the result) and the gateway every model call of the run goes through."""
        for warning in models.warnings:  # e.g. a model with no known price
            self.events.warn(warning)
        cfg = self.config
        self.result.ledger = Ledger(models.prices, {t: cfg.tier(t).model for t in TIERS}, mask=self.redactor)
        return Gateway(
            models.provider,
            self.result.ledger,
            {t: cfg.tier(t) for t in TIERS},
            cfg.budget,
            policies,
            redactor=self.redactor,
            on_event=self.events,
        )

    def record(self, state_dir: Path, leave_out: Iterable[str] = (), **extra: Any) -> None:
        """Append the run's line to `.git/tieragent/ledger.jsonl` (masked, like its JSON); a warning when it cannot."""
        self.clock.stop()
        line = {k: v for k, v in self.result.to_json().items() if k not in set(leave_out)}
        line.update({k: self.redactor.at_rest(v) if isinstance(v, str) else v for k, v in extra.items()})
        line.update(flow=self.flow, time=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        try:
            append_history(state_dir, line)
        except OSError as err:
            self.result.warnings.append(f"could not write the ledger history: {err}")


@contextmanager
def signals_held() -> Iterator[None]:
    """Defer Ctrl-C, SIGTERM and --timeout's alarm while the tree is being restored, so nothing cuts it short."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
