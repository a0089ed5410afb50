"""Reading diffs out of model replies."""

from __future__ import annotations

from tieragent.repo.patching.parse import (
    clean_header_path,
    normalize_reply,
    parse_reply,
    path_hints,
    unquote_path,
)


def test_several_diffs_prose_and_fences():
    reply = """Intro.

```diff
--- a/x.py
+++ b/x.py
@@ -1,2 +1,2 @@ def f():
 a
-b
+c
```
Middle prose.
```patch
diff --git a/y.py b/y.py
index 1..2 100644
--- a/y.py
+++ b/y.py
@@ @@
-q
+r
@@ -10 +10 @@
-s
+t
```
"""
    fds = parse_reply(reply)
    assert [(f.old_path, f.new_path) for f in fds] == [("a/x.py", "b/x.py"), ("a/y.py", "b/y.py")]
    h = fds[0].hunks[0]
    assert (h.old_start, h.old_count, h.new_start, h.new_count) == (1, 2, 1, 2)
    assert h.lines == [(" ", "a"), ("-", "b"), ("+", "c")]
    assert fds[1].git and len(fds[1].hunks) == 2
    assert fds[1].hunks[0].old_start is None
    assert (fds[1].hunks[1].old_start, fds[1].hunks[1].old_count) == (10, 1)
    assert [h.number for h in fds[1].hunks] == [1, 2]


def test_no_newline_markers_mark_the_right_side():
    fd = parse_reply("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n")[0]
    h = fd.hunks[0]
    assert h.old_no_eol and not h.new_no_eol
    fd = parse_reply("--- a/f\n+++ b/f\n@@ -1 +1 @@\n x\n\\ No newline at end of file\n")[0]
    assert fd.hunks[0].old_no_eol and fd.hunks[0].new_no_eol


def test_blank_lines_inside_a_fence_are_context_and_trailing_ones_dropped():
    fd = parse_reply("```diff\n--- a/f\n+++ b/f\n@@ @@\n a\n\n-b\n+c\n\n\n```\n")[0]
    assert fd.hunks[0].lines == [(" ", "a"), (" ", ""), ("-", "b"), ("+", "c")]


def test_unfenced_hunk_ends_at_blank_line_when_counts_are_met():
    fd = parse_reply("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\n- a bullet point\n")[0]
    assert fd.hunks[0].lines == [(" ", "a"), ("-", "b"), ("+", "c")]


def test_unfenced_hunk_with_wrong_counts_continues_over_blank_context():
    fd = parse_reply("--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n a\n\n-b\n+c\n\nThanks.\n")[0]
    assert fd.hunks[0].lines == [(" ", "a"), (" ", ""), ("-", "b"), ("+", "c")]


def test_removed_line_that_looks_like_a_header_is_not_one():
    fd = parse_reply("--- a/f.sql\n+++ b/f.sql\n@@ @@\n--- old comment\n+-- new comment\n x\n")[0]
    assert fd.hunks[0].lines == [("-", "-- old comment"), ("+", "-- new comment"), (" ", "x")]


def test_new_deleted_and_renamed_files():
    new, gone, moved = parse_reply(
        "--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+x\n"
        "--- a/d.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        "diff --git a/o.py b/p.py\nsimilarity index 100%\nrename from o.py\nrename to p.py\n"
    )
    assert new.is_new and new.new_path == "b/n.py"
    assert gone.is_delete and gone.old_path == "a/d.py"
    assert moved.rename and (moved.old_path, moved.new_path) == ("o.py", "p.py") and not moved.prefixed


def test_git_header_alone_marks_deletion():
    fd = parse_reply("diff --git a/x.py b/x.py\ndeleted file mode 100644\nindex e69de29..0000000\n")[0]
    assert fd.is_delete and fd.old_path == "a/x.py"


def test_header_paths_lose_timestamps_and_quotes():
    assert clean_header_path("a/src/x.py\t2024-01-01 10:00:00") == "a/src/x.py"
    assert clean_header_path("a/src/x.py 2024-01-01 10:00:00.000 +0100") == "a/src/x.py"
    assert clean_header_path("/dev/null") is None
    assert unquote_path('"a/caf\\303\\251 menu.py"') == "a/café menu.py"


def test_crlf_reply_and_indented_fence():
    reply = (
        "1. Change:\r\n\r\n   ```diff\r\n   --- a/f\r\n   +++ b/f\r\n   @@ @@\r\n    a\r\n   -b\r\n   +c\r\n   ```\r\n"
    )
    assert "    a" not in normalize_reply(reply)
    fd = parse_reply(reply)[0]
    assert fd.hunks[0].lines == [(" ", "a"), ("-", "b"), ("+", "c")]


def test_headerless_hunk_takes_path_hints_from_fence_and_prose():
    fds = parse_reply("In `src/app.py`:\n```diff\n@@ @@\n a\n-b\n+c\n```\n")
    assert fds[0].headerless and fds[0].hints == ["src/app.py"]
    assert path_hints("```python:src/app.py") == ["src/app.py"]
    assert path_hints("**lib/util.ts**") == ["lib/util.ts"]


def test_headerless_hunk_in_new_fence_without_hint_continues_current_file():
    fds = parse_reply("```diff\n--- a/f\n+++ b/f\n@@ @@\n-a\n+b\n```\nAlso:\n```diff\n@@ @@\n-c\n+d\n```\n")
    assert len(fds) == 1 and len(fds[0].hunks) == 2


def test_prose_with_dashes_is_not_a_diff():
    assert parse_reply("---\nSome text\n---\n") == []
    assert parse_reply("Just words.\n- a bullet\n+ another\n") == []


def test_unprefixed_line_inside_a_fenced_hunk_is_context_that_lost_its_space():
    fd = parse_reply(
        "```diff\n--- a/f.go\n+++ b/f.go\n@@ @@\nfunc f() {\n\tif x {\n-\t\ta()\n+\t\tb()\n \t}\nThat is all.\n```\n"
    )[0]
    assert fd.hunks[0].lines == [
        (" ", "func f() {"),
        (" ", "\tif x {"),
        ("-", "\t\ta()"),
        ("+", "\t\tb()"),
        (" ", "\t}"),
    ]


def test_unprefixed_line_outside_a_fence_ends_the_hunk():
    fd = parse_reply("--- a/f\n+++ b/f\n@@ @@\n-a\n+b\nSo:\n-c\n+d\n")[0]
    assert fd.hunks[0].lines == [("-", "a"), ("+", "b")]


def test_hunk_lines_right_after_the_file_header_form_one_hunk():
    fd = parse_reply("```diff\n--- a/f.py\n+++ b/f.py\n def f():\n-    return 1\n+    return 2\n```\n")[0]
    assert len(fd.hunks) == 1 and fd.hunks[0].old_start is None
    assert fd.hunks[0].lines == [(" ", "def f():"), ("-", "    return 1"), ("+", "    return 2")]
