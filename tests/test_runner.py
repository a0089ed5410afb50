from __future__ import annotations

import sys
import time

from conftest import process_running

from tieragent.repo.runner import SubprocessRunner


def test_output_and_exit_code(tmp_path):
    r = SubprocessRunner().run(
        f"{sys.executable} -c \"import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)\"", tmp_path, 30
    )
    assert r.exit_code == 3 and not r.ok and "out" in r.output and "err" in r.output


def test_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    # the shell starts a grandchild in the background that writes its pid, then sleeps
    grandchild = f"import os,pathlib,time; pathlib.Path(r'{pidfile}').write_text(str(os.getpid())); time.sleep(60)"
    cmd = f'{sys.executable} -c "{grandchild}" & sleep 60'
    started = time.monotonic()
    r = SubprocessRunner().run(cmd, tmp_path, 1.0)
    assert r.timed_out and r.exit_code is None and time.monotonic() - started < 10
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while process_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_running(pid), "the grandchild outlived the timeout"


def test_no_bytecode_or_pytest_cache_in_tree(tmp_path):
    (tmp_path / "mod.py").write_text("X = 1\n")
    (tmp_path / "test_mod.py").write_text("import mod\n\ndef test_x():\n    assert mod.X == 1\n")
    # this environment's plugins (hypothesis, xdist) would only triple the run's time
    runner = SubprocessRunner().with_env({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    r = runner.run(f"{sys.executable} -m pytest -q", tmp_path, 60)
    assert r.ok, r.output
    assert not (tmp_path / "__pycache__").exists() and not (tmp_path / ".pytest_cache").exists()
