from __future__ import annotations

import sys
import time

from tieragent.repo.runner import SubprocessRunner


def test_output_and_exit_code(tmp_path):
    r = SubprocessRunner().run(f"{sys.executable} -c \"import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)\"", tmp_path, 30)
    assert r.exit_code == 3 and not r.ok and "out" in r.output and "err" in r.output


def test_timeout_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "child-alive"
    # the shell starts a grandchild that would touch the marker after 3 s if it survived
    cmd = f"{sys.executable} -c \"import time,pathlib; time.sleep(3); pathlib.Path(r'{marker}').write_text('x')\" & sleep 30"
    started = time.monotonic()
    r = SubprocessRunner().run(cmd, tmp_path, 0.5)
    assert r.timed_out and r.exit_code is None and time.monotonic() - started < 10
    time.sleep(3.5)
    assert not marker.exists()


def test_no_bytecode_or_pytest_cache_in_tree(tmp_path):
    (tmp_path / "mod.py").write_text("X = 1\n")
    (tmp_path / "test_mod.py").write_text("import mod\n\ndef test_x():\n    assert mod.X == 1\n")
    r = SubprocessRunner().run(f"{sys.executable} -m pytest -q", tmp_path, 60)
    assert r.ok, r.output
    assert not (tmp_path / "__pycache__").exists() and not (tmp_path / ".pytest_cache").exists()
