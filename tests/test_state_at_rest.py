"""What tieragent keeps under .git/tieragent/ is the user's only (folders 0700, files 0600, whatever
the umask), and every file that holds test output, a model's text or a patch is masked like a prompt."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from conftest import BAD_PATCH, CLASSIFY_OPS, GOOD_PATCH, git
from flowkit import PYTEST, config, fix, quick, scripted

from tieragent.core.errors import ExitCode
from tieragent.core.private_files import append_private, private_dir, user_state_dir, write_private
from tieragent.core.trust import trust_file
from tieragent.flows.format_memory import memory_file
from tieragent.repo.workspace import GitWorkspace

KEY = "sk-proj-" + "Qz8" * 12  # a key's shape: masked wherever it appears


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(state: Path) -> dict[str, int]:
    """Every path under `state` (itself included) -> its permission bits."""
    out = {".": stat.S_IMODE(state.stat().st_mode)}
    for p in state.rglob("*"):
        out[str(p.relative_to(state))] = stat.S_IMODE(p.lstat().st_mode)
    return out


def assert_private(state: Path) -> None:
    wrong = {p: oct(m) for p, m in modes(state).items() if m != (0o700 if (state / p).is_dir() else 0o600)}
    assert not wrong, wrong


def test_a_failing_run_keeps_its_state_private(calc_repo, umask_022):
    script = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH], ("patch", "frontier"): [BAD_PATCH]}
    result = fix(calc_repo, scripted(script), **quick())
    assert result.exit_code == ExitCode.NOT_FIXED and result.saved_diff is not None
    state = calc_repo / ".git/tieragent"
    kept = set(modes(state))
    assert {
        "baseline.json",
        "ledger.jsonl",
        "journal",
        "journal/lock",
        "tmp",
        "tags",
        f"attempts/{result.run_id}.diff",
    } <= kept
    assert any(p.startswith("tags/tags-") for p in kept)  # the repository map's cache
    assert_private(state)


def test_a_passing_run_keeps_its_state_private_and_narrows_what_an_older_version_left_open(calc_repo, umask_022):
    state = calc_repo / ".git/tieragent"
    (state / "attempts").mkdir(parents=True)
    os.chmod(state, 0o755)
    (state / "ledger.jsonl").write_text('{"flow": "fix"}\n')
    os.chmod(state / "ledger.jsonl", 0o644)
    result = fix(
        calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}), **quick()
    )
    assert result.exit_code == ExitCode.FIXED
    assert len((state / "ledger.jsonl").read_text().splitlines()) == 2
    os.chmod(state / "attempts", 0o700)  # left by the "older version" above; tieragent never wrote in it
    assert_private(state)


def test_the_journal_is_private_while_a_run_edits(calc_repo, umask_022):
    ws = GitWorkspace.open(calc_repo)
    journal = ws.journal()
    journal.write("calc/ops.py", b"changed\n")
    journal.write("calc/new.py", b"new\n")
    state_modes = modes(ws.state_dir)
    blobs = [p for p in state_modes if "/blobs/" in p]
    assert blobs and any(p.endswith("manifest.json") for p in state_modes)
    assert_private(ws.state_dir)
    assert stat.S_IMODE((calc_repo / "calc/new.py").stat().st_mode) == 0o644  # the user's files keep the usual modes
    journal.restore()


def test_private_files_whatever_the_umask(tmp_path):
    old = os.umask(0o077 | 0o200)  # even a umask that takes the owner's write bit
    try:
        d = private_dir(tmp_path / "a" / "b")
        f = write_private(d / "f.json", "{}")
        g = append_private(d / "log", "one\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700 and stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE(f.stat().st_mode) == 0o600 and stat.S_IMODE(g.stat().st_mode) == 0o600
    assert f.read_text() == "{}" and not list(d.glob(".*.tmp"))


def test_user_state_follows_xdg_state_home_on_every_system(tmp_path, monkeypatch):
    """The trust record and the edit-format record live in $XDG_STATE_HOME/tieragent when that is set, even
    where platformdirs would not look there (macOS, Windows): a bench's per-policy state depends on it."""
    import platformdirs

    elsewhere = tmp_path / "Library" / "Application Support" / "tieragent"  # as platformdirs answers on macOS
    monkeypatch.setattr(platformdirs, "user_state_path", lambda appname: elsewhere)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert trust_file() == tmp_path / "xdg" / "tieragent" / "trusted-configs.json"
    assert memory_file() == tmp_path / "xdg" / "tieragent" / "edit-formats.json"
    assert memory_file(tmp_path / "policy") == tmp_path / "policy" / "tieragent" / "edit-formats.json"
    for unusable in ("", "relative/state"):  # the XDG rule: a relative path is ignored
        monkeypatch.setenv("XDG_STATE_HOME", unusable)
        assert user_state_dir() == elsewhere and trust_file().parent == elsewhere


