"""Fetch a PyPI source distribution at run time and turn it into a throwaway git repository.

Third-party source is never stored in this repository: the benchmarks and the recall test
download it at run time into a cache or temporary directory, unpack it, and `git init` + `git add` +
commit it there. The archive comes from the index's JSON page for the project (PEP 691: its URL and
sha256), checked against that hash; where that fails, from `pip download --no-deps --no-binary :all:`,
which gets the same file but first builds the package's metadata in a fresh environment (four seconds).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path


class FetchError(RuntimeError):
    pass


def _archive_in(dest: Path, name: str, version: str) -> Path | None:
    for p in dest.iterdir():
        low = p.name.lower().replace("_", "-")
        if low.startswith(f"{name.lower()}-{version}.") and p.name.endswith((".tar.gz", ".zip")):
            return p
    return None


def download_sdist(spec: str, dest: Path) -> Path:
    """`spec` like 'requests==2.32.3'; returns the archive (reused if already in `dest`)."""
    dest.mkdir(parents=True, exist_ok=True)
    name, _, version = spec.partition("==")
    found = _archive_in(dest, name, version)
    if found is None:
        try:
            found = _from_the_index(name, version, dest)
        except (OSError, ValueError, KeyError, FetchError):
            found = None
    return found or _with_pip(spec, dest, name, version)


def _from_the_index(name: str, version: str, dest: Path) -> Path | None:
    """The sdist named on the index's JSON page (PIP_INDEX_URL, else PyPI), checked against its sha256."""
    import httpx

    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        page = client.get(f"{index}/{name.lower()}/", headers=accept)
        page.raise_for_status()
        wanted = (f"{name.lower()}-{version}.tar.gz", f"{name.lower().replace('-', '_')}-{version}.tar.gz")
        entry = next((f for f in page.json()["files"] if f["filename"].lower() in wanted), None)
        if entry is None or not entry["hashes"].get("sha256"):
            return None
        body = client.get(entry["url"]).raise_for_status().content
    if hashlib.sha256(body).hexdigest() != entry["hashes"]["sha256"]:
        raise FetchError(f"{entry['url']}: the download does not match the index's sha256")
    archive = dest / entry["filename"]
    archive.write_bytes(body)
    return archive


def _with_pip(spec: str, dest: Path, name: str, version: str) -> Path:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-d",
            str(dest),
            spec,
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise FetchError(f"pip download {spec} failed: {proc.stderr.strip()[-500:]}")
    found = _archive_in(dest, name, version)
    if found is not None:
        return found
    raise FetchError(f"pip download {spec} produced no source archive in {dest}")


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    }
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def unpack_as_repo(archive: Path, dest: Path) -> Path:
    """Unpack into `dest` (replaced if present) and commit everything; returns the work tree."""
    if dest.exists():
        shutil.rmtree(dest)
    tmp = dest.with_name(dest.name + ".unpack")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
    else:
        with tarfile.open(archive) as t:
            if hasattr(tarfile, "data_filter"):
                t.extractall(tmp, filter="data")
            else:  # pragma: no cover - older Pythons
                t.extractall(tmp)
    (top,) = list(tmp.iterdir())
    top.rename(dest)
    tmp.rmdir()
    _git(dest, "init", "-q")
    _git(dest, "config", "commit.gpgsign", "false")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", f"{archive.name} as published")
    return dest


def fetch_repo(spec: str, workdir: Path) -> Path:
    """The sdist of `spec` as a git repository under `workdir` (archives cached in workdir/downloads)."""
    archive = download_sdist(spec, workdir / "downloads")
    name = spec.replace("==", "-")
    return unpack_as_repo(archive, workdir / name)
