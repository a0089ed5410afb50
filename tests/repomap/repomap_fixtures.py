"""Fixtures for the repository-map tests: small git repositories, and requests' sdist (downloaded once).

Not a conftest.py: tests elsewhere do `from conftest import ...`, and a second conftest module
would shadow theirs. Test modules here import these fixtures by name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def write_repo(root: Path, files: dict[str, str | bytes], *, commit: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    if commit:
        git(root, "add", "-A")
        git(root, "-c", "commit.gpgsign=false", "-c", "maintenance.auto=false", "commit", "-q", "-m", "initial")
    return root


@pytest.fixture(scope="session")
def repo_writer():
    """write_repo, for fixtures with a wider scope than make_repo's."""
    return write_repo


@pytest.fixture
def make_repo(tmp_path: Path):
    def make(files: dict[str, str | bytes], *, name: str = "repo", commit: bool = True) -> Path:
        return write_repo(tmp_path / name, files, commit=commit)

    return make


@pytest.fixture(scope="session")
def requests_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """requests==2.32.3's sdist as a git repository: downloaded once per session (benchmarks/sdist.py).

    Set TIERAGENT_TEST_DOWNLOADS=DIR to keep the archive between sessions."""
    sys.path.insert(0, str(BENCH))
    try:
        from sdist import FetchError, download_sdist, unpack_as_repo
    finally:
        sys.path.remove(str(BENCH))
    keep = os.environ.get("TIERAGENT_TEST_DOWNLOADS")
    downloads = Path(keep) if keep else tmp_path_factory.mktemp("downloads")
    try:
        archive = download_sdist("requests==2.32.3", downloads)
    except FetchError as e:
        # The recall figure needs third-party source that is never committed; without the registry
        # there is nothing to measure, which is not a failure of the code under test.
        pytest.skip(f"requests' sdist could not be downloaded from PyPI: {e}")
    return unpack_as_repo(archive, tmp_path_factory.mktemp("sdist") / "requests-2.32.3")
