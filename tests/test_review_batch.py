"""Which hunks share a review call: a pure function of the assessed hunks and their sizes."""

from __future__ import annotations

from tieragent.flows.review.batch import (
    BATCH_TOKENS,
    MAX_HUNKS_PER_CALL,
    SMALL_HUNK_TOKENS,
    Part,
    changes_block,
    plan_batches,
)
from tieragent.flows.review.model import Assessed, Hunk


def assessed(path: str, n: int, tier: str = "mid", risk: str = "medium", lines: int = 1) -> Assessed:
    body = "".join(f"-old line {i} of hunk {n}\n+new line {i} of hunk {n}\n" for i in range(lines))
    hunk = Hunk(
        id=f"{path}#{n}",
        path=path,
        old_path=path,
        status="modified",
        header="@@ -1 +1 @@",
        text=f"@@ -1 +1 @@\n{body}",
        new_start=n * 10,
        new_len=1,
        old_start=n * 10,
        old_len=1,
        added=((n * 10, f"b{n}"),),
    )
    return Assessed(hunk, risk, (), tier)  # type: ignore[arg-type]


def ids(batches):
    return [[a.hunk.id for a in b] for b in batches]


def test_hunks_of_one_file_and_tier_share_a_call_in_order_of_their_first_hunk():
    hunks = [
        assessed("a.py", 1, "frontier", "high"),
        assessed("b.py", 1),
        assessed("a.py", 2),
        assessed("a.py", 3),
        assessed("a.py", 4, "frontier", "high"),
    ]
    assert ids(plan_batches(hunks, lambda a: "code")) == [["a.py#1", "a.py#4"], ["b.py#1"], ["a.py#2", "a.py#3"]]


def test_large_hunks_go_alone_and_a_call_has_a_limit():
    big = assessed("a.py", 2, lines=SMALL_HUNK_TOKENS // 5)  # two ~10-token lines per changed line
    assert big.hunk.text.count("\n") and len(big.hunk.text) // 4 > SMALL_HUNK_TOKENS
    hunks = [assessed("a.py", 1), big, assessed("a.py", 3)]
    assert ids(plan_batches(hunks, lambda a: "code")) == [["a.py#1", "a.py#3"], ["a.py#2"]]
    many = [assessed("a.py", n) for n in range(1, MAX_HUNKS_PER_CALL + 3)]
    assert [len(b) for b in plan_batches(many, lambda a: "code")] == [MAX_HUNKS_PER_CALL, 2]


def test_code_is_counted_once_per_call_and_the_call_has_a_token_limit():
    shared = "x" * (BATCH_TOKENS * 4 // 2)  # half the call's tokens
    hunks = [assessed("a.py", n) for n in range(1, 5)]
    assert ids(plan_batches(hunks, lambda a: shared)) == [
        ["a.py#1", "a.py#2", "a.py#3", "a.py#4"]
    ]  # one function: counted once
    own = {
        a.hunk.id: "y" * (BATCH_TOKENS * 4 // 3) + a.hunk.id for a in hunks
    }  # a third each, a different function each
    assert [len(b) for b in plan_batches(hunks, lambda a: own[a.hunk.id])] == [2, 2]


def test_code_two_hunks_share_is_shown_once():
    a, b = assessed("a.py", 1).hunk, assessed("a.py", 2).hunk
    text = changes_block(
        [Part(a, "```\n1 | def f():\n```", "medium risk"), Part(b, "```\n1 | def f():\n```", "low risk")]
    )
    assert text.count("def f()") == 1 and "the same code as shown for an earlier change" in text
    assert "### Change a.py#1 (1 of 2)" in text and "Rated: low risk" in text
    assert "(1 of 1)" not in changes_block([Part(a, "c", "r")])


def test_findings_go_to_the_hunk_holding_their_line_or_the_nearest_and_copied_choices_read_as_bug():
    from tieragent.flows.review.findings import place

    one, two = assessed("a.py", 1).hunk, assessed("a.py", 5).hunk  # changed lines 10 and 50
    raw = [
        {"line": 50, "message": "m1", "category": "security|bug|correctness"},
        {"line": 47, "message": "m2", "category": "CATEGORY"},
        {"line": 14, "message": "m3", "category": "data loss"},
        {"line": 30, "message": "far from both"},
        {"message": "no line"},
    ]
    placed = place(raw, [one, two], "mid")
    got = [(f.message, f.hunk, f.line, f.category) for f in placed.findings]
    assert got == [
        ("m1", "a.py#5", 50, "bug"),
        ("m2", "a.py#5", 50, "bug"),
        ("m3", "a.py#1", 10, "data-loss"),
        ("no line", "a.py#1", 10, "bug"),
    ]
    assert (placed.moved, placed.dropped) == (3, 1)
