"""What a tiered review of a real diff costs, against sending every hunk to the frontier.

    python benchmarks/review_cost.py                 # a commit from this repository's own history
    python benchmarks/review_cost.py --rev abc123    # another commit (its diff against its parent)

The review runs for real (diff, pre-filter, risk rules, prompts, context, ledger) with scripted
model replies, twice: as it runs (small hunks of one file share a call) and with one hunk per call.
Replies: the triage rates every hunk "medium" (so only the rules raise risk: a deliberately
pessimistic triage for the saving), and each review answers with one finding of a typical size.
Token counts are estimated from the prompt text (about 4 characters a token), priced at list
prices of the models `tieragent demo` names. The all-frontier baseline sends every hunk of the
diff, skipped ones included, through the same review prompt at the frontier's prices, with no
triage. The saving is bounded by the price ratio of the mid tier to the frontier (0.6 here).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tieragent.cli.demo import DEMO_TIERS  # noqa: E402
from tieragent.core import prompts  # noqa: E402
from tieragent.core.config import Config  # noqa: E402
from tieragent.core.tokens import estimate_tokens  # noqa: E402
from tieragent.core.vocab import TIERS  # noqa: E402
from tieragent.flows.review import (  # noqa: E402
    ReviewDeps,
    ReviewOptions,
    batch,
    run_review,
)
from tieragent.flows.review.batch import Part, changes_block  # noqa: E402
from tieragent.flows.review.context import enclosing_code  # noqa: E402
from tieragent.flows.review.diff import parse_diff  # noqa: E402
from tieragent.model.protocol import Models  # noqa: E402
from tieragent.model.scripted import ScriptedProvider  # noqa: E402
from tieragent.repo.changes import DiffSource  # noqa: E402
from tieragent.repo.map import build_repo_map  # noqa: E402
from tieragent.repo.runner import SubprocessRunner  # noqa: E402
from tieragent.repo.workspace import GitWorkspace  # noqa: E402

DEFAULT_REV = "8df71ea"  # "fix: baseline before patching, per-test verdicts, risk rules, ..." (issue 5)
FINDING = json.dumps(
    {
        "findings": [
            {
                "path": "x.py",
                "line": 1,
                "severity": "low",
                "category": "maintainability",
                "message": "a typical finding: one or two sentences saying what is wrong and why it matters " * 2,
                "suggestion": "a short suggestion of how to change it",
            }
        ]
    }
)


def responder(request) -> str:
    if str(request.step) == "review-triage":
        ids = [part.split(":")[0].strip() for part in request.prompt_text().split("### ")[1:]]
        return json.dumps({"hunks": [{"id": i, "risk": "medium", "reason": "scripted"} for i in ids]})
    return FINDING


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default=DEFAULT_REV, help="the commit whose diff (against its parent) is reviewed")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    ws = GitWorkspace.open(ROOT)
    rev = subprocess.run(
        ["git", "rev-parse", args.rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    text = subprocess.run(
        ["git", "diff", "--no-color", "-M", f"{rev}^", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    source = DiffSource(text, f"commit {rev[:10]}", f"{rev}^", rev, base_rev=f"{rev}^")
    cfg = Config.model_validate({"tiers": {t: c.model_dump() for t, c in DEMO_TIERS.items()}})
    provider = ScriptedProvider(DEMO_TIERS, responder=responder)
    prices = {t: DEMO_TIERS[t].price for t in TIERS}
    deps = ReviewDeps(
        ws=ws,
        config=cfg,
        models=lambda: Models(provider, prices, {}),
        repo_map=lambda: build_repo_map(ws.root, cache_dir=ws.state_dir / "tags"),
        runner=SubprocessRunner(),
    )
    result = run_review(source, deps, ReviewOptions(fail_on="never"))
    ledger = result.ledger
    tiered = ledger.spent_usd if ledger else 0.0
    # the same review with one hunk per call, as before small hunks of a file shared a call
    batch.MAX_HUNKS_PER_CALL = 1
    single = run_review(source, deps, ReviewOptions(fail_on="never"))
    one_per_call = single.ledger.spent_usd if single.ledger else 0.0

    # every hunk to the frontier: the one-hunk-per-call review calls, at frontier prices, plus the
    # hunks the pre-filter skipped, through the same review prompt (no triage call at all)
    fr = prices["frontier"]
    review_rows = [r for r in single.ledger.rows if str(r.step) == "review"] if single.ledger else []
    all_frontier = sum(r.frontier_cost_usd or 0.0 for r in review_rows)
    skipped_ids = {s.hunk for s in result.skipped if s.hunk}
    skipped_files = {s.path for s in result.skipped if s.hunk is None}
    hunks = 0
    for f in parse_diff(text):
        for h in f.hunks:
            hunks += 1
            if h.id in skipped_ids or h.path in skipped_files:
                part = Part(h, enclosing_code(h.path, ws.blob(rev, h.path), h), "not rated")
                messages = prompts.render(
                    "review-hunks", path=h.path, changes=changes_block([part]), related="", feedback=""
                )
                tokens = estimate_tokens("\n".join(m["content"] for m in messages))
                all_frontier += (tokens * fr.input_per_mtok + estimate_tokens(FINDING) * fr.output_per_mtok) / 1e6
    by_tier = {t: len(ids) for t, ids in result.by_tier().items()}
    figures = {
        "commit": rev[:10],
        "files": result.files,
        "hunks": hunks,
        "skipped": len(result.skipped),
        "reviewed_by_tier": by_tier,
        "calls": ledger.calls if ledger else 0,
        "calls_one_hunk_per_call": single.ledger.calls if single.ledger else 0,
        "tiered_cost_usd": round(tiered, 4),
        "tiered_one_hunk_per_call_usd": round(one_per_call, 4),
        "every_hunk_to_frontier_usd": round(all_frontier, 4),
        "saving": f"{1 - tiered / all_frontier:.0%}" if all_frontier else "n/a",
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"commit {figures['commit']}: {figures['files']} files, {hunks} hunks; {figures['skipped']} skipped "
        "without a model"
    )
    print(f"reviewed by tier: {by_tier}; {figures['calls']} calls (triage included)")
    print(
        f"tiered review:                 ${tiered:.4f}  (one hunk per call: ${one_per_call:.4f}, "
        f"{figures['calls_one_hunk_per_call']} calls)"
    )
    print(f"every hunk to the frontier:    ${all_frontier:.4f}  (tiered costs {tiered / all_frontier:.0%} of that)")


if __name__ == "__main__":
    main()
