"""A bench split across machines (`--shard K/N`) and reported as one (`bench merge FILES...`).

The shard of a pair is its place in the list of every (task id, policy name) pair ordered by a hash of
the two, dealt round-robin: pair i goes to shard i mod N + 1. The order depends on the names alone, so
it is the same on every machine that resolves the same tasks and policies, whatever order they were
listed in; the hash mixes tasks and policies (a shard does not get one policy's runs only, which
would differ in cost from the others'), and dealing keeps the shards within one pair in size.

A results file begins with a plan line (`"kind": "plan"`): the suite, the task ids, the policies'
definitions and the shard. Merging compares the plan lines, so shards of different benches, a shard
given twice and a missing shard are refused by name rather than reported as one wrong bench.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import UsageError
from ...model.redact import Redactor
from .report import build_report
from .result import SCRIPTED_NOTE, BenchResult
from .schedule import read_results

PLAN = "plan"
SHARD_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
Pair = tuple[str, str]  # (task id, policy name)


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, spec: str) -> Shard:
        """`K/N` with 1 <= K <= N; a UsageError that says what was wrong otherwise."""
        match = SHARD_SPEC.match(spec)
        if not match:
            raise UsageError(f"--shard {spec!r}: write it as K/N, e.g. 2/4 (the second of four shards)")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard {spec}: K must be between 1 and N (N at least 1)")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def pairs(self, task_ids: Iterable[str], policy_names: Iterable[str]) -> list[Pair]:
        """This shard's pairs, in the dealing order."""
        every = sorted({(t, p) for t in task_ids for p in policy_names}, key=_deal_key)
        return [pair for n, pair in enumerate(every) if n % self.count == self.index - 1]


def _deal_key(pair: Pair) -> tuple[str, Pair]:
    return hashlib.sha256("\0".join(pair).encode()).hexdigest(), pair


def plan_line(
    bench_id: str, suite: str, scripted: bool, task_ids: list[str], policies: list[dict[str, Any]], shard: Shard | None
) -> dict[str, Any]:
    """The first line of a results file: what bench it belongs to (merge compares these)."""
    return {
        "kind": PLAN,
        "bench_id": bench_id,
        "suite": suite,
        "scripted": scripted,
        "tasks": list(task_ids),
        "policies": policies,
        "shard": [shard.index, shard.count] if shard else [1, 1],
    }


def read_plan(path: Path) -> dict[str, Any] | None:
    """The plan line of a results file (its first line), or None when it has none."""
    try:
        with path.open(encoding="utf-8") as f:
            first = f.readline()
    except OSError as err:
        raise UsageError(f"{path}: cannot read it ({err.strerror})") from None
    try:
        line = json.loads(first)
    except ValueError:
        return None
    return line if isinstance(line, dict) and line.get("kind") == PLAN else None


def check_resumed_shard(path: Path, shard: Shard | None) -> None:
    """`--resume FILE` continues FILE's own shard: another --shard would mix two shards in one file."""
    plan = read_plan(path)
    if plan is None:
        return  # a file from before plan lines: nothing to compare
    held = Shard(*plan["shard"])
    wanted = shard or Shard(1, 1)
    if held != wanted:
        raise UsageError(f"--resume {path}: the file holds shard {held}, not {wanted}; resume it with --shard {held}")


@dataclass
class Merged:
    """The shards' results as one bench."""

    suite: str
    scripted: bool
    tasks: list[str]
    policies: list[dict[str, Any]]  # the definitions, as each shard's plan holds them
    records: list[dict[str, Any]]
    files: list[Path] = field(default_factory=list)

    @property
    def policy_names(self) -> list[str]:
        return [p["name"] for p in self.policies]

    def unreported(self) -> list[Pair]:
        """Pairs no shard has a result for (a shard stopped by its budget, or interrupted), broken tasks aside."""
        broken = {r["task"] for r in self.records if r["kind"] == "broken"}
        done = {(r["task"], r["policy"]) for r in self.records if r["kind"] == "run"}
        return [(t, p) for t in self.tasks for p in self.policy_names if t not in broken and (t, p) not in done]

    def result(self, redactor: Redactor | None = None) -> BenchResult:
        """The merged bench's result: its report over every shard's records, ended as the records leave it."""
        unreported = self.unreported()
        runs = [r for r in self.records if r["kind"] == "run"]
        result = BenchResult(
            redactor=redactor,
            suite=self.suite,
            report=build_report(self.tasks, self.policy_names, self.records, unreported),
            spent_usd=sum(float(r.get("cost_usd") or 0.0) for r in runs),
            cost_complete=all(r.get("cost_complete", True) for r in runs),
            policy_definitions=self.policies,
            merged=[str(f) for f in self.files],
        )
        if self.scripted:
            result.notes.append(SCRIPTED_NOTE)
        if unreported:
            result.notes.append(
                f"{len(unreported)} pair(s) have no result in any shard (a shard stopped by its --max-cost, "
                "or interrupted): continue that shard with --resume FILE, then merge again"
            )
        return result.finish(interrupted=False, left_out=False, unreported=bool(unreported))


SAME = ("suite", "scripted", "tasks", "policies")  # what every shard of one bench agrees on


def merge_results(paths: list[Path]) -> Merged:
    """Every shard's results as one bench; a UsageError naming the file when they are not the shards of one."""
    if not paths:
        raise UsageError("bench merge: give the results files of every shard")
    plans = [(path, _plan_of(path)) for path in paths]
    first_path, first = plans[0]
    for path, plan in plans[1:]:
        for key in (*SAME, "shard count"):
            mine = plan["shard"][1] if key == "shard count" else plan[key]
            theirs = first["shard"][1] if key == "shard count" else first[key]
            if mine != theirs:
                raise UsageError(
                    f"bench merge: {path} and {first_path} are not shards of one bench: they differ in {key}"
                )
    _check_shard_set(plans)
    records = _records(plans)
    return Merged(first["suite"], first["scripted"], first["tasks"], first["policies"], records, list(paths))


def _plan_of(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(f"bench merge: {path}: no such results file")
    plan = read_plan(path)
    if plan is None:
        raise UsageError(
            f"bench merge: {path} has no plan line: it is not a results file of `tieragent bench`, "
            "or one written before --shard existed"
        )
    return plan


def _check_shard_set(plans: list[tuple[Path, dict[str, Any]]]) -> None:
    """Each shard of N exactly once."""
    seen: dict[int, Path] = {}
    count = plans[0][1]["shard"][1]
    for path, plan in plans:
        index = plan["shard"][0]
        if index in seen:
            raise UsageError(f"bench merge: shard {index}/{count} is given twice: {seen[index]} and {path}")
        seen[index] = path
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        raise UsageError(f"bench merge: shard {', '.join(missing)} missing; give the results files of all {count}")


def _records(plans: list[tuple[Path, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every file's records; a pair with a result in two files is refused (a file given under two names,
    or shards that overlap)."""
    owner: dict[Pair, Path] = {}
    out: list[dict[str, Any]] = []
    for path, _plan in plans:
        records = read_results(path)
        pairs = {(r["task"], r["policy"]) for r in records if r["kind"] == "run"}
        for pair in sorted(pairs):
            if pair in owner:
                raise UsageError(
                    f"bench merge: {pair[0]} × {pair[1]} has results in both {owner[pair]} and {path}; "
                    "each pair belongs to one shard"
                )
            owner[pair] = path
        out += records
    return out
