"""The chat session's terminal: prompt_toolkit for the line (editing, history, completion), rich for output.

Imported only by `tieragent chat`, so prompt_toolkit never slows `tieragent --help`. The history is
kept in `.git/tieragent/chat-history` (0600), each line masked like everything tieragent keeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession, prompt
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import History
from rich.console import Console

from ..core.events import Event
from ..core.private_files import append_private
from ..flows.chat.views import PromptLine, View
from ..flows.skeleton import Decision
from .chat_render import diff_syntax, render
from .render import money

HISTORY_FILE = "chat-history"
HISTORY_LINES = 1000
MAX_COMPLETIONS = 40
ANSWERS = {"y": Decision.KEEP, "yes": Decision.KEEP, "n": Decision.DISCARD, "no": Decision.DISCARD}
ANSWERS |= {"e": Decision.AMEND, "edit": Decision.AMEND}


class PrivateHistory(History):
    """Lines typed in earlier sessions, one JSON string per line, masked, in a 0600 file."""

    def __init__(self, path: Path, mask: Callable[[str], str]):
        self.path, self.mask = path, mask
        super().__init__()

    def load_history_strings(self) -> Iterable[str]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()[-HISTORY_LINES:]
        except OSError:
            return []
        strings = []
        for line in lines:
            try:
                strings.append(str(json.loads(line)))
            except ValueError:
                continue  # a torn line
        return list(reversed(strings))  # newest first

    def store_string(self, string: str) -> None:
        with suppress(OSError):  # a history that cannot be kept is no reason to stop the session
            append_private(self.path, json.dumps(self.mask(string)) + "\n")


class ChatCompleter(Completer):
    """/commands at the start of a line; the repository's files anywhere else."""

    def __init__(self, commands: list[str], files: Callable[[], list[str]]):
        self.commands, self.files = commands, files
        self._files: list[str] | None = None

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            for name in self.commands:
                if name.startswith(text):
                    yield Completion(name, start_position=-len(text))
            return
        word = document.get_word_before_cursor(WORD=True)
        if not word:
            return
        if self._files is None:
            self._files = self.files()
        shown = 0
        for path in self._files:
            if path.startswith(word) or ("/" not in word and path.rsplit("/", 1)[-1].startswith(word)):
                yield Completion(path, start_position=-len(word))
                shown += 1
                if shown >= MAX_COMPLETIONS:
                    return


class TerminalIO:
    """`ChatIO` on a terminal. Output goes to stdout; progress and warnings to stderr, a spinner while busy."""

    def __init__(
        self,
        out: Console,
        err: Console,
        state_dir: Path,
        commands: list[str],
        files: Callable[[], list[str]],
        mask: Callable[[str], str],
    ):
        self.out, self.err, self.mask = out, err, mask
        self.session: PromptSession[str] = PromptSession(
            history=PrivateHistory(state_dir / HISTORY_FILE, mask),
            completer=ChatCompleter(commands, files),
            complete_while_typing=False,
        )
        self._status: Any = None
        self.last_step = ""
        self.shown_warnings: set[str] = set()

    def read(self, prompt: PromptLine) -> str | None:
        self.shown_warnings.clear()  # a warning is shown once per message
        step = f" · last: {self.last_step}" if self.last_step else ""
        self.out.print(f"#{prompt.n} · {prompt.tier} · {money(prompt.spent_usd)} spent{step}", style="dim")
        self.last_step = ""
        try:
            return self.session.prompt("› ")
        except EOFError:
            return None

    def decide(self, diff: str) -> Decision:
        with self._paused():
            self.out.print(diff_syntax(diff))
            while True:
                answer = self._ask("Keep this patch? [y/n/e] (e: amend the request) ").strip().lower()
                if answer in ANSWERS:
                    return ANSWERS[answer]

    def amend(self, request: str) -> str | None:
        with self._paused():
            try:
                return self.session.prompt("amend › ", default=request)
            except EOFError:
                return None

    def confirm(self, question: str, diff: str) -> bool:
        with self._paused():
            self.out.print(diff_syntax(diff))
            return self._ask(f"{question} [y/n] ").strip().lower() in ("y", "yes")

    def show(self, view: View) -> None:
        render(view, self.out)

    def on_event(self, event: Event) -> None:
        if event.kind == "warning":
            if event.message not in self.shown_warnings:
                self.shown_warnings.add(event.message)
                self.err.print("warning: " + self.mask(event.message), style="yellow", markup=False, highlight=False)
        elif event.kind in ("step", "validate"):
            if event.kind == "step":
                self.last_step = event.message
            if self._status is not None:
                self._status.update(event.message)
        else:
            self.err.print("· " + self.mask(event.message), style="dim", markup=False, highlight=False)

    @contextmanager
    def busy(self) -> Iterator[None]:
        with self.err.status("working…") as status:
            self._status = status
            try:
                yield
            finally:
                self._status = None

    @contextmanager
    def _paused(self) -> Iterator[None]:
        """The spinner stopped while a question waits for the user."""
        status = self._status
        if status is not None:
            status.stop()
        try:
            yield
        finally:
            if status is not None:
                status.start()

    def _ask(self, question: str) -> str:
        """A one-off question, kept out of the session's history; Ctrl-D is a no."""
        try:
            return prompt(question)
        except EOFError:
            return "n"
