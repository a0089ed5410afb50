"""The whole-file fallback: lenient about the fence, strict about left-out lines."""

from __future__ import annotations

import pytest

from tieragent.core.prompts import render
from tieragent.repo.patching import (
    WHOLE_FILE_MAX_LINES,
    PatchError,
    fence_file,
    plan_whole_file,
    whole_file_eligible,
)

OLD = "def add(a, b):\n    return a - b\n"
NEW = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "calc.py").write_text(OLD)
    return tmp_path


@pytest.mark.parametrize(
    "reply",
    [
        f"```src/calc.py\n{NEW}```\n",
        f"Here it is:\n```python src/calc.py\n{NEW}```\nDone.",
        f"```python:src/calc.py\n{NEW}```",
        f"src/calc.py\n```python\n{NEW}```",
        f"**src/calc.py**\n\n```py\n{NEW}```",
        f"`src/calc.py`:\n```\n{NEW}```",
        f"```\n{NEW}```",
        f"````python src/calc.py\n{NEW}````",
        f"```python\n# src/calc.py\n{NEW}```",
        f"Current:\n```python src/calc.py\n{OLD}```\nNew:\n```python src/calc.py\n{NEW}```",
        f"```python src/calc.py\r\n{NEW.replace(chr(10), chr(13) + chr(10))}```\r\n",
    ],
)
def test_fence_styles_accepted(repo, reply):
    ch = plan_whole_file(reply, "src/calc.py", repo)
    assert (ch.path, ch.old_path, ch.new_content) == ("src/calc.py", "src/calc.py", NEW.encode())


@pytest.mark.parametrize(
    "marker",
    [
        "# ... rest of the file unchanged",
        "# ... (unchanged)",
        "    # rest of the code remains the same",
        "# ...",
        "// ... existing code ...",
        "/* ... */",
        "[...]",
        "# (other methods unchanged ...)",
        "# keep the remaining functions as they are, unchanged",
        "<!-- ... -->",
        "… rest unchanged",
    ],
)
def test_truncation_markers_refused(repo, marker):
    with pytest.raises(PatchError) as ei:
        plan_whole_file(f"```python src/calc.py\n{NEW}{marker}\n```", "src/calc.py", repo)
    assert ei.value.kind == "no-diff"
    assert "left-out lines" in ei.value.reason
    assert marker.strip() in ei.value.feedback
    assert "```src/calc.py" in ei.value.feedback


def test_marker_like_lines_already_in_the_file_and_bare_ellipsis_are_fine(tmp_path):
    original = "class P:\n    def f(self): ...\n\n# ...\n"
    (tmp_path / "p.py").write_text(original)
    new = "class P:\n    def f(self): ...\n\n    def g(self):\n        ...\n\n# ...\n"
    ch = plan_whole_file(f"```python p.py\n{new}```", "p.py", tmp_path)
    assert ch.new_content == new.encode()


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("I would change the sign.", "no fenced file content"),
        (f"```python src/calc.py\n{NEW}", "never closed"),
        ("```diff\n--- a/src/calc.py\n+++ b/src/calc.py\n@@ @@\n-x\n+y\n```", "a diff, not the whole file"),
        ("```python src/calc.py\n\n```", "empty"),
        (f"```python src/calc.py\n{OLD}```", "unchanged"),
        (f"```python a.py\n{NEW}```\n```python b.py\n{NEW}```", "names the file"),
        (f"```python src/calc.py\n{NEW}```\n```python src/calc.py\n{NEW}x = 1\n```", "several blocks"),
    ],
)
def test_unusable_replies_are_no_diff(repo, reply, reason):
    with pytest.raises(PatchError) as ei:
        plan_whole_file(reply, "src/calc.py", repo)
    assert ei.value.kind == "no-diff" and reason in ei.value.reason and ei.value.path == "src/calc.py"


def test_syntax_error_refused(repo):
    with pytest.raises(PatchError) as ei:
        plan_whole_file("```python src/calc.py\ndef add(a, b):\nreturn a + b\n```", "src/calc.py", repo)
    assert ei.value.kind == "syntax" and "line 2" in ei.value.reason


def test_line_endings_and_missing_final_newline_kept(tmp_path):
    (tmp_path / "w.txt").write_bytes(b"one\r\ntwo\r\nthree")
    ch = plan_whole_file("```w.txt\none\ntwo\n3\n```", "w.txt", tmp_path)
    assert ch.new_content == b"one\r\ntwo\r\n3"


