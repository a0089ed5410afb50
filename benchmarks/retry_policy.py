"""Cost per solved task of the cascade, with and without retries that must earn their cost.

    python benchmarks/retry_policy.py          # a table
    python benchmarks/retry_policy.py --json

Twenty tasks in the proportions of SWE-bench Verified (bash-only) per-task results for Claude
Sonnet 4.5 as the mid tier and Claude Opus 4.5 as the frontier (shared/data, the SWE-bench
leaderboard's data at commit f1176b65): of 500 tasks, 330 solved by both, 23 by the mid model
only, 42 by the frontier only, 105 by neither; per 20: 13, 1, 2, 4.

Each task runs the real fix flow in-process (git, pytest, the journal, validation) with scripted
replies: a tier that solves the task writes the right patch; a tier that does not writes a wrong
one, and writes it again when asked again (the repeated failure seen in real runs). Costs are the
ledger's, from token counts estimated on the real prompts, at the list prices `tieragent demo`
uses. Policies: the default (a retry only when feedback can help), `retry_same_failure: true`
(the old ladder), and frontier-only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tieragent.cli.demo import DEMO_TIERS  # noqa: E402
from tieragent.core.config import Config  # noqa: E402
from tieragent.core.vocab import TIERS  # noqa: E402
from tieragent.flows.fix import FixDeps, run_fix  # noqa: E402
from tieragent.model.protocol import Models  # noqa: E402
from tieragent.model.scripted import ScriptedProvider  # noqa: E402
from tieragent.repo.map import build_repo_map  # noqa: E402
from tieragent.repo.runner import SubprocessRunner  # noqa: E402
from tieragent.repo.workspace import GitWorkspace  # noqa: E402

MIX = {"both": 13, "mid only": 1, "frontier only": 2, "neither": 4}
SOURCE = {
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a - b\n",
    "tests/test_ops.py": "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
}
CLASSIFY = '{"task_class": "local", "risk": "low", "files": ["calc/ops.py"], "reason": "add() subtracts"}'
RIGHT = (
    "```diff\n--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n"
    "+    return a + b\n```"
)
WRONG = RIGHT.replace("return a + b", "return a * b")
POLICIES = {
    "cascade (default: retry only when feedback can help)": {"routing": {"retry_same_failure": False}},
    "cascade, retry_same_failure: true (before)": {"routing": {"retry_same_failure": True}},
    "frontier only": {"routing": {"start": {"local": "frontier"}}},
}


def make_repo(parent: Path) -> Path:
    repo = parent / "repo"
    for rel, text in SOURCE.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bug"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def run_task(repo: Path, kind: str, extra: dict) -> tuple[bool, float, int]:
    solves = {"mid": kind in ("both", "mid only"), "frontier": kind in ("both", "frontier only")}
    tiers = {t: c.model_dump() for t, c in DEMO_TIERS.items()}
    # the scripted replies are diffs; no verification: this compares retry rules (the tasks' tests are thin)
    routing = {**extra.get("routing", {}), "edit_formats": {"*": "diff"}, "verify": "never"}
    cfg = Config.model_validate({"tiers": tiers, **extra, "routing": routing})
    provider = ScriptedProvider(
        {t: cfg.tier(t) for t in TIERS},
        script={
            ("classify", "small"): [CLASSIFY],
            ("patch", "mid"): [RIGHT if solves["mid"] else WRONG],
            ("patch", "frontier"): [RIGHT if solves["frontier"] else WRONG],
        },
    )
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
    return (
        result.status == "fixed",
        result.ledger.spent_usd if result.ledger else 0.0,
        result.ledger.calls if result.ledger else 0,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp))
        for name, extra in POLICIES.items():
            solved = cost = calls = 0
            wasted = 0.0
            for kind, n in MIX.items():
                for _ in range(n):
                    ok, spent, made = run_task(repo, kind, extra)
                    solved, cost, calls = solved + ok, cost + spent, calls + made
                    wasted += 0.0 if ok else spent
            rows.append(
                {
                    "policy": name,
                    "tasks": sum(MIX.values()),
                    "solved": solved,
                    "calls": calls,
                    "cost_usd": round(cost, 4),
                    "cost_per_solved_usd": round(cost / solved, 5) if solved else None,
                    "spent_on_unsolved_usd": round(wasted, 4),
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'policy':<55} {'solved':>7} {'calls':>6} {'cost':>9} {'per solved':>11} {'on unsolved':>12}")
    for r in rows:
        print(
            f"{r['policy']:<55} {r['solved']:>4}/{r['tasks']:<2} {r['calls']:>6} ${r['cost_usd']:>8.4f} "
            f"${r['cost_per_solved_usd']:>10.5f} ${r['spent_on_unsolved_usd']:>11.4f}"
        )


if __name__ == "__main__":
    main()
