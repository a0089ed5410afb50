"""plan_patch as the pipeline calls it: FileChanges, purity, paths, all or nothing, odd files."""

from __future__ import annotations

import os

import pytest

from tieragent.repo.patching import FileChange, PatchError, plan_patch
from tieragent.repo.patching.paths import PathRefused, check_path, strip_git_prefix


def fenced(*diffs: str) -> str:
    return "".join(f"```diff\n{d}```\n\n" for d in diffs)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\nB = 2\nC = 3\n")
    (tmp_path / "pkg" / "b.py").write_text("X = 1\n")
    return tmp_path


def tree(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_modification_new_delete_rename_change_shapes(repo):
    reply = fenced(
        "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n A = 1\n-B = 2\n+B = 20\n C = 3\n",
        "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+N = 1\n",
        "--- a/pkg/b.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-X = 1\n",
    )
    before = tree(repo)
    changes = plan_patch(reply, repo)
    assert tree(repo) == before  # pure: nothing written
    assert changes == [
        FileChange("pkg/a.py", "pkg/a.py", b"A = 1\nB = 20\nC = 3\n"),
        FileChange("pkg/new.py", None, b"N = 1\n"),
        FileChange("pkg/b.py", "pkg/b.py", None),
    ]
    assert changes[1].is_new and changes[2].is_delete and not changes[0].is_rename


def test_rename_keeps_bytes_when_there_is_no_hunk(repo):
    (repo / "pkg" / "c.py").write_bytes(b"Y = 1\r\nZ = 2")
    ch = plan_patch(
        "diff --git a/pkg/c.py b/pkg/d.py\nsimilarity index 100%\nrename from pkg/c.py\nrename to pkg/d.py\n", repo
    )
    assert ch == [FileChange("pkg/d.py", "pkg/c.py", b"Y = 1\r\nZ = 2")]
    assert ch[0].is_rename


def test_all_or_nothing_one_bad_hunk_refuses_the_reply(repo):
    reply = fenced(
        "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n-A = 1\n+A = 10\n",
        "--- a/pkg/b.py\n+++ b/pkg/b.py\n@@ @@\n-X = 2\n+X = 3\n",
    )
    with pytest.raises(PatchError) as ei:
        plan_patch(reply, repo)
    assert ei.value.kind == "apply" and ei.value.path == "pkg/b.py"


def test_refuse_sees_clean_relative_paths(repo):
    seen = []

    def veto(p):
        seen.append(p)
        return "ignored by git" if p.endswith("b.py") else None

    reply = fenced(
        "--- ./pkg/a.py\n+++ ./pkg/a.py\n@@ @@\n-A = 1\n+A = 10\n",
        "--- a/pkg//b.py\n+++ b/pkg//b.py\n@@ @@\n-X = 1\n+X = 2\n",
    )
    with pytest.raises(PatchError) as ei:
        plan_patch(reply, repo, refuse=veto)
    assert seen == ["pkg/a.py", "pkg/b.py"]
    assert ei.value.kind == "path" and ei.value.reason == "pkg/b.py: ignored by git" and ei.value.path == "pkg/b.py"


def test_path_kind_wins_attention_but_every_problem_is_listed(repo):
    reply = fenced(
        "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n-Q = 1\n+Q = 2\n",
        "--- a/../x.py\n+++ b/../x.py\n@@ @@\n-a\n+b\n",
    )
    with pytest.raises(PatchError) as ei:
        plan_patch(reply, repo)
    assert ei.value.kind == "path" and ei.value.path == "../x.py"
    assert "pkg/a.py, hunk 1" in ei.value.feedback and "The path ../x.py is refused" in ei.value.feedback


def test_no_change_is_no_diff(repo):
    for reply in (
        "Looks fine to me.",
        fenced("--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n A = 1\n-B = 2\n+B = 2\n"),
        fenced("--- a/pkg/a.py\n+++ b/pkg/a.py\n"),
    ):
        with pytest.raises(PatchError) as ei:
            plan_patch(reply, repo)
        assert ei.value.kind == "no-diff", reply


def test_crlf_tabs_non_ascii_and_no_final_newline(tmp_path):
    (tmp_path / "m.go").write_bytes('x := "héllo"\r\n\tif y {\r\n\t\treturn\r\n\t}'.encode())
    reply = fenced("--- a/m.go\n+++ b/m.go\n@@ @@\n \tif y {\n-\t\treturn\n+\t\treturn // ünïcode ✓\n \t}\n")
    (ch,) = plan_patch(reply, tmp_path)
    assert ch.new_content == 'x := "héllo"\r\n\tif y {\r\n\t\treturn // ünïcode ✓\r\n\t}'.encode()


def test_latin1_file_round_trips(tmp_path):
    (tmp_path / "l.txt").write_bytes("caf\xe9 = 1\nother = 2\n".encode("latin-1"))
    (ch,) = plan_patch(fenced("--- a/l.txt\n+++ b/l.txt\n@@ @@\n café = 1\n-other = 2\n+other = 3\n"), tmp_path)
    assert ch.new_content == "caf\xe9 = 1\nother = 3\n".encode("latin-1")


def test_binary_file_refused(tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"a\0b\n")
    with pytest.raises(PatchError) as ei:
        plan_patch(fenced("--- a/blob.bin\n+++ b/blob.bin\n@@ @@\n-a\n+b\n"), tmp_path)
    assert ei.value.kind == "apply" and "binary" in ei.value.reason


def test_python_that_did_not_parse_before_is_not_blamed(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n    pass\nX = 1\n")
    (ch,) = plan_patch(fenced("--- a/broken.py\n+++ b/broken.py\n@@ @@\n-X = 1\n+X = 2\n"), tmp_path)
    assert ch.new_content == b"def f(:\n    pass\nX = 2\n"


def test_new_python_file_must_parse(tmp_path):
    with pytest.raises(PatchError) as ei:
        plan_patch(fenced("--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+def f(\n"), tmp_path)
    assert ei.value.kind == "syntax"


def test_hunk_adding_to_empty_file(tmp_path):
    (tmp_path / "e.txt").write_bytes(b"")
    (ch,) = plan_patch(fenced("--- a/e.txt\n+++ b/e.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n"), tmp_path)
    assert ch.new_content == b"one\ntwo\n"


def test_deleting_every_line_leaves_an_empty_file(tmp_path):
    (tmp_path / "e.txt").write_bytes(b"one\ntwo\n")
    (ch,) = plan_patch(fenced("--- a/e.txt\n+++ b/e.txt\n@@ @@\n-one\n-two\n"), tmp_path)
    assert ch == FileChange("e.txt", "e.txt", b"")


def test_rename_onto_existing_file_refused(repo):
    with pytest.raises(PatchError) as ei:
        plan_patch("diff --git a/pkg/a.py b/pkg/b.py\nrename from pkg/a.py\nrename to pkg/b.py\n", repo)
    assert ei.value.kind == "apply" and "already exists" in ei.value.reason


def test_two_names_for_one_file_through_a_symlinked_directory(repo):
    os.symlink("pkg", repo / "alias")
    reply = fenced(
        "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n-A = 1\n+A = 10\n",
        "--- a/alias/a.py\n+++ b/alias/a.py\n@@ @@\n-C = 3\n+C = 30\n",
    )
    with pytest.raises(PatchError) as ei:
        plan_patch(reply, repo)
    assert "conflicting" in ei.value.reason


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize(
    "raw, why",
    [
        ("", "empty"),
        ("/abs/x.py", "absolute"),
        ("~/x.py", "absolute"),
        ("C:/x.py", "absolute"),
        ("src\\x.py", "backslash"),
        ("a/../../x.py", "'..'"),
        ("..", "'..'"),
        (".git/config", ".git"),
        ("sub/.GIT/hooks/x", ".git"),
        ("x\x00y", "control"),
        ("pkg", "directory"),
        ("pkg/a.py/inner", "not a directory"),
    ],
)
def test_check_path_refusals(repo, raw, why):
    with pytest.raises(PathRefused) as ei:
        check_path(raw, repo)
    assert why in ei.value.why


def test_check_path_symlinks(repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, repo / "out")
    os.symlink("pkg", repo / "inside")
    os.symlink("../.git", repo / "pkg" / "gitlink")
    (repo / ".git").mkdir()
    with pytest.raises(PathRefused, match="outside the repository"):
        check_path("out/x.py", repo)
    with pytest.raises(PathRefused, match=r"into \.git"):
        check_path("pkg/gitlink/config", repo)
    assert check_path("inside/a.py", repo) == "inside/a.py"
    assert check_path("./pkg//a.py", repo) == "pkg/a.py"
    assert check_path("pkg/new/deep.py", repo) == "pkg/new/deep.py"


def test_git_prefixes_stripped_unless_the_repository_has_such_a_directory(tmp_path):
    assert strip_git_prefix("a/src/x.py", tmp_path) == "src/x.py"
    assert strip_git_prefix("b/src/x.py", tmp_path) == "src/x.py"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "only_here.py").write_text("")
    assert strip_git_prefix("a/only_here.py", tmp_path) == "a/only_here.py"
    assert strip_git_prefix("src/x.py", tmp_path) == "src/x.py"


def test_all_added_hunk_for_a_missing_file_creates_it(repo):
    (ch,) = plan_patch(
        fenced("--- a/pkg/fresh.py\n+++ b/pkg/fresh.py\n@@ -0,0 +1,3 @@\n+def f():\n\n+    return 1\n"), repo
    )
    assert ch == FileChange("pkg/fresh.py", None, b"def f():\n\n    return 1\n")


def test_repeated_diff_applies_once_and_repeated_hunk_is_merged(repo):
    d = "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n A = 1\n-B = 2\n+B = 20\n"
    assert plan_patch(fenced(d, d), repo) == [FileChange("pkg/a.py", "pkg/a.py", b"A = 1\nB = 20\nC = 3\n")]
    d2 = "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n-C = 3\n+C = 30\n"
    (ch,) = plan_patch(fenced(d, d2, d), repo)
    assert ch.new_content == b"A = 1\nB = 20\nC = 30\n"


def test_already_applied_change_is_named(repo):
    with pytest.raises(PatchError) as ei:
        plan_patch(fenced("--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ @@\n-A = 0\n+A = 1\n B = 2\n"), repo)
    assert "already in the file" in ei.value.reason


def test_wrong_old_path_with_right_new_path_is_a_modification(repo):
    (ch,) = plan_patch(fenced("--- a/a.py\n+++ b/pkg/a.py\n@@ @@\n-A = 1\n+A = 5\n"), repo)
    assert ch == FileChange("pkg/a.py", "pkg/a.py", b"A = 5\nB = 2\nC = 3\n")
