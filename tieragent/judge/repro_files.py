"""Where a `--repro` test goes and how it is written, in each ecosystem's convention.

The test must be found by the repository's own test command (so validation runs it after the
patch) and runnable on its own (so the step that checks it fails before the patch runs only it):

| runner | repro test | run alone with |
|---|---|---|
| pytest | `tests/test_tieragent_repro.py` | the path as an argument |
| node --test, jest, vitest, mocha | `tieragent_repro.test.<ext>` beside the tests | the path (after `--` for npm) |
| go test | `tieragent_repro_test.go` in the picked file's package | that package, `-run` its test functions |
| cargo test | `tests/tieragent_repro.rs` (an integration test) | `--test tieragent_repro` |
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .adapters import Adapter, CargoTest, GoTest, Jest, Mocha, NodeTest, Pytest, Script, Vitest

PYTHON_NAME = "test_tieragent_repro.py"
_SKIP_DIRS = {"node_modules", ".git", "dist", "build", "coverage", ".next", "out", "vendor", "target"}
_JS_TEST = re.compile(r"\.(test|spec)\.(c|m)?(js|ts|jsx|tsx)$|^(test|spec)[-_].*\.(c|m)?(js|ts)$")
_JS_EXT = {".tsx": ".ts", ".jsx": ".js", ".mts": ".ts", ".cts": ".ts"}


@dataclass(frozen=True)
class ReproSpec:
    path: str  # repo-relative path of the test file to write
    conventions: str  # how to write it, for the prompt: framework, imports, naming


def python_repro_path(root: Path) -> str:
    """Beside the existing tests: tests/ or test/ when there is one, else the repository root."""
    for d in ("tests", "test"):
        if (root / d).is_dir():
            return f"{d}/{PYTHON_NAME}"
    return PYTHON_NAME


def _js_tests(root: Path, depth: int = 4) -> list[Path]:
    found: list[Path] = []

    def walk(folder: Path, level: int) -> None:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for p in entries:
            if p.is_dir() and p.name not in _SKIP_DIRS and not p.name.startswith(".") and level < depth:
                walk(p, level + 1)
            elif p.is_file() and (
                _JS_TEST.search(p.name)
                or (folder.name in ("test", "tests", "__tests__") and p.suffix in (".js", ".ts", ".mjs", ".cjs"))
            ):
                found.append(p)

    walk(root, 0)
    return found[:500]


def _js_module_type(root: Path) -> str:
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "commonjs"
    return "module" if isinstance(data, dict) and data.get("type") == "module" else "commonjs"


def js_repro_path(root: Path) -> str:
    """`tieragent_repro.test.<ext>` in the folder holding most existing test files (with their
    extension), else in test/."""
    tests = _js_tests(root)
    if not tests:
        return "test/tieragent_repro.test.js"
    folders = Counter(p.parent.relative_to(root).as_posix() for p in tests)
    folder = sorted(folders, key=lambda f: (-folders[f], len(f)))[0]
    ext = Counter(_JS_EXT.get(p.suffix, p.suffix) for p in tests).most_common(1)[0][0]
    name = f"tieragent_repro.test{ext}"
    return name if folder == "." else f"{folder}/{name}"


def _go_package(root: Path, picked: list[str]) -> tuple[str, str]:
    """(folder, package name) of the first picked Go file (not a test), else of the repository root."""
    for rel in picked:
        if rel.endswith(".go") and not rel.endswith("_test.go") and (root / rel).is_file():
            m = re.search(r"^package\s+(\w+)", (root / rel).read_text(encoding="utf-8", errors="replace"), re.M)
            if m:
                return Path(rel).parent.as_posix(), m.group(1)
    for p in sorted(root.glob("*.go")):
        m = re.search(r"^package\s+(\w+)", p.read_text(encoding="utf-8", errors="replace"), re.M)
        if m:
            return ".", m.group(1)
    return ".", "main"


def _crate(root: Path) -> str | None:
    """The library crate's name as Rust code imports it, or None when the package has no library."""
    try:
        text = (root / "Cargo.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    lib = re.search(r"^\[lib\][^\[]*?^name\s*=\s*\"([^\"]+)\"", text, re.M | re.S)
    package = re.search(r"^\[package\][^\[]*?^name\s*=\s*\"([^\"]+)\"", text, re.M | re.S)
    if not (root / "src/lib.rs").is_file() and not re.search(r"^\[lib\]", text, re.M):
        return None
    name = lib.group(1) if lib else package.group(1) if package else None
    return name.replace("-", "_") if name else None


def repro_spec(adapter: Adapter, root: Path, picked: list[str]) -> ReproSpec | str:
    """Where and how to write the repro test for this runner, or why --repro cannot work with it."""
    inner = adapter.inner if isinstance(adapter, Script) else adapter
    if isinstance(inner, Pytest):
        return ReproSpec(
            python_repro_path(root),
            "a pytest test module (plain `def test_...()` functions with `assert`), "
            "importing the code under test the way the existing tests do.",
        )
    if isinstance(inner, (NodeTest, Jest, Vitest, Mocha)):
        path = js_repro_path(root)
        esm = _js_module_type(root) == "module" or path.endswith((".mjs", ".ts"))
        imports = "ES module `import` statements" if esm else "`require(...)`"
        framework = {
            NodeTest: (
                "node's built-in test runner: `test('...', () => {...})` from `node:test` and `assert` from "
                "`node:assert/strict`"
            ),
            Jest: "a jest test: `test('...', () => { expect(...).toBe(...) })` (jest's globals)",
            Vitest: "a vitest test: `import { test, expect } from 'vitest'`",
            Mocha: "a mocha test: `describe`/`it` (mocha's globals) and `assert` from `node:assert/strict`",
        }[type(inner)]
        return ReproSpec(
            path, f"{framework}, importing the code under test with {imports}, the way the existing tests do."
        )
    if isinstance(inner, GoTest):
        folder, package = _go_package(root, picked)
        path = "tieragent_repro_test.go" if folder == "." else f"{folder}/tieragent_repro_test.go"
        return ReproSpec(
            path,
            f'a Go test file in `package {package}` (the package of the code under test): `import "testing"`, '
            "functions `func TestTieragentRepro...(t *testing.T)` that fail with `t.Errorf` or `t.Fatalf`.",
        )
    if isinstance(inner, CargoTest):
        crate = _crate(root)
        if crate is None:
            return "cargo test: the package has no library crate (src/lib.rs) an integration test could use"
        how = (
            "a Rust integration test using the crate's public API (`use CRATE::...;`), with `#[test] fn ...() { "
            "assert_eq!(...) }` functions."
        )
        return ReproSpec("tests/tieragent_repro.rs", how.replace("CRATE", crate))
    return (
        "--repro needs pytest, node --test, jest, vitest, mocha, go test or cargo test, and the test command runs "
        f"{adapter.name}" + (f" ({adapter.why})" if adapter.why else "")
    )
