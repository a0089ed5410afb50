"""`tieragent bench`: suites and their errors, tasks mined from history, parallel runs, resuming, the
budget stop, the report's arithmetic, the built-in smoke suite with scripted replies, and one pair
through the real `tieragent fix --json` and litellm against the fake OpenAI server.

The command is registered on a Typer app of the test's own (app.py registers it elsewhere); every
run is in a real clone, with the real hidden check after it. A run's `tieragent fix` is a real
subprocess, except in the tests that take `fixes_in_process`: there the scripted fix, given the
very arguments and environment the subprocess would get, runs in the test's process (a process start
and tieragent's imports cost about 0.45 s of CPU a run, and these tests make 18 runs).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import shlex
import sys
import threading
import time
from pathlib import Path

import pytest
import typer
import yaml
from conftest import CALC_FILES, git, make_repo, state_home, write_config
from typer.testing import CliRunner

from tieragent.cli import bench_scripted
from tieragent.cli.bench_command import register
from tieragent.cli.fix_command import read_request
from tieragent.core.config import Config
from tieragent.core.errors import ConfigError
from tieragent.flows.bench import Procs, build_report, load_suite, mine_history, read_results, resolve_policies, wilson
from tieragent.flows.bench.checkout import Done
from tieragent.flows.fix import FixOptions, run_fix

PY = shlex.quote(sys.executable)


def bench_app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:  # a group, so `bench` stays a subcommand
        pass

    register(app)
    return app


@pytest.fixture
def bench(monkeypatch, tmp_path):
    """`bench(args)` -> (exit code, stdout, stderr), with a clean environment (no user config, no CI)."""
    for name in [
        n
        for n in os.environ
        if n.startswith(("TIERAGENT_", "OPENAI_", "ANTHROPIC_", "GITHUB_")) or n in ("CI", "GITLAB_CI")
    ]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home(tmp_path)))  # where write_config records its trust
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    app = bench_app()

    def run(args: list[str]) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, ["bench", *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


# The flows share per-process parts no process of tieragent's ever uses from two threads (the repository
# map's tree-sitter parsers): one in-process fix at a time. The runs' checkouts, setups and checks still overlap.
_ONE_FIX_AT_A_TIME = threading.Lock()


@pytest.fixture
def fixes_in_process(monkeypatch):
    """The bench's scripted `tieragent fix` runs in this process, given the argv and environment its subprocess
    would get (XDG_STATE_HOME: the policy's own state); every other command the bench starts stays a process."""
    real_run = Procs.run

    def run(self, command, *, cwd, env, timeout, stderr_path=None):
        if not (isinstance(command, list) and command[1:3] == ["-m", "tieragent.cli.bench_scripted"]):
            return real_run(self, command, cwd=cwd, env=env, timeout=timeout, stderr_path=stderr_path)
        started = time.monotonic()
        args = bench_scripted.parse_args(command[3:])
        with _ONE_FIX_AT_A_TIME:
            deps = bench_scripted.scripted_deps(args, environ=dict(env), state_home=Path(env["XDG_STATE_HOME"]))
            result = run_fix(read_request(args.request, args.request_file), deps, FixOptions())
        return Done(int(result.exit_code), json.dumps(result.to_json()), time.monotonic() - started)

    monkeypatch.setattr(Procs, "run", run)


def write_task(path: Path, **fields) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    return path


# ------------------------------------------------------------------------------------------- the report


def test_wilson_interval_matches_the_formula():
    low, high = wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 5)[0] == 0.0 and round(wilson(0, 5)[1], 4) == 0.4345
    assert round(wilson(5, 5)[0], 4) == 0.5655 and wilson(5, 5)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


