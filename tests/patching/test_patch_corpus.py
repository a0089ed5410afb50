"""Every corpus case: the reply applies to exactly the expected tree, or is refused as expected."""

from __future__ import annotations

import pytest
from patch_corpus import cases, check


def test_corpus_is_large_enough():
    all_cases = cases()
    assert len(all_cases) >= 40
    refusals = [c for c in all_cases if (c / "refusal.txt").exists()]
    assert len(refusals) >= 10
    for c in all_cases:
        assert not ((c / "refusal.txt").exists() and (c / "after").exists()), c.name


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_case(case, tmp_path):
    problem = check(case, tmp_path)
    assert problem is None, problem
