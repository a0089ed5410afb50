"""The wheel ships the prompts and runs `tieragent demo` from a fresh venv (no source tree on the path)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the source tree: setuptools writes build/ and *.egg-info next to the
    sources, and two test workers building in one tree at once break each other's builds."""
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "tieragent"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "node_modules"
        ),
    )
    # --no-isolation: this environment's setuptools (the test extra pins [build-system]'s range, and build
    # checks that it is met) instead of a fresh environment installed for the one build
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("tieragent-*.whl")
    return whl


def test_wheel_contains_every_package_prompt_and_query(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    prompts = sorted(p.name for p in (ROOT / "tieragent" / "prompts").glob("*.md"))
    assert len(prompts) >= 7
    for name in prompts:
        assert f"tieragent/prompts/{name}" in names
    queries = sorted(p.name for p in (ROOT / "tieragent/repo/map/queries").glob("*.scm"))
    assert queries and all(f"tieragent/repo/map/queries/{q}" in names for q in queries)
    # package discovery: every package of the source tree ships, with no edit to pyproject.toml
    packages = [p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "tieragent").rglob("__init__.py")]
    assert len(packages) >= 10
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_demo_runs_from_installed_wheel(wheel, tmp_path):
    """The wheel alone runs the demo: installed into a fresh venv, outside the source tree.

    The venv borrows this environment's third-party packages (a .pth line) instead of installing
    them again: CI's own install already checks the dependency metadata, and this keeps the test
    about what the wheel itself ships. Editable-install hooks in the borrowed directory are not run,
    so `tieragent` can only come from the wheel.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    vpython = venv / "bin/python"
    site_of = "import site; print(site.getsitepackages()[0])"
    here = subprocess.run([sys.executable, "-c", site_of], capture_output=True, text=True, check=True).stdout.strip()
    there = subprocess.run([str(vpython), "-c", site_of], capture_output=True, text=True, check=True).stdout.strip()
    Path(there, "borrowed-dependencies.pth").write_text(here + "\n")
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(vpython), "install", "-q", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = subprocess.run(
        [str(venv / "bin/tieragent"), "demo", "--json"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["status"] == "fixed" and data["demo"]["scripted_replies"] is True
    # imported from the venv, not from the source tree
    where = subprocess.run(
        [str(vpython), "-c", "import tieragent; print(tieragent.__file__)"], cwd=work, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
