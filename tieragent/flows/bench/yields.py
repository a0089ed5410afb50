"""A bench's results as yield tallies (flows/yield_history.py): per model and task class, the runs in
which the model made patch attempts, and those it solved. Solved here means the task's hidden check
passed: a false accept counts as a failure of the model whose patch it was."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...core.vocab import TASK_CLASSES, Step
from ..yield_history import Tallies, add_run
from .runs import SOLVED


def tallies_from_bench(records: Iterable[dict[str, Any]]) -> Tallies:
    out: Tallies = {}
    for rec in records:
        task_class = rec.get("task_class")
        if rec.get("kind") != "run" or task_class not in TASK_CLASSES:
            continue
        steps = rec.get("steps") or []
        solver = None
        if rec.get("outcome") == SOLVED:  # the accepted patch is the last one made at the accepted tier
            at_tier = [s for s in steps if s.get("step") == Step.PATCH and s.get("tier") == rec.get("accepted_tier")]
            solver = at_tier[-1].get("model") if at_tier else None
        add_run(out, task_class, steps, solver)
    return out
