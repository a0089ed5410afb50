"""Bench tasks and suites: small YAML files saying which repository, which commit, what to ask, and how
to tell afterwards whether the fix was right.

A task:

    repo: ../repos/stats          # a path (relative to this file) or a URL git can clone
    commit: 1a2b3c4               # any revision git can resolve there
    request: median() is wrong for even-length lists
    # check: must pass after a correct fix; tieragent never sees it
    check: python -m pytest -q {task_dir}/hidden/test_median.py
    setup: pip install -e .       # optional: run in the fresh checkout before the fix
    test: python -m pytest -q     # optional: the test command tieragent validates with; else detected
    lint: ruff check .            # optional: the lint command tieragent validates with
    test_patch: |                 # optional: a diff committed in the checkout first (a commit's new tests)
      diff --git ...
    scripted:                     # optional: model replies for `--scripted` runs, per step (and tier)
      classify: '{"task_class": "local", ...}'
      patch: {small: [...], mid: [...], frontier: [...]}

`check` and `setup` run in the fresh checkout, with the checkout (and its src/) on PYTHONPATH;
`{task_dir}` in them is the task file's directory, so a hidden test can live beside the task, out
of the repository (where tieragent would see it).

A suite is a directory of such files, or one YAML file holding a list of them (or a mapping with
`tasks:` and `policies:`). A `bench.yaml` beside the tasks may name policy variants (`policies:`,
see `policies.py`). Every error names the file and the field, and exits 2: a bench that runs for
an hour must not fail on a typo in its last task.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...core.errors import ConfigError, UsageError
from ...core.vocab import TIERS, Step

BENCH_FILE_NAMES = ("bench.yaml", "bench.yml")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[^/\s]+@[^/\s]+:)", re.I)  # https://, ssh://, file://, git@host:path
ANY_TIER = "*"  # scripted replies for a step whatever the tier
TASK_DIR = "{task_dir}"  # in `check` and `setup`: the task file's directory


class _TaskFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, min_length=1)
    repo: str = Field(min_length=1)
    commit: str = Field(min_length=1)
    request: str = Field(min_length=1)
    check: str = Field(min_length=1)
    setup: str | None = None
    test: str | None = None
    lint: str | None = None
    test_patch: str | None = None
    scripted: dict[str, Any] | None = None


@dataclass(frozen=True)
class Task:
    """One bench task. `origin` and `sha` are filled by `checkout.resolve_sources`: where the
    checkouts are cloned from (a local repository or a cached clone of a URL) and the commit."""

    id: str
    repo: str  # an absolute path, or a URL as written
    commit: str
    request: str
    check: str
    source: str  # the file it came from, for error messages
    where: str = ""  # its place in that file ("" for a file holding one task, "[2]" in a list)
    setup: str | None = None
    test: str | None = None
    lint: str | None = None
    test_patch: str | None = None
    scripted: dict[str, dict[str, list[str]]] | None = None  # step -> tier (or "*") -> replies
    origin: str = ""
    sha: str = ""

    def key(self, name: str) -> str:
        """The dotted key of one of this task's fields, as errors name it."""
        return f"{self.where}.{name}" if self.where else name

    def to_yaml_dict(self) -> dict[str, Any]:
        """The task as a file would hold it (for tasks mined from history, written for reruns)."""
        out: dict[str, Any] = {
            "id": self.id,
            "repo": self.repo,
            "commit": self.sha or self.commit,
            "request": self.request,
            "check": self.check,
        }
        for name in ("setup", "test", "lint", "test_patch", "scripted"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


@dataclass
class Suite:
    tasks: list[Task]
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)  # policy name -> partial tieragent config
    variants_source: str = ""  # the file the variants came from


def is_url(repo: str) -> bool:
    return bool(_URL.match(repo))


def load_suite(path: Path) -> Suite:
    """A directory of task files (and its bench.yaml), or one YAML file: a list of tasks, one task, or
    a mapping with `tasks:` (and `policies:`)."""
    if not path.exists():
        raise UsageError(f"--suite {path}: no such file or directory")
    tasks: list[Task] = []
    variants: dict[str, dict[str, Any]] = {}
    variants_source = ""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.name not in BENCH_FILE_NAMES)
        for f in files:
            tasks.extend(_tasks_in(_read(f), f))
        bench_file = next((path / n for n in BENCH_FILE_NAMES if (path / n).is_file()), None)
    else:
        data = _read(path)
        if isinstance(data, dict) and "tasks" in data:
            unknown = sorted(set(data) - {"tasks", "policies"})
            if unknown:
                raise ConfigError(str(path), unknown[0], "unknown key (a suite file holds `tasks:` and `policies:`)")
            tasks.extend(_tasks_in(data["tasks"], path, force_list=True))
            variants, variants_source = _variants(data.get("policies"), path, "policies"), str(path)
        else:
            tasks.extend(_tasks_in(data, path))
        bench_file = (
            None
            if path.name in BENCH_FILE_NAMES
            else next((path.parent / n for n in BENCH_FILE_NAMES if (path.parent / n).is_file()), None)
        )
    if bench_file is not None:
        data = _read(bench_file)
        if not isinstance(data, dict):
            raise ConfigError(str(bench_file), "(top level)", "must be a mapping (policies: {name: partial config})")
        unknown = sorted(set(data) - {"policies"})
        if unknown:
            raise ConfigError(str(bench_file), unknown[0], "unknown key (bench.yaml holds `policies:`)")
        variants.update(_variants(data.get("policies"), bench_file, "policies"))
        variants_source = str(bench_file)
    if not tasks:
        raise UsageError(
            f"--suite {path}: no tasks found (task files are *.yaml mappings with repo, commit, request and check)"
        )
    _unique_ids(tasks)
    return Suite(tasks, variants, variants_source)


