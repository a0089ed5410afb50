"""The wheel ships the prompts and runs `tieragent demo` from a fresh venv (no source tree on the path)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)], check=True, capture_output=True)
    (whl,) = out.glob("tieragent-*.whl")
    return whl


def test_wheel_contains_prompts_and_queries(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for step in ("classify", "patch", "summarize", "commit-message"):
        assert f"tieragent/prompts/{step}.md" in names
    assert any(n.startswith("tieragent/repomap/queries/") and n.endswith(".scm") for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_demo_runs_from_installed_wheel(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin/pip"), "install", "-q", str(wheel)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = subprocess.run([str(venv / "bin/tieragent"), "demo", "--json"], cwd=work, capture_output=True, text=True, timeout=300,
                          env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["status"] == "fixed" and data["demo"]["scripted_replies"] is True
    # imported from the venv, not from the source tree
    where = subprocess.run([str(venv / "bin/python"), "-c", "import tieragent; print(tieragent.__file__)"], cwd=work, capture_output=True, text=True)
    assert str(venv) in where.stdout
