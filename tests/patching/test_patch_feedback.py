"""The refusal text: one line for the ledger, and feedback a model can act on."""

from __future__ import annotations

import pytest

from tieragent.repo.patching import PatchError, plan_patch
from tieragent.repo.patching.feedback import excerpt

CALC = """def add(a, b):
    return a - b


def sub(a, b):
    return a - b


def mul(a, b):
    result = 0
    for _ in range(b):
        result += a
    return result
"""


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "calc.py").write_text(CALC)
    (tmp_path / "src" / "other.py").write_text("X = 1\nY = 2\n")
    return tmp_path


def refusal(reply: str, root) -> PatchError:
    with pytest.raises(PatchError) as ei:
        plan_patch(reply, root)
    return ei.value


def diff(path: str, *hunks: str) -> str:
    return f"```diff\n--- a/{path}\n+++ b/{path}\n" + "".join(hunks) + "```\n"


def test_mismatch_names_file_hunk_first_bad_line_and_nearest_lines(repo):
    err = refusal(
        diff(
            "src/calc.py",
            "@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n",
            "@@ -9,5 +9,5 @@\n def mul(a, b):\n     result = 0\n     for _ in range(b):\n"
            "-        result = result + a\n+        result += a * 1\n     return result\n",
        ),
        repo,
    )
    assert err.kind == "apply"
    assert err.path == "src/calc.py"
    assert err.reason == "src/calc.py hunk 2: context not found"
    assert "\n" not in err.reason
    fb = err.feedback
    assert fb.startswith("src/calc.py, hunk 2 of 2 (@@ -9,5 +9,5 @@): context not found.")
    assert "The first line that does not match is line 4 of the hunk:\n    -        result = result + a" in fb
    assert "The file has at line 12:\n             result += a" in fb
    assert "The nearest lines in src/calc.py are 9-13:" in fb
    for n, text in ((9, "def mul(a, b):"), (12, "        result += a"), (13, "    return result")):
        assert f"{n} | {text}" in fb
    assert "Copy the context" in fb
    assert "No file was changed" in fb


def test_whitespace_only_difference_is_said(repo):
    err = refusal(
        diff(
            "src/calc.py",
            "@@ @@\n def mul(a, b):\n     result = 0\n-  for _ in range(b):\n+    for _ in range(b + 1):\n"
            "         result += a\n",
        ),
        repo,
    )
    assert err.kind == "apply"
    assert "indentation" in err.reason
    assert "(they differ only in indentation.)" in err.feedback
    assert "line 3 of the hunk" in err.feedback


def test_ambiguous_lists_every_place_with_numbers(repo):
    err = refusal(diff("src/calc.py", "@@ @@\n-    return a - b\n+    return a + b\n"), repo)
    assert err.kind == "apply"
    assert "matches 2 places" in err.reason and "lines 2, 6" in err.reason
    assert "2 |     return a - b" in err.feedback and "6 |     return a - b" in err.feedback
    assert "Add more unchanged lines" in err.feedback


def test_header_line_number_breaks_the_tie(repo):
    changes = plan_patch(diff("src/calc.py", "@@ -6,1 +6,1 @@\n-    return a - b\n+    return b - a\n"), repo)
    assert (
        changes[0].new_content
        == CALC.replace("def sub(a, b):\n    return a - b", "def sub(a, b):\n    return b - a").encode()
    )


def test_every_failing_file_is_reported_at_once(repo):
    reply = diff("src/calc.py", "@@ @@\n def nope():\n-    pass\n+    return 1\n") + diff(
        "src/other.py", "@@ @@\n-Z = 3\n+Z = 4\n"
    )
    err = refusal(reply, repo)
    assert err.reason == "src/calc.py hunk 1: context not found (and 1 more)"
    assert err.path == "src/calc.py"
    assert err.feedback.startswith("2 problems:")
    assert "src/calc.py, hunk 1" in err.feedback and "src/other.py, hunk 1" in err.feedback


def test_missing_lines_without_any_similar_line(repo):
    err = refusal(diff("src/other.py", "@@ @@\n-qqqqqqqqqqqqqqqqqqqqqqqq\n+z\n"), repo)
    assert "None of the hunk's lines appear in src/other.py (2 lines)." in err.feedback


def test_indentation_refusal_explains_why(repo):
    err = refusal(
        diff(
            "src/calc.py",
            "@@ @@\n def mul(a, b):\n     result = 0\n     for _ in range(b):\n     result += a\n"
            "-    return result\n+    return int(result)\n",
        ),
        repo,
    )
    assert err.kind == "apply"
    assert "indentation that differs from line to line" in err.reason
    assert "never guessed" in err.feedback
    assert "line 4 of the hunk" in err.feedback


def test_patch_error_kinds_are_checked():
    with pytest.raises(ValueError):
        PatchError("oops", "x")
    e = PatchError("apply", "first line\nsecond line", path="a.py")
    assert e.reason == "first line" and str(e) == "first line" and e.feedback == "first line\nsecond line"


def test_excerpt_numbers_and_cuts_long_ranges():
    lines = [f"line {i}" for i in range(1, 101)]
    out = excerpt(lines, 10, 60, limit=10)
    assert out[0] == " 9 | line 9"
    assert any(x.endswith("| ...") for x in out)
    assert out[-1] == "62 | line 62"
    assert len(out) == 11
