"""How much a validated patch's passing tests say about it: thin evidence is a reason to have it verified.

Evidence is thin when no test that failed before passes now, when the tests about the request hold a
single assertion between them, or when some changed lines run under no test (`coverage.py`, see
`judge/coverage.py`). Each signal may be absent (a runner without per-test results, a test whose source
is not Python, no coverage.py): an absent signal says nothing, it is never taken as thin.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from pathlib import Path

# calls that check something besides `assert`: unittest's assertX and fail, pytest.raises and warns, mock's
# assert_called_with, expect(...)
_CHECK_NAMES = frozenset({"fail", "raises", "warns", "expect"})
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def thin_reasons(fixed: int, assertions: int | None, uncovered: Sequence[str] | None) -> tuple[str, ...]:
    """Why the tests say little about a patch; () when they say enough.

    `fixed`: tests (or, without per-test results, failing runs) that failed before the patch and pass now.
    `assertions`: the assertions in the tests about the request; None when they could not be counted.
    `uncovered`: changed lines no test executed ("path:line"); None when coverage was not measured.
    """
    reasons: list[str] = []
    if fixed == 0:
        reasons.append("no test that failed before the patch passes now")
    if assertions is not None and assertions <= 1:
        reasons.append("the tests about the request hold a single assertion")
    if uncovered:
        shown = ", ".join(uncovered[:3]) + (f" (and {len(uncovered) - 3} more)" if len(uncovered) > 3 else "")
        reasons.append(f"{len(uncovered)} changed line(s) run under no test: {shown}")
    return tuple(reasons)


def count_assertions(root: Path, test_ids: Iterable[str]) -> int | None:
    """The assertions in these tests' Python source, together; None when any test cannot be found or
    holds none that can be seen (it may check through a helper): then nothing is known."""
    total, seen = 0, False
    cache: dict[Path, ast.Module | None] = {}
    for test_id in test_ids:
        found = _test_function(root, test_id, cache)
        count = _assertions_in(found) if found is not None else 0
        if count == 0:
            return None
        total, seen = total + count, True
    return total if seen else None


def _test_function(
    root: Path, test_id: str, cache: dict[Path, ast.Module | None]
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function a test id names: `tests.test_ops::test_add`, `tests/test_ops.py::TestX::test_y[1]`,
    `test_dates.LeapTest::test_years` (unittest's ids read like pytest's; see `textreports.unittest_id`)."""
    prefix, _, name = test_id.split("[", 1)[0].partition("::")  # without pytest's parameters
    if not name:
        return None
    parts = [*prefix.removesuffix(".py").replace("/", ".").split("."), *name.split("::")]
    for cut in range(len(parts) - 1, 0, -1):
        path = root.joinpath(*parts[:cut]).with_suffix(".py")
        if path.is_file():
            module = _parse(path, cache)
            return _find(module.body, parts[cut:]) if module is not None else None
    return None


def _parse(path: Path, cache: dict[Path, ast.Module | None]) -> ast.Module | None:
    if path not in cache:
        try:
            cache[path] = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError, OSError):
            cache[path] = None
    return cache[path]


def _find(body: list[ast.stmt], names: list[str]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in body:
        if getattr(node, "name", None) != names[0]:
            continue
        if len(names) == 1 and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
        if len(names) > 1 and isinstance(node, ast.ClassDef):
            return _find(node.body, names[1:])
    return None


def _assertions_in(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """assert statements and checking calls; one inside a loop or a comprehension checks many cases, so
    it counts twice (a loop over one assertion is not a single assertion)."""
    count = 0
    loops = [n for n in ast.walk(function) if isinstance(n, _LOOPS)]
    in_loop = {id(inner) for loop in loops for inner in ast.walk(loop)}
    for node in ast.walk(function):
        if isinstance(node, ast.Assert) or (isinstance(node, ast.Call) and _is_check(node.func)):
            count += 2 if id(node) in in_loop else 1
    return count


def _is_check(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name.lower().startswith("assert") or name in _CHECK_NAMES
