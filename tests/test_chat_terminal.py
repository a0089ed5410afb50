"""The chat session's terminal parts that need no terminal: the prompt's history (private, masked), completion
of /commands and file paths, and how views render (no colour under NO_COLOR)."""

from __future__ import annotations

import io
import stat

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from rich.console import Console

from tieragent.cli.chat_render import render
from tieragent.cli.chat_terminal import ChatCompleter, PrivateHistory
from tieragent.flows.chat.views import Level, Notice
from tieragent.model.redact import Redactor

SECRET = "sk-proj-" + "Zq81" * 8


def test_history_is_private_masked_and_read_back_newest_first(tmp_path):
    history = PrivateHistory(tmp_path / "chat-history", Redactor((SECRET,)).at_rest)
    history.store_string("first")
    history.store_string(f"use the key {SECRET}\nand a second line")
    path = tmp_path / "chat-history"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET not in path.read_text()
    again = PrivateHistory(path, str)
    assert list(again.load_history_strings()) == ["use the key TIERAGENT_SECRET\nand a second line", "first"]


def complete(completer: ChatCompleter, text: str) -> list[str]:
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]


def test_completion_of_commands_and_paths():
    files = ["calc/ops.py", "calc/__init__.py", "tests/test_ops.py"]
    completer = ChatCompleter(["/ask", "/add", "/undo"], lambda: files)
    assert complete(completer, "/a") == ["/ask", "/add"]
    assert complete(completer, "/add cal") == ["calc/ops.py", "calc/__init__.py"]
    assert complete(completer, "fix the bug in ops") == ["calc/ops.py"]  # by file name too
    assert complete(completer, "") == []


def test_views_render_without_colour_under_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    render(Notice("not undone: calc/ops.py changed", Level.WARNING), console)
    text = out.getvalue()
    assert "warning: not undone: calc/ops.py changed" in text
    assert "\x1b[33m" not in text and "\x1b[93m" not in text  # no yellow
