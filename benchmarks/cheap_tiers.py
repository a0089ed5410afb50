"""Edit formats for cheap models: `tieragent bench` with a real local model as the small and mid
tiers and a scripted frontier, comparing `edit_format: diff` with `auto`.

    python benchmarks/cheap_tiers.py --api-base http://127.0.0.1:11434/v1 --suite implement OUT_DIR
    # the cheap tiers at temperature 0:
    python benchmarks/cheap_tiers.py --api-base URL --suite builtin --temperature 0 OUT_DIR

The local model is any OpenAI-compatible server (Ollama, llama.cpp's server, ...), priced at 0.
The frontier is `tests/fake_openai.py` answering each task with its reference patch at a frontier's
list price, so the frontier never fails and what differs between the policies is the cheap tiers.
Suites: `implement` (benchmarks/implement_suite.py: twelve functions to write) or `builtin` (the ten
seeded bugs of `tieragent bench --suite builtin`). Prints per policy: solved, which tier's patch
was accepted, false accepts, cost per solved task and the cheap tiers' patch outcomes by format.
Takes about ten minutes per suite with a 1.5B model on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from fake_openai import FakeOpenAI, Recorded  # noqa: E402
from implement_suite import write_suite  # noqa: E402

from tieragent.flows.bench.smoke import render_reply, write_smoke_suite  # noqa: E402
from tieragent.flows.bench.smoke_tasks import SMOKE_TASKS  # noqa: E402

# The variants this script can run (`--policies`); `frontier-only` is bench's own (every tier the frontier).
# Verification is off unless a variant turns it on: the oracle verifier below is a best case, so each
# comparison names it (`auto-verify` against `auto`).
NO_VERIFY = {"verify": "never"}
VARIANTS = {
    "diff-only": {"tiers": {"small": {"edit_format": "diff"}, "mid": {"edit_format": "diff"}}, "routing": NO_VERIFY},
    "auto": {"tiers": {"small": {"edit_format": "auto"}, "mid": {"edit_format": "auto"}}, "routing": NO_VERIFY},
    "auto-verify": {"tiers": {"small": {"edit_format": "auto"}, "mid": {"edit_format": "auto"}}},
}
DEFAULT_POLICIES = ("frontier-only", "diff-only", "auto")
CHEAP = ("small", "mid")


def frontier_replies(suite: str, out: Path) -> tuple[Path, dict[str, str]]:
    """The suite's task directory, and the frontier's reply keyed by each task's request text."""
    if suite == "implement":
        tasks_dir = write_suite(out / "suite")
        docs = [yaml.safe_load(p.read_text()) for p in sorted(tasks_dir.glob("*.yaml"))]
        return tasks_dir, {d["request"]: d["scripted"]["patch"]["frontier"][0] for d in docs}
    tasks_dir = write_smoke_suite(out / "suite")
    return tasks_dir, {
        t.request: render_reply(t, t.replies["frontier"][0]) for t in SMOKE_TASKS if t.replies.get("frontier")
    }


def scripted_classifications(tasks_dir: Path) -> dict[str, str]:
    """Each task's scripted classify reply, keyed by its request: what the frontier answers when it classifies."""
    docs = [yaml.safe_load(p.read_text()) for p in sorted(tasks_dir.glob("*.yaml"))]
    return {
        d["request"]: d["scripted"]["classify"]
        for d in docs
        if isinstance(d, dict) and isinstance(d.get("scripted"), dict) and d["scripted"].get("classify")
    }


