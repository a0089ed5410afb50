"""The real CLI on a pseudo-terminal, for the few tests whose point is a terminal: what it shows, what it asks.

`on_a_terminal` runs `python -m tieragent ARGS` with stdout and stderr on one pseudo-terminal and collects
everything shown. With `respond`, stdin is the terminal too and `respond(shown so far)` says what to type
after each read (`answer_every`, `Conversation`); without it, stdin is a pipe holding `stdin_bytes`.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

Respond = Callable[[bytes], list[bytes]]  # everything shown so far -> the lines to type now


def on_a_terminal(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    *,
    respond: Respond | None = None,
    stdin_bytes: bytes | None = None,
    timeout: float = 120,
) -> tuple[int, bytes]:
    """(exit code, everything the terminal showed) once the CLI exits (or the terminal closes, or `timeout`)."""
    import pty

    master, slave = pty.openpty()
    if respond is not None:
        stdin: int = slave
    else:
        stdin = subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "tieragent", *args], cwd=cwd, env=env, stdin=stdin, stdout=slave, stderr=slave
    )
    os.close(slave)
    if stdin_bytes is not None and proc.stdin is not None:
        proc.stdin.write(stdin_bytes)
        proc.stdin.close()
    try:
        seen = _read_until_closed(master, proc, respond, time.time() + timeout)
        try:
            proc.wait(timeout=60)  # the terminal can close a moment before the process exits
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"no exit; the terminal showed:\n{seen.decode(errors='replace')[-3000:]}") from None
    finally:
        os.close(master)
    return proc.returncode, seen


def _read_until_closed(master: int, proc: subprocess.Popen, respond: Respond | None, deadline: float) -> bytes:
    seen = b""
    while time.time() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed (Linux says EIO)
                break
            if not chunk:
                break
            seen += chunk
            for line in respond(seen) if respond is not None else []:
                os.write(master, line)
        elif proc.poll() is not None:
            break
    return seen


def terminal_env(repo: Path, term: str = "dumb", *, colour: bool = True) -> dict[str, str]:
    """The CLI's test environment (conftest.cli_env) on a terminal called `term`; NO_COLOR stays unless `colour`."""
    from conftest import cli_env

    env = cli_env(repo.parent)
    if colour:
        env.pop("NO_COLOR", None)
    env["TERM"] = term
    return env


def as_text(shown: bytes) -> str:
    return shown.decode(errors="replace").replace("\r\n", "\n")


def answer_every(prompt: bytes, answer: bytes) -> Respond:
    """Answer every `prompt` the same way, once each time it appears."""
    answered = 0

    def respond(seen: bytes) -> list[bytes]:
        nonlocal answered
        due = seen.count(prompt) - answered
        answered += max(due, 0)
        return [answer] * due

    return respond


class Conversation:
    """Turns of (texts, line): wait until each text has appeared, in order and after the previous turn's,
    then type the line."""

    def __init__(self, turns: list[tuple[list[bytes], bytes]]) -> None:
        self.turns = turns
        self.turn = 0  # the turn waited for
        self.waited = 0  # how many of its texts have appeared
        self.pos = 0  # where in what was shown the next text is looked for

    def __call__(self, seen: bytes) -> list[bytes]:
        typed: list[bytes] = []
        while self.turn < len(self.turns):
            texts, line = self.turns[self.turn]
            at = seen.find(texts[self.waited], self.pos)
            if at < 0:
                break
            self.pos, self.waited = at + len(texts[self.waited]), self.waited + 1
            if self.waited == len(texts):
                typed.append(line)
                self.turn, self.waited = self.turn + 1, 0
        return typed