def test_a_secret_a_failing_baseline_test_prints_is_not_kept(calc_repo):
    (calc_repo / "tests/test_ops.py").write_text(
        (calc_repo / "tests/test_ops.py")
        .read_text()
        .replace("assert add(2, 3) == 5", f'print("{KEY}")\n    assert add(2, 3) == 5, "{KEY}"')
    )
    git(calc_repo, "commit", "-qam", "a test that prints a key")
    result = fix(calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}))
    assert result.exit_code == ExitCode.FIXED
    kept = (calc_repo / ".git/tieragent/baseline.json").read_text()
    data = json.loads(kept)
    assert KEY not in kept
    assert "TIERAGENT_SECRET" in data["tests"]["output"]
    assert any("TIERAGENT_SECRET" in m for m in data["tests"]["messages"].values())


def test_a_reused_baseline_judges_as_a_fresh_one(calc_repo, tmp_path):
    """A lint command that reports a key-bearing problem before and after the patch: the problem is old,
    whether the baseline was just run or read back (masked) from disk by the next run."""
    lint = tmp_path / "lint.py"
    lint.write_text(f'print("calc/ops.py:1: E001 hard-coded key {KEY}")\nraise SystemExit(1)\n')
    cfg = config({"validate": {"test": PYTEST, "lint": f'"{sys.executable}" "{lint}"'}})
    script = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}
    fresh = fix(calc_repo, scripted(script, cfg), cfg=cfg)
    assert fresh.exit_code == ExitCode.FIXED and fresh.baseline["reused"] is False
    git(calc_repo, "checkout", "--", "calc/ops.py")
    again = fix(calc_repo, scripted(script, cfg), cfg=cfg)
    assert again.baseline["reused"] is True
    assert again.exit_code == ExitCode.FIXED, again.validation
    assert KEY not in (calc_repo / ".git/tieragent/baseline.json").read_text()


def test_a_secret_in_a_saved_attempt_is_masked(calc_repo):
    leaky = BAD_PATCH.replace("return a * b", f'return a * b  # token = "{KEY}"')
    script = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [leaky], ("patch", "frontier"): [leaky]}
    result = fix(calc_repo, scripted(script), **quick())
    assert result.exit_code == ExitCode.NOT_FIXED
    saved = Path(result.saved_diff).read_text()
    assert "return a * b" in saved and KEY not in saved and "TIERAGENT_SECRET_" in saved


def test_the_history_line_is_masked(calc_repo, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "service-token-value-1234")
    cfg = config({"validate": {"test": f"API_KEY={KEY} {PYTEST}"}})
    request = f"add() is wrong; the service token service-token-value-1234 and {KEY} are unrelated"
    result = fix(
        calc_repo,
        scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg),
        request,
        cfg=cfg,
    )
    assert result.exit_code == ExitCode.FIXED
    history = (calc_repo / ".git/tieragent/ledger.jsonl").read_text()
    assert "add() is wrong" in history and "TIERAGENT_SECRET" in history
    assert KEY not in history and "service-token-value-1234" not in history
