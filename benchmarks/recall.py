"""Recall of the file ranking alone (no model) on the labelled requests in tests/data/.

    python benchmarks/recall.py                 # fetches requests==2.32.3 into a temp dir
    python benchmarks/recall.py --workdir DIR   # keep the download and the repository in DIR
    python benchmarks/recall.py -v              # every request, with the labelled files' ranks
    python benchmarks/recall.py --set django    # the larger companion set (Django 5.1.4, ~11 MB download)
    python benchmarks/recall.py --ablate        # also with each signal switched off

For each request, recall@k is the share of the files a correct fix must touch that appear
among the top k ranked files; the figures printed are the means over all requests.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE.parent / "tests" / "data"
DATA = DATA_DIR / "requests_recall.json"


@dataclass
class CaseResult:
    id: str
    style: str
    files: list[str]
    ranks: dict[str, int | None]  # labelled file -> 1-based rank (None: not indexed)

    def recall_at(self, k: int) -> float:
        return sum(1 for r in self.ranks.values() if r is not None and r <= k) / len(self.files)


def load_cases(path: Path = DATA) -> tuple[str, list[dict]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    p = data["project"]
    return f"{p['name']}=={p['version']}", data["cases"]


def evaluate(repo: Path, cases: list[dict], cache_dir: Path | None = None) -> list[CaseResult]:
    from tieragent.repo.map import build_repo_map

    rmap = build_repo_map(repo, cache_dir=cache_dir)
    out = []
    for case in cases:
        order = [r.path for r in rmap.rank(case["request"])]
        pos = {p: i + 1 for i, p in enumerate(order)}
        out.append(CaseResult(case["id"], case.get("style", ""), case["files"], {f: pos.get(f) for f in case["files"]}))
    return out


ABLATIONS = {
    "no graph (W_GRAPH=0)": {"W_GRAPH": 0.0},
    "no mentions (W_MENTION=0)": {"W_MENTION": 0.0},
    "lexical only": {"W_MENTION": 0.0, "W_GRAPH": 0.0},
    "no lexical (W_LEXICAL=0)": {"W_LEXICAL": 0.0},
    "no test/doc demotion": {"TEST_FACTOR": 1.0, "DOC_FACTOR": 1.0, "OTHER_FACTOR": 1.0},
}


def ablate(repo: Path, cases: list[dict]) -> None:
    import tieragent.repo.map.rank as rank

    for name, changes in ABLATIONS.items():
        saved = {k: getattr(rank, k) for k in changes}
        try:
            for k, v in changes.items():
                setattr(rank, k, v)
            s = summary(evaluate(repo, cases))
        finally:
            for k, v in saved.items():
                setattr(rank, k, v)
        print(
            f"  {name:<28} recall@1 {s['recall@1']:.3f}  recall@5 {s['recall@5']:.3f}  recall@10 {s['recall@10']:.3f}"
        )


def summary(results: list[CaseResult]) -> dict[str, float]:
    n = len(results) or 1
    return {
        "cases": len(results),
        "recall@1": sum(r.recall_at(1) for r in results) / n,
        "recall@5": sum(r.recall_at(5) for r in results) / n,
        "recall@10": sum(r.recall_at(10) for r in results) / n,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, help="where to download and unpack (default: a temp dir)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every request with its ranks")
    ap.add_argument("--ablate", action="store_true", help="also measure with each signal switched off")
    ap.add_argument("--set", default="requests", help="labelled set: tests/data/<SET>_recall.json (default: requests)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from sdist import fetch_repo

    spec, cases = load_cases(DATA_DIR / f"{args.set}_recall.json")
    with tempfile.TemporaryDirectory(prefix="tieragent-recall-") as tmp:
        work = args.workdir or Path(tmp)
        repo = fetch_repo(spec, work)
        started = time.perf_counter()
        results = evaluate(repo, cases)
        seconds = time.perf_counter() - started
        if args.ablate:
            print("ablation (same requests, one change each):")
            ablate(repo, cases)
            print()
    if args.verbose:
        for r in results:
            ranks = ", ".join(f"{f.rsplit('/', 1)[-1]}@{k if k else '-'}" for f, k in r.ranks.items())
            mark = "ok " if r.recall_at(5) == 1 else ("~  " if r.recall_at(10) == 1 else "MISS")
            print(f"{mark} {r.id:<28} {r.style:<9} {ranks}")
        print()
    s = summary(results)
    by_style: dict[str, list[CaseResult]] = {}
    for r in results:
        by_style.setdefault(r.style, []).append(r)
    print(f"{spec}: {s['cases']} requests, ranking alone (no model), index + ranking {seconds:.2f}s")
    print(f"recall@1  {s['recall@1']:.3f}")
    print(f"recall@5  {s['recall@5']:.3f}   (target >= 0.80)")
    print(f"recall@10 {s['recall@10']:.3f}")
    for style, rs in sorted(by_style.items()):
        ss = summary(rs)
        print(f"  {style:<9} n={ss['cases']:<3} recall@5 {ss['recall@5']:.3f}  recall@10 {ss['recall@10']:.3f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    raise SystemExit(main())
