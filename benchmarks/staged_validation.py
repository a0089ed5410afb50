"""Validation seconds per refused candidate on a repository with a slow suite, staged validation off and on.

    python benchmarks/staged_validation.py                  # a table
    python benchmarks/staged_validation.py --json
    python benchmarks/staged_validation.py --slow-files 8 --sleep 0.5 --runs 3

The repository: calc/ops.py (add() subtracts) and its tests/test_ops.py, beside `--slow-files` test
files of other modules, each test sleeping `--sleep` seconds (a slow suite). Each run is the real
fix flow in-process (git, the journal, pytest as a subprocess) with scripted replies: the mid tier
writes two wrong patches (refused: test_add fails), the frontier the right one. Per policy it
prints the mean validation seconds of a refused candidate and of the accepted one (which, staged,
runs its targeted tests and then the full suite), and the mean seconds per run. The last line is
one run with a fresh baseline and `--model-delay` seconds per model call: how long the baseline
ran in the background and how long the run then waited for it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from scripted_calc import CLASSIFY, RIGHT, SOURCE, WRONG, committed_repo, scripted_fix

from tieragent.cli.demo import DEMO_TIERS
from tieragent.core.config import Config
from tieragent.flows.fix import FixResult

POLICIES = {"staged off (before)": False, "staged on (default)": True}


def make_repo(parent: Path, slow_files: int, sleep_s: float) -> Path:
    files = dict(SOURCE)
    for i in range(slow_files):
        files[f"calc/part{i}.py"] = f"def part{i}(x):\n    return x + {i}\n"
        files[f"tests/test_part{i}.py"] = (
            f"import time\n\nfrom calc.part{i} import part{i}\n\n\ndef test_part{i}():\n"
            f"    time.sleep({sleep_s})\n    assert part{i}(1) == {i + 1}\n"
        )
    return committed_repo(parent / "repo", files)


def run_once(repo: Path, staged: bool, model_delay_s: float = 0.0) -> FixResult:
    tiers = {t: c.model_dump() for t, c in DEMO_TIERS.items()}
    cfg = Config.model_validate(
        {
            "tiers": tiers,
            "validate": {"staged": staged, "timeout_s": 600},
            # the same wrong patch twice at mid: both judged (no skipping of a repeated failure)
            "routing": {"edit_formats": {"*": "diff"}, "retry_same_failure": True},
        }
    )
    script: dict = {("classify", "small"): [CLASSIFY], ("patch", "mid"): [WRONG], ("patch", "frontier"): [RIGHT]}
    return scripted_fix(repo, cfg, script, model_delay_s)


def measure(repo: Path, staged: bool, runs: int) -> dict:
    refused, accepted, totals = [], [], []
    for _ in range(runs):
        started = time.monotonic()
        result = run_once(repo, staged)
        totals.append(time.monotonic() - started)
        for a in result.attempts:
            (accepted if a["outcome"] == "ok" else refused).append(a["validation_seconds"])
    return {
        "refused_candidates": len(refused),
        "mean_validation_s_refused": round(statistics.mean(refused), 2) if refused else None,
        "mean_validation_s_accepted": round(statistics.mean(accepted), 2) if accepted else None,
        "mean_run_s": round(statistics.mean(totals), 2),
    }


def background_baseline(repo: Path, model_delay_s: float) -> dict:
    (repo / ".git" / "tieragent" / "baseline.json").unlink(missing_ok=True)  # a fresh baseline, not the stored one
    result = run_once(repo, True, model_delay_s)
    return {
        "model_delay_s": model_delay_s,
        "baseline_s": result.timings.get("baseline"),
        "waited_for_baseline_s": result.timings.get("baseline_wait"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slow-files", type=int, default=8)
    ap.add_argument("--sleep", type=float, default=0.5, help="seconds each slow test sleeps")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model-delay", type=float, default=1.0, help="seconds per model call in the baseline run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp), args.slow_files, args.sleep)
        rows = [{"policy": name, **measure(repo, staged, args.runs)} for name, staged in POLICIES.items()]
        overlap = background_baseline(repo, args.model_delay)
    if args.json:
        print(json.dumps({"policies": rows, "background_baseline": overlap}, indent=2))
        return
    print(f"{'policy':<22} {'refused':>8} {'s/refused':>10} {'s/accepted':>11} {'s/run':>7}")
    for r in rows:
        print(
            f"{r['policy']:<22} {r['refused_candidates']:>8} {r['mean_validation_s_refused']:>10} "
            f"{r['mean_validation_s_accepted']:>11} {r['mean_run_s']:>7}"
        )
    print(
        f"background baseline: it ran {overlap['baseline_s']} s; with {overlap['model_delay_s']} s per model call the "
        f"run waited {overlap['waited_for_baseline_s']} s for it"
    )


if __name__ == "__main__":
    main()