class OracleVerifier:
    """The scripted frontier's answer to a `verify` call: the candidate diff applied to a fresh clone of the
    task's repository and judged by the task's hidden check. A verifier that never errs: the best case of
    what verification can buy, as the oracle patch is the best case of a frontier patch."""

    def __init__(self, tasks_dir: Path, work: Path):
        self.tasks = [(yaml.safe_load(p.read_text()), p.parent) for p in sorted(tasks_dir.glob("*.yaml"))]
        self.tasks = [(doc, d) for doc, d in self.tasks if isinstance(doc, dict) and doc.get("check")]
        self.work, self.count = work, 0

    def verdict(self, prompt: str) -> str:
        task = next(((doc, d) for doc, d in self.tasks if doc["request"] in prompt), None)
        diff = prompt.split("```diff\n", 1)[-1].rsplit("\n```", 1)[0] + "\n"
        if task is None or "```diff" not in prompt:
            return json.dumps({"verdict": "accept", "reason": "no task or diff to check"})
        doc, task_dir = task
        self.count += 1
        checkout = self.work / str(self.count)
        repo = (task_dir / doc["repo"]).resolve()
        subprocess.run(["git", "clone", "-q", str(repo), str(checkout)], check=True)
        subprocess.run(["git", "checkout", "-q", doc["commit"]], cwd=checkout, check=True)
        applied = subprocess.run(["git", "apply", "-"], cwd=checkout, input=diff, text=True, capture_output=True)
        check = doc["check"].replace("{task_dir}", str(task_dir))
        path = os.pathsep.join([str(checkout), str(checkout / "src"), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path}  # as bench runs a check: the checkout importable
        judged = subprocess.run(check, shell=True, cwd=checkout, env=env, capture_output=True)
        ok = applied.returncode == 0 and judged.returncode == 0
        reason = "the patch does what was asked" if ok else "the patch misses cases the request implies"
        return json.dumps({"verdict": "accept" if ok else "reject", "reason": reason})


def summarise(rows: list[dict], policies: list[str]) -> dict:
    out = {}
    for policy in policies:
        runs = [r for r in rows if r["policy"] == policy]
        solved = [r for r in runs if r["outcome"] == "solved"]
        cheap_solved = [r for r in solved if r["accepted_tier"] in CHEAP]
        cost = sum(r["cost_usd"] or 0 for r in runs)
        patch_steps = [s for r in runs for s in r["steps"] if s["step"] == "patch" and s["tier"] in CHEAP]
        patches = Counter(f"{s['tier']}/{s['edit_format']}/{s['outcome']}" for s in patch_steps)
        seconds = [r["fix_seconds"] for r in runs if r.get("fix_seconds") is not None]
        out[policy] = {
            "runs": len(runs),
            "solved": len(solved),
            "solved_by_tier": dict(Counter(r["accepted_tier"] for r in solved)),
            "false_accepts": sorted(r["task"] for r in runs if r["outcome"] == "false_accept"),
            "cost_usd": round(cost, 5),
            "cost_per_solved_usd": round(cost / len(solved), 5) if solved else None,
            "cheap_patch_calls": len(patch_steps),
            "cheap_calls_per_solved": round(len(patch_steps) / len(solved), 2) if solved else None,
            "cheap_calls_per_cheap_solve": round(len(patch_steps) / len(cheap_solved), 2) if cheap_solved else None,
            "mean_seconds_per_task": round(sum(seconds) / len(seconds), 1) if seconds else None,
            "verify_calls": sum(1 for r in runs for s in r["steps"] if s["step"] == "verify"),
            "cheap_patch_outcomes": dict(sorted(patches.items())),
        }
    frontier = out.get("frontier-only", {}).get("cost_per_solved_usd")
    for figures in out.values():
        mine = figures["cost_per_solved_usd"]
        figures["cost_per_solved_vs_frontier_only"] = round(mine / frontier, 2) if mine and frontier else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--api-base", required=True, help="the local model's OpenAI-compatible base URL")
    ap.add_argument("--model", default="openai/local", help="litellm model name for the local server")
    ap.add_argument("--suite", choices=("implement", "builtin"), default="implement")
    ap.add_argument("--run-timeout", type=int, default=900)
    ap.add_argument(
        "--policies",
        default=",".join(DEFAULT_POLICIES),
        help=f"comma-separated: frontier-only and any of {', '.join(VARIANTS)} (default: %(default)s)",
    )
    ap.add_argument(
        "--temperature", type=float, help="tiers.small/mid.temperature (default: unset, the server's default)"
    )
    args = ap.parse_args()
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in VARIANTS and p != "frontier-only"]
    if unknown:
        ap.error(f"unknown policies: {', '.join(unknown)}")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    tasks_dir, replies = frontier_replies(args.suite, out)
    variants = {p: VARIANTS[p] for p in policies if p in VARIANTS}
    (tasks_dir / "bench.yaml").write_text(yaml.safe_dump({"policies": variants}))

    oracle = OracleVerifier(tasks_dir, out / "verify")

    classify = scripted_classifications(tasks_dir)

    def answer(rec: Recorded) -> str:
        text = rec.text()
        if rec.step == "verify":
            return oracle.verdict(text)
        if rec.step == "classify":  # as the cascade's small tier would (frontier-only classifies at the frontier)
            return next((reply for request, reply in classify.items() if request in text), "{}")
        return next((reply for request, reply in replies.items() if request in text), "I cannot help with that.")

    frontier = FakeOpenAI(responder=answer)
    home = out / "home"  # the bench runs from a repository of its own, with this config
    home.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=home, check=True)
    local = {
        "model": args.model,
        "api_base": args.api_base,
        "price": {"input_per_mtok": 0, "output_per_mtok": 0},
        "max_context": 8192,
        "max_output_tokens": 1024,
        "timeout_s": 300,
    }
    if args.temperature is not None:
        local["temperature"] = args.temperature
    config = {
        "tiers": {
            "small": local,
            "mid": local,
            "frontier": {
                "model": "openai/frontier",
                "api_base": frontier.url,
                "price": {"input_per_mtok": 5, "output_per_mtok": 25},
                "edit_format": "diff",  # the scripted oracle answers with each task's reference diff
            },
        },
        "provider": {"retries": 0},
    }
    (home / ".tieragent.yaml").write_text(yaml.safe_dump(config))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "OPENAI_API_KEY": "local",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    started = time.monotonic()
    tieragent = Path(sys.executable).with_name("tieragent")
    proc = subprocess.run(
        [
            str(tieragent),
            "bench",
            "--suite",
            str(tasks_dir),
            "--policies",
            ",".join(policies),
            "-j",
            "1",
            "--run-timeout",
            str(args.run_timeout),
            "--json",
            "--workdir",
            str(out / "bench"),
        ],
        cwd=home,
        capture_output=True,
        text=True,
        env=env,
    )
    frontier.close()
    (out / "report.json").write_text(proc.stdout)
    (out / "stderr.txt").write_text(proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"tieragent bench exited {proc.returncode}; see {out / 'stderr.txt'}")
    rows = [json.loads(line) for line in (out / "bench" / "results.jsonl").read_text().splitlines() if line.strip()]
    print(
        json.dumps(
            {
                "suite": args.suite,
                "model": args.model,
                "temperature": args.temperature,
                "seconds": round(time.monotonic() - started),
                "policies": summarise([r for r in rows if r.get("kind") == "run"], policies),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
