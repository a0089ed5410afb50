"""End to end: the CLI as a subprocess, real git and pytest, and a real HTTP path (tieragent's own
client for the `openai/` tiers, and litellm's where a test says `provider.client: litellm`) against
the fake OpenAI-compatible server. Only what needs a real process lives here: the JSON envelope on
stdout, exit codes, headers and usage over HTTP, streaming, a 401, a refused connection, signals,
kill -9 with recover, and a real terminal. Behaviour is tested in-process (test_fix_flow.py,
test_validation_flow.py). Where the process is not the point, the CLI runs in-process (the `cli`
fixture): the litellm variants (they add litellm's HTTP path to what the auto variants show, and a
subprocess would pay litellm's import, seconds, once more), the commands after a kill -9, and the
review that needs no key."""

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
    CLASSIFY_OPS,
    EDITS_TEST,
    FAKE_KEY,
    GOOD_PATCH,
    cli_env,
    run_cli,
    snapshot,
    write_config,
)
from fake_openai import Reply
from ptykit import answer_every, on_a_terminal, terminal_env


def fix_json(repo: Path, *extra: str, env: dict | None = None, run=run_cli) -> tuple[subprocess.CompletedProcess, dict]:
    proc = run(["fix", "add() returns the wrong result", "--json", *extra], repo, env=env)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"stdout is not one JSON object:\nstdout={proc.stdout!r}\nstderr={proc.stderr}")
    assert data["exit_code"] == proc.returncode
    return proc, data


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
    kw = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen([sys.executable, "-m", "tieragent", "fix", *args], cwd=repo, env=cli_env(repo.parent), **kw)


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until(condition, proc: subprocess.Popen | None = None, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline and (proc is None or proc.poll() is None):
        time.sleep(0.1)


@pytest.mark.parametrize("client", ["auto", "litellm"])
def test_json_envelope_headers_and_key(calc_repo, fake_server, client, cli):
    write_config(calc_repo, fake_server, extra={"provider": {"client": client}})
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc, data = fix_json(calc_repo, run=run_cli if client == "auto" else cli)
    assert proc.returncode == 0, proc.stderr
    assert fake_server.calls() == [("classify", "small"), ("patch", "mid")]
    for key in (
        "status",
        "exit_code",
        "request",
        "run_id",
        "classification",
        "steps",
        "totals",
        "patch",
        "validation",
        "baseline",
        "routing",
        "route",
        "repro",
        "test_edits",
        "saved_diff",
        "commit",
        "warnings",
        "error",
    ):
        assert key in data
    assert data["status"] == "fixed" and data["request"] == "add() returns the wrong result"
    assert data["classification"]["files"] == ["calc/ops.py"] and "+    return a + b" in data["patch"]
    row = data["steps"][0]
    for key in (
        "step",
        "tier",
        "model",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "cost_usd",
        "seconds",
        "outcome",
        "note",
    ):
        assert key in row
    assert set(data["totals"]["by_tier"]) == {"small", "mid", "frontier"}
    assert data["validation"]["ok"] is True and data["validation"]["test"]["exit_code"] == 0
    assert proc.stderr.strip()  # progress went to stderr
    for r in fake_server.requests:  # the tier's key, and the step and tier headers, on every request
        assert r.headers["authorization"] == f"Bearer {FAKE_KEY}"
        assert (r.headers["x-tieragent-step"], r.headers["x-tieragent-tier"]) in (
            ("classify", "small"),
            ("patch", "mid"),
        )


@pytest.mark.parametrize("client", ["auto", "litellm"])
def test_401_exits_4_names_the_variable_and_touches_nothing(calc_repo, fake_server, client, cli):
    write_config(calc_repo, fake_server, extra={"provider": {"client": client}})
    before = snapshot(calc_repo)
    fake_server.enqueue(
        "classify",
        "small",
        Reply(status=401, error_body={"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}),
    )
    proc, data = fix_json(calc_repo, run=run_cli if client == "auto" else cli)
    assert proc.returncode == 4
    assert data["status"] == "error" and "authentication" in data["error"] and "FAKE_PROVIDER_KEY" in data["error"]
    assert FAKE_KEY not in proc.stdout + proc.stderr
    assert len(fake_server.requests) == 1  # a 401 is never retried
    assert [(r["step"], r["outcome"]) for r in data["steps"]] == [("classify", "provider-error")]
    assert snapshot(calc_repo) == before


def test_sigint_during_validation_restores_tree_and_prints_json(calc_repo, fake_server, tmp_path):
    marker = tmp_path / "tests-started"
    write_config(calc_repo, fake_server, extra={"validate": {"test": slow_when_patched(marker)}})
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    # --exit-code-only: the script gives no per-test results. SIGINT at its default action for the run: a suite
    # started as a shell's background job inherits SIGINT ignored, and Python keeps it ignored (as it should)
    proc = spawn_fix(calc_repo, "add is wrong", "--json", "--exit-code-only", preexec_fn=_sigint_default)
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


def test_kill_9_then_recover(calc_repo, fake_server, tmp_path, cli):
    marker = tmp_path / "tests-started"
    write_config(calc_repo, fake_server, extra={"validate": {"test": slow_when_patched(marker)}})
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc = spawn_fix(
        calc_repo,
        "add is wrong",
        "--exit-code-only",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(marker.exists)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()  # left half-done by kill -9
    # what comes after the kill runs in-process: the killed run was the other process
    blocked = cli(["fix", "again", "--json"], calc_repo)
    assert blocked.returncode == 2 and "tieragent recover" in json.loads(blocked.stdout)["error"]
    rec = cli(["recover"], calc_repo)
    assert rec.returncode == 0 and "restored calc/ops.py" in rec.stdout
    assert snapshot(calc_repo) == before


def test_tamper_on_a_terminal_asks_and_respects_no(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", EDITS_TEST)
    fake_server.enqueue("patch", "frontier", "no diff")
    respond = answer_every(b"[y/n]", b"n\n")
    code, shown = on_a_terminal(
        ["fix", "add() returns the wrong result"], calc_repo, terminal_env(calc_repo), respond=respond
    )
    assert b"edits a test file" in shown and b"[y/n]" in shown
    assert b"assert add(2, 3) == -1" in shown  # the change was shown before asking
    assert code == 1
    assert snapshot(calc_repo) == before


PAYMENTS = 'def refund(db, charge_id):\n    db.execute("DELETE FROM charges WHERE id = ?", (charge_id,))\n'
SQL_FINDING = json.dumps(
    {
        "findings": [
            {
                "path": "shop/payments.py",
                "line": 2,
                "severity": "high",
                "category": "security",
                "message": "SQL built by concatenation",
                "suggestion": "bind a parameter",
            }
        ]
    }
)


def shop_repo(root: Path, fake_server) -> Path:
    from conftest import git, make_repo

    repo = make_repo(root, {"shop/payments.py": PAYMENTS, "shop/util.py": "def f(x):\n    return x\n"})
    write_config(repo, fake_server)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")
    return repo


def test_review_of_a_piped_diff_prints_github_annotations(tmp_path, fake_server):
    repo = shop_repo(tmp_path / "shop", fake_server)
    (repo / "shop/payments.py").write_text(PAYMENTS.replace('= ?", (charge_id,))', '= " + charge_id)'))
    (repo / "shop/util.py").write_text("def f(x):\n    return  x\n")  # whitespace only
    fake_server.enqueue("review-triage", "small", "garbage")
    fake_server.enqueue("review", "frontier", SQL_FINDING)
    diff = subprocess.run(["git", "diff"], cwd=repo, capture_output=True, text=True, check=True).stdout
    proc = subprocess.run(
        [sys.executable, "-m", "tieragent", "review", "--diff", "-", "--format", "github"],
        cwd=repo,
        input=diff,
        capture_output=True,
        text=True,
        env=cli_env(repo.parent),
        timeout=180,
    )
    assert proc.returncode == 1, proc.stderr  # a high finding, --fail-on high
    assert proc.stdout.splitlines() == [
        "::error file=shop/payments.py,line=2,title=tieragent%3A security (high)::SQL built by "
        "concatenation%0A%0ASuggestion: bind a parameter"
    ]
    assert fake_server.calls() == [("review-triage", "small"), ("review", "frontier")]
    assert "return  x" not in "".join(r.raw for r in fake_server.requests)  # the whitespace hunk reached no model
    assert "Cost ledger" in proc.stderr and "Frontier-only estimate" in proc.stderr  # the ledger goes to stderr


def test_review_needs_no_key_for_a_tier_it_never_calls(tmp_path, fake_server, cli):
    repo = shop_repo(tmp_path / "shop", fake_server)
    (repo / "shop/util.py").write_text("def f(x):\n    return  x\n")  # whitespace only: no model at all
    env = cli_env(repo.parent)
    env.pop("FAKE_PROVIDER_KEY")
    proc = cli(["review"], repo, env=env)  # in-process: the key lookup is the point, not the process
    assert proc.returncode == 0, proc.stderr
    assert "whitespace only" in proc.stdout and fake_server.requests == []


def test_ci_mode_json_files_branch_and_one_line_messages(tmp_path, fake_server):
    """CI=true, the request on stdin, under a long path: one JSON document on stdout (also in --output),
    the diff in --patch-out, a commit on a new branch, no ANSI escapes, and each warning once, on one line."""
    from conftest import CALC_FILES, git, make_repo

    deep = tmp_path / ("a-rather-long-directory-name-" * 4) / "checkout"
    repo = make_repo(deep, CALC_FILES)
    write_config(repo, fake_server, stream=True)  # and through the streaming path
    import yaml

    cfg = yaml.safe_load((repo / ".tieragent.yaml").read_text())
    del cfg["tiers"]["small"]["price"]  # an unknown price: a warning, shown once
    (repo / ".tieragent.yaml").write_text(yaml.safe_dump(cfg))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    fake_server.enqueue("commit-message", "small", "Make add() add")
    env = {**cli_env(repo.parent), "CI": "true"}
    out_json, patch = tmp_path / "out/result.json", tmp_path / "out/fix.patch"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tieragent",
            "fix",
            "--request-file",
            "-",
            "--output",
            str(out_json),
            "--patch-out",
            str(patch),
            "--branch",
            "tieragent/add",
        ],
        cwd=repo,
        input="add() returns the wrong result\n\nSee the failing test_add.\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # stdout is exactly one JSON document
    assert data["status"] == "fixed" and data["request"].startswith("add() returns")
    assert json.loads(out_json.read_text()) == data
    assert "+    return a + b" in patch.read_text() and patch.read_text() == data["patch"]
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "tieragent/add"
    assert git(repo, "log", "-1", "--format=%s").strip() == "Make add() add"
    assert "\x1b[" not in proc.stdout + proc.stderr
    price_warnings = [line for line in proc.stderr.splitlines() if "no known price" in line]
    assert len(price_warnings) == 1 and "set tiers.small.price" in price_warnings[0]  # once, and not wrapped
    assert proc.stderr.rstrip().splitlines()[-1].startswith("tieragent fix: fixed (exit 0; cost $")
    assert all(r.body.get("stream") is True for r in fake_server.requests)
    assert all(s["input_tokens"] > 0 and not s["usage_estimated"] for s in data["steps"])  # usage read from the stream


@pytest.mark.parametrize("phase", ["baseline", "validation", "commit"])
def test_kill_9_at_each_phase_then_recover_puts_every_byte_back(calc_repo, tmp_path, phase):
    from tieragent.repo.journal import recover

    (calc_repo / "notes.txt").write_text("uncommitted work of mine\n")
    before = snapshot(calc_repo)
    marker = tmp_path / "reached"
    driver = Path(__file__).parent / "kill_driver.py"
    proc = subprocess.Popen(
        [sys.executable, str(driver), str(calc_repo), phase, str(marker)],
        env=cli_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_until(marker.exists, proc, timeout=60)
    assert marker.exists(), proc.communicate()[1]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if phase != "baseline":
        assert "return a + b" in (calc_repo / "calc/ops.py").read_text()  # left half-done by kill -9
    state = calc_repo / ".git/tieragent"
    report = recover(calc_repo, state)
    assert report.restored == ([] if phase == "baseline" else ["calc/ops.py"]) and not report.kept
    assert snapshot(calc_repo) == before
