"""Validation, routing, risk, the tamper guard, --repro and the ledger's history, end to end through the
CLI and the fake OpenAI-compatible server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import CLASSIFY_OPS, GOOD_PATCH, git, run_cli, snapshot, write_config
from fake_openai import Reply

BREAKS_SUB = GOOD_PATCH.rstrip().rstrip("`").rstrip() + """
@@ -5,2 +5,2 @@
 def sub(a, b):
-    return a - b
+    return a + b
```
"""
TOUCHES_ONLY_DOCSTRING = """```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,3 @@
 def add(a, b):
-    \"\"\"Sum of a and b.\"\"\"
+    \"\"\"Return the sum of a and b.\"\"\"
     return a - b
```"""
WITH_TODO = GOOD_PATCH.replace("+    return a + b", "+    return a + b  # TODO: overflow")
EDITS_TEST = """```diff
--- a/tests/test_ops.py
+++ b/tests/test_ops.py
@@ -4,2 +4,2 @@
 def test_add():
-    assert add(2, 3) == 5
+    assert add(2, 3) == -1
```"""
LINT_SCRIPT = """\
import pathlib, subprocess, sys
bad = 0
for path in subprocess.run(["git", "ls-files", "*.py"], capture_output=True, text=True).stdout.split():
    for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        if "TODO" in line:
            print(f"{path}:{n}:1: T100 TODO left in code")
            bad += 1
sys.exit(1 if bad else 0)
"""


def fix(repo: Path, *extra: str, request: str = "add() returns the wrong result") -> dict:
    proc = run_cli(["fix", request, "--json", *extra], repo)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"not JSON: {proc.stdout!r}\n{proc.stderr}") from None
    assert data["exit_code"] == proc.returncode
    return data


def outcomes(data: dict, step: str = "patch") -> list[tuple[str, str]]:
    return [(r["tier"], r["outcome"]) for r in data["steps"] if r["step"] == step]


def test_baseline_failure_must_be_fixed(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", TOUCHES_ONLY_DOCSTRING, GOOD_PATCH)
    data = fix(calc_repo)
    assert data["status"] == "fixed"
    assert data["baseline"]["tests"]["failing"] == ["tests.test_ops::test_add"]
    first = [r for r in data["steps"] if r["step"] == "patch"][0]
    assert first["outcome"] == "tests-failed" and "did not fix tests.test_ops::test_add" in first["note"]
    checks = data["validation"]["checks"]["tests"]
    assert checks["fixed"] == ["tests.test_ops::test_add"] and checks["new_failures"] == []
    assert checks["target_rule"] == "related to the request or the picked files"


def test_fixing_the_target_but_breaking_another_test_is_refused(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", BREAKS_SUB, GOOD_PATCH)
    data = fix(calc_repo)
    assert data["status"] == "fixed"
    first = [r for r in data["steps"] if r["step"] == "patch"][0]
    assert first["outcome"] == "tests-failed"
    assert "passed before now fail: tests.test_ops::test_sub" in first["note"]
    # the feedback sent with the retry names the broken test
    retry = [r for r in fake_server.requests if r.step == "patch"][1].text()
    assert "test_sub" in retry


def test_baseline_is_reused_while_the_tree_is_unchanged(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", "no diff")
    fake_server.enqueue("patch", "frontier", "no diff")
    first = fix(calc_repo)
    second = fix(calc_repo)
    assert first["status"] == second["status"] == "failed"
    assert first["baseline"]["reused"] is False and second["baseline"]["reused"] is True
    (calc_repo / "calc/ops.py").write_text((calc_repo / "calc/ops.py").read_text() + "\n# edited\n")
    assert fix(calc_repo)["baseline"]["reused"] is False


def test_lint_regression_in_changed_file_is_refused(calc_repo, fake_server):
    (calc_repo / "lint.py").write_text(LINT_SCRIPT)
    (calc_repo / "calc/__init__.py").write_text("# TODO: an old problem, not the patch's\n")
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "lint")
    write_config(calc_repo, fake_server, extra={"validate": {"lint": f'"{sys.executable}" lint.py'}})
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", WITH_TODO, GOOD_PATCH)
    data = fix(calc_repo)
    assert outcomes(data) == [("mid", "lint-failed"), ("mid", "ok")]
    first = [r for r in data["steps"] if r["step"] == "patch"][0]
    assert "new lint problem(s) in changed files: calc/ops.py: T100 TODO left in code" in first["note"]
    # the old problem elsewhere did not block the clean patch
    assert data["status"] == "fixed" and data["validation"]["checks"]["lint_ok"] is True


def test_high_risk_from_path_rule_overrides_small_model(calc_repo, fake_server):
    (calc_repo / "calc/auth.py").write_text("def check(token):\n    return token == 'x'\n")
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "auth")
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS.replace('["calc/ops.py"]', '["calc/ops.py", "calc/auth.py"]'))
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    data = fix(calc_repo)
    assert data["status"] == "fixed"
    assert data["classification"]["risk"] == "low"  # what the small model said, kept for the record
    assert data["routing"]["risk"] == "high" and data["routing"]["risk_rules"] == ["sensitive path: calc/auth.py"]
    assert data["routing"]["start"] == "frontier"
    assert outcomes(data) == [("frontier", "ok")]


def test_frontier_reviews_cheaper_high_risk_patch(calc_repo, fake_server):
    (calc_repo / "calc/auth.py").write_text("def check(token):\n    return token == 'x'\n")
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "auth")
    write_config(calc_repo, fake_server, extra={"routing": {"high_risk": "mid"}})
    fake_server.enqueue("classify", "small", CLASSIFY_OPS.replace('["calc/ops.py"]', '["calc/auth.py", "calc/ops.py"]'))
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    fake_server.enqueue(
        "review", "frontier",
        '{"verdict": "reject", "reason": "also log the change"}',
        '```json\n{"verdict": "accept", "reason": "minimal and correct"}\n```',
    )
    data = fix(calc_repo)
    assert data["status"] == "fixed"
    assert [(r["step"], r["tier"], r["outcome"]) for r in data["steps"][1:]] == [
        ("patch", "mid", "review-rejected"),
        ("review", "frontier", "ok"),
        ("patch", "mid", "ok"),
        ("review", "frontier", "ok"),
    ]
    retry = [r for r in fake_server.requests if r.step == "patch"][1].text()
    assert "also log the change" in retry


def test_tamper_attempt_in_json_mode_is_refused_and_flagged(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", EDITS_TEST)
    fake_server.enqueue("patch", "frontier", EDITS_TEST)
    data = fix(calc_repo)
    assert data["status"] == "failed" and data["exit_code"] == 1
    assert set(outcomes(data)) == {("mid", "test-edit-refused"), ("frontier", "test-edit-refused")}
    assert data["test_edits"][0] == {"path": "tests/test_ops.py", "reason": "edits a test file", "allowed": False, "decided_by": "not interactive"}
    assert snapshot(calc_repo) == before
    assert "must not be edited" in [r for r in fake_server.requests if r.step == "patch"][1].text()


def test_tamper_allowed_with_flag_is_still_flagged(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", EDITS_TEST)
    data = fix(calc_repo, "--allow-test-edits")
    assert data["status"] == "fixed"  # the weakened test now "passes": exactly why this needs a flag
    assert data["test_edits"][0]["allowed"] is True and data["test_edits"][0]["decided_by"] == "--allow-test-edits"


REPRO_FAILING = """```tests/test_tieragent_repro.py
from calc.ops import add


