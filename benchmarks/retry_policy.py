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
import tempfile
from pathlib import Path

from scripted_calc import CLASSIFY, RIGHT, SOURCE, WRONG, committed_repo, scripted_fix

from tieragent.cli.demo import DEMO_TIERS
from tieragent.core.config import Config

MIX = {"both": 13, "mid only": 1, "frontier only": 2, "neither": 4}
POLICIES = {
    "cascade (default: retry only when feedback can help)": {"routing": {"retry_same_failure": False}},
    "cascade, retry_same_failure: true (before)": {"routing": {"retry_same_failure": True}},
    "frontier only": {"routing": {"start": {"local": "frontier"}}},
}


def make_repo(parent: Path) -> Path:
    return committed_repo(parent / "repo", SOURCE)


def run_task(repo: Path, kind: str, extra: dict) -> tuple[bool, float, int]:
    solves = {"mid": kind in ("both", "mid only"), "frontier": kind in ("both", "frontier only")}
    tiers = {t: c.model_dump() for t, c in DEMO_TIERS.items()}
    # the scripted replies are diffs; no verification: this compares retry rules (the tasks' tests are thin)
    routing = {**extra.get("routing", {}), "edit_formats": {"*": "diff"}, "verify": "never"}
    cfg = Config.model_validate({"tiers": tiers, **extra, "routing": routing})
    script = {
        ("classify", "small"): [CLASSIFY],
        ("patch", "mid"): [RIGHT if solves["mid"] else WRONG],
        ("patch", "frontier"): [RIGHT if solves["frontier"] else WRONG],
    }
    result = scripted_fix(repo, cfg, script)
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
