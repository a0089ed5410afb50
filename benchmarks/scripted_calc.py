"""What retry_policy.py and staged_validation.py share: the calc task's scripted replies, a committed
repository, and one real fix run in-process (git, the journal, pytest as a subprocess) that leaves the
tree as it found it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tieragent.core.config import Config  # noqa: E402
from tieragent.core.vocab import TIERS  # noqa: E402
from tieragent.flows.fix import FixDeps, FixResult, run_fix  # noqa: E402
from tieragent.model.protocol import Models  # noqa: E402
from tieragent.model.scripted import ScriptedProvider  # noqa: E402
from tieragent.repo.map import build_repo_map  # noqa: E402
from tieragent.repo.runner import SubprocessRunner  # noqa: E402
from tieragent.repo.workspace import GitWorkspace  # noqa: E402

CLASSIFY = '{"task_class": "local", "risk": "low", "files": ["calc/ops.py"], "reason": "add() subtracts"}'
RIGHT = (
    "```diff\n--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n"
    "+    return a + b\n```"
)
WRONG = RIGHT.replace("return a + b", "return a * b")
SOURCE = {
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a - b\n",
    "tests/test_ops.py": "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
}


def committed_repo(repo: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bug"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def scripted_fix(repo: Path, cfg: Config, script: dict, model_delay_s: float = 0.0) -> FixResult:
    """`tieragent fix` on `repo` with `script`'s replies; the tree is checked out again afterwards."""
    provider = ScriptedProvider({t: cfg.tier(t) for t in TIERS}, script=script, delay_s=model_delay_s)
    ws = GitWorkspace.open(repo)
    deps = FixDeps(
        ws=ws,
        config=cfg,
        runner=SubprocessRunner({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        models=lambda: Models(provider, {t: cfg.tier(t).price for t in TIERS}, {}),
        repo_map=lambda: build_repo_map(ws.root, cache_dir=ws.state_dir / "tags"),
        test_command=f'"{sys.executable}" -m pytest -q',
    )
    result = run_fix("add() returns the wrong result", deps)
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
    return result
