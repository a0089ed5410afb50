"""`tieragent chat` end to end: the real binary on a pseudo-terminal (prompt_toolkit reading it), real git and
pytest, and the fake OpenAI-compatible server over HTTP. One session: a request kept with y, /undo, /ask, /cost,
/exit. The session's behaviour is tested in-process (test_chat.py)."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from conftest import CLASSIFY_OPS, GOOD_PATCH, cli_env, snapshot, write_config

PROMPT = "› ".encode()
COLOUR = re.compile(rb"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7]|4[0-8])(?:;[0-9;]*)?m")  # a foreground or background colour


def converse(
    args: list[str], cwd: Path, turns: list[tuple[list[bytes], bytes]], timeout: float = 120
) -> tuple[int, bytes]:
    """Run the CLI on a pseudo-terminal; for each turn, wait until its texts have appeared (in order, after the
    previous turn's), then type its line. Returns (exit code, everything shown)."""
    import pty

    master, slave = pty.openpty()
    env = cli_env(cwd.parent)  # NO_COLOR=1 stays: the session must honour it
    env["TERM"] = "dumb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tieragent", *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    seen, pos, turn, waited = b"", 0, 0, 0
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
        while turn < len(turns):
            texts, line = turns[turn]
            at = seen.find(texts[waited], pos)
            if at < 0:
                break
            pos, waited = at + len(texts[waited]), waited + 1
            if waited == len(texts):
                os.write(master, line)
                turn, waited = turn + 1, 0
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"no exit; the terminal showed:\n{seen.decode(errors='replace')[-3000:]}") from None
    finally:
        os.close(master)
    return proc.returncode, seen


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
    code, shown = converse(["chat"], calc_repo, turns)
    text = shown.decode(errors="replace")
    assert code == 0, text[-3000:]
    assert "+    return a + b" in text  # the diff, shown before the question
    assert "Frontier-only estimate" in text and "saved; `tieragent chat --resume` continues it" in text
    assert not COLOUR.search(shown)  # NO_COLOR
    assert snapshot(calc_repo) == before  # kept, then undone: the original bytes
    assert fake_server.calls() == [("classify", "small"), ("patch", "mid"), ("ask", "small")]
    assert list((calc_repo / ".git/tieragent/sessions").glob("*/session.json"))
