"""The test-tamper guard: a patch that edits what judges it is never accepted silently.

Tests, test configuration, CI files and lint configuration decide whether a patch validates; a
patch that edits them could pass by weakening the judge. The flow asks the user, or refuses.
"""

from __future__ import annotations

import difflib
import re

from ..core.globs import matches

TEST_FILES = (
    "test_*.py", "*_test.py", "tests/", "test/", "testing/", "__tests__/", "spec/",
    "*.test.js", "*.test.jsx", "*.test.ts", "*.test.tsx", "*.spec.js", "*.spec.jsx", "*.spec.ts", "*.spec.tsx",
    "*_test.go", "src/test/", "*Test.java", "*Tests.java",
)
TEST_CONFIG = (
    "conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "noxfile.py", ".coveragerc",
    "jest.config.*", "vitest.config.*", "karma.conf.*", ".mocharc*", "phpunit.xml*",
)
CI_FILES = (
    ".github/workflows/", ".github/actions/", ".gitlab-ci.yml", ".circleci/", "Jenkinsfile", "azure-pipelines.yml",
    ".travis.yml", ".buildkite/", "bitbucket-pipelines.yml", ".ci/",
)
LINT_CONFIG = (
    ".flake8", "ruff.toml", ".ruff.toml", ".pylintrc", "pylintrc", "mypy.ini", ".mypy.ini", ".eslintrc*",
    "eslint.config.*", ".prettierrc*", ".pre-commit-config.yaml", ".golangci.y*ml", "clippy.toml", ".rubocop.yml",
    ".stylelintrc*",
)
# pyproject.toml sections that configure tests or linters; other edits to pyproject are not tampering.
PYPROJECT_GUARDED = re.compile(r"^\[tool\.(pytest|coverage|ruff|mypy|pylint|flake8|black|isort|pyright)\b")


def _toml_sections_touched(old: str, new: str) -> set[str]:
    """Section headers of the lines that differ between two versions of a TOML file."""

    def section_at(lines: list[str], index: int) -> str:
        for i in range(min(index, len(lines) - 1), -1, -1):
            if lines[i].lstrip().startswith("["):
                return lines[i].strip()
        return ""

    a, b = old.splitlines(), new.splitlines()
    touched: set[str] = set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, max(i2, i1 + 1)):
            touched.add(section_at(a, i))
        for j in range(j1, max(j2, j1 + 1)):
            touched.add(section_at(b, j))
    return touched


def protected_edit(path: str, old: bytes | None, new: bytes | None) -> str | None:
    """Why editing `path` this way edits what judges the patch, or None."""
    name = path.rsplit("/", 1)[-1]
    if matches(path, TEST_FILES):
        return "edits a test file"
    if matches(path, TEST_CONFIG):
        return "edits test configuration"
    if matches(path, CI_FILES):
        return "edits CI configuration"
    if matches(path, LINT_CONFIG):
        return "edits lint configuration"
    if name == "pyproject.toml":
        sections = _toml_sections_touched((old or b"").decode(errors="replace"), (new or b"").decode(errors="replace"))
        hit = sorted(s for s in sections if PYPROJECT_GUARDED.match(s))
        if hit:
            return f"edits {', '.join(hit)} in pyproject.toml"
    return None


def protected_edit_feedback(listing: str) -> str:
    return (
        f"Your patch was refused without being tested: it {listing}. Tests, test configuration, CI and lint "
        "configuration judge the change and must not be edited. Fix the code under test instead."
    )