def test_report_arithmetic_on_known_records():
    def run(task, policy, outcome, cost, *, escalated=False, seconds=1.0):
        status = "fixed" if outcome in ("solved", "false_accept") else "failed"
        return {
            "kind": "run",
            "task": task,
            "policy": policy,
            "outcome": outcome,
            "status": status,
            "cost_usd": cost,
            "escalated": escalated,
            "fix_seconds": seconds,
        }

    records = [
        run("a", "cascade", "solved", 0.10),
        run("b", "cascade", "solved", 0.10, escalated=True),
        run("c", "cascade", "solved", 0.10),
        run("d", "cascade", "false_accept", 0.20, seconds=3.0),
        run("e", "cascade", "failed", 0.30, escalated=True),
        run("a", "mid-only", "failed", 0.05),
        run("a", "mid-only", "solved", 0.07),  # run again: the later line wins
        {"kind": "broken", "task": "z", "reason": "the check passes before the fix"},
        run("z", "cascade", "solved", 9.0),  # a broken task's run is never scored
    ]
    report = build_report(["a", "b", "c", "d", "e", "z"], ["cascade", "mid-only"], records, not_run=[("b", "mid-only")])
    cascade, mid = report.policies
    assert (cascade.runs, cascade.solved, cascade.validated, cascade.false_accepts, cascade.failed) == (5, 3, 4, 1, 1)
    assert cascade.cost_usd == pytest.approx(0.80)
    assert cascade.cost_per_solved_usd == pytest.approx(0.80 / 3)
    assert cascade.false_accept_rate == pytest.approx(1 / 4)  # over the runs tieragent said were fixed
    assert cascade.escalation_rate == pytest.approx(2 / 5)
    assert cascade.mean_wall_s == pytest.approx(7.0 / 5)
    assert cascade.solved_ci95 == pytest.approx(wilson(3, 5))
    assert (mid.runs, mid.solved, mid.cost_per_solved_usd, mid.not_run) == (1, 1, pytest.approx(0.07), 1)
    assert report.matrix["d"]["cascade"] == "false_accept"
    assert report.matrix["z"] == {"cascade": "broken", "mid-only": "broken"}
    assert report.matrix["b"]["mid-only"] == "not_run" and report.matrix["c"]["mid-only"] == "not_run"
    assert report.broken == {"z": "the check passes before the fix"}


# ----------------------------------------------------------------------------------- suites and errors


def test_suite_files_and_their_errors_name_the_file_and_the_field(tmp_path):
    good = {"repo": "../repo", "commit": "HEAD", "request": "fix it", "check": "true"}
    suite = tmp_path / "suite"
    write_task(suite / "one.yaml", **good)
    (suite / "two.yaml").write_text(yaml.safe_dump([good, {**good, "id": "named"}]))
    (suite / "bench.yaml").write_text(
        yaml.safe_dump({"policies": {"whole": {"tiers": {"mid": {"edit_format": "whole"}}}}})
    )
    loaded = load_suite(suite)
    assert [t.id for t in loaded.tasks] == ["one", "two-1", "named"]
    assert loaded.tasks[0].repo == str((suite / "../repo").resolve())  # relative to the task file
    assert loaded.variants == {"whole": {"tiers": {"mid": {"edit_format": "whole"}}}}

    numbers = itertools.count()

    def error(files: dict[str, object]) -> str:
        d = tmp_path / f"bad{next(numbers)}"
        d.mkdir()
        for name, data in files.items():
            (d / name).write_text(data if isinstance(data, str) else yaml.safe_dump(data))
        with pytest.raises(ConfigError) as info:
            load_suite(d)
        return str(info.value).replace(str(d) + "/", "")

    assert error({"t.yaml": {k: v for k, v in good.items() if k != "check"}}) == "t.yaml: check: missing"
    assert error({"t.yaml": {**good, "chek": "x"}}) == "t.yaml: chek: unknown key"
    assert (
        error({"t.yaml": [good, {k: v for k, v in good.items() if k != "request"}]}) == "t.yaml: [1].request: missing"
    )
    assert error({"a.yaml": {**good, "id": "x"}, "b.yaml": {**good, "id": "x"}}).startswith(
        "b.yaml: id: 'x' is also the id"
    )
    assert error({"t.yaml": "repo: [unclosed"}).startswith("t.yaml: line 1: not valid YAML")
    assert error({"t.yaml": {**good, "scripted": {"patch": {"huge": "x"}}}}).startswith(
        "t.yaml: scripted.patch.huge: not a tier"
    )

    base = Config.model_validate({"tiers": {t: {"model": f"openai/{t}"} for t in ("small", "mid", "frontier")}})
    with pytest.raises(ConfigError, match=r"bench.yaml: policies.fast.routing.strat: unknown key"):
        resolve_policies(None, {"fast": {"routing": {"strat": {}}}}, "bench.yaml", base)
    names = [p.name for p in resolve_policies(None, loaded.variants, "bench.yaml", base)]
    assert names == ["cascade", "frontier-only", "mid-only", "small-only", "whole"]
    mid_only = resolve_policies(["mid-only"], {}, "", base)[0]
    assert mid_only.overrides["tiers"]["small"]["model"] == "openai/mid"
    assert mid_only.overrides["routing"]["attempts"] == {"small": 0, "mid": 2, "frontier": 0}


