"""Fresh checkouts for bench runs, and the commands the bench runs in them.

Every run gets its own clone (`git clone --shared`: no objects copied), never a worktree: a worktree
shares the user's `.git/tieragent/` (its journal lock, its ledger) with the user's own runs, while a
clone has its own. A URL is cloned once into the bench's cache and the runs clone that.

Commands (setup, the hidden check, the fix itself) run in their own process group through `Procs`,
so an interrupt stops every one of them, in whichever thread it was started.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ...core.errors import ConfigError
from ...repo.runner import command_environment, kill_group, wait_or_stop
from .tasks import Task, is_url

GENERATED_CONFIG = ".tieragent.yaml"  # written in each checkout, kept out of git by info/exclude
_GIT_ENV = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}  # an unreachable https URL must fail, not ask for a password
MAX_TAIL = 4000


class RunProblem(Exception):
    """A run could not be made (the checkout, the setup); recorded as an error, the bench goes on."""


@dataclass(frozen=True)
class Done:
    exit_code: int | None  # None: timed out, or stopped by an interrupt
    output: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def tail(self, limit: int = MAX_TAIL) -> str:
        return self.output[-limit:]


class Procs:
    """The processes the bench started; `cancel()` stops them all (their whole groups) and no new one starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self.cancelled = threading.Event()

    def run(
        self,
        command: str | Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float | None,
        stderr_path: Path | None = None,
    ) -> Done:
        """A shell command (str) or an argv; stdout (and stderr, unless `stderr_path`) captured."""
        started = time.monotonic()
        with open(stderr_path or os.devnull, "wb") as err:
            try:
                proc = subprocess.Popen(
                    command,
                    shell=isinstance(command, str),
                    cwd=cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=err if stderr_path else subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                return Done(127, f"cannot run {command!r}: {error}", time.monotonic() - started)
            with self._lock:
                self._running.add(proc)
                late = self.cancelled.is_set()  # cancelled while it was starting: cancel() did not see it
            if late:
                kill_group(proc, grace_s=5.0)
            try:
                out, timed_out = wait_or_stop(proc, timeout, grace_s=5.0)
            finally:
                with self._lock:
                    self._running.discard(proc)
        code = None if timed_out or self.cancelled.is_set() else proc.returncode
        return Done(code, out.decode("utf-8", errors="replace"), time.monotonic() - started, timed_out)

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            running = list(self._running)
        for proc in running:  # SIGTERM first: a tieragent fix restores its tree on it
            kill_group(proc, grace_s=5.0)


def git(cwd: Path, *args: str, input: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **_GIT_ENV},
        check=False,
    )


def _last_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln.strip() for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else f"git exited {proc.returncode}"


def resolve_sources(tasks: list[Task], cache_dir: Path) -> list[Task]:
    """Each task with `origin` (where its checkouts are cloned from) and `sha` (its commit, resolved).

    Before any run: an unreachable repository or a commit that does not exist stops the bench with
    the file and field (exit 2), not an hour in.
    """
    origins: dict[str, Path] = {}
    out = []
    for task in tasks:
        origin = origins.get(task.repo)
        if origin is None:
            origin = origins[task.repo] = _origin(task, cache_dir)
        proc = git(origin, "rev-parse", "--verify", "--quiet", f"{task.commit}^{{commit}}")
        if proc.returncode != 0 and is_url(task.repo):
            # a cached clone from an earlier bench: bring its branches and tags up to date, then ask
            # the server for the commit itself (it may be on no branch any more)
            for refs in (("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"), (task.commit,)):
                git(origin, "fetch", "--quiet", "origin", *refs, timeout=1800)
                proc = git(origin, "rev-parse", "--verify", "--quiet", f"{task.commit}^{{commit}}")
                if proc.returncode == 0:
                    break
        if proc.returncode != 0:
            raise ConfigError(task.source, task.key("commit"), f"{task.commit} does not exist in {task.repo}")
        out.append(replace(task, origin=str(origin), sha=proc.stdout.decode().strip()))
    return out


def _origin(task: Task, cache_dir: Path) -> Path:
    if not is_url(task.repo):
        path = Path(task.repo)
        if not path.is_dir():
            raise ConfigError(task.source, task.key("repo"), f"cannot reach {task.repo}: no such directory")
        proc = git(path, "rev-parse", "--git-dir")
        if proc.returncode != 0:
            raise ConfigError(task.source, task.key("repo"), f"cannot reach {task.repo}: not a git repository")
        return path
    cached = cache_dir / hashlib.sha1(task.repo.encode()).hexdigest()[:16]
    if not (cached / "HEAD").is_file():
        shutil.rmtree(cached, ignore_errors=True)
        cached.parent.mkdir(parents=True, exist_ok=True)
        proc = git(cache_dir, "clone", "--bare", "--quiet", task.repo, str(cached), timeout=1800)
        if proc.returncode != 0:
            shutil.rmtree(cached, ignore_errors=True)
            raise ConfigError(task.source, task.key("repo"), f"cannot reach {task.repo}: {_last_line(proc)}")
    return cached


def make_checkout(task: Task, dest: Path) -> Path:
    """A fresh clone of the task's commit at `dest`, with its test changes (if any) committed, so the
    fix starts from a clean tree; the generated config file is excluded from git there."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    proc = git(dest.parent, "clone", "--quiet", "--shared", "--no-checkout", task.origin, str(dest))
    if proc.returncode != 0:
        raise RunProblem(f"git clone of {task.repo} failed: {_last_line(proc)}")
    for args in (
        ("checkout", "--quiet", "--detach", task.sha),
        ("config", "user.name", "tieragent bench"),
        ("config", "user.email", "bench@tieragent.invalid"),
        ("config", "commit.gpgsign", "false"),
    ):
        proc = git(dest, *args)
        if proc.returncode != 0:
            raise RunProblem(f"git {args[0]} {task.sha[:12]} failed: {_last_line(proc)}")
    if task.test_patch:
        patch = task.test_patch if task.test_patch.endswith("\n") else task.test_patch + "\n"
        proc = git(dest, "apply", "--index", "--whitespace=nowarn", input=patch.encode())
        if proc.returncode != 0:
            raise RunProblem(f"the task's test_patch does not apply to {task.sha[:12]}: {_last_line(proc)}")
        proc = git(dest, "commit", "--quiet", "--no-verify", "-m", f"bench: the test changes of task {task.id}")
        if proc.returncode != 0:
            raise RunProblem(f"committing the test changes failed: {_last_line(proc)}")
    exclude = dest / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a", encoding="utf-8") as f:
        f.write(f"\n/{GENERATED_CONFIG}\n")
    return dest


def python_path(checkout: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The checkout (and its src/) first on the import path: a checkout of a repository installed
    editable would otherwise import the original code in its tests."""
    parts = [str(checkout)] + ([str(checkout / "src")] if (checkout / "src").is_dir() else [])
    if environ.get("PYTHONPATH"):
        parts.append(environ["PYTHONPATH"])
    return os.pathsep.join(parts)


def command_env(
    checkout: Path, key_names: Sequence[str], passthrough: Sequence[str], extra: Mapping[str, str]
) -> dict[str, str]:
    """The environment of a task's setup and hidden check: as for tieragent's test commands, the
    allowlisted variables and `validate.env_passthrough`; the config's `validate.env`; the checkout on PYTHONPATH."""
    env = command_environment(os.environ, passthrough, key_names)
    env.update(extra)
    env["PYTHONPATH"] = python_path(checkout, env)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
