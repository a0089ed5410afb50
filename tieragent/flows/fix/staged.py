"""Staged validation: a candidate's targeted tests first, then the full suite, with the full suite's verdict.

The targeted tests are the failing tests the request is about (their files) and the test files that
use the changed files (the repository map's dependents), plus changed test files. A candidate whose
targeted tests prove it would be refused (judge/staged.py) is refused at once, without the full suite;
any other candidate runs the full suite, whose verdict alone accepts (so the lint runs after it, as
before). There is no first stage when `validate.staged` is false, when the runner cannot run a chosen
set of files (judge/adapters.py `targets_files`), or when the selection is empty or every test file.
"""

from __future__ import annotations

import time

from ...judge.validation import Baseline, Validation
from ...repo.map.rank import file_kind
from .session import Session


def targeted_files(s: Session, targets: frozenset[str], changed: list[str], new_tests: frozenset[str]) -> list[str]:
    """The test files a candidate runs first ([] when there is no first stage); `new_tests`: the --repro test."""
    adapter, root = s.validator.adapter, s.ws.root
    if not s.cfg.validation.staged or not adapter.per_test or not adapter.targets_files(s.deps.test_command, root):
        return []
    repo_map = s.repo_map()
    test_files = [p for p in repo_map.paths if file_kind(p) == "test"]
    chosen = [f for f in test_files if any(adapter.owns(t, f, root) for t in targets)] + sorted(new_tests)
    for path in changed:
        if file_kind(path) == "test":
            chosen.append(path)
        chosen += [q for q, _ in repo_map.dependents(path) if file_kind(q) == "test"]
    picked = [f for f in dict.fromkeys(chosen) if (root / f).is_file()]
    if set(picked) >= set(test_files):  # nothing to save: the full suite alone
        return []
    return sorted(picked)


def validate(
    s: Session,
    baseline: Baseline,
    targets: tuple[frozenset[str], str],
    changed: list[str],
    new_tests: frozenset[str] = frozenset(),
) -> Validation:
    """The verdict on the applied candidate (its `seconds`: what its tests and lint took, both stages)."""
    started = time.monotonic()
    wanted, rule = targets
    per_test = baseline.tests.cases is not None  # else only the full suite's exit code can judge
    files = targeted_files(s, wanted, changed, new_tests) if per_test else []
    if files:
        s.events.validating(f"targeted tests first: {', '.join(files)}")
        first = s.validator.check_targeted(baseline, files, set(wanted), rule)
        if not first.ok:
            first.seconds = time.monotonic() - started
            return first
    s.events.validating(
        f"validating: {s.deps.test_command}" + (f" && {s.deps.lint_command}" if s.deps.lint_command else "")
    )
    full = s.validator.check(baseline, changed, set(wanted), rule)
    if files:
        full.checks["targeted_first"] = first.checks
    full.seconds = time.monotonic() - started
    return full