def test_unreachable_repository_and_missing_commit_exit_2_naming_the_field(bench, tmp_path):
    repo = make_repo(tmp_path / "repo", CALC_FILES)
    write_task(
        tmp_path / "s1" / "nope.yaml",
        repo="../no-such-repo",
        commit="HEAD",
        request="x",
        check="true",
        scripted={"patch": "x"},
    )
    code, out, err = bench(
        ["--suite", str(tmp_path / "s1"), "--scripted", "--workdir", str(tmp_path / "w1"), "-C", str(repo)]
    )
    assert code == 2 and "nope.yaml: repo: cannot reach" in err and "no such directory" in err
    write_task(
        tmp_path / "s2" / "url.yaml",
        repo="file:///no/such/repo.git",
        commit="HEAD",
        request="x",
        check="true",
        scripted={"patch": "x"},
    )
    code, out, err = bench(
        ["--suite", str(tmp_path / "s2"), "--scripted", "--workdir", str(tmp_path / "w2"), "-C", str(repo)]
    )
    assert code == 2 and "url.yaml: repo: cannot reach file:///no/such/repo.git" in err
    write_task(
        tmp_path / "s3" / "gone.yaml",
        repo="../repo",
        commit="0123abcd" * 5,
        request="x",
        check="true",
        scripted={"patch": "x"},
    )
    code, out, err = bench(
        ["--suite", str(tmp_path / "s3"), "--scripted", "--workdir", str(tmp_path / "w3"), "-C", str(repo), "--json"]
    )
    assert code == 2 and f"gone.yaml: commit: {'0123abcd' * 5} does not exist" in err
    assert json.loads(out)["exit_code"] == 2
    code, out, err = bench(
        ["--suite", str(tmp_path / "s3"), "-C", str(repo)]
    )  # no models configured, and not --scripted
    assert code == 2 and "no model configured" in err


