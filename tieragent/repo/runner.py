"""Running the repository's own commands (tests, linters) with a timeout.

Each command runs in its own process group, so a timeout or a Ctrl-C stops it and everything
it started. Python bytecode and pytest's cache are kept out of the user's tree.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MAX_OUTPUT_BYTES = 2_000_000  # keep the head and the tail of enormous logs


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None  # None when it timed out
    output: str  # stdout and stderr, interleaved
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class CommandRunner(Protocol):
    def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult: ...


def _kill_group(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


class SubprocessRunner:
    def __init__(self, extra_env: dict[str, str] | None = None):
        self.extra_env = extra_env or {}

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        addopts = env.get("PYTEST_ADDOPTS", "")
        if "cacheprovider" not in addopts:
            env["PYTEST_ADDOPTS"] = (addopts + " -p no:cacheprovider").strip()
        env.update(self.extra_env)
        return env

    def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult:
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self._env(),
        )
        try:
            out, _ = proc.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, _ = proc.communicate()
            timed_out = True
        except BaseException:  # Ctrl-C or SIGTERM while the command runs: stop it too
            _kill_group(proc, grace_s=1.0)
            raise
        if len(out) > MAX_OUTPUT_BYTES:
            half = MAX_OUTPUT_BYTES // 2
            out = out[:half] + b"\n[... output cut ...]\n" + out[-half:]
        return CommandResult(
            command,
            None if timed_out else proc.returncode,
            out.decode("utf-8", errors="replace"),
            time.monotonic() - started,
            timed_out,
        )
