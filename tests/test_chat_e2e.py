"""`tieragent chat` end to end: the real binary on a pseudo-terminal (prompt_toolkit reading it), real git and
pytest, and the fake OpenAI-compatible server over HTTP. One session: a request kept with y, /undo, /ask, /cost,
/exit. The session's behaviour is tested in-process (test_chat.py)."""

from __future__ import annotations

import re

from conftest import CLASSIFY_OPS, GOOD_PATCH, snapshot, write_config
from ptykit import Conversation, on_a_terminal, terminal_env

PROMPT = "› ".encode()
COLOUR = re.compile(rb"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7]|4[0-8])(?:;[0-9;]*)?m")  # a foreground or background colour


def test_a_session_on_a_terminal(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    fake_server.enqueue("ask", "small", "sub() returns a - b.")
    turns = [
        ([b"#1 ", PROMPT], b"add() returns the wrong result\r"),
        ([b"[y/n/e]"], b"y\r"),
        ([b"kept #1", b"#2 ", PROMPT], b"/undo\r"),
        ([b"undone: message 1", PROMPT], b"/ask what does sub return?\r"),
        ([b"sub() returns a - b.", PROMPT], b"/cost\r"),
        ([b"Session ledger", PROMPT], b"/exit\r"),
    ]
    env = terminal_env(calc_repo, colour=False)  # NO_COLOR=1 stays: the session must honour it
    code, shown = on_a_terminal(["chat"], calc_repo, env, respond=Conversation(turns))
    text = shown.decode(errors="replace")
    assert code == 0, text[-3000:]
    assert "+    return a + b" in text  # the diff, shown before the question
    assert "Frontier-only estimate" in text and "saved; `tieragent chat --resume` continues it" in text
    assert not COLOUR.search(shown)  # NO_COLOR
    assert snapshot(calc_repo) == before  # kept, then undone: the original bytes
    assert fake_server.calls() == [("classify", "small"), ("patch", "mid"), ("ask", "small")]
    assert list((calc_repo / ".git/tieragent/sessions").glob("*/session.json"))