def test_add_small_numbers():
    assert add(1, 1) == 2
```"""
REPRO_PASSING = REPRO_FAILING.replace("add(1, 1) == 2", "add(1, 1) == 0")


def test_repro_that_passes_before_the_patch_is_discarded(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("repro", "mid", REPRO_PASSING)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    data = fix(calc_repo, "--repro")
    assert data["status"] == "fixed"
    repro_rows = [r for r in data["steps"] if r["step"] == "repro"]
    assert [r["outcome"] for r in repro_rows] == ["discarded", "discarded"]
    assert "passes on the current code" in repro_rows[0]["note"]
    assert data["repro"]["status"] == "discarded"
    assert not (calc_repo / "tests/test_tieragent_repro.py").exists()


def test_repro_must_pass_after_the_patch_and_is_removed(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("repro", "mid", REPRO_FAILING)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    data = fix(calc_repo, "--repro")
    assert data["status"] == "fixed", data
    assert [r["outcome"] for r in data["steps"] if r["step"] == "repro"] == ["ok"]
    assert data["repro"]["status"] == "reproduces"
    assert data["repro"]["tests"] == ["tests.test_tieragent_repro::test_add_small_numbers"]
    assert not (calc_repo / "tests/test_tieragent_repro.py").exists()
    assert "test_tieragent_repro" not in data["patch"]
    kept = fix(calc_repo, "--keep-repro")  # add() is fixed now, so the repro passes: discarded, nothing kept
    assert kept["repro"]["status"] == "discarded"


def test_long_failure_output_is_summarized_by_small_tier(calc_repo, fake_server):
    (calc_repo / "tests/test_many.py").write_text(
        "from calc.ops import add\n\n\n"
        + "\n\n".join(f"def test_case_{i}():\n    assert add({i}, 1) == {i + 1}, 'case {i} ' + 'x' * 300" for i in range(60))
        + "\n"
    )
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "many")
    write_config(calc_repo, fake_server, extra={"validate": {"test": f'"{sys.executable}" -m pytest -q'}})
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH.replace("a + b", "a * b"), GOOD_PATCH)
    fake_server.enqueue("summarize", "small", "test_add and 60 test_case_N fail: add multiplies instead of adding.")
    data = fix(calc_repo)
    assert data["status"] == "fixed"
    assert outcomes(data, "summarize") == [("small", "ok")]
    retry = [r for r in fake_server.requests if r.step == "patch"][1].text()
    assert "add multiplies instead of adding" in retry
    summarize_request = [r for r in fake_server.requests if r.step == "summarize"][0].text()
    assert "test_case_7" in summarize_request and "site-packages" not in summarize_request


def test_ledger_history_over_three_runs(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", Reply(CLASSIFY_OPS, prompt_tokens=1000, completion_tokens=100))
    fake_server.enqueue("patch", "mid", Reply("no diff", prompt_tokens=2000, completion_tokens=100))
    fake_server.enqueue("patch", "frontier", Reply("no diff", prompt_tokens=2000, completion_tokens=100))
    assert fix(calc_repo)["status"] == "failed"  # run 1: 2 mid + 2 frontier attempts, nothing validates
    fake_server.script.clear()
    fake_server.enqueue("classify", "small", Reply(CLASSIFY_OPS, prompt_tokens=1000, completion_tokens=100))
    fake_server.enqueue("patch", "mid", Reply(GOOD_PATCH, prompt_tokens=2000, completion_tokens=100))
    assert fix(calc_repo)["status"] == "fixed"  # run 2: mid fixes it
    git(calc_repo, "checkout", "--", "calc/ops.py")
    fake_server.script.clear()
    fake_server.enqueue("classify", "small", Reply(CLASSIFY_OPS.replace('"local"', '"mechanical"'), prompt_tokens=1000, completion_tokens=100))
    fake_server.enqueue("patch", "small", Reply(GOOD_PATCH, prompt_tokens=2000, completion_tokens=100))
    assert fix(calc_repo)["status"] == "fixed"  # run 3: mechanical starts (and ends) at small
    proc = run_cli(["ledger", "--json"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    h = json.loads(proc.stdout)
    assert h["runs"] == 3 and h["fixed"] == 2 and h["by_status"] == {"failed": 1, "fixed": 2}
    local = h["by_class"]["local"]
    assert (local["mid"]["attempts"], local["mid"]["validated"]) == (3, 1)
    assert (local["frontier"]["attempts"], local["frontier"]["validated"]) == (2, 0)
    assert (h["by_class"]["mechanical"]["small"]["attempts"], h["by_class"]["mechanical"]["small"]["validated"]) == (1, 1)
    small_in, small_out = 0.1, 0.4
    mid_in, mid_out, fr_in, fr_out = 3.0, 15.0, 15.0, 75.0
    expected = (
        3 * (1000 * small_in + 100 * small_out)  # classify x3
        + 3 * (2000 * mid_in + 100 * mid_out)  # mid patches
        + 2 * (2000 * fr_in + 100 * fr_out)  # frontier patches
        + 1 * (2000 * small_in + 100 * small_out)  # small patch
    ) / 1e6
    assert abs(h["cost_usd"] - expected) < 1e-6
    assert h["saved_usd"] > 0
    human = run_cli(["ledger"], calc_repo)
    assert "3 run(s)" in human.stdout and "saved" in human.stdout
    assert json.loads(run_cli(["ledger", "--json", "--since", "2999-01-01"], calc_repo).stdout)["runs"] == 0
    bad = run_cli(["ledger", "--since", "last tuesday"], calc_repo)
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_explain_routing_prints_the_decision(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH)
    proc = run_cli(["fix", "add() returns the wrong result", "--explain-routing"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    assert "Routing" in proc.stdout and "starts at mid (task class local)" in proc.stdout
    assert "planned attempts: mid #1 → mid #2 → frontier #1 → frontier #2" in proc.stdout


def _run_in_pty(args: list[str], cwd: Path, answer: bytes, prompt: bytes = b"[y/n]", timeout: float = 120) -> tuple[int, bytes]:
    """Run the CLI on a pseudo-terminal (so it is interactive), answer its prompts, return (exit code, everything shown)."""
    import os
    import pty
    import select
    import subprocess
    import time

    from conftest import cli_env

    master, slave = pty.openpty()
    env = cli_env(cwd.parent)
    env.pop("NO_COLOR", None)
    env["TERM"] = "dumb"
    proc = subprocess.Popen([sys.executable, "-m", "tieragent", *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen, answered, deadline = b"", 0, time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            while seen.count(prompt) > answered:  # answer every prompt the same way
                os.write(master, answer)
                answered += 1
        elif proc.poll() is not None:
            break
    try:
        proc.wait(timeout=60)  # the terminal can close a moment before the process exits
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"no exit; the terminal showed:\n{seen.decode(errors='replace')[-3000:]}") from None
    os.close(master)
    return proc.returncode, seen


def test_tamper_on_a_terminal_asks_and_respects_no(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    before = snapshot(calc_repo)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", EDITS_TEST)
    fake_server.enqueue("patch", "frontier", "no diff")
    code, shown = _run_in_pty(["fix", "add() returns the wrong result"], calc_repo, b"n\n")
    assert b"edits a test file" in shown and b"[y/n]" in shown
    assert b"assert add(2, 3) == -1" in shown  # the change was shown before asking
    assert code == 1
    assert snapshot(calc_repo) == before


def test_tamper_on_a_terminal_yes_accepts(calc_repo, fake_server):
    write_config(calc_repo, fake_server)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", EDITS_TEST)
    code, shown = _run_in_pty(["fix", "add() returns the wrong result"], calc_repo, b"y\n")
    assert code == 0, shown.decode(errors="replace")[-2000:]
    assert b"Test edit allowed" in shown
    assert "== -1" in (calc_repo / "tests/test_ops.py").read_text()
