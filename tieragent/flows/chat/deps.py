"""What a chat session is handed: the repository's parts, the fix flow as a callable (`FixCall`: flows
never import each other, so the CLI wires `run_fix` in), and the terminal as a port (`ChatIO`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from ...core.config import Config
from ...core.events import Event
from ...model.protocol import Models
from ...repo.map import RepoMap
from ...repo.runner import CommandRunner
from ...repo.workspace import GitWorkspace
from ..skeleton import Decision
from .session import FixCall
from .views import PromptLine, View


class ChatIO(Protocol):
    """The terminal, as the session sees it: prompt_toolkit and rich in the CLI, a script in tests."""

    def read(self, prompt: PromptLine) -> str | None:
        """The next line; None at the end of input (Ctrl-D). Ctrl-C raises KeyboardInterrupt."""
        ...

    def decide(self, diff: str) -> Decision:
        """Keep, discard or amend a validated patch (y/n/e), after showing its diff."""
        ...

    def amend(self, request: str) -> str | None:
        """The request reworded (the old one to edit); None or "" gives up."""
        ...

    def confirm(self, question: str, diff: str) -> bool:
        """A yes/no question about a change (the test-edit guard)."""
        ...

    def show(self, view: View) -> None: ...

    def on_event(self, event: Event) -> None: ...

    def busy(self) -> AbstractContextManager[None]:
        """Around a step that takes a while: a spinner on a terminal."""
        ...


@dataclass
class ChatDeps:
    ws: GitWorkspace
    config: Config
    models: Callable[[], Models]  # may still be loading when the session starts
    repo_map: Callable[[], RepoMap]
    runner: CommandRunner
    test_command: str
    fix: FixCall
    io: ChatIO
    should_stop: Callable[[], bool] = lambda: False  # SIGTERM arrived: end after the current message
