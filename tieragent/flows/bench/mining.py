"""`--from-history N`: tasks mined from this repository's own commits, the SWE-bench way.

A commit qualifies when it changed both source and tests, and its tests fail on its parent (with
the commit's test changes applied) but pass on the commit itself. Its task: the parent commit plus
the commit's test changes (`test_patch`, committed in the checkout), the commit message as the
request, and the commit's changed test files run as the check. Commits are examined newest first
until N qualify; each one that does not is listed with its reason.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.globs import matches
from ...judge.tamper import TEST_FILES
from .checkout import Procs, RunProblem, command_env, git, make_checkout, remove
from .tasks import Task

DOC_FILES = ("*.md", "*.rst", "*.txt", "docs/", "doc/", "LICENSE*", "CHANGELOG*", "CHANGES*", "AUTHORS*", ".gitignore")
_PY_TEST_MODULE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")
SCAN_MIN, SCAN_PER_TASK = 50, 10  # commits examined: at least 50, or 10 per task asked for


@dataclass(frozen=True)
class Skipped:
    commit: str
    subject: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"commit": self.commit, "subject": self.subject, "reason": self.reason}


@dataclass
class Mined:
    tasks: list[Task] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    examined: int = 0


def is_test_file(path: str) -> bool:
    return matches(path, TEST_FILES)


def check_command(test_command: str, files: list[str]) -> str:
    """The command that runs just `files`: pytest takes paths, unittest takes them too (as modules
    under the root); any other runner gets its whole command (it cannot be narrowed portably)."""
    targets = " ".join(shlex.quote(f) for f in files)
    if "pytest" in test_command:
        return f"{test_command} {targets}"
    m = re.search(r"^(.*?)\s-m\s+unittest\b", test_command)
    if m:
        return f"{m.group(1)} -m unittest {targets}"
    return test_command


def mine_history(
    root: Path,
    count: int,
    workdir: Path,
    procs: Procs,
    *,
    test_command: str,
    lint_command: str | None = None,
    setup: str | None = None,
    timeout: float = 600,
    env_settings: tuple[tuple[str, ...], tuple[str, ...], dict[str, str]] | None = None,
    on_commit: Callable[[str], None] | None = None,
) -> Mined:
    """Up to `count` tasks from the newest commits of HEAD's history in `root`. `env_settings`: the key
    variables to keep from the commands, those passed through anyway, and `validate.env` (see `command_env`)."""
    env_settings = env_settings or ((), (), {})
    mined = Mined()
    log = git(root, "log", "--no-merges", f"--max-count={max(SCAN_MIN, SCAN_PER_TASK * count)}", "--format=%H")
    for sha in log.stdout.decode().split():
        if len(mined.tasks) >= count:
            break
        mined.examined += 1
        subject = git(root, "log", "-1", "--format=%s", sha).stdout.decode().strip()
        if on_commit:
            on_commit(f"{sha[:10]} {subject}")
        reason, task = _examine(root, sha, workdir, procs, test_command, lint_command, setup, timeout, env_settings)
        if task is not None:
            mined.tasks.append(task)
        else:
            mined.skipped.append(Skipped(sha, subject, reason))
        if procs.cancelled.is_set():
            break
    return mined


def _examine(
    root: Path,
    sha: str,
    workdir: Path,
    procs: Procs,
    test_command: str,
    lint_command: str | None,
    setup: str | None,
    timeout: float,
    env_settings: tuple[Any, ...],
) -> tuple[str, Task | None]:
    """The commit as a task, or why it does not qualify."""
    why, task = _task_of(root, sha, test_command, lint_command, setup)
    if task is None:
        return why, None
    why = _why_unproven(task, sha, workdir / "history" / sha[:12], procs, setup, timeout, env_settings)
    return (why, None) if why else ("", task)


def _task_of(
    root: Path, sha: str, test_command: str, lint_command: str | None, setup: str | None
) -> tuple[str, Task | None]:
    """From git alone: the task that asks for the commit's fix on its parent, with the commit's new
    tests as its check; or why the commit cannot be one (no parent, no test or no source change)."""
    parent = git(root, "rev-parse", "--verify", "--quiet", f"{sha}^").stdout.decode().strip()
    if not parent:
        return "the first commit (no parent to start from)", None
    changed = git(root, "diff", "--name-only", "--no-renames", parent, sha).stdout.decode().splitlines()
    tests = [p for p in changed if is_test_file(p)]
    source = [p for p in changed if not is_test_file(p) and not matches(p, DOC_FILES)]
    if not tests:
        return "no test changes", None
    if not source:
        return "no source changes", None
    present = set(git(root, "ls-tree", "-r", "--name-only", sha, "--", *tests).stdout.decode().splitlines())
    runnable = [p for p in tests if p in present and _PY_TEST_MODULE.search(p)]
    check = check_command(test_command, runnable) if runnable else test_command
    test_patch = git(root, "diff", "--binary", "--no-renames", parent, sha, "--", *tests).stdout.decode(
        errors="replace"
    )
    message = git(root, "log", "-1", "--format=%B", sha).stdout.decode().strip()
    return "", Task(
        id=f"h-{sha[:10]}",
        repo=str(root),
        commit=parent,
        request=message,
        check=check,
        source="--from-history",
        setup=setup,
        test=test_command,
        lint=lint_command,
        test_patch=test_patch,
        origin=str(root),
        sha=parent,
    )


def _why_unproven(
    task: Task,
    sha: str,
    where: Path,
    procs: Procs,
    setup: str | None,
    timeout: float,
    env_settings: tuple[Any, ...],
) -> str:
    """Run in a checkout: the check must fail on the parent and pass on the commit ("" when it does)."""
    try:
        checkout = make_checkout(task, where / "repo")
        env = command_env(checkout, *env_settings)
        if setup:
            done = procs.run(setup, cwd=checkout, env=env, timeout=timeout)
            if not done.ok:
                return f"setup fails on the parent (exit {done.exit_code})"
        if procs.run(task.check, cwd=checkout, env=env, timeout=timeout).ok:
            return "the new tests already pass on the parent"
        moved = git(checkout, "checkout", "--quiet", "--detach", sha)
        if moved.returncode != 0:
            return "cannot check out the commit itself"
        if setup and not procs.run(setup, cwd=checkout, env=env, timeout=timeout).ok:
            return "setup fails on the commit"
        if not procs.run(task.check, cwd=checkout, env=env, timeout=timeout).ok:
            return "the commit's own tests fail on the commit (no fix could pass them)"
    except RunProblem as problem:
        return str(problem)
    finally:
        remove(where)
    return ""
