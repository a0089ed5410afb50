"""Crash and race windows of the journal: a kill -9 at any point never loses an original, `recover`
and `doctor` never touch the journal of a run that is still going, and restoring twice is harmless."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import CLASSIFY_OPS, GOOD_PATCH, cli_env, git, process_running, snapshot, write_config

from tieragent.core.errors import ExitCode
from tieragent.repo import journal
from tieragent.repo.journal import RunInProgress, journal_lock, recover
from tieragent.repo.workspace import GitWorkspace

ORIGINAL = b'def add(a, b):\n    """Sum of a and b."""\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n'

# A process that starts a journal, writes `calc/ops.py` through it and stops right after the bytes
# reach the file (before the call returns), touching MARKER, to be killed there.
KILLED_AFTER_THE_WRITE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import tieragent.repo.journal as journal
    from tieragent.repo.workspace import GitWorkspace

    repo, marker, writes = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    real_write = journal._atomic_write
    done = []

    def write_then_wait(path, data, mode):
        real_write(path, data, mode)
        done.append(data)
        if len(done) == len(writes):
            marker.write_text("written")
            time.sleep(120)

    journal._atomic_write = write_then_wait
    j = GitWorkspace.open(repo).journal()
    for text in writes:
        j.write("calc/ops.py", text.encode())
""")


def wait_until(condition, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)


def _kill_after_writes(repo: Path, tmp_path: Path, *writes: str) -> None:
    marker = tmp_path / "written"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_AFTER_THE_WRITE, str(repo), str(marker), *writes],
        env=cli_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_until(marker.exists, proc, timeout=60)
    assert marker.exists(), proc.communicate()[1]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("writes", [["half-done\n"], ["first\n", "second\n"]], ids=["one write", "a second write"])
def test_kill_9_right_after_a_write_then_recover_restores_the_original(calc_repo, tmp_path, writes, cli):
    before = snapshot(calc_repo)
    _kill_after_writes(calc_repo, tmp_path, *writes)
    assert (calc_repo / "calc/ops.py").read_text() == writes[-1]  # left half-done by kill -9
    rec = cli(["recover"], calc_repo)  # in-process: the killed run was the other process
    assert rec.returncode == 0 and "restored calc/ops.py" in rec.stdout, rec.stdout + rec.stderr
    assert snapshot(calc_repo) == before
    assert not list((calc_repo / ".git/tieragent/journal").glob("*-*"))


def _journal_state(ws: GitWorkspace, written: list[str], current: bytes | None) -> None:
    """The state a run killed at some point leaves: its manifest (with what it recorded it wrote or was
    about to write) and `calc/ops.py` holding `current` (None: deleted)."""
    j = ws.journal()
    j.remember("calc/ops.py")
    j.originals["calc/ops.py"].written = written
    j.write("other.txt", b"x")  # a second file, done for real
    j._save()
    p = ws.root / "calc/ops.py"
    if current is None:
        p.unlink()
    else:
        p.write_bytes(current)
    m = json.loads((j.dir / "manifest.json").read_text())
    (j.dir / "manifest.json").write_text(json.dumps({**m, "pid": 999999999}))
    os.close(j._lock_fd)  # a killed run holds no lock
    j._lock_fd = None


def _sha(b: bytes) -> str:
    import hashlib

    return hashlib.sha256(b).hexdigest()


@pytest.mark.parametrize(
    "written, current, restored, kept",
    [
        ([_sha(b"intended\n")], ORIGINAL, False, False),  # killed after recording, before writing: done
        ([_sha(b"intended\n")], b"intended\n", True, False),  # killed after writing: restore
        (
            [_sha(b"first\n"), _sha(b"intended\n")],
            b"first\n",
            True,
            False,
        ),  # killed before the second write: still ours
        (["deleted"], None, True, False),  # killed after deleting
        ([_sha(b"intended\n")], b"the user's edit since\n", False, True),  # changed since: kept, original saved
    ],
    ids=["recorded only", "written", "an earlier write", "deleted", "changed since"],
)
def test_recover_judges_each_file_by_its_content(calc_repo, written, current, restored, kept):
    ws = GitWorkspace.open(calc_repo)
    _journal_state(ws, written, current)
    report = recover(calc_repo, ws.state_dir)
    assert ("calc/ops.py" in report.restored) is restored and ("calc/ops.py" in report.kept) is kept
    assert "other.txt" in report.restored and not (calc_repo / "other.txt").exists()
    now = (calc_repo / "calc/ops.py").read_bytes()
    assert now == (current if kept else ORIGINAL)
    if kept:
        assert (ws.state_dir / "recovered/calc/ops.py").read_bytes() == ORIGINAL
    assert not list((ws.state_dir / "journal").glob("*-*"))


def test_restore_twice_or_after_close_is_harmless(calc_repo):
    ws = GitWorkspace.open(calc_repo)
    j = ws.journal()
    j.write("calc/ops.py", b"patched\n")
    j.restore()
    j.restore()
    assert (calc_repo / "calc/ops.py").read_bytes() == ORIGINAL
    k = ws.journal()
    k.write("calc/ops.py", b"accepted\n")
    k.close()
    k.restore()  # e.g. an error after the accepted patch was kept: the kept patch stays
    k.close()
    assert (calc_repo / "calc/ops.py").read_bytes() == b"accepted\n"
    ws.journal().close()  # the lock was released once, and nothing is left to recover


