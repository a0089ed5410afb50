"""Which commands run a repository's tests and its linter, guessed from the files it holds.

The one place for these facts: `tieragent init` writes what this finds into `.tieragent.yaml`
(with the evidence as a comment), and `fix`/`review` fall back to it when `validate.test` is
unset (`validation.detect_test_command`). Pure: it reads files under `root`, runs nothing.

When several runners match, the most specific one wins: a language's own runner (pytest,
unittest, npm, go, cargo) before a wrapper (tox, nox, make), because the own runner is what the
repository's tests are written for and gives per-test results to judge a patch by (see `runners`;
a wrapper gives only its exit code, unless validate.junit_xml says where its reports are).
The same for linters: a configured tool before `make lint`. The losers are kept as `also`.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

MAX_TEST_FILES = 200  # test files read for their imports; enough to tell the framework
HEAD_BYTES = 20_000  # of each file read: imports are at the top


@dataclass(frozen=True)
class Found:
    """One tool that matched: its command and the files that say so."""

    tool: str
    command: str
    evidence: str  # "conftest.py, tests/test_ops.py"


@dataclass(frozen=True)
class Detected:
    tests: tuple[Found, ...]  # every test runner that matched, the chosen one first
    lints: tuple[Found, ...]  # every linter that matched, the chosen one first

    @property
    def test(self) -> str | None:
        return self.tests[0].command if self.tests else None

    @property
    def lint(self) -> str | None:
        return self.lints[0].command if self.lints else None

    def explain(self, kind: str) -> str:
        """One line for a config comment: what was chosen, from what, and what else matched."""
        found = self.tests if kind == "test" else self.lints
        if not found:
            return "nothing detected"
        line = f"{found[0].tool}, detected from {found[0].evidence}"
        if len(found) > 1:
            line += "; also found: " + ", ".join(f"{f.tool} ({f.evidence})" for f in found[1:])
        return line


def python_command() -> str:
    """`python` where it exists (a venv, pyenv), else `python3` (Debian and macOS without a venv)."""
    return "python" if shutil.which("python") else "python3"


def _read(p: Path, limit: int | None = None) -> str:
    try:
        with p.open("r", encoding="utf-8", errors="replace") as f:
            return f.read(limit) if limit else f.read()
    except OSError:
        return ""


def _test_files(root: Path) -> list[Path]:
    """Python test files at the top, one folder down (a package's own tests), and anywhere under
    tests/ or test/: test_*.py and *_test.py as pytest names them, tests.py as Django does."""
    found: dict[Path, None] = {}
    for pattern in ("test_*.py", "*_test.py", "tests.py", "*/test_*.py", "*/*_test.py", "*/tests.py"):
        found.update((p, None) for p in sorted(root.glob(pattern)) if p.is_file())
    for d in ("tests", "test"):
        if (root / d).is_dir():
            for p in sorted((root / d).rglob("*.py")):
                if len(found) >= MAX_TEST_FILES:
                    break
                if p.name.startswith("test") or p.name.endswith("_test.py"):
                    found[p] = None
    return list(found)[:MAX_TEST_FILES]


_IMPORTS_PYTEST = re.compile(r"^\s*(import pytest|from pytest\b)", re.M)
_IMPORTS_UNITTEST = re.compile(r"^\s*(import unittest|from unittest\b)", re.M)


def _python_tests(root: Path, texts: dict[str, str]) -> list[Found]:
    py = python_command()
    signs = []  # what says the tests are pytest's
    for name in ("pytest.ini", "conftest.py", "tests/conftest.py", "test/conftest.py"):
        if (root / name).is_file():
            signs.append(name)
    if "[tool.pytest" in texts["pyproject.toml"]:
        signs.append("[tool.pytest] in pyproject.toml")
    elif re.search(r"\bpytest\b", texts["pyproject.toml"]):
        signs.append("pytest in pyproject.toml")
    if "[tool:pytest]" in texts["setup.cfg"]:
        signs.append("[tool:pytest] in setup.cfg")
    if "[pytest]" in texts["tox.ini"]:
        signs.append("[pytest] in tox.ini")
    elif re.search(r"\bpytest\b", texts["tox.ini"]):
        signs.append("tox.ini runs pytest")
    if re.search(r"\bpytest\b", _read(root / "noxfile.py")):
        signs.append("noxfile.py runs pytest")
    for req in sorted(root.glob("requirements*.txt")):
        if re.search(r"^\s*pytest\b", _read(req), re.M):
            signs.append(f"pytest in {req.name}")
    files = _test_files(root)
    heads = {p: _read(p, HEAD_BYTES) for p in files}
    rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    pytest_files = [p for p, t in heads.items() if _IMPORTS_PYTEST.search(t)]
    unittest_files = [p for p, t in heads.items() if _IMPORTS_UNITTEST.search(t)]
    plain = [p for p in files if p not in unittest_files]
    if pytest_files:
        signs.append(f"{rel(pytest_files[0])} imports pytest")
    if unittest_files and not signs and not plain:
        # every test file is a unittest module and nothing mentions pytest: the standard library runs them
        in_tests = [p for p in unittest_files if p.parent != root]
        top = in_tests[0].relative_to(root).parts[0] if in_tests else ""
        # discovery from the top only enters packages; a tests/ without __init__.py needs -s
        command = (
            f"{py} -m unittest discover -s {top}"
            if top and not (root / top / "__init__.py").is_file()
            else f"{py} -m unittest"
        )
        return [Found("unittest", command, f"{rel(unittest_files[0])} imports unittest")]
    if files and not pytest_files:
        signs.append(", ".join(rel(p) for p in files[:2]) + (" ..." if len(files) > 2 else ""))
    return [Found("pytest", f"{py} -m pytest -q", ", ".join(signs))] if signs else []


def _package_json(root: Path) -> dict:
    try:
        data = json.loads(_read(root / "package.json"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


_NPM_PLACEHOLDER = "no test specified"  # what `npm init` writes: a test script that only fails


def _make_targets(text: str) -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?![=:])", text, re.M))


def detect_commands(root: Path) -> Detected:
    """Every test runner and linter the files under `root` point at, the most specific first."""
    root = Path(root)
    texts = {n: _read(root / n) for n in ("pyproject.toml", "setup.cfg", "tox.ini", "Makefile")}
    has = lambda name: (root / name).is_file()  # noqa: E731
    tests: list[Found] = list(_python_tests(root, texts))
    lints: list[Found] = []

    pkg = _package_json(root) if has("package.json") else {}
    script = (pkg.get("scripts") or {}).get("test") if isinstance(pkg.get("scripts"), dict) else None
    if isinstance(script, str) and script.strip() and _NPM_PLACEHOLDER not in script:
        manager = "pnpm" if has("pnpm-lock.yaml") else "yarn" if has("yarn.lock") else "npm"
        lock = {"pnpm": " and pnpm-lock.yaml", "yarn": " and yarn.lock", "npm": ""}[manager]
        tests.append(Found(f"{manager} test", f"{manager} test", f"scripts.test in package.json{lock}"))
    if has("go.mod"):
        tests.append(Found("go test", "go test ./...", "go.mod"))
    if has("Cargo.toml"):
        tests.append(Found("cargo test", "cargo test", "Cargo.toml"))
    if has("tox.ini"):
        tests.append(Found("tox", "tox", "tox.ini"))
    if has("noxfile.py"):
        tests.append(Found("nox", "nox", "noxfile.py"))
    targets = _make_targets(texts["Makefile"])
    if "test" in targets:
        tests.append(Found("make test", "make test", "a test: target in Makefile"))

    ruff = [n for n in ("ruff.toml", ".ruff.toml") if has(n)] + (
        ["[tool.ruff] in pyproject.toml"] if "[tool.ruff" in texts["pyproject.toml"] else []
    )
    if ruff:
        lints.append(Found("ruff", "ruff check .", ", ".join(ruff)))
    flake8 = [".flake8"] if has(".flake8") else []
    flake8 += [f"[flake8] in {n}" for n in ("setup.cfg", "tox.ini") if "[flake8]" in texts[n]]
    if flake8:
        lints.append(Found("flake8", "flake8", ", ".join(flake8)))
    mypy = [n for n in ("mypy.ini", ".mypy.ini") if has(n)] + (
        ["[tool.mypy] in pyproject.toml"] if "[tool.mypy" in texts["pyproject.toml"] else []
    )
    mypy += ["[mypy] in setup.cfg"] if "[mypy]" in texts["setup.cfg"] else []
    if mypy:
        lints.append(Found("mypy", "mypy .", ", ".join(mypy)))
    eslint = sorted(p.name for p in root.glob("eslint.config.*")) + sorted(p.name for p in root.glob(".eslintrc*"))
    dev_dependencies = pkg.get("devDependencies")
    dev = dev_dependencies if isinstance(dev_dependencies, dict) else {}
    if not eslint and "eslint" in dev:
        eslint = ["eslint in devDependencies of package.json"]
    if eslint:
        lints.append(Found("eslint", "npx eslint .", ", ".join(eslint)))
    golangci = sorted(p.name for p in root.glob(".golangci.*") if p.suffix in (".yml", ".yaml", ".toml", ".json"))
    if golangci:
        lints.append(Found("golangci-lint", "golangci-lint run", ", ".join(golangci)))
    if has("Cargo.toml"):
        # short format: one `path:line:col: message` line per problem, which is how new problems
        # are told from old ones; -D warnings makes a warning fail the command
        lints.append(Found("clippy", "cargo clippy --quiet --message-format short -- -D warnings", "Cargo.toml"))
    if "lint" in targets:
        lints.append(Found("make lint", "make lint", "a lint: target in Makefile"))
    return Detected(tuple(tests), tuple(lints))
