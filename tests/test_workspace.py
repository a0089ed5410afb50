from __future__ import annotations

import os

import pytest
from conftest import make_repo, snapshot

from tieragent.core.errors import EnvironmentProblem
from tieragent.repo.journal import recover
from tieragent.repo.workspace import GitWorkspace


@pytest.fixture
def ws(tmp_path):
    root = make_repo(
        tmp_path / "r",
        {
            "a.txt": "alpha\n",
            "bin/run.sh": "#!/bin/sh\necho hi\n",
            ".gitignore": "build/\n",
            "build/out.txt": "x\n",
            ".env": "K=v\n",
        },
    )
    os.chmod(root / "bin/run.sh", 0o755)
    return GitWorkspace.open(root / "bin")


def test_open_finds_the_root_from_anywhere_git_can_and_says_why_where_it_cannot(ws, tmp_path):
    """The quick way (git names the top level) and the careful one (GitPython, for the error) agree."""
    assert GitWorkspace.open(ws.root / ".git" / "refs").root == ws.root  # inside .git: not a work tree to git
    for where in (tmp_path / "missing", tmp_path):
        with pytest.raises(EnvironmentProblem, match="not inside a git repository"):
            GitWorkspace.open(where)


def test_open_finds_root_and_state_is_under_git(ws):
    assert ws.root.name == "r"
    assert ws.state_dir == ws.root / ".git" / "tieragent"


def test_list_files_and_shareable(ws):
    (ws.root / "new.txt").write_text("untracked\n")
    files = ws.list_files()
    assert "new.txt" in files and "a.txt" in files and "build/out.txt" not in files
    ok, refused = ws.shareable(["a.txt", ".env", "build/out.txt"])
    assert ok == ["a.txt"]
    assert refused == {".env": "looks like a secret", "build/out.txt": "ignored by git"}


def test_journal_restores_bytes_modes_new_files_and_dirs(ws):
    before = snapshot(ws.root)
    j = ws.journal()
    j.write("a.txt", b"changed\r\n")
    j.write("bin/run.sh", b"#!/bin/sh\necho bye\n")
    j.write("deep/new/dir/file.py", b"x = 1\n")
    j.delete(".gitignore")
    assert (ws.root / "deep/new/dir/file.py").exists()
    assert os.stat(ws.root / "bin/run.sh").st_mode & 0o777 == 0o755  # mode kept on write
    j.restore()
    assert snapshot(ws.root) == before
    assert not (ws.root / "deep").exists()
    assert os.stat(ws.root / "bin/run.sh").st_mode & 0o777 == 0o755
    assert not list((ws.state_dir / "journal").glob("*-*"))


def test_rewind_keeps_journal_open(ws):
    j = ws.journal()
    j.write("a.txt", b"one\n")
    j.rewind()
    assert (ws.root / "a.txt").read_text() == "alpha\n"
    j.write("a.txt", b"two\n")
    j.close()  # success: keep the change
    assert (ws.root / "a.txt").read_text() == "two\n"


def test_second_journal_is_refused_while_first_is_open(ws):
    j = ws.journal()
    with pytest.raises(EnvironmentProblem, match="another tieragent run"):
        ws.journal()
    j.close()
    ws.journal().close()


def _abandon(journal, pid=999999):
    """Simulate kill -9: the process is gone, its journal and edits remain."""
    import json

    m = json.loads((journal.dir / "manifest.json").read_text())
    m["pid"] = pid
    (journal.dir / "manifest.json").write_text(json.dumps(m))
    os.close(journal._lock_fd)
    journal._lock_fd = None


def test_stale_journal_blocks_and_recover_restores(ws):
    before = snapshot(ws.root)
    j = ws.journal()
    j.write("a.txt", b"half-done\n")
    j.write("created.txt", b"new\n")
    _abandon(j)
    with pytest.raises(EnvironmentProblem, match="tieragent recover"):
        ws.journal()
    report = recover(ws.root, ws.state_dir)
    assert sorted(report.restored) == ["a.txt", "created.txt"]
    assert snapshot(ws.root) == before
    ws.journal().close()  # unblocked


def test_recover_leaves_files_the_user_changed_since(ws):
    j = ws.journal()
    j.write("a.txt", b"tieragent wrote this\n")
    _abandon(j)
    (ws.root / "a.txt").write_text("the user edited after the crash\n")
    report = recover(ws.root, ws.state_dir)
    assert "a.txt" in report.kept
    assert (ws.root / "a.txt").read_text() == "the user edited after the crash\n"
    assert (ws.state_dir / "recovered" / "a.txt").read_text() == "alpha\n"


def test_dirty_paths(ws):
    (ws.root / "a.txt").write_text("edited\n")
    (ws.root / "u.txt").write_text("new\n")
    assert {"a.txt", "u.txt"} <= ws.dirty_paths()
