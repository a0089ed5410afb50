"""Side by side: tieragent and a peer CLI (Aider) making the same one-shot fix against the same instant fake model.

    python benchmarks/peer.py                                  # installs aider-chat==0.86.2 into WORKDIR/aider-venv
    python benchmarks/peer.py --workdir ~/.cache/tieragent-bench --json
    python benchmarks/peer.py --aider-bin /tmp/aider-venv/bin/aider   # an Aider installed elsewhere
    python benchmarks/peer.py --no-peer                        # tieragent's side only (no install)
    python benchmarks/peer.py --client litellm                 # tieragent's tiers through litellm, as Aider's are

Why: "tieragent is lighter than the agent you would otherwise use" is only a claim until both run
the same task on the same machine. The task is the test suite's reference repository
(tests/conftest.py `CALC_FILES`: `add()` subtracts), the request "add() returns the wrong result"
and the test command `python -m pytest -q` (this interpreter, by absolute path). Both tools talk to
one `tests/fake_openai.py` server that answers at once: tieragent's classify and patch steps get
`CLASSIFY_OPS` and `GOOD_PATCH` by their step headers; Aider's request (no headers) gets the
server's default reply, the same one-line fix as a SEARCH/REPLACE block. So the figures are each
tool's own overhead (start-up, imports, repository scan, prompt building, applying, running the
tests), not model latency.

Fairness, all on purpose:
* one environment for both (`bench_env`): a bench HOME, `NO_COLOR=1`, `PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`
  (the venv's pytest plugins are not what is measured), stdin from /dev/null;
* one untimed warm-up run per tool (byte-code compiled, first-run files written), then `--runs`
  timed runs, interleaved, each a fresh process on a reset repository: `git checkout -- .`,
  `git clean -fdx` (keeping `.tieragent.yaml`), and tieragent's state under `.git/tieragent/`
  removed so that its baseline and tag cache are not reused (Aider's `.aider*` files are in the
  work tree and go with `git clean`);
* every run is checked: exit 0, `calc/ops.py` exactly fixed, the tool ran the tests and they
  passed, and an independent run of the test command passes. A run that fails a check is reported
  as failed, never timed as a success.

Peak memory: the whole process tree (tool, git, the test run) sampled from /proc every 20 ms as
benchmarks/index_repo.py does, and the largest single process, exact, from `wait4`'s ru_maxrss.
Note that tieragent runs the test command twice (a baseline before the patch, then validation) and
Aider once (after its edit).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CALC_FILES, CLASSIFY_OPS, FAKE_KEY, GOOD_PATCH, make_repo, write_config  # noqa: E402
from fake_openai import FakeOpenAI, Reply  # noqa: E402
from index_repo import _tree_rss_kb  # noqa: E402

AIDER_SPEC = "aider-chat==0.86.2"  # the version measured for BENCHMARKS.md; --aider-spec to change it
REQUEST = "add() returns the wrong result"
TEST_CMD = f'"{sys.executable}" -m pytest -q'
FIXED_OPS = CALC_FILES["calc/ops.py"].replace("return a - b", "return a + b", 1)
# Aider's edit format for strong models (`--edit-format diff`): file name, fence, SEARCH/REPLACE.
AIDER_EDIT = '''calc/ops.py
```python
<<<<<<< SEARCH
    """Sum of a and b."""
    return a - b
=======
    """Sum of a and b."""
    return a + b
>>>>>>> REPLACE
```
'''
TARGETS = {"fix_wall_ratio": 0.6, "peak_rss_ratio": 0.8, "tieragent_help_s": 0.3}


@dataclass
class Measured:
    """One process run: wall time, exit code, output, and its memory."""

    wall_s: float
    returncode: int
    stdout: str
    stderr: str
    tree_peak_mb: float  # sum of the RSS of the process and all its descendants, peak of 20 ms samples
    maxrss_mb: float  # the largest single process of the tree (wait4's ru_maxrss, exact)


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> Measured:
    """Run `cmd` as a fresh process, sampling its process tree's memory while it runs."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_kb(proc.pid))
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # wait4, not Popen.wait: its rusage is this child's tree
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            wall,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            peak / 1024,
            usage.ru_maxrss / 1024,
        )


