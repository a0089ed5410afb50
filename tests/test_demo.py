"""`tieragent demo`, in-process (the `cli` fixture): test_wheel.py runs it from the installed entry point."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_shows_one_escalation(cli, tmp_path):
    proc = cli(["demo", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "fixed" and data["demo"]["scripted_replies"] is True
    steps = [(r["step"], r["tier"], r["outcome"]) for r in data["steps"]]
    assert steps == [
        ("classify", "small", "ok"),
        ("patch", "mid", "tests-failed"),
        ("patch", "mid", "tests-failed"),
        ("patch", "frontier", "ok"),
        ("commit-message", "small", "ok"),
    ]
    repo = data["demo"]["repository"]
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True).stdout.splitlines()
    assert log[0] == "Fix median() for even-length input"
    # the real tests really pass on the committed code
    check = subprocess.run([sys.executable, "-m", "unittest", "-q"], cwd=repo, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert data["totals"]["cost_usd"] > 0 and data["totals"]["frontier_only_estimate_usd"] > data["totals"]["cost_usd"]


def test_demo_human_output_says_replies_are_scripted(cli, tmp_path):
    proc = cli(["demo"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "SCRIPTED" in proc.stdout and "Cost ledger" in proc.stdout and "Frontier-only estimate" in proc.stdout
