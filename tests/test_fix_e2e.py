"""`tieragent fix` end to end: the CLI as a subprocess, real git, real pytest runs, and litellm's
real HTTP path against the fake OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    BAD_PATCH,
    CLASSIFY_OPS,
    FAKE_KEY,
    GOOD_PATCH,
    PRICES,
    cli_env,
    git,
    run_cli,
    snapshot,
    write_config,
)
from fake_openai import Reply


def slow_when_patched(marker: Path) -> str:
    """A test command that fails fast on the original code, and hangs once the patch is applied."""
    code = (
        "import pathlib,sys,time\n"
        "if 'a + b' not in pathlib.Path('calc/ops.py').read_text(): sys.exit(1)\n"
        f"pathlib.Path(r'{marker}').write_text('x'); time.sleep(60)\n"
    )
    script = marker.parent / "slow_test.py"
    script.write_text(code)
    return f'"{sys.executable}" "{script}"'


def spawn_fix(repo: Path, *args: str, **popen: object) -> subprocess.Popen:
    """`tieragent fix` running in the background, for tests that interrupt or kill it."""
    kw = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen([sys.executable, "-m", "tieragent", "fix", *args], cwd=repo, env=cli_env(repo.parent), **kw)


def wait_until(condition, proc: subprocess.Popen | None = None, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline and (proc is None or proc.poll() is None):
        time.sleep(0.1)


def fix_json(repo: Path, *extra: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    proc = run_cli(["fix", "add() returns the wrong result", "--json", *extra], repo, env=env)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"stdout is not one JSON object:\nstdout={proc.stdout!r}\nstderr={proc.stderr}")
    return proc, data


def test_mid_fixes_it_without_calling_frontier(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert data["status"] == "fixed"
    assert fake_server.calls() == [("classify", "small"), ("patch", "mid")]
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()
    assert [r["outcome"] for r in data["steps"]] == ["ok", "ok"]
    assert "+    return a + b" in data["patch"]
    # not committed unless --commit
    assert "calc/ops.py" in git(calc_repo, "status", "--porcelain")
    # the same key and headers on every request
    for r in fake_server.requests:
        assert r.headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_mid_fails_twice_then_frontier_fixes_it(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BAD_PATCH, "no diff here, sorry")
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert fake_server.calls() == [("classify", "small"), ("patch", "mid"), ("patch", "mid"), ("patch", "frontier")]
    assert [r["outcome"] for r in data["steps"]] == ["ok", "tests-failed", "format-error", "ok"]
    # the retry carried the failing test's output back to the model
    retry = fake_server.requests[2].text()
    assert "return a * b" in retry and "assert" in retry and "test_add" in retry
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()


def test_everything_fails_tree_identical_and_diff_saved(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    (calc_repo / "notes.txt").write_text("untracked notes\n")
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BAD_PATCH)
    fake_server.enqueue("patch", "frontier", BAD_PATCH)
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 1
    assert data["status"] == "failed"
    assert [r["tier"] for r in data["steps"] if r["step"] == "patch"] == ["mid", "mid", "frontier", "frontier"]
    assert snapshot(calc_repo) == before
    saved = Path(data["saved_diff"])
    assert saved.is_file() and "return a * b" in saved.read_text()
    assert ".git" in saved.parts  # never in the user's tree


def test_high_risk_goes_to_frontier_first(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS.replace('"low"', '"high"'))
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert fake_server.calls() == [("classify", "small"), ("patch", "frontier")]
    assert data["route"][0].startswith("frontier #1")


def test_dirty_tree_is_preserved_on_success_and_failure(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    ops = calc_repo / "calc/ops.py"
    ops.write_text("# my local note\n" + ops.read_text())  # uncommitted edit in the patched file
    (calc_repo / "calc/__init__.py").write_text("VERSION = '0.0.1-dev'\n")  # and in another file
    git(calc_repo, "add", "calc/__init__.py")  # staged
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc, _ = fix_json(calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert ops.read_text().startswith("# my local note\ndef add(a, b):")
    assert "return a + b" in ops.read_text()
    assert (calc_repo / "calc/__init__.py").read_text() == "VERSION = '0.0.1-dev'\n"
    assert "A  calc/__init__.py" in git(calc_repo, "status", "--porcelain") or "M  calc/__init__.py" in git(
        calc_repo, "status", "--porcelain"
    )

    # now a failing run on the same dirty tree leaves every byte as it was
    before = snapshot(calc_repo)
    fake_server.requests.clear()
    fake_server.script.clear()
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", "nothing useful")
    fake_server.enqueue("patch", "frontier", "still nothing")
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 1
    assert snapshot(calc_repo) == before


def test_commit_commits_only_the_patch(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    (calc_repo / "calc/__init__.py").write_text("X = 1\n")
    git(calc_repo, "add", "calc/__init__.py")  # the user's staged work must not ride along
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    fake_server.enqueue("commit-message", "small", "Fix add() to add\n\nIt subtracted.")
    proc, data = fix_json(calc_repo, "--commit")
    assert proc.returncode == 0, proc.stderr
    assert data["commit"]
    assert git(calc_repo, "log", "-1", "--format=%s").strip() == "Fix add() to add"
    assert git(calc_repo, "show", "--name-only", "--format=", "HEAD").split() == ["calc/ops.py"]
    assert "calc/__init__.py" in git(calc_repo, "diff", "--cached", "--name-only")
    assert fake_server.calls()[-1] == ("commit-message", "small")


def test_json_shape(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 0
    for key in ("status", "exit_code", "request", "classification", "steps", "totals", "patch", "validation"):
        assert key in data
    assert data["exit_code"] == 0
    assert data["request"] == "add() returns the wrong result"
    assert data["classification"]["task_class"] == "local"
    assert data["classification"]["files"] == ["calc/ops.py"]
    row = data["steps"][0]
    for key in ("step", "tier", "model", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd", "seconds", "outcome"):
        assert key in row
    assert set(data["totals"]) >= {"cost_usd", "by_tier", "frontier_only_estimate_usd"}
    assert set(data["totals"]["by_tier"]) == {"small", "mid", "frontier"}
    assert data["validation"]["ok"] is True
    assert data["validation"]["test"]["exit_code"] == 0
    # progress went to stderr, not stdout
    assert proc.stderr.strip()


def test_ledger_totals_equal_usage_times_prices(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", Reply(CLASSIFY_OPS, prompt_tokens=1200, completion_tokens=80, cached_tokens=200))
    fake_server.enqueue("patch", "mid", Reply(BAD_PATCH, prompt_tokens=3000, completion_tokens=400, cached_tokens=1000))
    fake_server.enqueue("patch", "mid", Reply("not a diff", prompt_tokens=3500, completion_tokens=10))
    fake_server.enqueue("patch", "frontier", Reply(GOOD_PATCH, prompt_tokens=4000, completion_tokens=300, cached_tokens=0))
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 0, proc.stderr

    def cost(tier, inp, out, cached):
        p = PRICES[tier]
        return ((inp - cached) * p["input_per_mtok"] + cached * p["cached_input_per_mtok"] + out * p["output_per_mtok"]) / 1e6

    expected = [cost("small", 1200, 80, 200), cost("mid", 3000, 400, 1000), cost("mid", 3500, 10, 0), cost("frontier", 4000, 300, 0)]
    got = [r["cost_usd"] for r in data["steps"]]
    assert got == pytest.approx(expected)
    assert data["totals"]["cost_usd"] == pytest.approx(sum(expected), abs=1e-6)
    assert data["totals"]["by_tier"]["mid"]["cost_usd"] == pytest.approx(expected[1] + expected[2], abs=1e-6)
    frontier_only = cost("frontier", 1200, 80, 200) + cost("frontier", 3000, 400, 1000) + cost("frontier", 3500, 10, 0) + expected[3]
    assert data["totals"]["frontier_only_estimate_usd"] == pytest.approx(frontier_only, abs=1e-6)
    # one JSON line per run under .git, and the user's .gitignore untouched
    history = (calc_repo / ".git/tieragent/ledger.jsonl").read_text().splitlines()
    assert len(history) == 1 and json.loads(history[0])["totals"]["cost_usd"] == pytest.approx(sum(expected), abs=1e-6)
    assert (calc_repo / ".gitignore").read_text() == "*.log\n"


def test_env_file_content_never_sent(calc_repo, fake_server):
    secret = "SUPERSECRET_VALUE_93f7c2"
    (calc_repo / ".env").write_text(f"DB_PASSWORD={secret}\n")
    (calc_repo / "config").mkdir()
    (calc_repo / "config/prod.pem").write_text(f"-----BEGIN KEY-----\n{secret}\n")
    write_config(calc_repo, fake_server)
    fake_server.enqueue(
        "classify", "small", '{"task_class": "local", "risk": "low", "files": [".env", "config/prod.pem", "calc/ops.py"], "reason": "x"}'
    )
    fake_server.enqueue("patch", "mid", BAD_PATCH)
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    env = cli_env(calc_repo.parent)
    env["DB_PASSWORD"] = secret  # and a test run that prints the environment can't leak it either
    (calc_repo / "tests/test_env_dump.py").write_text("import os\n\ndef test_dump():\n    print(dict(os.environ))\n    assert os.environ.get('NOPE')\n")
    proc, data = fix_json(calc_repo, env=env)
    assert len(fake_server.requests) >= 3
    for r in fake_server.requests:
        assert secret not in r.raw
        assert FAKE_KEY not in r.raw
    assert any(".env" in w for w in data["warnings"])


def test_streaming_path(calc_repo, fake_server):
    write_config(calc_repo, fake_server, stream=True)
    fake_server.enqueue("classify", "small", Reply(CLASSIFY_OPS, prompt_tokens=500, completion_tokens=50))
    fake_server.enqueue("patch", "mid", Reply(GOOD_PATCH, prompt_tokens=900, completion_tokens=120, cached_tokens=100))
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert all(r.body.get("stream") is True for r in fake_server.requests)
    assert data["steps"][1]["input_tokens"] == 900 and data["steps"][1]["cached_input_tokens"] == 100


def test_human_output_has_ledger_table(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BAD_PATCH)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc = run_cli(["fix", "add() returns the wrong result"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Fixed" in out and "Cost ledger" in out and "tests-failed" in out
    assert "Frontier-only estimate" in out
    assert "calc/ops.py" in out


def test_sigint_during_validation_restores_tree(calc_repo, fake_server, tmp_path):
    marker = tmp_path / "tests-started"
    slow_test = slow_when_patched(marker)
    write_config(calc_repo, fake_server, extra={"validate": {"test": slow_test}})
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc = spawn_fix(calc_repo, "add is wrong", "--json")
    wait_until(marker.exists, proc)
    assert marker.exists(), proc.communicate()[1]
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()  # the patch is applied while tests run
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    data = json.loads(out)  # --json still gets its one object
    assert data["status"] == "error" and data["exit_code"] == 130 and data["error"] == "interrupted"
    assert snapshot(calc_repo) == before
    assert not list((calc_repo / ".git/tieragent/journal").glob("*-*"))


def test_sigint_during_model_call_restores_tree(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BAD_PATCH)
    fake_server.enqueue("patch", "mid", Reply(GOOD_PATCH, delay_s=30))
    proc = spawn_fix(calc_repo, "add is wrong")
    wait_until(lambda: len(fake_server.requests) >= 3, proc)
    assert len(fake_server.requests) == 3
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupted" in err and "Cost ledger" in err  # what was spent before Ctrl-C, on stderr
    assert snapshot(calc_repo) == before


def test_kill_9_then_recover(calc_repo, fake_server, tmp_path):
    marker = tmp_path / "tests-started"
    slow_test = slow_when_patched(marker)
    write_config(calc_repo, fake_server, extra={"validate": {"test": slow_test}})
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc = spawn_fix(calc_repo, "add is wrong", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_until(marker.exists)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()  # left half-done by kill -9
    blocked = run_cli(["fix", "again", "--json"], calc_repo)
    assert blocked.returncode == 2 and "tieragent recover" in json.loads(blocked.stdout)["error"]
    rec = run_cli(["recover"], calc_repo)
    assert rec.returncode == 0 and "restored calc/ops.py" in rec.stdout
    assert snapshot(calc_repo) == before


def test_auth_error_exits_4_and_touches_nothing(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", Reply(status=401, error_body={"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}))
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 4
    assert data["status"] == "error" and "authentication" in data["error"]
    assert "FAKE_PROVIDER_KEY" in data["error"]
    assert len(fake_server.requests) == 1  # a 401 is never retried
    assert snapshot(calc_repo) == before


def test_unreachable_provider_exits_4(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    cfg = (calc_repo / ".tieragent.yaml").read_text().replace(fake_server.url, "http://127.0.0.1:9/v1")
    (calc_repo / ".tieragent.yaml").write_text(cfg)
    before = snapshot(calc_repo)
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 4, proc.stderr
    assert data["status"] == "error"
    assert snapshot(calc_repo) == before


def test_budget_stop_exits_3_with_tree_restored(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BAD_PATCH)
    # frontier's worst case (prompt + 4096 output tokens at $75/Mtok) is over $0.30 alone
    proc, data = fix_json(calc_repo, "--max-cost", "0.25")
    assert proc.returncode == 3, proc.stderr
    assert data["status"] == "budget_exceeded"
    assert ("patch", "frontier") not in fake_server.calls()
    assert snapshot(calc_repo) == before


def test_malformed_classification_twice_falls_back_to_heuristic(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", "I think this is easy!", '{"task_class": "weird"}')
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc, data = run_cli(["fix", "add() in calc/ops.py returns the wrong result", "--json"], calc_repo), None
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert data["classification"]["source"] == "heuristic"
    assert "calc/ops.py" in data["classification"]["files"]
    assert [r["outcome"] for r in data["steps"][:2]] == ["format-error", "format-error"]


WRONG_CONTEXT = """```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,3 @@
 def add(first, second):
-    return first - second
+    return first + second
```"""
WHOLE_FILE = '''```calc/ops.py
def add(a, b):
    """Sum of a and b."""
    return a + b


def sub(a, b):
    return a - b
```'''


def test_whole_file_fallback_after_two_failed_diffs(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", WRONG_CONTEXT, WRONG_CONTEXT, WHOLE_FILE)
    proc, data = fix_json(calc_repo)
    assert proc.returncode == 0, proc.stderr
    patches = [r for r in data["steps"] if r["step"] == "patch"]
    assert [(r["tier"], r["outcome"]) for r in patches] == [("mid", "apply-failed"), ("mid", "apply-failed"), ("mid", "ok")]
    assert patches[2]["note"] == "whole-file fallback"
    assert "calc/ops.py hunk 1" in patches[0]["note"]
    third = [r for r in fake_server.requests if r.step == "patch"][2].text()
    assert "do not write a diff" in third and "def add(a, b):" in third
    # the refusal told the model which line did not match, with the file's real lines
    second = [r for r in fake_server.requests if r.step == "patch"][1].text()
    assert "def add(first, second):" in second and "1 | def add(a, b):" in second
    assert (calc_repo / "calc/ops.py").read_text().count("return a + b") == 1
