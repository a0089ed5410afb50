"""gitignore-style path globs, compiled once per pattern list (secret paths, tests, risk rules, ...)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pathspec


@lru_cache(maxsize=64)
def compiled(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def matches(path: str, patterns: Iterable[str]) -> bool:
    """True when the repo-relative `path` matches any of the gitignore-style `patterns`."""
    return compiled(tuple(patterns)).match_file(path.replace("\\", "/"))
