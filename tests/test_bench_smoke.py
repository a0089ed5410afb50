"""benchmarks/run_all.py still runs: a smoke run of its quick parts (no downloads, no peer).

Not a timed test: it checks that the figures are produced and the reference fix is really fixed,
never how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_run_all_quick_smoke(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run_all.py"),
            "--quick",
            "--only",
            "startup,tokens",
            "--repeat",
            "1",
            "--json",
            "--workdir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert set(data["parts"]) == {"startup", "tokens"}
    assert "tieragent --help" in data["parts"]["startup"]["commands"]
    tokens = data["parts"]["tokens"]
    assert tokens["status"] == "fixed"
    assert set(tokens["steps"]) == {"classify", "patch"}
    assert tokens["shares"]["classify"]["outline_tokens"] > 0
    assert any(row["what"].startswith("prompt tokens per step") for row in data["table"])
