"""Progress events: flows emit them, the CLI renders them. Flows themselves print nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["step", "validate", "info", "warning", "routing"]


@dataclass(frozen=True)
class Event:
    kind: EventKind  # step: a model call starts; validate: a command runs; routing: the route is decided
    message: str


OnEvent = Callable[[Event], None]


def ignore_events(event: Event) -> None:
    """The default listener: nobody is watching."""