def select_tasks(tasks: list[Task], wanted: list[str]) -> list[Task]:
    """`--tasks a,b`: these tasks, in the suite's order; an unknown id is an error that lists the known ones."""
    if not wanted:
        return tasks
    known = {t.id for t in tasks}
    missing = [w for w in wanted if w not in known]
    if missing:
        raise UsageError(f"--tasks: no task {missing[0]!r} in the suite", hint=f"Tasks: {', '.join(sorted(known))}")
    return [t for t in tasks if t.id in wanted]


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(str(path), "(file)", f"cannot read: {err.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ConfigError(
            str(path), f"line {mark.line + 1}" if mark else "(file)", f"not valid YAML: {getattr(err, 'problem', err)}"
        ) from None


def _tasks_in(data: Any, path: Path, *, force_list: bool = False) -> list[Task]:
    if isinstance(data, dict) and not force_list:
        return [_task(data, path, "", path.stem)]
    if isinstance(data, list):
        return [_task(item, path, f"[{n}]", f"{path.stem}-{n + 1}") for n, item in enumerate(data)]
    what = "tasks" if force_list else "(top level)"
    raise ConfigError(
        str(path), what, "must be a task (a mapping with repo, commit, request, check) or a list of tasks"
    )


def _task(data: Any, path: Path, where: str, default_id: str) -> Task:
    if not isinstance(data, dict):
        raise ConfigError(str(path), where or "(top level)", "must be a mapping with repo, commit, request and check")
    if isinstance(data.get("commit"), int):  # an all-digit abbreviated hash, read by YAML as a number
        data = {**data, "commit": str(data["commit"])}
    try:
        f = _TaskFields.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        kind = err.get("type", "")
        reason = (
            "missing"
            if kind == "missing"
            else "unknown key"
            if kind == "extra_forbidden"
            else err.get("msg", "invalid")
        )
        raise ConfigError(str(path), f"{where}.{loc}" if where else loc, reason) from None
    task_id = f.id or default_id
    key = f"{where}.id" if where else "id"
    if not _ID.match(task_id):
        raise ConfigError(str(path), key, f"{task_id!r}: use letters, digits, '.', '_' and '-' (it names directories)")
    repo = f.repo.strip()
    if not is_url(repo):
        repo = str((path.parent / Path(repo).expanduser()).resolve())
    scripted = (
        _scripted(f.scripted, path, f"{where}.scripted" if where else "scripted") if f.scripted is not None else None
    )
    here = shlex.quote(str(path.parent.resolve()))
    setup = f.setup.replace(TASK_DIR, here) if f.setup else None
    return Task(
        task_id,
        repo,
        str(f.commit).strip(),
        f.request,
        f.check.replace(TASK_DIR, here),
        str(path),
        where,
        setup,
        f.test,
        f.lint,
        f.test_patch,
        scripted,
    )


_STEPS = {s.value for s in Step}


def _scripted(data: dict[str, Any], path: Path, key: str) -> dict[str, dict[str, list[str]]]:
    """step -> reply, [replies], or {tier: reply | [replies]}; normalized to step -> tier|"*" -> [replies]."""
    out: dict[str, dict[str, list[str]]] = {}
    for step, value in data.items():
        if step not in _STEPS:
            raise ConfigError(str(path), f"{key}.{step}", f"not a step (one of {', '.join(sorted(_STEPS))})")
        if isinstance(value, dict):
            per_tier: dict[str, list[str]] = {}
            for tier, replies in value.items():
                if tier not in TIERS:
                    raise ConfigError(str(path), f"{key}.{step}.{tier}", f"not a tier (one of {', '.join(TIERS)})")
                per_tier[tier] = _replies(replies, path, f"{key}.{step}.{tier}")
            out[step] = per_tier
        else:
            out[step] = {ANY_TIER: _replies(value, path, f"{key}.{step}")}
    return out


def _replies(value: Any, path: Path, key: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(x, str) for x in items):
        raise ConfigError(str(path), key, "must be a reply (text) or a list of replies")
    return list(items)


def _variants(data: Any, path: Path, key: str) -> dict[str, dict[str, Any]]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), key, "must be a mapping of policy names to partial tieragent configs")
    out = {}
    for name, spec in data.items():
        if not isinstance(spec, dict):
            raise ConfigError(
                str(path), f"{key}.{name}", "must be a partial tieragent config (a mapping, e.g. routing: {...})"
            )
        if not _ID.match(str(name)):
            raise ConfigError(str(path), f"{key}.{name}", "use letters, digits, '.', '_' and '-' in policy names")
        out[str(name)] = spec
    return out


def _unique_ids(tasks: list[Task]) -> None:
    seen: dict[str, Task] = {}
    for t in tasks:
        if t.id in seen:
            raise ConfigError(t.source, t.key("id"), f"{t.id!r} is also the id of a task in {seen[t.id].source}")
        seen[t.id] = t