def test_file_holding_fences_in_a_longer_fence(tmp_path):
    md = "# T\n\n```sh\nrun\n```\n"
    (tmp_path / "README.md").write_text(md)
    ch = plan_whole_file("````README.md\n# T\n\n```sh\nrun --fast\n```\n````", "README.md", tmp_path)
    assert ch.new_content == b"# T\n\n```sh\nrun --fast\n```\n"


def test_new_file_and_refused_paths(tmp_path):
    ch = plan_whole_file("```notes.txt\nhello\n```", "notes.txt", tmp_path)
    assert (ch.path, ch.old_path, ch.new_content) == ("notes.txt", None, b"hello\n")
    for bad in ("../x.py", "/etc/passwd", ".git/config"):
        with pytest.raises(PatchError) as ei:
            plan_whole_file("```x\ny\n```", bad, tmp_path)
        assert ei.value.kind == "path"
    with pytest.raises(PatchError) as ei:
        plan_whole_file("```notes.txt\nhello\n```", "notes.txt", tmp_path, refuse=lambda p: "ignored by git")
    assert ei.value.kind == "path" and "ignored by git" in ei.value.reason


def test_eligibility(tmp_path):
    (tmp_path / "small.py").write_text("x = 1\n" * WHOLE_FILE_MAX_LINES)
    (tmp_path / "big.py").write_text("x = 1\n" * (WHOLE_FILE_MAX_LINES + 1))
    (tmp_path / "bin.dat").write_bytes(b"\0\1\2")
    assert whole_file_eligible("small.py", tmp_path)
    assert not whole_file_eligible("big.py", tmp_path)
    assert not whole_file_eligible("bin.dat", tmp_path)
    assert not whole_file_eligible("missing.py", tmp_path)


def test_fence_file_outlasts_backticks_inside():
    assert fence_file("a.py", "x = 1\n") == "```a.py\nx = 1\n```"
    assert fence_file("R.md", "```sh\nrun\n```") == "````R.md\n```sh\nrun\n```\n````"


def test_prompt_renders_and_its_own_format_is_accepted(repo):
    msgs = render(
        "patch-whole",
        request="make add add",
        files=fence_file("src/calc.py", OLD),
        reference="",
        related="",
        paths="src/calc.py",
        feedback="src/calc.py hunk 1: context not found",
    )
    user = "\n".join(m["content"] for m in msgs)
    assert "Do not write a diff" in user and "first line names the file" in user
    assert "context not found" in msgs[-1]["content"] and OLD in user
    # a model that answers exactly in the asked format
    answer = f"Fixed the sign.\n\n```src/calc.py\n{NEW}```\n"
    assert plan_whole_file(answer, "src/calc.py", repo).new_content == NEW.encode()


def test_several_files_each_in_its_named_block(repo):
    from tieragent.repo.patching import plan_whole_files

    (repo / "src/other.py").write_text("X = 1\n")
    answer = f"```src/calc.py\n{NEW}```\nand\n```src/other.py\nX = 2\n```\n"
    changes = plan_whole_files(answer, ("src/calc.py", "src/other.py"), repo)
    assert {c.path: c.new_content for c in changes} == {"src/calc.py": NEW.encode(), "src/other.py": b"X = 2\n"}
    only_one = plan_whole_files(f"```src/calc.py\n{NEW}```\n", ("src/calc.py", "src/other.py"), repo)
    assert [c.path for c in only_one] == ["src/calc.py"]  # a file with no block is left alone
    with pytest.raises(PatchError):  # one unnamed block is not guessed onto every file
        plan_whole_files(f"```\n{NEW}```\n", ("src/calc.py", "src/other.py"), repo)


def test_files_sent_back_unchanged_are_named_as_such(repo):
    """A small model's usual failure: every file copied back as it is. The reason says so (and the
    feedback asks for a change), rather than claiming no block named a file."""
    from tieragent.repo.patching import plan_whole_files

    (repo / "src/other.py").write_text("X = 1\n")
    old = (repo / "src/calc.py").read_text()
    with pytest.raises(PatchError) as e:
        plan_whole_files(
            f"```src/calc.py\n{old}```\n\n```src/other.py\nX = 1\n```\n", ("src/calc.py", "src/other.py"), repo
        )
    assert e.value.reason == "the reply repeats src/calc.py, src/other.py unchanged"
    assert "changes nothing" in e.value.feedback
