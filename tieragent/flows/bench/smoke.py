"""`--suite builtin`: the smoke suite, written at run time into the bench's work directory.

For each task of `smoke_tasks`: a git repository with the buggy module and its visible test
(committed with fixed dates, so the commit is the same on every machine and a resumed bench finds
its pairs), the hidden check as a script outside the repository (tieragent never sees it), and a
task file with the scripted replies (diffs made from the edits here). `bench.yaml` adds two variants:
`one-try`, the cascade without retries, and `cascade-noverify`, the cascade without verification.
"""

from __future__ import annotations

import difflib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from .smoke_tasks import SMOKE_TASKS, Edit, Garbled, Reply, SmokeTask

SMOKE_VARIANTS = {
    "one-try": {"routing": {"attempts": {"mid": 1, "frontier": 1}}},
    "cascade-noverify": {"routing": {"verify": "never"}},  # the false accepts verification prevents
}
_FIXED_DATE = "2026-01-01T00:00:00+00:00"


def write_smoke_suite(dest: Path, python: str = sys.executable) -> Path:
    """Write the suite under `dest` and return its task directory (what `load_suite` reads)."""
    tasks_dir = dest / "tasks"
    checks_dir = dest / "checks"
    for d in (tasks_dir, checks_dir):
        d.mkdir(parents=True, exist_ok=True)
    py = shlex.quote(python)
    for task in SMOKE_TASKS:
        sha = _write_repo(task, dest / "repos" / task.id)
        check = checks_dir / f"{task.id}.py"
        check.write_text(
            f'"""The hidden check of the smoke task {task.id}."""\n{task.check}print("ok")\n', encoding="utf-8"
        )
        doc = {
            "repo": f"../repos/{task.id}",
            "commit": sha,
            "request": task.request,
            "check": f"{py} {shlex.quote(str(check))}",
            "test": f"{py} -m unittest -q",
            "scripted": scripted_replies(task),
        }
        (tasks_dir / f"{task.id}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=200), encoding="utf-8")
    (tasks_dir / "bench.yaml").write_text(
        yaml.safe_dump({"policies": SMOKE_VARIANTS}, sort_keys=False), encoding="utf-8"
    )
    return tasks_dir


def scripted_replies(task: SmokeTask) -> dict:
    classify = {
        "task_class": task.task_class,
        "risk": "low",
        "files": [task.module, task.test_file],
        "reason": f"A bug in {task.module}; {task.test_file} shows it.",
    }
    return {
        "classify": "```json\n" + json.dumps(classify) + "\n```",
        "patch": {tier: [render_reply(task, r) for r in replies] for tier, replies in task.replies.items()},
        "verify": [json.dumps(_verdict(task))],  # whichever tier verifies
    }


def _verdict(task: SmokeTask) -> dict[str, str]:
    if task.verify_rejects:
        return {"verdict": "reject", "reason": task.verify_rejects}
    return {"verdict": "accept", "reason": "The change does what the request asks."}


def render_reply(task: SmokeTask, reply: Reply) -> str:
    """A model-like reply: a sentence and a fenced unified diff."""
    if isinstance(reply, Edit):
        if reply.old not in task.source:
            raise ValueError(f"smoke task {task.id}: {reply.old!r} is not in {task.module}")
        new = task.source.replace(reply.old, reply.new, 1)
        diff = "".join(
            difflib.unified_diff(
                task.source.splitlines(keepends=True),
                new.splitlines(keepends=True),
                f"a/{task.module}",
                f"b/{task.module}",
            )
        )
        return f"{reply.note}\n\n```diff\n{diff}```\n"
    assert isinstance(reply, Garbled)
    diff = (
        f"--- a/{task.module}\n+++ b/{task.module}\n@@ -7,2 +7,2 @@\n def normalise(value):\n-{reply.old_line}\n"
        f"+{reply.new_line}\n"
    )
    return f"{reply.note}\n\n```diff\n{diff}```\n"


def _write_repo(task: SmokeTask, repo: Path) -> str:
    """The task's repository with one commit; its hash (the same on every run)."""
    if repo.exists():
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
        if head.returncode == 0:
            return head.stdout.strip()
    repo.mkdir(parents=True, exist_ok=True)
    (repo / task.module).write_text(task.source, encoding="utf-8")
    (repo / task.test_file).write_text(task.tests, encoding="utf-8")
    (repo / "README.md").write_text(f"Smoke task `{task.id}` of `tieragent bench --suite builtin`.\n", encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "tieragent bench",
        "GIT_AUTHOR_EMAIL": "bench@tieragent.invalid",
        "GIT_COMMITTER_NAME": "tieragent bench",
        "GIT_COMMITTER_EMAIL": "bench@tieragent.invalid",
        "GIT_AUTHOR_DATE": _FIXED_DATE,
        "GIT_COMMITTER_DATE": _FIXED_DATE,
    }
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "commit.gpgsign=false", "commit", "-q", "-m", f"{task.id}: a seeded bug"],
    ):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
