"""`tieragent bench --shard K/N` and `tieragent bench merge FILE...`, and bench's ending through `end_run`.

The partition is checked on its own; one real scripted bench is run whole and as two shards, and the
merge of the shards must report what the whole run reported. The refusals are checked on results
files written with the bench's own plan line, in-process.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from test_bench import bench  # noqa: F401 - a fixture

from tieragent.core.errors import UsageError
from tieragent.flows.bench import Shard, plan_line, read_results

TASKS = ["chunks", "leap-year", "median-even", "round-price", "slugify"]
POLICIES = ["cascade", "frontier-only", "mid-only"]


# ------------------------------------------------------------------------------------ the partition


@pytest.mark.parametrize("count", range(1, 8))
def test_shards_cover_every_pair_exactly_once(count):
    every = {(t, p) for t in TASKS for p in POLICIES}
    shards = [Shard(k, count).pairs(TASKS, POLICIES) for k in range(1, count + 1)]
    assert sorted(pair for shard in shards for pair in shard) == sorted(every)  # each pair once, none left out
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1
    if count == len(POLICIES):  # the deal mixes policies: no shard gets one policy's runs only
        assert all(len({p for _, p in shard}) > 1 for shard in shards)
    # the same slices whatever order the tasks and policies were listed in (another machine, another shell)
    shuffled_tasks, shuffled_policies = random.Random(count).sample(TASKS, 5), list(reversed(POLICIES))
    assert [Shard(k, count).pairs(shuffled_tasks, shuffled_policies) for k in range(1, count + 1)] == shards


@pytest.mark.parametrize("spec", ["0/3", "4/3", "1/0", "2", "a/b", "-1/2", "1/2/3"])
def test_a_shard_spec_outside_1_to_n_is_refused(spec):
    with pytest.raises(UsageError, match="--shard"):
        Shard.parse(spec)


def test_a_bad_shard_exits_2_before_anything_runs(bench, tmp_path):
    code, _, err = bench(["--suite", "builtin", "--scripted", "--shard", "3/2", "-C", str(tmp_path)])
    assert code == 2 and "--shard 3/2: K must be between 1 and N" in err
    assert not (tmp_path / "builtin-suite").exists()


# -------------------------------------------------------------- merge equals the unsharded bench


def test_merge_of_the_shards_equals_the_unsharded_report(bench, tmp_path):
    """One task under two policies (one solves it, one does not), run whole and as shards 1/2 and 2/2
    on the scripted builtin suite: the merge's report is the whole run's, wall times aside. (The work
    directories' names have one length: a prompt holds the checkout's path, and its tokens are priced.)"""
    common = ["--suite", "builtin", "--scripted", "--tasks", "round-price", "--policies", "cascade,mid-only"]
    common += ["-C", str(tmp_path), "--json"]
    code, out, err = bench([*common, "--workdir", str(tmp_path / "w0"), "--jobs", "2"])
    assert code == 0, err
    whole = json.loads(out)
    shard_files, shard_docs = [], []
    for k in (1, 2):
        code, out, err = bench([*common, "--workdir", str(tmp_path / f"w{k}"), "--shard", f"{k}/2"])
        assert code == 0, err
        doc = json.loads(out)
        shard_docs.append(doc)
        shard_files.append(doc["results_file"])
        assert doc["shard"] == f"{k}/2" and sum(p["runs"] for p in doc["policies"]) == 1
    # each shard ran its own pair and shows the other as another shard's
    cells = [d["matrix"]["round-price"] for d in shard_docs]
    assert sorted(c["cascade"] for c in cells) == ["other_shard", "solved"]
    assert sorted(c["mid-only"] for c in cells) == ["failed", "other_shard"]
    assert [c["cascade"] == "other_shard" for c in cells] == [c["mid-only"] != "other_shard" for c in cells]
    code, out, err = bench(["merge", *reversed(shard_files), "--json"])
    assert code == 0, err
    merged = json.loads(out)
    assert err.strip().splitlines()[-1].startswith("tieragent bench: complete (exit 0; cost $")

    def figures(doc: dict) -> dict:
        policies = [{k: v for k, v in p.items() if k != "mean_wall_s"} for p in doc["policies"]]
        return {k: doc[k] for k in ("tasks", "matrix", "broken", "errors", "not_run")} | {"policies": policies}

    assert figures(merged) == figures(whole)
    assert merged["matrix"] == {"round-price": {"cascade": "solved", "mid-only": "failed"}}
    assert merged["spent_usd"] == pytest.approx(whole["spent_usd"], abs=1e-6)
    assert merged["policy_definitions"] == whole["policy_definitions"]
    assert merged["merged"] == list(reversed(shard_files)) and merged["status"] == "complete"

    code, out, err = bench(["merge", *shard_files, "--csv", str(tmp_path / "r.csv"), "--no-ci"])
    assert code == 0 and "Policies" in out and f"merged: {shard_files[0]}, {shard_files[1]}" in out
    assert (tmp_path / "r.csv").read_text().splitlines()[0].startswith("policy,runs,solved")


# ------------------------------------------------------------------------------- merge refusals


def results_file(path: Path, shard: str, runs: list[tuple[str, str]], **plan: object) -> Path:
    """A results file as a shard writes it: the plan line, then one record per (task, policy) run."""
    line = plan_line(
        str(plan.get("bench_id", "b")),
        str(plan.get("suite", "builtin")),
        True,
        list(plan.get("tasks", ["a", "b"])),  # type: ignore[call-overload]
        list(plan.get("policies", [{"name": "cascade"}, {"name": "mid-only"}])),  # type: ignore[call-overload]
        Shard.parse(shard),
    )
    records = [
        {"kind": "run", "task": t, "policy": p, "outcome": "solved", "status": "fixed", "cost_usd": 0.25}
        for t, p in runs
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in [line, *records]))
    return path


@pytest.fixture
def shards(tmp_path) -> dict[str, Path]:
    """Three shards of one bench (a, b) × (cascade, mid-only), complete."""
    parts = Shard(1, 3), Shard(2, 3), Shard(3, 3)
    return {
        str(s): results_file(tmp_path / f"shard{s.index}.jsonl", str(s), s.pairs(["a", "b"], ["cascade", "mid-only"]))
        for s in parts
    }


def test_merge_of_complete_shards(bench, shards):
    code, out, err = bench(["merge", *map(str, shards.values()), "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "complete", err
    assert doc["matrix"] == {
        "a": {"cascade": "solved", "mid-only": "solved"},
        "b": {"cascade": "solved", "mid-only": "solved"},
    }
    assert doc["spent_usd"] == 1.0 and [p["runs"] for p in doc["policies"]] == [2, 2]


def test_merge_refuses_a_missing_shard_and_names_it(bench, shards):
    code, out, err = bench(["merge", str(shards["1/3"]), str(shards["3/3"])])
    assert code == 2 and "shard 2/3 missing" in err and not out


def test_merge_refuses_a_shard_given_twice(bench, shards, tmp_path):
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(shards["2/3"].read_bytes())
    code, _, err = bench(["merge", *map(str, shards.values()), str(copy)])
    assert code == 2 and f"shard 2/3 is given twice: {shards['2/3']} and {copy}" in err


def test_merge_refuses_shards_of_different_suites_or_policies(bench, shards, tmp_path):
    other = results_file(tmp_path / "other.jsonl", "2/3", [("a", "mid-only")], policies=[{"name": "cascade"}])
    code, out, err = bench(["merge", str(shards["1/3"]), str(other), str(shards["3/3"]), "--json"])
    assert code == 2 and "are not shards of one bench: they differ in policies" in err
    assert json.loads(out)["exit_code"] == 2  # --json: the error as JSON too
    suite = results_file(tmp_path / "suite.jsonl", "2/3", [("a", "mid-only")], suite="tasks/")
    code, _, err = bench(["merge", str(shards["1/3"]), str(suite), str(shards["3/3"])])
    assert code == 2 and f"{suite} and {shards['1/3']} are not shards of one bench: they differ in suite" in err
    four = results_file(tmp_path / "four.jsonl", "2/4", [])
    code, _, err = bench(["merge", str(shards["1/3"]), str(four)])
    assert code == 2 and "they differ in shard count" in err


def test_merge_refuses_a_pair_with_results_in_two_files(bench, shards, tmp_path):
    task, policy = Shard(1, 3).pairs(["a", "b"], ["cascade", "mid-only"])[0]  # shard 1's, run by shard 2 too
    again = results_file(
        tmp_path / "again.jsonl", "2/3", [*Shard(2, 3).pairs(["a", "b"], ["cascade", "mid-only"]), (task, policy)]
    )
    code, _, err = bench(["merge", str(shards["1/3"]), str(again), str(shards["3/3"])])
    assert code == 2 and f"{task} × {policy} has results in both {shards['1/3']} and {again}" in err


def test_merge_refuses_files_that_are_not_shard_results(bench, shards, tmp_path):
    old = tmp_path / "old.jsonl"  # a results file from before plan lines
    old.write_text(json.dumps({"kind": "run", "task": "a", "policy": "cascade"}) + "\n")
    code, _, err = bench(["merge", str(old)])
    assert code == 2 and f"{old} has no plan line" in err
    code, _, err = bench(["merge", str(tmp_path / "nothing.jsonl")])
    assert code == 2 and "nothing.jsonl: no such results file" in err


def test_merge_with_pairs_no_shard_ran_is_incomplete_exit_3(bench, tmp_path):
    """Shard 2/2 stopped by its budget before its pair: the merge reports what ran, lists the pair, exits 3."""
    one = results_file(
        tmp_path / "1.jsonl", "1/2", Shard(1, 2).pairs(["a", "b"], ["cascade"]), policies=[{"name": "cascade"}]
    )
    two = results_file(tmp_path / "2.jsonl", "2/2", [], policies=[{"name": "cascade"}])
    [(missing, _)] = Shard(2, 2).pairs(["a", "b"], ["cascade"])
    code, out, err = bench(["merge", str(one), str(two), "--json"])
    doc = json.loads(out)
    assert code == 3 and doc["status"] == "incomplete", err
    assert doc["not_run"] == [{"task": missing, "policy": "cascade"}]
    assert doc["matrix"][missing] == {"cascade": "not_run"}
    assert err.strip().splitlines()[-1] == "tieragent bench: incomplete (exit 3; cost $0.2500)"


def test_bench_options_before_merge_are_refused(bench, shards):
    code, _, err = bench(["--suite", "builtin", "merge", str(shards["1/3"])])
    assert code == 2 and "bench merge: --suite is an option of a bench run; merge's own go after `merge`" in err


def test_resume_continues_only_the_files_own_shard(bench, tmp_path):
    held = results_file(tmp_path / "held.jsonl", "1/2", [])
    code, _, err = bench(
        ["--suite", "builtin", "--scripted", "--shard", "2/2", "--resume", str(held), "-C", str(tmp_path)]
    )
    assert code == 2 and f"--resume {held}: the file holds shard 1/2, not 2/2" in err
    assert read_results(held) == []


# ------------------------------------------------------------------- the ending, through end_run


def test_a_budget_stop_ends_through_end_run(bench, tmp_path):
    """No run fits the bench's budget: exit 3, budget_stopped, the --output document written, a --csv that
    cannot be written a warning (never a lost report), and the summary line last on stderr."""
    blocked = tmp_path / "file"
    blocked.write_text("")
    args = ["--suite", "builtin", "--scripted", "--tasks", "chunks", "--policies", "cascade", "-C", str(tmp_path)]
    args += ["--workdir", str(tmp_path / "w"), "--run-max-cost", "0.5", "--max-cost", "0.1", "--json"]
    code, out, err = bench([*args, "--output", str(tmp_path / "doc.json"), "--csv", str(blocked / "r.csv")])
    doc = json.loads(out)
    assert (
        code == 3 and doc["status"] == "budget_stopped" and doc["not_run"] == [{"task": "chunks", "policy": "cascade"}]
    )
    assert json.loads((tmp_path / "doc.json").read_text()) == doc
    assert any(w.startswith(f"--csv {blocked / 'r.csv'}: cannot write it") for w in doc["warnings"])
    assert err.strip().splitlines()[-1] == "tieragent bench: budget_stopped (exit 3; cost $0.0000)"


def test_an_interrupted_bench_ends_with_130_and_keeps_its_results(bench, tmp_path, monkeypatch):
    import tieragent.flows.bench.schedule as schedule

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(schedule, "run_pair", interrupted)
    args = ["--suite", "builtin", "--scripted", "--tasks", "chunks", "--policies", "cascade", "-C", str(tmp_path)]
    code, out, err = bench([*args, "--workdir", str(tmp_path / "w"), "--json"])
    doc = json.loads(out)
    assert code == 130 and doc["status"] == "interrupted" and doc["exit_code"] == 130
    assert any(n.startswith("interrupted: 1 run(s) not made; continue with --resume") for n in doc["notes"])
    assert err.strip().splitlines()[-1] == "tieragent bench: interrupted (exit 130; cost $0.0000)"
    assert Path(doc["results_file"]).read_text().startswith('{"bench_id"')  # the plan line, kept for --resume