def start_up(cmd: list[str], cwd: Path, env: dict[str, str], n: int, warm_up: bool = True) -> list[float]:
    """Wall times of `n` fresh processes of `cmd`, after one untimed warm-up unless told not to (no memory
    sampling: the sampler's /proc walks would add to a 0.1 s figure on 2 cores)."""
    walls = []
    untimed = 1 if warm_up else 0
    for i in range(untimed + n):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
        if i >= untimed:
            walls.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-300:]}"
            )
    return walls


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_env(home: Path) -> dict[str, str]:
    """The one environment both tools run in: minimal, no provider keys but the fake one."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "FAKE_PROVIDER_KEY": FAKE_KEY,  # tieragent's tiers read it (write_config); Aider gets --openai-api-key
    }


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def reset(repo: Path) -> None:
    """Back to the committed bug, with no state a previous run left (except tieragent's config)."""
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-fdxq", "-e", ".tieragent.yaml")
    shutil.rmtree(repo / ".git" / "tieragent", ignore_errors=True)


# ----------------------------------------------------------------- the two tools
@dataclass
class Tool:
    name: str
    version: str
    repo: Path
    fix_cmd: list[str]
    help_cmd: list[str]
    runs: list[dict] = field(default_factory=list)
    help_s: list[float] = field(default_factory=list)

    def check(self, m: Measured, requests: list) -> dict:
        """What this run did, and whether it really fixed the bug (else the timing is worthless)."""
        problems = []
        if m.returncode != 0:
            problems.append(f"exit {m.returncode}: {(m.stderr or m.stdout).strip()[-300:]}")
        if (self.repo / "calc/ops.py").read_text() != FIXED_OPS:
            problems.append("calc/ops.py is not the fixed file")
        tests_by_tool = None
        phases = None
        if self.name == "tieragent":
            try:
                data = json.loads(m.stdout)
                phases = data.get("timings")  # seconds per phase, as `fix --json` reports them
                val = data.get("validation") or {}
                tests_by_tool = bool(val.get("ok")) and (val.get("test") or {}).get("exit_code") == 0
                tool_test_runs = 1 + (0 if (data.get("baseline") or {}).get("reused") else 1)
            except ValueError:
                problems.append("stdout is not one JSON object")
                tool_test_runs = 0
        else:
            tests_by_tool = " passed" in m.stdout and " failed" not in m.stdout
            tool_test_runs = m.stdout.count(" passed") + m.stdout.count(" failed")
        if not tests_by_tool:
            problems.append("the tool did not run the tests to a pass")
        if not requests:
            problems.append("the tool made no request to the model")
        proof = subprocess.run(
            TEST_CMD + " -p no:cacheprovider",
            shell=True,
            cwd=self.repo,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"},
        )
        if proof.returncode != 0:
            problems.append("the test command fails after the run")
        return {
            "ok": not problems,
            "problems": problems,
            "wall_s": round(m.wall_s, 3),
            "tree_peak_mb": round(m.tree_peak_mb, 1),
            "maxrss_mb": round(m.maxrss_mb, 1),
            "model_requests": len(requests),
            "request_tokens_est": sum(len(r.raw) // 4 for r in requests),  # what the fake server bills: body bytes / 4
            "tool_test_runs": tool_test_runs,
            "phases_s": phases,
            "stderr_tail": m.stderr.strip()[-400:],
        }

    def summary(self) -> dict:
        good = [r for r in self.runs if r["ok"]]
        mid = sorted(good, key=lambda r: r["wall_s"])[len(good) // 2] if good else None
        return {
            "tool": self.name,
            "version": self.version,
            "runs": len(self.runs),
            "runs_ok": len(good),
            "fix_wall_s": round(median([r["wall_s"] for r in good]), 3) if good else None,
            "fix_walls_s": [r["wall_s"] for r in self.runs],
            "tree_peak_mb": round(median([r["tree_peak_mb"] for r in good]), 1) if good else None,
            "maxrss_mb": round(median([r["maxrss_mb"] for r in good]), 1) if good else None,
            "model_requests": good[0]["model_requests"] if good else None,
            "request_tokens_est": good[0]["request_tokens_est"] if good else None,
            "tool_test_runs": good[0]["tool_test_runs"] if good else None,
            "phases_s": mid["phases_s"] if mid else None,  # of the median run (tieragent only)
            "help_s": round(median(self.help_s), 3) if self.help_s else None,
            "help_walls_s": [round(w, 3) for w in self.help_s],
            "problems": sorted({p for r in self.runs for p in r["problems"]}),
            "command": self.fix_cmd,
            "each_run": [{k: v for k, v in r.items() if k != "stderr_tail"} for r in self.runs],
        }


def tieragent_tool(work: Path, server: FakeOpenAI, client: str = "auto") -> Tool:
    """The tiers are `openai/...` models on the fake server: with provider.client auto, tieragent
    calls them over its own HTTP client; with litellm, through litellm (as Aider does)."""
    repo = make_repo(work / "tieragent-repo", CALC_FILES)
    write_config(repo, server, extra={"validate": {"test": TEST_CMD}, "provider": {"client": client}})
    exe = str(Path(sys.executable).parent / "tieragent")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    return Tool("tieragent", version, repo, [exe, "fix", REQUEST, "--json"], [exe, "--help"])


def aider_python(explicit: str | None) -> str:
    """A Python aider-chat 0.86 installs on (3.10 to 3.12)."""
    if explicit:
        return explicit
    if (3, 10) <= sys.version_info[:2] <= (3, 12):
        return sys.executable
    for name in ("python3.12", "python3.11", "python3.10"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("aider-chat needs Python 3.10 to 3.12; none found (pass --aider-python)")


def install_aider(work: Path, spec: str, python: str | None) -> Path:
    """`pip install SPEC` into WORKDIR/aider-venv (reused when it already holds that version)."""
    venv = work / "aider-venv"
    exe = venv / "bin" / "aider"
    want = spec.partition("==")[2]
    if exe.exists():
        have = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.split()
        if not want or (have and have[-1] == want):
            return exe
    subprocess.run([aider_python(python), "-m", "venv", "--clear", str(venv)], check=True)
    t = time.perf_counter()
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not exe.exists():
        tail = "\n".join(line for line in proc.stderr.splitlines() if "is ignored" not in line)[-800:]
        raise RuntimeError(f"pip install {spec} failed (exit {proc.returncode}): {tail}")
    print(f"installed {spec} in {time.perf_counter() - t:.0f}s at {venv}", file=sys.stderr)
    return exe


def aider_tool(work: Path, server: FakeOpenAI, exe: Path) -> Tool:
    repo = make_repo(work / "aider-repo", CALC_FILES)
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip()
    cmd = [
        str(exe),
        "--model",
        "openai/fake-mid",
        "--openai-api-base",
        server.url,
        "--openai-api-key",
        "dummy",
        "--edit-format",
        "diff",
        "--yes-always",
        "--no-auto-commits",
        "--no-show-model-warnings",
        "--no-check-update",
        "--no-show-release-notes",
        "--no-analytics",
        "--no-gitignore",
        "--no-pretty",
        "--no-fancy-input",
        "--no-suggest-shell-commands",
        "--message",
        REQUEST,
        "--test-cmd",
        TEST_CMD,
        "--auto-test",
        "calc/ops.py",
    ]
    return Tool("aider", version, repo, cmd, [str(exe), "--help"])


def one_run(tool: Tool, server: FakeOpenAI, env: dict[str, str]) -> dict:
    reset(tool.repo)
    server.requests.clear()
    m = run_measured(tool.fix_cmd, tool.repo, env)
    return tool.check(m, list(server.requests))


def test_command_alone(repo: Path, env: dict[str, str], n: int) -> float:
    """The test command by itself on the unfixed tree: what each tool's wall time includes per test run."""
    reset(repo)
    walls = []
    for _ in range(n + 1):
        t = time.perf_counter()
        subprocess.run(TEST_CMD, shell=True, cwd=repo, env=env, capture_output=True)
        walls.append(time.perf_counter() - t)
    reset(repo)
    return median(walls[1:])


def side_by_side(
    work: Path,
    *,
    peer: bool = True,
    aider_bin: Path | None = None,
    aider_spec: str = AIDER_SPEC,
    aider_py: str | None = None,
    runs: int = 3,
    help_runs: int = 5,
    client: str = "auto",
) -> dict:
    """Everything this script measures, as one JSON-ready dict."""
    work.mkdir(parents=True, exist_ok=True)
    side = work / "peer"
    shutil.rmtree(side, ignore_errors=True)
    server = FakeOpenAI()
    server.enqueue("classify", "small", CLASSIFY_OPS)  # a queue's last reply repeats
    server.enqueue("patch", "mid", GOOD_PATCH)
    server.default = Reply(text=AIDER_EDIT)  # requests without tieragent's headers: Aider's
    env = bench_env(side / "home")
    out: dict = {
        "task": {
            "repository": "tests/conftest.py CALC_FILES",
            "request": REQUEST,
            "test_command": TEST_CMD,
            "client": client,
            "env": {k: v for k, v in env.items() if k != "FAKE_PROVIDER_KEY"},
            "runs": runs,
            "help_runs": help_runs,
        }
    }
    try:
        tools = [tieragent_tool(side, server, client)]
        peer_error = None
        if peer:
            try:
                exe = aider_bin or install_aider(work, aider_spec, aider_py)
                tools.append(aider_tool(side, server, exe))
            except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
                peer_error = f"Aider could not be installed: {e}"
        for tool in list(tools):  # warm-up, untimed, but checked: a peer that cannot do the task is not measured
            warm = one_run(tool, server, env)
            if not warm["ok"] and tool.name != "tieragent":
                peer_error = f"Aider did not fix the task in the warm-up run: {'; '.join(warm['problems'])}"
                tools.remove(tool)
        for _ in range(runs):
            for tool in tools:
                tool.runs.append(one_run(tool, server, env))
        for tool in tools:
            reset(tool.repo)
            tool.help_s = start_up(tool.help_cmd, tool.repo, env, help_runs)
        out["test_command_alone_s"] = round(test_command_alone(tools[0].repo, env, 5), 3)
        out["tools"] = [t.summary() for t in tools]
        for t in out["tools"]:  # approximate: each tool's own time, less its runs of the test command
            if t["fix_wall_s"] is not None:
                t["wall_minus_tests_s"] = round(t["fix_wall_s"] - t["tool_test_runs"] * out["test_command_alone_s"], 3)
        out["peer_error"] = peer_error
        by = {t["tool"]: t for t in out["tools"]}
        ta, ai = by.get("tieragent"), by.get("aider")
        if ta and ai and ta["fix_wall_s"] and ai["fix_wall_s"]:
            out["ratios"] = {
                "fix_wall": round(ta["fix_wall_s"] / ai["fix_wall_s"], 2),
                "tree_peak_rss": round(ta["tree_peak_mb"] / ai["tree_peak_mb"], 2),
                "maxrss": round(ta["maxrss_mb"] / ai["maxrss_mb"], 2),
                "fix_wall_minus_tests": round(ta["wall_minus_tests_s"] / ai["wall_minus_tests_s"], 2),
                "help": round(ta["help_s"] / ai["help_s"], 2),
                "request_tokens": round(ta["request_tokens_est"] / ai["request_tokens_est"], 2),
            }
        out["targets"] = TARGETS
    finally:
        server.close()
    return out


def print_table(res: dict) -> None:
    tools = res.get("tools", [])
    t = res["task"]
    print(
        f"task: {t['request']!r} on {t['repository']}; test command {t['test_command']} "
        f"(alone: {res.get('test_command_alone_s', float('nan')):.2f}s); median of {t['runs']} fresh runs, --help "
        f"median of {t['help_runs']}"
    )
    cols = [
        ("fix wall s", "fix_wall_s", "{:.2f}"),
        ("tree peak MB", "tree_peak_mb", "{:.0f}"),
        ("max proc MB", "maxrss_mb", "{:.0f}"),
        ("--help s", "help_s", "{:.2f}"),
        ("requests", "model_requests", "{}"),
        ("req tokens", "request_tokens_est", "{}"),
        ("test runs", "tool_test_runs", "{}"),
        ("ok runs", "runs_ok", "{}"),
    ]
    print(f"{'tool':<24}" + "".join(f"{c[0]:>13}" for c in cols))
    for tool in tools:
        cells = [("-" if tool[k] is None else f.format(tool[k])) for _, k, f in cols]
        print(f"{tool['version'][:24]:<24}" + "".join(f"{c:>13}" for c in cells))
    r = res.get("ratios")
    if r:
        g = res["targets"]
        print(
            f"tieragent/aider: fix wall {r['fix_wall']:.2f} (target <= {g['fix_wall_ratio']}), tree peak RSS "
            f"{r['tree_peak_rss']:.2f} (target <= {g['peak_rss_ratio']}), largest process {r['maxrss']:.2f}, "
            f"--help {r['help']:.2f}, request tokens {r['request_tokens']:.2f}; fix wall less the test runs "
            f"{r['fix_wall_minus_tests']:.2f}"
        )
    for tool in tools:
        if tool["tool"] == "tieragent" and tool["help_s"] is not None:
            print(f"tieragent --help {tool['help_s']:.3f}s (target < {res['targets']['tieragent_help_s']} s)")
        if tool.get("phases_s"):
            print(
                f"{tool['tool']} phases of the median run: "
                + ", ".join(f"{k} {v:.2f}s" for k, v in tool["phases_s"].items())
            )
        for p in tool["problems"]:
            print(f"  {tool['tool']}: FAILED CHECK: {p}")
    if res.get("peer_error"):
        print(f"peer: {res['peer_error']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, help="where the repositories and the Aider venv go (default: a temp dir)")
    ap.add_argument("--no-peer", action="store_true", help="measure tieragent only (no Aider install)")
    ap.add_argument("--aider-bin", type=Path, help="use this aider executable instead of installing one")
    ap.add_argument("--aider-spec", default=AIDER_SPEC, help=f"what to pip install (default {AIDER_SPEC})")
    ap.add_argument(
        "--aider-python",
        help="the Python for Aider's venv (default: this one when 3.10-3.12, else python3.12/3.11/3.10)",
    )
    ap.add_argument("--runs", type=int, default=3, help="timed fix runs per tool (default 3; the median is reported)")
    ap.add_argument("--help-runs", type=int, default=5, help="--help runs per tool (default 5)")
    ap.add_argument(
        "--client",
        choices=["auto", "litellm"],
        default="auto",
        help="tieragent's provider.client (default auto: its own HTTP client for the openai/ tiers)",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tieragent-peer-") as tmp:
        res = side_by_side(
            (args.workdir or Path(tmp)).expanduser(),
            peer=not args.no_peer,
            aider_bin=args.aider_bin,
            aider_spec=args.aider_spec,
            aider_py=args.aider_python,
            runs=args.runs,
            help_runs=args.help_runs,
            client=args.client,
        )
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print_table(res)
    return 0 if all(t["runs_ok"] == t["runs"] for t in res["tools"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