def _paused_test_command(tmp_path: Path) -> tuple[str, Path, Path]:
    """A test command whose first run (the baseline) says it started and waits for GO, then runs pytest."""
    started, go = tmp_path / "baseline-started", tmp_path / "go"
    script = tmp_path / "paused_tests.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, pathlib, subprocess, sys, time
        started, go = pathlib.Path({str(started)!r}), pathlib.Path({str(go)!r})
        if not started.exists():
            started.write_text(str(os.getpid()))
            deadline = time.time() + 90
            while not go.exists() and time.time() < deadline:
                time.sleep(0.05)
        sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-x"]))
    """)
    )
    return f'"{sys.executable}" "{script}"', started, go


def test_recover_and_doctor_leave_a_live_runs_journal_alone(calc_repo, fake_server, tmp_path, cli):
    command, started, go = _paused_test_command(tmp_path)
    write_config(calc_repo, fake_server, extra={"validate": {"test": command}})
    git(calc_repo, "add", ".tieragent.yaml")
    git(calc_repo, "commit", "-qm", "config")
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    run = subprocess.Popen(
        [sys.executable, "-m", "tieragent", "fix", "add is wrong", "--json", "--exit-code-only"],
        cwd=calc_repo,
        env=cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(started.exists, run, timeout=90)
        assert started.exists(), run.communicate()[1]
        journals = calc_repo / ".git/tieragent/journal"
        live = sorted(journals.glob("*-*"))
        assert [d.name.split("-")[0] for d in live] == [str(run.pid)]  # the run's journal, no file touched yet

        rec = cli(["recover"], calc_repo)  # in-process: the live run is the other process
        assert rec.returncode == ExitCode.USAGE
        assert f"a run (pid {run.pid}) is in progress" in rec.stderr and "Traceback" not in rec.stderr
        doc = cli(["doctor", "--json", "--no-baseline"], calc_repo)
        check = {c["name"]: c for c in json.loads(doc.stdout)["checks"]}["recovery journal"]
        assert check["status"] == "warn" and f"a run (pid {run.pid}) is in progress" in check["detail"]
        assert doc.returncode == 0, doc.stdout
        assert sorted(journals.glob("*-*")) == live and (live[0] / "manifest.json").is_file()
    finally:
        go.write_text("go")
    out, err = run.communicate(timeout=180)
    assert run.returncode == ExitCode.FIXED, err
    assert json.loads(out)["status"] == "fixed" and "return a + b" in (calc_repo / "calc/ops.py").read_text()


def _killed_run(script: str, *args: str) -> list[int]:
    """Run `script` (which prints its helpers' pids on one line, then kills itself with SIGKILL); the pids."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]  # not communicate(): live helpers hold the pipe
    proc.stdout.close()
    assert proc.wait(timeout=60) == -signal.SIGKILL
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_forked_helper_does_not_hold_a_killed_runs_lock(tmp_path):
    """A run's forked helpers (the repository map's parser processes) get a copy of every descriptor. The
    lock's copy is dropped in them, so after `kill -9` of the run alone (the OOM killer, say), `recover` takes
    the lock while a helper is still alive."""
    journals = tmp_path / "journal"
    helpers = _killed_run(
        """
        import multiprocessing, os, signal, sys, time
        from pathlib import Path
        from tieragent.repo.journal import journal_lock
        with journal_lock(Path(sys.argv[1])):
            helper = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
            helper.start()
            print(helper.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        str(journals),
    )
    try:
        assert process_running(helpers[0])  # the helper outlived the run...
        with journal_lock(journals):  # ...and holds no lock of its
            pass
    finally:
        os.kill(helpers[0], signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_parser_processes_end_with_a_killed_run(tmp_path):
    """Killed alone, a run's parser processes would wait forever, holding its output pipes open (a CI step
    reading them would hang): they end with it."""
    helpers = _killed_run(
        """
        import os, signal
        from tieragent.repo.map.mapper import _process_pool
        pool = _process_pool(2)
        assert list(pool.map(abs, [-1, -2, -3, -4])) == [1, 2, 3, 4]
        print(*pool._processes, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    try:
        deadline = time.monotonic() + 10
        while any(process_running(p) for p in helpers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert helpers and not any(process_running(p) for p in helpers)
    finally:
        for pid in helpers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc")
@pytest.mark.parametrize("child_s", ["0.3", "60"])
def test_a_lock_left_by_a_killed_runs_child_is_waited_for_then_named(tmp_path, monkeypatch, child_s):
    """Killed with its process group, a run may leave a child that holds the lock's descriptor a moment
    longer (it was being started). The lock is asked for again while its run's pid is gone: a child that
    ends soon frees it; one that does not is named as what holds it, not as a run in progress."""
    journals = tmp_path / "journal"
    (child,) = _killed_run(
        """
        import os, signal, subprocess, sys
        from pathlib import Path
        from tieragent.repo.journal import journal_lock
        lock = (Path(sys.argv[1]) / "lock").resolve()
        with journal_lock(Path(sys.argv[1])):
            fds = [int(f) for f in os.listdir("/proc/self/fd")]
            fd = next(f for f in fds if os.path.realpath(f"/proc/self/fd/{f}") == str(lock))
            child = subprocess.Popen(["sleep", sys.argv[2]], pass_fds=[fd])
            print(child.pid, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        str(journals),
        child_s,
    )
    try:
        if child_s == "60":
            monkeypatch.setattr(journal, "ORPHAN_WAIT_S", 0.5)  # what is waited for does not matter here
            with pytest.raises(RunInProgress) as busy:
                journal_lock(journals).__enter__()
            assert "has ended, but a process it started still holds it" in busy.value.message
            assert "fuser" in busy.value.hint
        else:
            with journal_lock(journals):
                assert not process_running(child)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