def test_broken_tasks_are_reported_and_never_scored(bench, tmp_path):
    repo = make_repo(tmp_path / "repo", CALC_FILES)
    common = {"repo": "../repo", "commit": "HEAD", "request": "add() is wrong", "scripted": {"patch": "no diff"}}
    write_task(
        tmp_path / "suite" / "passes.yaml", **common, check="test -f {task_dir}/passes.yaml"
    )  # the check's own folder
    write_task(tmp_path / "suite" / "nosetup.yaml", **common, check="false", setup="echo cannot build >&2; exit 3")
    code, out, err = bench(
        ["--suite", str(tmp_path / "suite"), "--scripted", "--json", "--workdir", str(tmp_path / "w"), "-C", str(repo)]
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["broken"] == {
        "passes": "the check passes before the fix",
        "nosetup": "setup fails (exit 3): cannot build",
    }
    assert all(p["runs"] == 0 for p in doc["policies"])
    assert set(doc["matrix"]["passes"].values()) == {"broken"}
    assert [r["kind"] for r in read_results(Path(doc["results_file"]))] == ["broken", "broken"]


# ------------------------------------------------------------------------------------------ history


MATHLIB = {
    "add": ("    return a - b\n", "    return a + b\n"),
    "sub": ("    return a + b\n", "    return a - b\n"),
    "mul": ("    return a + a\n", "    return a * b\n"),
}


def _mathlib(fixed: set[str]) -> str:
    return (
        "".join(f"def {name}(a, b):\n{new if name in fixed else old}\n\n" for name, (old, new) in MATHLIB.items())
        + "def neg(a):\n    return -a\n"
    )


def _unit_test(name: str, call: str, expected: str) -> str:
    return (
        f"import unittest\n\nimport mathlib\n\n\nclass T(unittest.TestCase):\n    def test_{name}(self):\n"
        f"        self.assertEqual(mathlib.{call}, {expected})\n"
    )


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def history_repo(root: Path) -> tuple[Path, dict[str, str]]:
    """Five commits after the first: three fix a bug and add the test that shows it (`a`, `b`, `c`), one
    changes only source (`no_tests`), one adds a test that already passed (`passing`)."""
    repo = make_repo(root, {"mathlib.py": _mathlib(set()), "README.md": "maths\n"})
    one = "\n\ndef one():\n    return 1\n"
    shas = {
        "a": _commit(
            repo,
            {"mathlib.py": _mathlib({"add"}), "test_add.py": _unit_test("add", "add(2, 3)", "5")},
            "Fix add()\n\nIt subtracted.",
        )
    }
    shas["no_tests"] = _commit(repo, {"mathlib.py": _mathlib({"add"}) + one}, "Add one()")
    shas["b"] = _commit(
        repo,
        {"mathlib.py": _mathlib({"add", "sub"}) + one, "test_sub.py": _unit_test("sub", "sub(5, 3)", "2")},
        "Fix sub()",
    )
    shas["passing"] = _commit(
        repo,
        {
            "mathlib.py": _mathlib({"add", "sub"}) + one.replace("1\n", "1  # the unit\n"),
            "test_neg.py": _unit_test("neg", "neg(2)", "-2"),
        },
        "Test neg()",
    )
    shas["c"] = _commit(
        repo,
        {
            "mathlib.py": _mathlib({"add", "sub", "mul"}) + one.replace("1\n", "1  # the unit\n"),
            "test_mul.py": _unit_test("mul", "mul(3, 4)", "12"),
        },
        "Fix mul()",
    )
    return repo, shas


def test_from_history_mines_commits_whose_new_tests_fail_on_the_parent(tmp_path):
    repo, shas = history_repo(tmp_path / "repo")
    a, b, c, no_tests, passing = (shas[k] for k in ("a", "b", "c", "no_tests", "passing"))
    mined = mine_history(repo, 3, tmp_path / "work", Procs(), test_command=f"{PY} -m unittest -q")
    assert [t.id for t in mined.tasks] == [f"h-{c[:10]}", f"h-{b[:10]}", f"h-{a[:10]}"]
    assert [(s.commit, s.reason) for s in mined.skipped] == [
        (passing, "the new tests already pass on the parent"),
        (no_tests, "no test changes"),
    ]
    assert mined.examined == 5
    task = mined.tasks[2]
    assert task.sha == git(repo, "rev-parse", f"{a}^").strip() and task.request == "Fix add()\n\nIt subtracted."
    assert task.check == f"{PY} -m unittest test_add.py"
    assert "+++ b/test_add.py" in (task.test_patch or "") and "mathlib.py" not in (task.test_patch or "")
    assert not (tmp_path / "work" / "history").exists() or not any((tmp_path / "work" / "history").iterdir())


# ------------------------------------------------------------------------------- runs (scripted mode)


def test_parallel_runs_budget_stop_and_resume(bench, fixes_in_process, tmp_path):
    """Three builtin tasks under two policies: the bench's budget stops it part way; --resume runs
    exactly the pairs left, in parallel; the report's figures follow from the results file."""
    work = tmp_path / "w"
    args = [
        "--suite",
        "builtin",
        "--scripted",
        "--tasks",
        "chunks,leap-year,round-price",
        "--policies",
        "cascade,mid-only",
        "--jobs",
        "2",
        "--workdir",
        str(work),
        "-C",
        str(tmp_path),
        "--json",
    ]
    # a run may spend up to $0.50 (a frontier call's worst case is about $0.11 at the demo's prices), the bench $0.504
    code, out, err = bench([*args, "--run-max-cost", "0.5", "--max-cost", "0.504"])
    first = json.loads(out)
    assert code == 3 and first["status"] == "budget_stopped", err
    results = Path(first["results_file"])
    made = read_results(results)
    assert made and first["not_run"] and len(made) + len(first["not_run"]) == 6
    spent = sum(r["cost_usd"] for r in made)
    assert spent <= 0.504 < spent + 0.5  # within the budget, and the next run's cap would have passed it
    assert {(r["task"], r["policy"]) for r in made}.isdisjoint({(n["task"], n["policy"]) for n in first["not_run"]})

    code, out, err = bench([*args[:-5], "--resume", str(results), "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "complete", err
    lines = read_results(results)
    assert len(lines) == 6 and len({(r["task"], r["policy"]) for r in lines}) == 6  # nothing run twice
    assert {r["bench_id"] for r in lines[len(made) :]} == {doc["bench_id"]} != {first["bench_id"]}
    runs = sorted(lines, key=lambda r: r["started"])
    assert any(b["started"] < a["ended"] for a, b in itertools.pairwise(runs)), "with --jobs 2 two runs overlap"

    assert doc["matrix"] == {
        "chunks": {"cascade": "solved", "mid-only": "solved"},
        "leap-year": {"cascade": "solved", "mid-only": "false_accept"},  # verified, rejected, escalated
        "round-price": {"cascade": "solved", "mid-only": "failed"},
    }
    # what each policy's runs teach `edit_format: auto` stays with that policy, away from the user's own record
    for policy in ("cascade", "mid-only"):
        learnt = json.loads((work / "state" / policy / "tieragent" / "edit-formats.json").read_text())
        assert "diff" in learnt["models"]["anthropic/claude-sonnet-4-5"]
    assert not (state_home(tmp_path) / "tieragent" / "edit-formats.json").exists()
    # what the bench keeps is private, as tieragent's other state is (core/private_files.py)
    kept = [results, *(work / "history").glob("*.jsonl")]
    assert len(kept) == 3 and all(p.stat().st_mode & 0o777 == 0o600 for p in kept)
    cascade, mid = doc["policies"]
    by_policy = {p: [r for r in lines if r["policy"] == p] for p in ("cascade", "mid-only")}
    assert (
        cascade["runs"],
        cascade["solved"],
        cascade["validated"],
        cascade["false_accepts"],
        cascade["escalated"],
    ) == (3, 3, 3, 0, 2)
    assert cascade["false_accept_rate"] == 0
    assert cascade["cost_per_solved_usd"] == pytest.approx(
        sum(r["cost_usd"] for r in by_policy["cascade"]) / 3, abs=1e-6
    )
    assert cascade["solved_ci95"] == pytest.approx(list(wilson(3, 3)), abs=1e-4)
    assert (mid["solved"], mid["validated"], mid["false_accept_rate"], mid["escalation_rate"]) == (1, 2, 0.5, 0.0)
    assert mid["cost_per_solved_usd"] == pytest.approx(sum(r["cost_usd"] for r in by_policy["mid-only"]), abs=1e-6)
    round_cascade = next(r for r in by_policy["cascade"] if r["task"] == "round-price")
    assert (round_cascade["start_tier"], round_cascade["accepted_tier"], round_cascade["escalated"]) == (
        "mid",
        "frontier",
        True,
    )
    assert all(
        set(r["cost_by_tier"]) <= {"small", "mid"} and r["steps"][-1]["model"] == "anthropic/claude-sonnet-4-5"
        for r in by_policy["mid-only"]
    )
    assert not any((Path(r["dir"]) / "repo").exists() for r in lines)  # checkouts are removed after each run


def test_builtin_suite_end_to_end_with_scripted_replies(bench, fixes_in_process, tmp_path):
    work = tmp_path / "w"
    code, out, err = bench(
        [
            "--suite",
            "builtin",
            "--scripted",
            "--tasks",
            "median-even,slugify,leap-year,normalize-name",
            "--policies",
            "cascade,cascade-noverify,frontier-only",
            "--jobs",
            "2",
            "--workdir",
            str(work),
            "-C",
            str(tmp_path),
            "--csv",
            str(tmp_path / "report.csv"),
        ]
    )
    assert code == 0, err
    assert "Policies" in out and "Tasks (✓ solved" in out and "scripted model replies" in out
    results = read_results(work / "results.jsonl")
    policies = ["cascade", "cascade-noverify", "frontier-only"]
    doc = build_report(["leap-year", "median-even", "normalize-name", "slugify"], policies, results)
    solved = {p.policy: (p.solved, p.false_accepts, p.escalated) for p in doc.policies}
    # leap-year's patch passes its one assertion: verified (the default), the frontier rejects it and fixes it
    # itself; without verification it is a false accept
    assert solved == {"cascade": (4, 0, 3), "cascade-noverify": (3, 1, 2), "frontier-only": (4, 0, 0)}
    assert {p.policy: p.false_accept_rate for p in doc.policies} == {
        "cascade": 0,
        "cascade-noverify": 0.25,
        "frontier-only": 0,
    }
    assert doc.matrix["leap-year"] == {
        "cascade": "solved",
        "cascade-noverify": "false_accept",
        "frontier-only": "solved",
    }
    leap = next(r for r in results if r["task"] == "leap-year" and r["policy"] == "cascade")
    checks = [(s["step"], s["tier"], s["outcome"]) for s in leap["steps"] if s["step"] in ("patch", "verify")]
    assert checks[:2] == [("patch", "mid", "verify-rejected"), ("verify", "frontier", "ok")]
    assert checks[-1] == ("patch", "frontier", "ok")
    rows = list(csv.DictReader((tmp_path / "report.csv").open()))
    assert [(r["policy"], r["solved"], r["runs"]) for r in rows] == [
        ("cascade", "4", "4"),
        ("cascade-noverify", "3", "4"),
        ("frontier-only", "4", "4"),
    ]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no plot: matplotlib is not installed (pip install 'tieragent[plot]')" in out
    else:
        assert (work / "cost_vs_success.png").read_bytes()[:4] == b"\x89PNG"


# ------------------------------------------------------------------------- one pair for real, over HTTP


MUL_PATCH = """Multiply, do not add:

```diff
--- a/mathlib.py
+++ b/mathlib.py
@@ -9,2 +9,2 @@
 def mul(a, b):
-    return a + a
+    return a * b
```
"""


def test_from_history_through_tieragent_fix_and_litellm(bench, tmp_path, fake_server, monkeypatch):
    """`--from-history 1` on the command line, and its pair run by the real `tieragent fix --json` (litellm
    over HTTP to the fake server), with the user's config from the repository the bench runs in."""
    from conftest import FAKE_KEY

    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    repo, shas = history_repo(tmp_path / "repo")
    write_config(
        repo, fake_server, extra={"validate": {"test": f"{PY} -m unittest -q"}}
    )  # untracked: the bench passes it on
    fake_server.enqueue(
        "classify",
        "small",
        json.dumps({"task_class": "local", "risk": "low", "files": ["mathlib.py"], "reason": "mul adds"}),
    )
    fake_server.enqueue("patch", "mid", MUL_PATCH)
    code, out, err = bench(["--from-history", "1", "--policies", "cascade", "--json", "-C", str(repo)])
    assert code == 0, err
    doc = json.loads(out)
    task = f"h-{shas['c'][:10]}"
    assert doc["history"] == {"qualified": [task], "examined": 1, "skipped": []}
    assert doc["matrix"] == {task: {"cascade": "solved"}}
    assert fake_server.calls() == [("classify", "small"), ("patch", "mid")]
    assert "Fix mul()" in fake_server.requests[0].text()  # the commit message is the request
    (record,) = read_results(Path(doc["results_file"]))
    assert record["status"] == "fixed" and record["check"]["passed"] and record["cost_usd"] > 0
    assert record["commit"] == git(repo, "rev-parse", f"{shas['c']}^").strip()
    assert Path(doc["workdir"]).parent == repo / ".git" / "tieragent" / "bench"  # never in the user's tree
    assert (
        Path(doc["workdir"]) / "history-tasks" / f"{task}.yaml"
    ).is_file()  # to run the same task again with --suite
    assert git(repo, "status", "--porcelain") == "?? .tieragent.yaml\n"
