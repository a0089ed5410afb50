"""Running the repository's own commands (tests, linters) with a timeout.

Each command runs in its own process group, so a timeout or a Ctrl-C stops it and everything
it started. Python bytecode and pytest's cache are kept out of the user's tree.

These commands run code a model wrote (the patch, a --repro test), so they see an allowlisted
environment: what a shell and the usual toolchains need to find themselves (`ALLOWED_VARS`),
plus the names in `validate.env_passthrough` and the values of `validate.env`. Every other
variable (provider keys, GITHUB_TOKEN, a database password, proxies) is dropped. With
`validate.network: off` they also run without network where Linux allows it (a new network
namespace through `unshare`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
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

    def environment(self) -> dict[str, str]:
        """The variables a command runs with (a cached baseline depends on them)."""
        ...


def kill_group(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    """SIGTERM to the process's whole group, then SIGKILL after `grace_s`."""
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


class CommandStopped(Exception):
    """A command stopped because its run no longer wants the result (see `SubprocessRunner.stoppable`)."""


STOP_POLL_S = 0.05  # how often a stoppable command looks at its stop flag


def _communicate(proc: subprocess.Popen, timeout_s: float | None, stop: threading.Event | None) -> bytes:
    """The process's output once it exits; with a `stop` flag, CommandStopped as soon as the flag is set
    (retrying communicate after its timeout loses no output)."""
    if stop is None:
        return proc.communicate(timeout=timeout_s)[0] or b""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout_s or 0)
        try:
            return proc.communicate(timeout=STOP_POLL_S if left is None else min(STOP_POLL_S, left))[0] or b""
        except subprocess.TimeoutExpired:
            if stop.is_set():
                raise CommandStopped(str(proc.args)) from None


def wait_or_stop(
    proc: subprocess.Popen, timeout_s: float | None, *, grace_s: float = 1.0, stop: threading.Event | None = None
) -> tuple[bytes, bool]:
    """(output, timed out) of a process started in its own session; on a timeout, Ctrl-C while
    waiting, or `stop` set from another thread, the whole group is stopped (a test runner's children included)."""
    try:
        return _communicate(proc, timeout_s, stop), False
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, _ = proc.communicate()
        return out or b"", True
    except BaseException:
        kill_group(proc, grace_s=grace_s)
        raise


# What the repository's commands see of tieragent's environment: names a shell, a test runner or a
# toolchain needs to find itself, and none that commonly carries a credential. Each with why.
ALLOWED_VARS = {
    "PATH": "programs",
    "HOME": "caches",
    "USER": "identity",
    "LOGNAME": "identity",
    "SHELL": "shell",
    "LANG": "locale",
    "LANGUAGE": "locale",
    "TZ": "time",
    "TMPDIR": "scratch",
    "TEMP": "scratch",
    "TMP": "scratch",
    "TERM": "terminal",
    "NO_COLOR": "output",
    "COLORTERM": "output",
    "CI": "behaviour",  # test suites that act differently in CI keep doing so
    "VIRTUAL_ENV": "venv",
    "CONDA_PREFIX": "conda",
    "CONDA_DEFAULT_ENV": "conda",
    "PYTHONPATH": "imports",
    "PYTHONIOENCODING": "encoding",
    "PYTHONUTF8": "encoding",
    "PYTEST_ADDOPTS": "runner",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "runner",
    "GOPATH": "toolchain",
    "GOROOT": "toolchain",
    "GOCACHE": "cache",
    "GOMODCACHE": "cache",
    "GOFLAGS": "flags",
    "GOTOOLCHAIN": "toolchain",
    "CARGO_HOME": "toolchain",
    "RUSTUP_HOME": "toolchain",
    "RUSTUP_TOOLCHAIN": "toolchain",
    "CARGO_TARGET_DIR": "builds",
    "JAVA_HOME": "toolchain",
    "GRADLE_USER_HOME": "cache",
    "M2_HOME": "toolchain",
    "MAVEN_HOME": "toolchain",
    "NVM_DIR": "toolchain",
    "NODE_PATH": "imports",
    "LD_LIBRARY_PATH": "libraries",
    "SSL_CERT_FILE": "certs",
    "SSL_CERT_DIR": "certs",
    "REQUESTS_CA_BUNDLE": "certs",
    "CURL_CA_BUNDLE": "certs",
    "NODE_EXTRA_CA_CERTS": "certs",
}
# locale (LC_ALL, LC_CTYPE, ...), pyenv's version and root, the XDG_*_HOME folders (see `_allowed`)
ALLOWED_PREFIXES = ("LC_", "PYENV_", "XDG_")
# Never passed on the allowlist's account (only when validate.env_passthrough names them): names that
# say they hold a credential, and proxies, whose URLs often carry user:password.
CREDENTIAL_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|PWD|CREDENTIAL|AUTH|PROXY|COOKIE|SESSION", re.IGNORECASE)


