"""Deterministic rules about a patch: does it edit what judges it, and how risky is it?

Test-tamper guard: a patch that edits tests, test configuration, CI files or lint configuration
could pass validation by weakening the judge; it is never accepted silently.

Risk evidence: sensitive paths, patch size, deleted code and changed public signatures. Any rule
saying high makes the task high-risk, whatever the small model said; each reason is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

import pathspec

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

DEFAULT_SENSITIVE = (
    "*auth*", "*security*", "*crypto*", "*secret*", "*password*", "*permission*", "*payment*", "*billing*",
    "migrations/", "*/migrations/*", ".github/workflows/", "Dockerfile*", "*.dockerfile", "docker-compose*.y*ml",
    "requirements*.txt", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "package.json", "go.mod",
    "Cargo.toml", "Gemfile", "pom.xml", "build.gradle*",
    "*.lock", "package-lock.json", "pnpm-lock.yaml", "go.sum", "Pipfile.lock",
)


@lru_cache(maxsize=16)
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _matches(path: str, patterns: Iterable[str]) -> bool:
    return _spec(tuple(patterns)).match_file(path)


def _toml_sections_touched(old: str, new: str) -> set[str]:
    """Section headers of the lines that differ between two versions of a TOML file."""
    import difflib

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
    if _matches(path, TEST_FILES):
        return "edits a test file"
    if _matches(path, TEST_CONFIG):
        return "edits test configuration"
    if _matches(path, CI_FILES):
        return "edits CI configuration"
    if _matches(path, LINT_CONFIG):
        return "edits lint configuration"
    if name == "pyproject.toml":
        sections = _toml_sections_touched((old or b"").decode(errors="replace"), (new or b"").decode(errors="replace"))
        hit = sorted(s for s in sections if PYPROJECT_GUARDED.match(s))
        if hit:
            return f"edits {', '.join(hit)} in pyproject.toml"
    return None


@dataclass(frozen=True)
class RiskRules:
    sensitive_paths: tuple[str, ...] = DEFAULT_SENSITIVE
    max_files: int = 6
    max_changed_lines: int = 200
    max_deleted_lines: int = 60


def sensitive_paths(paths: Iterable[str], rules: RiskRules) -> list[str]:
    return [f"sensitive path: {p}" for p in paths if _matches(p, rules.sensitive_paths)]


@dataclass(frozen=True)
class EditStat:
    path: str
    old: bytes | None
    new: bytes | None

    def diff(self) -> str:
        from .diffs import file_diff

        return file_diff(self.path if self.old is not None else None, self.old, self.path if self.new is not None else None, self.new)

    def counts(self) -> tuple[int, int]:
        import difflib

        a = (self.old or b"").decode(errors="replace").splitlines()
        b = (self.new or b"").decode(errors="replace").splitlines()
        added = removed = 0
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag != "equal":
                removed += i2 - i1
                added += j2 - j1
        return added, removed


PUBLIC_KINDS = {"function", "method", "class", "constructor", "interface", "struct", "trait", "enum", "type"}


def public_signatures(path: str, data: bytes) -> dict[str, str]:
    """Public definitions in `data` (as if it were `path`) -> their signature line, from tree-sitter tags."""
    from .repomap import symbols_for_source

    try:
        symbols = symbols_for_source(path, data)
    except Exception:  # an unsupported language or unparsable file: no signature evidence
        return {}
    return {
        (f"{s.parent}.{s.name}" if s.parent else s.name): s.signature.strip()
        for s in symbols
        if s.kind in PUBLIC_KINDS and not s.local and not s.name.startswith("_") and not (s.parent or "").startswith("_")
    }


def protected_edit_feedback(listing: str) -> str:
    return (
        f"Your patch was refused without being tested: it {listing}. Tests, test configuration, CI and lint "
        "configuration judge the change and must not be edited. Fix the code under test instead."
    )


SignatureReader = Callable[[str, bytes], dict[str, str]]  # path, content -> public name -> signature line


def patch_risk(edits: list[EditStat], rules: RiskRules, signatures: SignatureReader | None = None) -> list[str]:
    """Reasons this patch is high-risk (empty when none)."""
    reasons = sensitive_paths([e.path for e in edits], rules)
    if len(edits) > rules.max_files:
        reasons.append(f"large patch: {len(edits)} files")
    added = removed = 0
    for e in edits:
        a, r = e.counts()
        added, removed = added + a, removed + r
        if e.new is None and e.old is not None:
            reasons.append(f"deletes file {e.path}")
    if added + removed > rules.max_changed_lines:
        reasons.append(f"large patch: {added + removed} changed lines")
    if removed - added > rules.max_deleted_lines:
        reasons.append(f"deletes code: {removed - added} lines net")
    if signatures is not None:
        for e in edits:
            if e.old is None or e.new is None:
                continue
            before, after = signatures(e.path, e.old), signatures(e.path, e.new)
            for name, sig in before.items():
                if name not in after:
                    reasons.append(f"removes public {name} in {e.path}")
                elif after[name] != sig:
                    reasons.append(f"changes the signature of public {name} in {e.path}")
    return reasons
