"""Hostile and odd repositories and input: each gets a clear message and a defined exit code, or a
defined behaviour, and never a lost change. In-process, with real git and real test runs: pytest where the
repository's oddity reaches the test runner (no commit yet, a path with spaces, a submodule, a moved
module), the calc repository's quick command where it does not (flowkit's `quick()`)."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import CALC_FILES, CLASSIFY_OPS, GOOD_PATCH, git, make_repo, snapshot
from flowkit import fix, outcomes, quick, rows, scripted, sent

from tieragent.core.errors import ExitCode


def good():
    return scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})


def test_a_repository_with_no_commits_yet(tmp_path):
    repo = make_repo(tmp_path / "fresh", CALC_FILES, commit=False)
    result = fix(repo, good())
    assert result.status == "fixed" and "return a + b" in (repo / "calc/ops.py").read_text()


def test_a_detached_head(calc_repo):
    git(calc_repo, "checkout", "-q", "--detach")
    assert fix(calc_repo, good(), **quick()).status == "fixed"


@pytest.mark.parametrize("operation", ["merge", "rebase"])
def test_a_merge_or_rebase_in_progress_is_refused_before_any_call(calc_repo, operation):
    git(calc_repo, "checkout", "-q", "-b", "other")
    (calc_repo / "calc/ops.py").write_text((calc_repo / "calc/ops.py").read_text() + "# other\n")
    git(calc_repo, "commit", "-qam", "other")
    git(calc_repo, "checkout", "-q", "-")
    (calc_repo / "calc/ops.py").write_text((calc_repo / "calc/ops.py").read_text() + "# main\n")
    git(calc_repo, "commit", "-qam", "main")
    subprocess.run(["git", operation, "other"], cwd=calc_repo, capture_output=True)  # conflicts, and stops half-way
    before = snapshot(calc_repo)
    provider = good()
    result = fix(calc_repo, provider)
    assert result.exit_code == ExitCode.USAGE and "in progress" in result.error
    assert provider.requests == [] and snapshot(calc_repo) == before


def test_a_path_with_spaces_and_non_ascii_characters(tmp_path):
    repo = make_repo(tmp_path / "mes projets" / "café ü", CALC_FILES)
    assert fix(repo, good()).status == "fixed"


def test_a_read_only_file_is_not_patched(calc_repo):
    ops = calc_repo / "calc/ops.py"
    ops.chmod(0o444)
    before = snapshot(calc_repo)
    provider = good()
    result = fix(calc_repo, provider, **quick())
    assert result.status == "failed" and snapshot(calc_repo) == before
    assert "read-only" in next(r for r in result.ledger.rows if r.step == "patch").note
    assert all(o == "apply-failed" for _, o in outcomes(result, "patch")[:2])
    assert "read-only" in sent(provider, "patch", 1)  # the refusal reached the model
    assert "whole-file fallback" not in [r.note for r in result.ledger.rows]  # nor is the whole file asked for
    assert oct(ops.stat().st_mode & 0o777) == "0o444"


def test_a_file_inside_a_submodule_is_not_patched(tmp_path):
    lib = make_repo(tmp_path / "lib", {"calc/ops.py": CALC_FILES["calc/ops.py"], "calc/__init__.py": ""})
    repo = make_repo(
        tmp_path / "app",
        {
            "tests/test_ops.py": CALC_FILES["tests/test_ops.py"],
            "conftest.py": "import sys, os\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), 'vendor'))\n",
        },
    )
    subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    git(repo, "commit", "-qm", "submodule")
    patch = GOOD_PATCH.replace("calc/ops.py", "vendor/calc/ops.py")
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS.replace("calc/ops.py", "vendor/calc/ops.py")],
            ("patch", "mid"): [patch],
            ("patch", "frontier"): [patch],
        }
    )
    before = snapshot(repo)
    result = fix(repo, provider)
    assert result.status == "failed" and snapshot(repo) == before
    assert "inside the submodule vendor" in next(r for r in result.ledger.rows if r.step == "patch").note


def test_an_enormous_request_is_cut_with_a_warning(calc_repo):
    provider = good()
    request = "add() returns the wrong result. " + "Here is a log line that goes on. " * 40_000  # about 1.3 MB
    result = fix(calc_repo, provider, request, **quick())
    assert result.status == "fixed"
    assert any("only its first and last" in w for w in result.warnings)
    assert max(len(r.prompt_text()) for r in provider.requests) < 200_000


def test_a_request_in_another_language(calc_repo):
    provider = good()
    result = fix(
        calc_repo, provider, "la función add() devuelve un resultado incorrecto — 加法函数返回错误的结果", **quick()
    )
    assert result.status == "fixed" and "加法函数" in provider.requests[0].prompt_text()


def test_binary_and_non_utf8_picks_are_never_sent(calc_repo):
    (calc_repo / "data.bin").write_bytes(b"\x00\x01\x02 binary \xff")
    (calc_repo / "legacy.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "odd files")
    picks = '{"task_class": "local", "risk": "low", "files": ["data.bin", "legacy.txt", "calc/ops.py"], "reason": "x"}'
    provider = scripted({("classify", "small"): [picks], ("patch", "mid"): [GOOD_PATCH]})
    result = fix(calc_repo, provider, **quick())
    assert result.status == "fixed"
    patch_prompt = sent(provider, "patch", 0)
    assert "### data.bin" not in patch_prompt and "### legacy.txt" not in patch_prompt and "\ufffd" not in patch_prompt
    assert any("data.bin (binary)" in w for w in result.warnings) and any(
        "legacy.txt (not UTF-8 text)" in w for w in result.warnings
    )


def test_a_crlf_file_keeps_its_line_endings(tmp_path):
    files = {k: v.replace("\n", "\r\n") if k == "calc/ops.py" else v for k, v in CALC_FILES.items()}
    repo = make_repo(tmp_path / "crlf", files)
    assert fix(repo, good(), **quick()).status == "fixed"
    data = (repo / "calc/ops.py").read_bytes()
    assert b"return a + b\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_a_diff_that_targets_a_symlink_is_refused(calc_repo):
    os.symlink("ops.py", calc_repo / "calc/link.py")
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "link")
    through_link = GOOD_PATCH.replace("calc/ops.py", "calc/link.py")
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [through_link, GOOD_PATCH]})
    result = fix(calc_repo, provider, **quick())
    assert outcomes(result) == [("mid", "apply-failed"), ("mid", "ok")]
    assert "symbolic link" in sent(provider, "patch", 1)
    assert os.path.islink(calc_repo / "calc/link.py")


def test_a_rename_across_directories(calc_repo):
    rename = """```diff
diff --git a/calc/ops.py b/arith/ops.py
similarity index 80%
rename from calc/ops.py
rename to arith/ops.py
--- a/calc/ops.py
+++ b/arith/ops.py
@@ -1,3 +1,3 @@
 def add(a, b):
     \"\"\"Sum of a and b.\"\"\"
-    return a - b
+    return a + b
```
```diff
--- a/tests/test_ops.py
+++ b/tests/test_ops.py
@@ -1,1 +1,1 @@
-from calc.ops import add, sub
+from arith.ops import add, sub
```
```diff
--- /dev/null
+++ b/arith/__init__.py
@@ -0,0 +1 @@
+
```"""
    accept = '{"verdict": "accept", "reason": "a move"}'  # moving a module is high-risk (a deleted file): reviewed
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [rename], ("review", "frontier"): [accept]}
    )
    result = fix(calc_repo, provider, allow_test_edits=True)
    assert result.status == "fixed", rows(result)
    assert (calc_repo / "arith/ops.py").is_file() and not (calc_repo / "calc/ops.py").exists()


def test_a_second_run_refuses_with_the_first_runs_pid(calc_repo):
    from tieragent.repo.workspace import GitWorkspace

    holder = GitWorkspace.open(calc_repo).journal()  # as a run in progress holds it
    try:
        provider = good()
        result = fix(calc_repo, provider, **quick())
        assert result.exit_code == ExitCode.USAGE and f"pid {os.getpid()}" in result.error
        assert provider.requests == []
    finally:
        holder.close()
    assert fix(calc_repo, good(), **quick()).status == "fixed"  # and once it is done, the next run goes ahead
