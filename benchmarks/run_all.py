"""Every benchmark in one command, one table (or `--json`): the figures BENCHMARKS.md reports.

    python benchmarks/run_all.py                                     # everything: ~10 min on 2 cores
                                                                     # (downloads sdists, installs Aider)
    python benchmarks/run_all.py --workdir ~/.cache/tieragent-bench  # keep downloads and the Aider venv between runs
    python benchmarks/run_all.py --quick                             # no downloads, no peer: a smoke run
    python benchmarks/run_all.py --only startup,tokens --json        # some parts, as one JSON object
    python benchmarks/run_all.py --no-peer                           # tieragent's side only
    python benchmarks/run_all.py --aider-bin PATH ...                # an Aider already installed
    python benchmarks/run_all.py --table-from results.json           # the table of a saved --json run

Why one command: the figures in README.md and BENCHMARKS.md come from several scripts, and a
figure nobody can rerun in one go drifts from the code. Each part runs the existing script as a
subprocess (with `--json` where it has one, else its printed lines are parsed), so every figure
here is exactly what the script prints when run by hand. The parts:

  startup       median wall time of fresh processes: `tieragent --help`, `fix --help`,
                `review --help`, `map` on a 4-file repository, `config show`
  tokens        prompt tokens per step for the reference fix (in-process, ScriptedProvider: token
                counts estimated at ~4 characters a token), and the outline's and the related
                signatures' share of them
  fix           benchmarks/peer.py: `tieragent fix` against the instant fake model, wall and peak RSS,
                side by side with Aider (unless --no-peer or --quick)
  map           benchmarks/index_repo.py on sympy 1.7.1's sdist (about 1,700 files), plus `tieragent map`
                itself, cold and warm, as a user runs it
  index         benchmarks/index_repo.py on Django 5.1.4 (README's figure, rerun)
  recall        benchmarks/recall.py on requests 2.32.3 and on Django 5.1.4 (README's figures, rerun)
  patch_apply   benchmarks/patch_apply.py (README's figure, rerun)
  review_cost   benchmarks/review_cost.py --json (README's figure, rerun)
  retry_policy  benchmarks/retry_policy.py --json: cost per solved task on the scripted outcome mix

`--quick` skips the parts that download (map, index, recall), the peer and the start-up warm-ups. Nothing here is a
timed test: the figures are printed, never asserted. Other processes on the machine change them;
the load average is recorded before and after each part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from peer import REQUEST, TEST_CMD, bench_env, median, start_up  # noqa: E402

PY = sys.executable
TIERAGENT = str(Path(sys.executable).parent / "tieragent")
MAP_SPEC = "sympy==1.7.1"  # 1,742 files in the sdist: the "1,700-file tree"
MAP_REQUEST = "solve() returns an empty list for a quadratic equation with a symbolic coefficient"
PARTS = ["startup", "tokens", "fix", "map", "index", "recall", "patch_apply", "review_cost", "retry_policy"]
DOWNLOADS = {"map", "index", "recall"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_script(args: list[str], timeout: float = 1800) -> str:
    """A bench script as a subprocess from the repository root; its stdout (stderr on failure)."""
    cmd = [PY, *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 and not proc.stdout.strip():
        noise = "is ignored: it is neither a file nor a directory"  # this machine's pip index warnings
        err = "\n".join(line for line in proc.stderr.splitlines() if noise not in line)
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {err[-800:]}")
    return proc.stdout


def num(pattern: str, text: str, cast: Callable = float) -> Any:
    m = re.search(pattern, text, re.M)
    if not m:
        raise RuntimeError(f"no match for {pattern!r} in:\n{text[-1500:]}")
    return cast(m.group(1))


# ----------------------------------------------------------------- parts
def part_startup(work: Path, repeat: int, args: argparse.Namespace) -> dict:
    """Fresh processes, median after one warm-up (none with --quick: a smoke run), in the same environment
    as the fix runs."""
    from conftest import CALC_FILES, make_repo, write_config

    repo = work / "startup-repo"
    shutil.rmtree(repo, ignore_errors=True)
    make_repo(repo, CALC_FILES)
    write_config(repo, SimpleNamespace(url="http://127.0.0.1:9/v1"))  # tiers configured, as a user's repository is
    env = bench_env(work / "startup-home")
    out = {}
    for cmd_args in (["--help"], ["fix", "--help"], ["review", "--help"], ["map"], ["config", "show"]):
        walls = start_up([TIERAGENT, *cmd_args], repo, env, repeat, warm_up=not args.quick)
        out["tieragent " + " ".join(cmd_args)] = {
            "median_s": round(median(walls), 3),
            "walls_s": [round(w, 3) for w in walls],
        }
    return {"commands": out, "repeat": repeat, "repository": "tests/conftest.py CALC_FILES (4 files)"}


def _section(text: str, start: str, ends: tuple[str, ...]) -> str:
    i = text.find(start)
    if i < 0:
        return ""
    i += len(start)
    j = min((k for k in (text.find(e, i) for e in ends) if k >= 0), default=len(text))
    return text[i:j]


def part_tokens(work: Path, repeat: int) -> dict:
    """The reference fix in-process with ScriptedProvider; input tokens per step from the ledger."""
    from conftest import CALC_FILES, CLASSIFY_OPS, GOOD_PATCH, PRICES, make_repo

    from tieragent.cli.wiring import validation_runner
    from tieragent.core.config import Config
    from tieragent.core.tokens import estimate_tokens
    from tieragent.core.vocab import TIERS
    from tieragent.flows.fix import FixDeps, run_fix
    from tieragent.model.protocol import Models
    from tieragent.model.scripted import ScriptedProvider
    from tieragent.repo.map import build_repo_map
    from tieragent.repo.workspace import GitWorkspace

    repo = work / "tokens-repo"
    shutil.rmtree(repo, ignore_errors=True)
    make_repo(repo, CALC_FILES)
    cfg = Config.model_validate(
        {
            "tiers": {t: {"model": f"openai/fake-{t}", "price": PRICES[t]} for t in TIERS},
            "validate": {"test": TEST_CMD, "timeout_s": 60},
            # the scripted reply is a unified diff; the reference fix is measured without verification (its
            # figures in BENCHMARKS.md predate it)
            "routing": {"edit_formats": {"*fake-*": "diff"}, "verify": "never"},
        }
    )
    provider = ScriptedProvider(
        {t: cfg.tier(t) for t in TIERS}, script={("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}
    )
    ws = GitWorkspace.open(repo)
    deps = FixDeps(
        ws=ws,
        config=cfg,
        runner=validation_runner(cfg).with_env({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        models=lambda: Models(provider, {t: cfg.tier(t).price for t in TIERS}, {}),
        repo_map=lambda: build_repo_map(ws.root, cache_dir=ws.state_dir / "tags"),
        test_command=TEST_CMD,
    )
    result = run_fix(REQUEST, deps)
    steps: dict[str, dict] = {}
    for row in result.ledger.rows if result.ledger else []:
        s = steps.setdefault(str(row.step), {"calls": 0, "input_tokens": 0, "output_tokens": 0})
        s["calls"] += 1
        s["input_tokens"] += row.input_tokens
        s["output_tokens"] += row.output_tokens
    shares: dict[str, Any] = {}
    for req in provider.requests:
        text = req.prompt_text()
        total = estimate_tokens(text)
        if str(req.step) == "classify" and "classify" not in shares:
            outline = _section(
                text, "Repository outline (paths, then the definitions in each file):\n", ("\n\nRequest:\n",)
            )
            shares["classify"] = {
                "prompt_tokens": total,
                "outline_tokens": estimate_tokens(outline),
                "outline_share": round(estimate_tokens(outline) / total, 3),
            }
        if str(req.step) == "patch" and "patch" not in shares:
            related = _section(text, "Signatures in related files (for reference):\n", ("\n\nRequest:\n",))
            files = _section(
                text,
                "Files (current content, including any uncommitted edits):\n",
                ("\nSignatures in related files", "\n\nRequest:\n"),
            )
            shares["patch"] = {
                "prompt_tokens": total,
                "files_tokens": estimate_tokens(files),
                "related_tokens": estimate_tokens(related),
                "files_share": round(estimate_tokens(files) / total, 3),
                "related_share": round(estimate_tokens(related) / total, 3),
            }
    return {
        "status": result.status,
        "steps": steps,
        "shares": shares,
        "outline_budget_tokens": cfg.context.outline_tokens,
        "total_input_tokens": sum(s["input_tokens"] for s in steps.values()),
        "estimated": True,
    }


def part_fix(work: Path, repeat: int, args: argparse.Namespace) -> dict:
    cmd = [
        "benchmarks/peer.py",
        "--json",
        "--workdir",
        str(work),
        "--runs",
        str(args.repeat or 3),
        "--help-runs",
        str(args.repeat or 5),
    ]
    if args.quick or args.no_peer:
        cmd.append("--no-peer")
    if args.aider_bin:
        cmd += ["--aider-bin", str(args.aider_bin)]
    return json.loads(run_script(cmd))


def _index_repo(spec: str | None, work: Path, repeat: int) -> dict:
    cmd = ["benchmarks/index_repo.py", "--workdir", str(work), "--repeat", str(repeat)] + (
        ["--spec", spec] if spec else []
    )
    text = run_script(cmd)
    return {
        "spec": spec or "django==5.1.4",
        "files": num(r"files indexed: (\d+)", text, int),
        "skipped": num(r"files indexed: \d+ \((\d+) skipped", text, int),
        "cold_index_s": num(r"^cold\s+index\s+([\d.]+)s", text),
        "cold_process_s": num(r"^cold\s+index.*?process wall\s+([\d.]+)s", text),
        "warm_index_s": num(r"^warm\s+index\s+([\d.]+)s", text),
        "warm_process_s": num(r"^warm\s+index.*?process wall\s+([\d.]+)s", text),
        "edited_index_s": num(r"^edited index\s+([\d.]+)s", text),
        "rank_s": num(r"^rank\s+([\d.]+)s", text),
        "rss_main_mb": num(r"peak RSS: main process (\d+) MB", text, int),
        "rss_tree_mb": num(r"sampled every 20 ms: (\d+) MB", text, int),
        "repeat": repeat,
        "output": text,
    }


def part_map(work: Path, repeat: int) -> dict:
    """index_repo.py on the 1,700-file tree, then `tieragent map` itself (a fresh CLI process) on it."""
    out = {"index_repo": _index_repo(MAP_SPEC, work, repeat)}
    repo = work / MAP_SPEC.replace("==", "-")
    env = bench_env(work / "startup-home")
    tags = repo / ".git" / "tieragent" / "tags"
    cli: dict[str, Any] = {}
    for label, extra in (("map", []), ("map REQUEST", [MAP_REQUEST])):
        colds, warms, inside = [], [], []
        for _ in range(repeat):
            shutil.rmtree(tags, ignore_errors=True)
            t = time.perf_counter()
            proc = subprocess.run(
                [TIERAGENT, "map", "--json", *extra], cwd=repo, env=env, capture_output=True, text=True
            )
            colds.append(time.perf_counter() - t)
            if proc.returncode != 0:
                raise RuntimeError(f"tieragent map exited {proc.returncode}: {proc.stderr[-500:]}")
            files = json.loads(proc.stdout)["index"]["files"]
            t = time.perf_counter()
            proc = subprocess.run(
                [TIERAGENT, "map", "--json", *extra], cwd=repo, env=env, capture_output=True, check=True
            )
            warms.append(time.perf_counter() - t)
            inside.append(json.loads(proc.stdout)["index"]["seconds"])  # index + rank + outline, imports excluded
        cli[label] = {
            "cold_s": round(median(colds), 3),
            "warm_s": round(median(warms), 3),
            "files": files,
            "warm_in_process_s": round(median(inside), 3),
            "cold_walls_s": [round(w, 3) for w in colds],
            "warm_walls_s": [round(w, 3) for w in warms],
        }
    out["cli"] = cli
    out["request"] = MAP_REQUEST
    return out


def part_index(work: Path, repeat: int) -> dict:
    return _index_repo(None, work, repeat)


def _recall(work: Path, which: str) -> dict:
    text = run_script(["benchmarks/recall.py", "--workdir", str(work), "--set", which])
    return {
        "set": which,
        "spec": num(r"^(\S+): \d+ requests", text, str),
        "requests": num(r": (\d+) requests", text, int),
        "recall@1": num(r"^recall@1\s+([\d.]+)", text),
        "recall@5": num(r"^recall@5\s+([\d.]+)", text),
        "recall@10": num(r"^recall@10\s+([\d.]+)", text),
    }


def part_recall(work: Path, repeat: int) -> dict:
    return {"requests": _recall(work, "requests"), "django": _recall(work, "django")}


def part_patch_apply(work: Path, repeat: int) -> dict:
    text = run_script(["benchmarks/patch_apply.py"])
    out: dict[str, Any] = {
        "hunks": num(r"reply: (\d+) hunks", text, int),
        "lines": num(r"file: (\d+) lines", text, int),
    }
    for name in ("clean", "damaged", "shifted"):
        out[name] = {
            "hunks_per_s": num(rf"^\s+{name}\s+(\d+) hunks/s", text, int),
            "wall_s": num(rf"^\s+{name}\s+\d+ hunks/s\s+([\d.]+) s", text),
        }
    out["corpus_passed"] = num(r"corpus: (\d+)/", text, int)
    out["corpus_total"] = num(r"corpus: \d+/(\d+)", text, int)
    return out


def part_review_cost(work: Path, repeat: int) -> dict:
    return json.loads(run_script(["benchmarks/review_cost.py", "--json"]))


def part_retry_policy(work: Path, repeat: int) -> dict:
    return {"policies": json.loads(run_script(["benchmarks/retry_policy.py", "--json"]))}


# ----------------------------------------------------------------- the table
def rows_of(parts: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """(what, figure, target, command) for every figure measured; parts that failed say why."""
    rows: list[tuple[str, str, str, str]] = []
    for name, p in parts.items():
        if "_error" in p or "_skipped" in p:
            rows.append(
                (
                    name,
                    ("ERROR: " + p["_error"].splitlines()[0][:120]) if "_error" in p else "skipped: " + p["_skipped"],
                    "",
                    "",
                )
            )
    s = parts.get("startup", {})
    for cmd, v in s.get("commands", {}).items():
        target = "< 0.3 s" if cmd == "tieragent --help" else ""
        rows.append((f"start-up: {cmd}", f"{v['median_s']:.3f} s", target, "run_all.py --only startup"))
    t = parts.get("tokens", {})
    if t.get("steps"):
        per = ", ".join(f"{k} {v['input_tokens']}" for k, v in t["steps"].items())
        rows.append(
            (
                "prompt tokens per step, reference fix (estimated)",
                f"{per} (total {t['total_input_tokens']})",
                "",
                "run_all.py --only tokens",
            )
        )
        sh = t["shares"]
        if "classify" in sh:
            rows.append(
                (
                    "  classify: outline share",
                    f"{sh['classify']['outline_share']:.0%} ({sh['classify']['outline_tokens']} tokens; budget "
                    f"{t['outline_budget_tokens']})",
                    "",
                    "",
                )
            )
        if "patch" in sh:
            rows.append(
                (
                    "  patch: related signatures share",
                    f"{sh['patch']['related_share']:.0%} ({sh['patch']['related_tokens']} tokens); files "
                    f"{sh['patch']['files_share']:.0%}",
                    "",
                    "",
                )
            )
    f = parts.get("fix", {})
    for tool in f.get("tools", []):
        if tool["fix_wall_s"] is None:
            rows.append(
                (f"fix: {tool['version']}", "FAILED: " + "; ".join(tool["problems"])[:120], "", "benchmarks/peer.py")
            )
            continue
        rows.append(
            (
                f"fix wall, instant fake model: {tool['version']}",
                f"{tool['fix_wall_s']:.2f} s ({tool['runs_ok']}/{tool['runs']} runs fixed)",
                "",
                "benchmarks/peer.py",
            )
        )
        rows.append(
            (
                f"fix peak RSS, process tree: {tool['version']}",
                f"{tool['tree_peak_mb']:.0f} MB (largest process {tool['maxrss_mb']:.0f} MB)",
                "",
                "benchmarks/peer.py",
            )
        )
        rows.append(
            (
                f"--help: {tool['version']}",
                f"{tool['help_s']:.3f} s",
                "< 0.3 s" if tool["tool"] == "tieragent" else "",
                "benchmarks/peer.py",
            )
        )
        rows.append(
            (
                f"  fix wall less its {tool['tool_test_runs']} test run(s) (approx.)",
                f"{tool['wall_minus_tests_s']:.2f} s",
                "",
                "",
            )
        )
        if tool.get("phases_s"):
            rows.append(
                (
                    "  phases (median run)",
                    ", ".join(f"{k} {v:.2f}" for k, v in tool["phases_s"].items() if k != "total"),
                    "",
                    "",
                )
            )
    if f.get("ratios"):
        r = f["ratios"]
        rows.append(
            (
                "ratio tieragent/aider: fix wall",
                f"{r['fix_wall']:.2f} (less the test runs: {r['fix_wall_minus_tests']:.2f})",
                "<= 0.6",
                "benchmarks/peer.py",
            )
        )
        rows.append(
            (
                "ratio tieragent/aider: peak RSS (tree)",
                f"{r['tree_peak_rss']:.2f} (largest process {r['maxrss']:.2f})",
                "<= 0.8",
                "benchmarks/peer.py",
            )
        )
        rows.append(
            (
                "ratio tieragent/aider: --help; request tokens",
                f"{r['help']:.2f}; {r['request_tokens']:.2f}",
                "",
                "benchmarks/peer.py",
            )
        )
        rows.append(("  test command alone", f"{f['test_command_alone_s']:.2f} s", "", ""))
    if f.get("peer_error"):
        rows.append(("peer", f["peer_error"][:140], "", "benchmarks/peer.py"))
    m = parts.get("map", {})
    if m.get("index_repo"):
        ir = m["index_repo"]
        rows.append(
            (
                f"map index {ir['spec']} ({ir['files']} files) cold / warm",
                f"{ir['cold_index_s']:.2f} s / {ir['warm_index_s']:.2f} s "
                f"(process {ir['cold_process_s']:.2f} / {ir['warm_process_s']:.2f} s)",
                "",
                f"benchmarks/index_repo.py --spec {ir['spec']}",
            )
        )
        for label, v in m["cli"].items():
            rows.append(
                (
                    f"`tieragent {label}` on {ir['spec']}, cold / warm",
                    f"{v['cold_s']:.2f} s / {v['warm_s']:.2f} s "
                    f"(warm: {v['warm_in_process_s']:.2f} s of it index + rank + outline)",
                    "warm <= 0.5 s",
                    "run_all.py --only map",
                )
            )
        rows.append((f"  peak RSS ({ir['spec']})", f"{ir['rss_main_mb']} MB main, {ir['rss_tree_mb']} MB tree", "", ""))
    i = parts.get("index", {})
    if "files" in i:
        rows.append(
            (
                f"index {i['spec']} ({i['files']} files) cold / warm",
                f"{i['cold_index_s']:.2f} s / {i['warm_index_s']:.2f} s",
                "<= 10 s / <= 1 s",
                "benchmarks/index_repo.py",
            )
        )
        rows.append(
            (f"  peak RSS ({i['spec']})", f"{i['rss_main_mb']} MB main, {i['rss_tree_mb']} MB tree", "<= 300 MB", "")
        )
    for key, rc in parts.get("recall", {}).items():
        if isinstance(rc, dict) and "recall@5" in rc:
            rows.append(
                (
                    f"recall@1/@5/@10, {rc['spec']} ({rc['requests']} requests)",
                    f"{rc['recall@1']:.3f} / {rc['recall@5']:.3f} / {rc['recall@10']:.3f}",
                    ">= 0.80 @5" if key == "requests" else "",
                    f"benchmarks/recall.py --set {key}",
                )
            )
    pa = parts.get("patch_apply", {})
    if "clean" in pa:
        rows.append(
            (
                f"patch apply, {pa['hunks']} hunks on {pa['lines']:,} lines: clean / damaged / shifted",
                f"{pa['clean']['wall_s']:.2f} / {pa['damaged']['wall_s']:.2f} / {pa['shifted']['wall_s']:.2f} s "
                f"({pa['clean']['hunks_per_s']} hunks/s clean)",
                "< 1 s",
                "benchmarks/patch_apply.py",
            )
        )
        rows.append(("  patch corpus", f"{pa['corpus_passed']}/{pa['corpus_total']}", "all", ""))
    rv = parts.get("review_cost", {})
    if "tiered_cost_usd" in rv:
        rows.append(
            (
                f"review of commit {rv['commit']} ({rv['hunks']} hunks): tiered vs every hunk to frontier",
                f"${rv['tiered_cost_usd']:.2f} vs ${rv['every_hunk_to_frontier_usd']:.2f}",
                "",
                "benchmarks/review_cost.py",
            )
        )
    for pol in parts.get("retry_policy", {}).get("policies", []):
        rows.append(
            (
                f"cost per solved task: {pol['policy']}",
                f"${pol['cost_per_solved_usd']:.5f} ({pol['solved']}/{pol['tasks']} solved, {pol['calls']} calls)",
                "",
                "benchmarks/retry_policy.py",
            )
        )
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    w = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    heads = ("what", "figure", "target", "command")
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(heads)).rstrip())
    print("  ".join("-" * w[i] for i in range(4)))
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())


def machine() -> dict:
    mem = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            ),
            "?",
        )
        if Path("/proc/meminfo").exists()
        else "?"
    )
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    version = subprocess.run([TIERAGENT, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "mem_total": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tieragent": version,
        "commit": head,
        "modified_tracked_files": len(dirty.splitlines()),  # the figures are of the work tree as it was
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="parts: " + ", ".join(PARTS),
    )
    ap.add_argument(
        "--workdir",
        type=Path,
        help="downloads, repositories and the Aider venv (default: a temp dir; "
        "~/.cache/tieragent-bench keeps them between runs)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="skip the parts that download (map, index, recall), the peer and the start-up warm-ups",
    )
    ap.add_argument("--no-peer", action="store_true", help="measure tieragent's fix without Aider")
    ap.add_argument(
        "--aider-bin", type=Path, help="an installed aider executable (default: pip install into WORKDIR/aider-venv)"
    )
    ap.add_argument("--only", help="comma-separated parts to run (default: all)")
    ap.add_argument("--repeat", type=int, help="fresh processes per median (default: 5 for start-up, 3 elsewhere)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument(
        "--table-from", type=Path, metavar="FILE", help="print the table of a saved --json output, and run nothing"
    )
    args = ap.parse_args(argv)
    if args.table_from:
        saved = json.loads(args.table_from.read_text())
        info = saved["machine"]
        print(
            f"{info['date']}  {info['cpus']} CPUs, {info['mem_total']}, Python {info['python']}, "
            f"{info['tieragent']} at {info['commit']}  load average {info['loadavg_start'][0]} -> "
            f"{info['loadavg_end'][0]}"
        )
        print_table([(r["what"], r["figure"], r["target"], r["command"]) for r in saved["table"]])
        return 0
    chosen = [p.strip() for p in args.only.split(",")] if args.only else PARTS
    unknown = set(chosen) - set(PARTS)
    if unknown:
        ap.error(f"unknown part(s): {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")

    info = machine()
    parts: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tieragent-bench-") as tmp:
        work = (args.workdir or Path(tmp)).expanduser().resolve()
        work.mkdir(parents=True, exist_ok=True)
        for name in [p for p in PARTS if p in chosen]:
            if args.quick and name in DOWNLOADS:
                parts[name] = {"_skipped": "--quick (downloads)"}
                continue
            repeat = args.repeat or (5 if name == "startup" else 3)
            load = os.getloadavg()[0]
            started = time.perf_counter()
            log(f"[run_all] {name} ...")
            try:
                fn = globals()[f"part_{name}"]
                parts[name] = fn(work, repeat, args) if name in ("fix", "startup") else fn(work, repeat)
            except Exception as e:  # one broken part must not hide the others' figures
                parts[name] = {"_error": f"{type(e).__name__}: {e}"}
            parts[name]["_seconds"] = round(time.perf_counter() - started, 1)
            parts[name]["_loadavg_before_after"] = [round(load, 2), round(os.getloadavg()[0], 2)]
            log(
                f"[run_all] {name} done in {parts[name]['_seconds']}s (load average {load:.2f} -> "
                f"{os.getloadavg()[0]:.2f})"
            )
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    rows = rows_of(parts)
    if args.json:
        print(
            json.dumps(
                {
                    "machine": info,
                    "quick": args.quick,
                    "parts": parts,
                    "table": [dict(zip(("what", "figure", "target", "command"), r, strict=True)) for r in rows],
                },
                indent=2,
            )
        )
    else:
        print(
            f"{info['date']}  {info['cpus']} CPUs, {info['mem_total']}, Python {info['python']}, "
            f"{info['tieragent']} at {info['commit']}  load average {info['loadavg_start'][0]} -> "
            f"{info['loadavg_end'][0]}"
        )
        print_table(rows)
    return 1 if any("_error" in p for p in parts.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
