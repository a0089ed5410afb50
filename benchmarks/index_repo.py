"""Index a large real source tree and report speed and memory (a benchmark, not a timed test).

    python benchmarks/index_repo.py                       # Django 5.1.4's sdist, fetched with pip at run time
    python benchmarks/index_repo.py --workdir ~/.cache/tieragent-bench   # keep the download between runs
    python benchmarks/index_repo.py --spec django==5.1.4 --workers 1     # force one parser process
    python benchmarks/index_repo.py --repeat 5                           # median of 5 cold and 5 warm runs

Each measurement runs in a fresh Python process (imports included in wall time, as for a
user running `tieragent map`), against a git repository made from the unpacked sdist:

* cold: no tag cache; every file is parsed;
* warm: nothing changed since the cold run; every file comes from the cache;
* one file edited: one file's content changes; only it is parsed again;
* rank: warm index plus ranking and a 1,500-token outline for one request.

Peak RSS is `resource.getrusage` ru_maxrss of the measuring process, and the peak of the
whole process tree (main process plus parser workers) sampled from /proc every 20 ms. Targets on a
2-core machine: cold <= 10 s, warm <= 1 s, peak RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUEST = "the admin changelist search crashes with a FieldError when search_fields spans a related model"


def child(repo: Path, cache: Path, workers: int | None, request: str | None) -> None:
    t0 = time.perf_counter()
    from tieragent.repo.map import build_repo_map

    t_import = time.perf_counter() - t0
    started = time.perf_counter()
    rmap = build_repo_map(repo, cache_dir=cache, workers=workers)
    index_s = time.perf_counter() - started
    out = {
        "import_s": t_import,
        "index_s": index_s,
        "files": rmap.stats.files,
        "skipped": rmap.stats.skipped,
        "parsed": rmap.stats.parsed,
        "reused": rmap.stats.reused,
        "workers": rmap.stats.workers,
        "cache": rmap.stats.cache,
    }
    if request:
        started = time.perf_counter()
        ranked = rmap.rank(request)
        out["rank_s"] = time.perf_counter() - started
        started = time.perf_counter()
        rmap.outline(request, 1500)
        out["outline_s"] = time.perf_counter() - started
        out["top"] = [r.path for r in ranked[:5]]
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime  # workers included once joined
    out["rss_self_mb"] = me.ru_maxrss / 1024
    print(json.dumps(out))


def _tree_rss_kb(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc), in KiB."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def measure(repo: Path, cache: Path, workers: int | None, request: str | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--repo", str(repo), "--cache", str(cache)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if request:
        cmd += ["--request", request]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:  # the whole tree at once: the main process plus its parser workers
        nonlocal peak_tree
        while not done.is_set():
            if os.path.isdir("/proc"):
                peak_tree = max(peak_tree, _tree_rss_kb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"measurement failed:\n{stderr}")
    out = json.loads(stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    out["rss_tree_mb"] = peak_tree / 1024
    return out


def _median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["index_s"])[len(runs) // 2]


def _all(runs: list[dict]) -> str:
    return ", ".join(f"{r['index_s']:.2f}" for r in runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="django==5.1.4", help="the sdist to index (default: django==5.1.4)")
    ap.add_argument("--workdir", type=Path, help="download and unpack here (default: a temp dir)")
    ap.add_argument("--workers", type=int, help="parser processes (default: automatic)")
    ap.add_argument("--request", default=REQUEST, help="request used for the rank measurement")
    ap.add_argument("--repeat", type=int, default=3, help="cold and warm runs to take the median of (default 3)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--repo", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.repo, args.cache, args.workers, args.request if args.request != "-" else None)
        return 0

    sys.path.insert(0, str(HERE))
    from sdist import fetch_repo

    with tempfile.TemporaryDirectory(prefix="tieragent-bench-") as tmp:
        work = args.workdir or Path(tmp)
        t = time.perf_counter()
        repo = fetch_repo(args.spec, work)
        print(f"{args.spec}: unpacked and committed in {time.perf_counter() - t:.1f}s at {repo}")
        cache = work / "tag-cache"
        colds, warms = [], []
        for _ in range(args.repeat):
            shutil.rmtree(cache, ignore_errors=True)
            colds.append(measure(repo, cache, args.workers, "-"))
            warms.append(measure(repo, cache, args.workers, "-"))
        # one edited file: append a function to a mid-sized module
        target = next(p for p in sorted(repo.rglob("*.py")) if "utils" in p.name and p.stat().st_size > 5000)
        with open(target, "a", encoding="utf-8") as f:
            f.write("\n\ndef bench_added_function(x):\n    return x\n")
        edited = measure(repo, cache, args.workers, "-")
        ranked = measure(repo, cache, args.workers, args.request)
        cold, warm = _median(colds), _median(warms)
        n = f"median of {args.repeat}" if args.repeat > 1 else "one run"
        print(f"files indexed: {cold['files']} ({cold['skipped']} skipped); parser processes: {cold['workers']}")
        print(
            f"cold   index {cold['index_s']:6.2f}s  process wall {cold['wall_s']:6.2f}s  "
            f"{cold['files'] / cold['index_s']:7.0f} files/s  parsed {cold['parsed']}  CPU {cold['cpu_s']:.1f}s  "
            f"({n}; all: {_all(colds)})   target <= 10 s"
        )
        print(
            f"warm   index {warm['index_s']:6.2f}s  process wall {warm['wall_s']:6.2f}s  "
            f"{warm['files'] / warm['index_s']:7.0f} files/s  parsed {warm['parsed']}  CPU {warm['cpu_s']:.1f}s  "
            f"({n}; all: {_all(warms)})   target <= 1 s"
        )
        print(
            f"edited index {edited['index_s']:6.2f}s  process wall {edited['wall_s']:6.2f}s  parsed {edited['parsed']}"
            f" ({target.relative_to(repo)})"
        )
        print(
            f"rank   {ranked['rank_s']:.2f}s + outline {ranked['outline_s']:.2f}s on a warm index "
            f"(first request: includes building the graph); top 5 for {args.request!r}:"
        )
        for p in ranked["top"]:
            print(f"         {p}")
        runs = colds + warms + [edited, ranked]
        peak = max(r["rss_self_mb"] for r in runs)
        tree = max(r["rss_tree_mb"] for r in runs)
        print(
            f"peak RSS: main process {peak:.0f} MB (ru_maxrss; cold {cold['rss_self_mb']:.0f}, warm "
            f"{warm['rss_self_mb']:.0f}, rank {ranked['rss_self_mb']:.0f})   target <= 300 MB"
        )
        print(f"          whole process tree incl. parser workers, sampled every 20 ms: {tree:.0f} MB")
        print(
            f"load average {os.getloadavg()[0]:.2f} at the end (other processes share the cores; CPU seconds "
            "include imports and the parser workers)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