def _allowed(name: str) -> bool:
    if CREDENTIAL_NAME.search(name):
        return False
    if name in ALLOWED_VARS:
        return True
    if name.startswith("XDG_"):
        return name.endswith("_HOME")  # not XDG_RUNTIME_DIR: the user's agent and keyring sockets live there
    return name.startswith(ALLOWED_PREFIXES)


def command_environment(
    environ: Mapping[str, str], passthrough: Iterable[str] = (), key_names: Iterable[str] = ()
) -> dict[str, str]:
    """What of `environ` a repository command may see: the allowlisted names, plus those in
    `passthrough` (validate.env_passthrough, from trusted config only). Everything else is dropped,
    and the tiers' key variables (`key_names`) even if a name on the list were one."""
    keep, keys = set(passthrough), set(key_names)
    return {k: v for k, v in environ.items() if k in keep or (_allowed(k) and k not in keys)}


def passed_names(environ: Mapping[str, str], passthrough: Iterable[str] = ()) -> tuple[list[str], list[str], int]:
    """(allowlisted names set in `environ`, passthrough names set in it, how many others are dropped): for `doctor`."""
    passed = [n for n in dict.fromkeys(passthrough) if n in environ]
    order = {n: i for i, n in enumerate(ALLOWED_VARS)}  # PATH, HOME, ... as listed; LC_*, XDG_* after, by name
    allowed = sorted(
        (n for n in environ if _allowed(n) and n not in passed), key=lambda n: (order.get(n, len(order)), n)
    )
    return allowed, passed, len(environ) - len(allowed) - len(passed)


@lru_cache(maxsize=1)
def network_namespace_prefix() -> tuple[str, ...] | None:
    """The command prefix that runs a command without network here, or None when the OS does not allow it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ((unshare, "--net"), (unshare, "--user", "--map-root-user", "--net")):
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


RUN_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGALRM}  # the run's own: handled by the main thread
_THREAD = threading.local()  # .stop: the flag that stops the commands this thread runs (see `stoppable_commands`)


@contextmanager
def stoppable_commands(stop: threading.Event) -> Iterator[None]:
    """Commands this (background) thread runs inside are stopped, their whole group, when another thread sets
    `stop`: a baseline the run no longer waits for must not leave its tests running."""
    _THREAD.stop = stop
    try:
        yield
    finally:
        _THREAD.stop = None


@contextmanager
def _child_signals(background: bool) -> Iterator[None]:
    """A background thread (with stoppable commands) blocks the run's signals, so Ctrl-C always reaches the main thread
    (and waits while it restores the tree); the command inherits the mask, so it is lifted while the command starts."""
    if not background:
        yield
        return
    signal.pthread_sigmask(signal.SIG_UNBLOCK, RUN_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, RUN_SIGNALS)


class SubprocessRunner:
    """Runs a command with the allowlisted environment (see `command_environment`), `extra_env` on top."""

    def __init__(
        self,
        extra_env: dict[str, str] | None = None,
        *,
        key_names: Iterable[str] = (),
        passthrough: Iterable[str] = (),
        no_network: bool = False,
    ):
        self.extra_env = extra_env or {}
        self.key_names, self.passthrough = tuple(key_names), tuple(passthrough)
        self.no_network = no_network and network_namespace_prefix() is not None

    def with_env(self, extra_env: dict[str, str]) -> SubprocessRunner:
        """The same runner (same passthrough, network as it was) with more variables set."""
        return SubprocessRunner(
            {**self.extra_env, **extra_env},
            key_names=self.key_names,
            passthrough=self.passthrough,
            no_network=self.no_network,
        )

    def environment(self) -> dict[str, str]:
        env = command_environment(os.environ, self.passthrough, self.key_names)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        addopts = env.get("PYTEST_ADDOPTS", "")
        if "cacheprovider" not in addopts:
            env["PYTEST_ADDOPTS"] = (addopts + " -p no:cacheprovider").strip()
        env.update(self.extra_env)
        return env

    def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult:
        started = time.monotonic()
        shell_command = command
        if self.no_network:
            prefix = network_namespace_prefix() or ()
            shell_command = " ".join(shlex.quote(p) for p in prefix) + " sh -c " + shlex.quote(command)
        stop = getattr(_THREAD, "stop", None)
        with _child_signals(stop is not None):
            proc = subprocess.Popen(
                shell_command,
                shell=True,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.environment(),
            )
        out, timed_out = wait_or_stop(proc, timeout_s, stop=stop)  # Ctrl-C or SIGTERM while it runs stops it too
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
