"""The test-tamper guard: a patch that edits what judges it is never accepted silently.

Tests, test configuration, CI files, lint configuration, tieragent's own `.tieragent.yaml` and the
files the test or lint command runs decide whether a patch validates; a patch that edits them could
pass by weakening the judge. The flow asks the user, or refuses.

Every name is matched at any depth (a nested `conftest.py` or `pytest.ini` configures the tests
under it). Files that hold more than test settings are read: only edits to their test settings
count (see `config_edits`): `[tool.pytest*]` and the linters' tables in pyproject.toml; the
`jest`/`mocha`/`ava` keys and the test scripts of package.json; the `go`, `toolchain`, `godebug`
and `replace` directives of go.mod (they change how the tests build; `require` does not count);
and in Cargo.toml `[[test]]`, `[profile.test]`, `[profile.dev]` (which the test profile inherits),
`[lints]`, `autotests`, and `test`/`harness`/`doctest` of a target.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import PurePosixPath

from ..core.config import REPO_CONFIG_NAME
from ..core.globs import matches
from .config_edits import cargo_edit, go_mod_edit, package_json_edit, pyproject_edit

TEST_FILES = (
    "test_*.py",
    "*_test.py",
    "tests/",
    "test/",
    "testing/",
    "__tests__/",
    "spec/",
    "*.test.js",
    "*.test.jsx",
    "*.test.ts",
    "*.test.tsx",
    "*.spec.js",
    "*.spec.jsx",
    "*.spec.ts",
    "*.spec.tsx",
    "*_test.go",
    "src/test/",
    "*Test.java",
    "*Tests.java",
)
TEST_CONFIG = (
    # pytest reads the first of these it finds, from the tests' folder up; tox, nox and coverage run or shape it
    "conftest.py",
    "pytest.ini",
    ".pytest.ini",
    "pytest.toml",
    ".pytest.toml",
    "tox.ini",
    "setup.cfg",
    "noxfile.py",
    ".coveragerc",
    # JavaScript runners
    "jest.config.*",
    "vitest.config.*",
    "vitest.workspace.*",
    "vitest.projects.*",
    ".mocharc*",
    "karma.conf.*",
    "playwright.config.*",
    "cypress.config.*",
    "phpunit.xml*",
    # a Go workspace replaces modules for every build in it; cargo's config can swap the test runner and flags
    "go.work",
    "**/.cargo/config",
    "**/.cargo/config.toml",
)
CI_FILES = (
    ".github/workflows/",
    ".github/actions/",
    ".gitlab-ci.yml",
    ".circleci/",
    "Jenkinsfile",
    "azure-pipelines.yml",
    ".travis.yml",
    ".buildkite/",
    "bitbucket-pipelines.yml",
    ".ci/",
)
LINT_CONFIG = (
    ".flake8",
    "ruff.toml",
    ".ruff.toml",
    ".pylintrc",
    "pylintrc",
    "mypy.ini",
    ".mypy.ini",
    ".eslintrc*",
    "eslint.config.*",
    ".prettierrc*",
    ".pre-commit-config.yaml",
    ".golangci.y*ml",
    "clippy.toml",
    ".rubocop.yml",
    ".stylelintrc*",
)
# vitest reads its settings from vite.config when there is no vitest.config: guarded when it has a `test` section
VITE_CONFIG = ("vite.config.*",)
_VITE_TEST_KEY = re.compile(rb"\btest\s*:")
# how `make`, `just` and `task` name the file they read when the command does not say
_RUNNER_FILES = {
    "make": ("Makefile", "makefile", "GNUmakefile"),
    "gmake": ("Makefile", "makefile", "GNUmakefile"),
    "just": ("justfile", "Justfile", ".justfile"),
    "task": ("Taskfile.yml", "Taskfile.yaml", "taskfile.yml", "taskfile.yaml"),
}
_SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".js", ".mjs", ".cjs", ".ts", ".pl", ".rb", ".ps1", ".bat", ".cmd")


def protected_edit(path: str, old: bytes | None, new: bytes | None, commands: Iterable[str | None] = ()) -> str | None:
    """Why editing `path` this way edits what judges the patch, or None. `commands` are the test and
    lint commands: a file they run (a script, the Makefile of `make test`) judges the patch too."""
    name = path.rsplit("/", 1)[-1]
    if name == REPO_CONFIG_NAME:
        return "edits tieragent's configuration"
    if matches(path, TEST_FILES):
        return "edits a test file"
    if matches(path, TEST_CONFIG):
        return "edits test configuration"
    if matches(path, CI_FILES):
        return "edits CI configuration"
    if matches(path, LINT_CONFIG):
        return "edits lint configuration"
    if path in command_files(commands):
        return "edits a file the test or lint command runs"
    if matches(path, VITE_CONFIG) and old != new and any(_VITE_TEST_KEY.search(t or b"") for t in (old, new)):
        return "edits test configuration (vitest reads vite.config's `test` section)"
    structured = {
        "pyproject.toml": pyproject_edit,
        "package.json": package_json_edit,
        "go.mod": go_mod_edit,
        "Cargo.toml": cargo_edit,
    }
    check = structured.get(name)
    return check(old, new) if check is not None else None


def command_files(commands: Iterable[str | None]) -> set[str]:
    """Repository files the commands run: scripts they name by path, and the Makefile (justfile,
    Taskfile) a `make`, `just` or `task` reads."""
    found: set[str] = set()
    for command in commands:
        for segment in re.split(r"&&|\|\||[;|\n]", command or ""):
            try:
                words = shlex.split(segment)
            except ValueError:
                continue
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):  # FOO=bar cmd
                words = words[1:]
            if not words:
                continue
            program = PurePosixPath(words[0]).name
            found.update(_RUNNER_FILES.get(program, ()))
            for i, w in enumerate(words):
                named_file = i > 0 and words[i - 1] in ("-f", "--file", "--makefile", "--justfile", "--taskfile")
                if named_file or (not w.startswith("-") and ("/" in w or w.endswith(_SCRIPT_SUFFIXES))):
                    rel = _relative(w)
                    if rel:
                        found.add(rel)
    return found


def _relative(word: str) -> str | None:
    """A command's word as a path inside the repository (None for absolute paths and `..`)."""
    p = PurePosixPath(word)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    return p.as_posix()


def protected_edit_feedback(listing: str) -> str:
    return (
        f"Your patch was refused without being tested: it {listing}. Tests, test configuration, CI and lint "
        "configuration judge the change and must not be edited. Fix the code under test instead."
    )
