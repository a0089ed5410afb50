"""`tieragent bench --apply`: the start tiers the bench measured, written into the repository's `.tieragent.yaml`.

After a complete bench, each task class the bench ran gets the start tier with the least expected cost
per solved task (routing/yield_fit.py) from the bench's own runs, where a run counts as solved only when
the task's hidden check passed. The change is shown as a diff of the file and asked about; in CI mode or
without a terminal it is made only with `--yes` (checked before the bench starts, so no run is wasted).
Only `routing.start` changes: the classes the bench did not run keep what the file says (routing_edit.py).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from ..core.config import REPO_CONFIG_NAME, Config
from ..core.errors import TieragentError, UsageError
from ..core.trust import config_digest, is_trusted, remember_trusted
from .common import ask_on_terminal
from .errors import report_error
from .routing_edit import new_start, set_routing_start
from .streams import output_mode

QUESTION = f"Write this to {REPO_CONFIG_NAME}?"


@dataclass(frozen=True)
class Applying:
    """An `--apply` that may go ahead: the file it writes, and whether it asks first."""

    path: Path
    ask: bool


def check_apply(apply: bool, yes: bool, directory: Path) -> Applying | None:
    """Before the bench: None without `--apply`; a UsageError when nobody could confirm and `--yes` is missing."""
    from ..repo.workspace import GitWorkspace

    if not apply:
        return None
    ws = GitWorkspace.open(directory)  # not a repository: exit 2, with git's reason
    if not yes and not output_mode(None, None).interactive:
        raise UsageError(
            f"--apply shows the change to {REPO_CONFIG_NAME} and asks before writing it, and nobody can answer here "
            "(CI mode, or no terminal)",
            hint="Add --yes to write it without asking.",
        )
    return Applying(ws.root / REPO_CONFIG_NAME, ask=not yes)


def measured_starts(user_layer: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The start of each class the bench ran, from its runs, as `ledger --fit` shows a choice."""
    from ..flows.bench.yields import tallies_from_bench
    from ..flows.yield_history import fitted_starts
    from .yield_view import config_prices

    cfg = Config.model_validate(user_layer)
    rates = tallies_from_bench(records)
    measured = {c for _, c in rates}
    starts = fitted_starts(cfg, config_prices(cfg), rates)
    return {c: choice.to_json() for c, choice in starts.items() if c in measured}


def apply_measured(
    applying: Applying | None, status: str, records: list[dict[str, Any]], ctx: Any, err: Console
) -> int:
    """After the bench (`ctx`: its RunContext): show the measured starts and the diff, ask, write. Everything
    goes to stderr (stdout holds the bench's report); returns 0, or the exit code of an error (nothing written)."""
    if applying is None:
        return 0
    if status != "complete":
        err.print(f"--apply: {REPO_CONFIG_NAME} not changed: the bench is {status}", markup=False)
        return 0
    starts = measured_starts(ctx.user, records)
    if not starts:
        err.print(f"--apply: {REPO_CONFIG_NAME} not changed: no run of a classified task to measure", markup=False)
        return 0
    from .yield_view import estimate_line

    for task_class, choice in starts.items():
        err.print(f"{task_class}: starts at {choice['start']} ({choice['why']})", markup=False)
        for e in choice["estimates"]:
            err.print(f"  {estimate_line(e)}", markup=False)
    try:
        _write(applying, {c: s["start"] for c, s in starts.items()}, ctx.bench_id, err)
    except TieragentError as e:
        return report_error(e, as_json=False)
    return 0


def _write(applying: Applying, measured: dict[str, str], bench_id: str, err: Console) -> None:
    import yaml

    path = applying.path
    try:
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        current = ((yaml.safe_load(old) or {}).get("routing") or {}).get("start")
        new, kept = set_routing_start(old, new_start(current, measured), f"measured by tieragent bench {bench_id}")
    except (yaml.YAMLError, ValueError, AttributeError):
        raise UsageError(f"--apply: {path} is not a YAML mapping this can edit; nothing was written") from None
    except OSError as e:
        raise UsageError(f"--apply: cannot read {path} ({e.strerror}); nothing was written") from None
    if new == old:
        err.print(f"--apply: {REPO_CONFIG_NAME} already says this", markup=False)
        return
    diff = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{REPO_CONFIG_NAME}", f"b/{REPO_CONFIG_NAME}"
    )
    err.print("".join(diff).rstrip("\n"), markup=False, highlight=False)
    if not kept:
        err.print(
            f"(the line edit could not keep the file's layout: {REPO_CONFIG_NAME} is rewritten whole, "
            "without its comments)",
            markup=False,
        )
    if applying.ask and not ask_on_terminal(QUESTION):
        err.print(f"--apply: {REPO_CONFIG_NAME} not changed", markup=False)
        return
    trusted = is_trusted(path.parent, config_digest(old))
    try:
        _replace(path, new)
    except OSError as e:
        raise UsageError(f"--apply: cannot write {path} ({e.strerror}); nothing was written") from None
    if trusted:  # only routing.start changed, which is not a guarded setting: the user's trust in the file stays
        remember_trusted(path.parent, config_digest(new), ["kept by tieragent bench --apply (routing.start only)"])
    err.print(f"--apply: wrote routing.start to {path}", markup=False)


def _replace(path: Path, text: str) -> None:
    """The file replaced whole or not at all, with its permissions kept."""
    temp = path.with_name(f".{path.name}.tieragent-apply")
    temp.write_text(text, encoding="utf-8")
    if path.exists():
        os.chmod(temp, path.stat().st_mode & 0o777)
    os.replace(temp, path)
