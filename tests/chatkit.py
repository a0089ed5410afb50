"""Driving a chat session in-process: scripted lines and answers (`ScriptedIO`), scripted model replies
(flowkit's ScriptedProvider), and the real fix flow wired in as the CLI wires it (`fix_for_chat`).

    result, io = chat(calc_repo, provider, ["add() returns the wrong result", "/cost"], decisions=["y"])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import CALC_QUICK_TEST
from flowkit import PYTEST, config, deps

from tieragent.cli.chat_command import fix_for_chat
from tieragent.core.events import Event
from tieragent.flows.chat import ChatDeps, ChatOptions, ChatResult, run_chat
from tieragent.flows.chat.views import CostView, Notice, View
from tieragent.flows.fix import FixOptions
from tieragent.flows.skeleton import Decision

# Sessions run many fix runs, each with a baseline and a validation: the calc repository's quick command.
QUICK_TEST = CALC_QUICK_TEST

Line = str | BaseException | Callable[[], str]  # a callable runs between two lines (a user's edit), then is the line


class ScriptedIO:
    """The terminal port with scripted input: lines in order, then the end of input (Ctrl-D)."""

    def __init__(
        self,
        lines: list[Line],
        decisions: list[str] = (),  # type: ignore[assignment]
        amends: list[str | None] = (),  # type: ignore[assignment]
        confirms: list[bool] = (),  # type: ignore[assignment]
    ):
        self.lines = list(lines)
        self.decisions = [Decision({"y": "keep", "n": "discard", "e": "amend"}[d]) for d in decisions]
        self.amends, self.confirms = list(amends), list(confirms)
        self.views: list[View] = []
        self.events: list[Event] = []
        self.prompts: list[Any] = []
        self.diffs: list[str] = []  # shown with the keep question
        self.amended: list[str] = []  # the requests offered for amending
        self.questions: list[str] = []

    def read(self, prompt: Any) -> str | None:
        self.prompts.append(prompt)
        if not self.lines:
            return None
        line = self.lines.pop(0)
        if isinstance(line, BaseException):
            raise line
        return line() if callable(line) else line

    def decide(self, diff: str) -> Decision:
        self.diffs.append(diff)
        return self.decisions.pop(0)

    def amend(self, request: str) -> str | None:
        self.amended.append(request)
        return self.amends.pop(0)

    def confirm(self, question: str, diff: str) -> bool:
        self.questions.append(question)
        return self.confirms.pop(0)

    def show(self, view: View) -> None:
        self.views.append(view)

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    @contextmanager
    def busy(self) -> Iterator[None]:
        yield

    def notices(self) -> list[str]:
        return [v.text for v in self.views if isinstance(v, Notice)]

    def of(self, kind: type) -> list[Any]:
        return [v for v in self.views if isinstance(v, kind)]

    def cost(self) -> CostView:
        return self.of(CostView)[-1]


def chat(
    repo: Path,
    provider: Any,
    lines: list[Line],
    *,
    decisions: list[str] = (),  # type: ignore[assignment]
    amends: list[str | None] = (),  # type: ignore[assignment]
    confirms: list[bool] = (),  # type: ignore[assignment]
    budget: dict | None = None,
    pytest: bool = False,
    windows: dict | None = None,
    **options: Any,
) -> tuple[ChatResult, ScriptedIO]:
    """One session in-process; `options` are ChatOptions fields (keep_all, max_message_cost_usd, resume).
    `pytest`: the repository's real pytest run (per-test results) instead of QUICK_TEST."""
    cfg = config({"validate": {"test": PYTEST if pytest else QUICK_TEST}, "budget": budget or {}})
    fix_deps = deps(repo, provider, cfg, windows=dict(windows or {}))
    io = ScriptedIO(lines, decisions, amends, confirms)
    chat_deps = ChatDeps(
        ws=fix_deps.ws,
        config=cfg,
        models=fix_deps.models,
        repo_map=fix_deps.repo_map,
        runner=fix_deps.runner,
        test_command=fix_deps.test_command,
        fix=fix_for_chat(fix_deps, FixOptions(exit_code_only=not pytest)),
        io=io,
    )
    return run_chat(chat_deps, ChatOptions(**options)), io
