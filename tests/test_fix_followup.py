"""What the fix flow takes from a chat session or `fix --continue`: the session so far, pinned files, a start
tier, and a keep-or-discard question before its journal closes; and the CLI around both (`fix --continue`,
`chat` without a terminal). The rule that picks /ask's tier, and the chat flow's call policies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from chatkit import QUICK_TEST
from conftest import CLASSIFY_OPS, GOOD_PATCH, snapshot, write_config
from flowkit import config, fix, scripted, sent

from tieragent.core.errors import ExitCode
from tieragent.core.vocab import Step
from tieragent.flows.chat import CHAT_POLICIES, store
from tieragent.flows.skeleton import Decision, Status
from tieragent.model.ledger import read_history
from tieragent.routing.questions import ask_tier

SCRIPT = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}
QUICK = {"cfg": config({"validate": {"test": QUICK_TEST}}), "exit_code_only": True}  # one quick command, not pytest


def test_the_session_so_far_and_pinned_files_reach_the_models_but_not_the_record(calc_repo):
    provider = scripted(SCRIPT)
    earlier = "Earlier in this session (oldest first):\n1. Request: make sub() safe"
    result = fix(calc_repo, provider, "now add() too", earlier=earlier, pinned=("tests/test_ops.py",), **QUICK)
    assert result.status == Status.FIXED
    for step in ("classify", "patch"):
        assert earlier in sent(provider, step, 0) and "now add() too" in sent(provider, step, 0)
    assert "### tests/test_ops.py" in sent(provider, "patch", 0)  # pinned, though not classified
    assert result.request == "now add() too"
    assert read_history(calc_repo / ".git/tieragent")[-1]["request"] == "now add() too"


def test_a_start_tier_chosen_by_the_user_starts_the_ladder(calc_repo):
    provider = scripted({**SCRIPT, ("patch", "small"): [GOOD_PATCH]})
    result = fix(calc_repo, provider, start_tier="small", **QUICK)
    assert provider.calls() == [("classify", "small"), ("patch", "small")]
    assert result.routing["start"] == "small" and "chosen by the user" in result.routing["why"]


def test_discard_restores_the_tree_and_keep_records_the_kept_edits(calc_repo):
    before = snapshot(calc_repo)
    shown: list[str] = []

    def discard(diff: str) -> Decision:
        shown.append(diff)
        return Decision.DISCARD

    result = fix(calc_repo, scripted(SCRIPT), keep=discard, **QUICK)
    assert "+    return a + b" in shown[0]
    assert result.status == Status.DISCARDED and result.exit_code == ExitCode.NOT_FIXED
    assert result.decision is Decision.DISCARD and result.kept == []
    assert snapshot(calc_repo) == before

    result = fix(calc_repo, scripted(SCRIPT), keep=lambda diff: Decision.KEEP, **QUICK)
    [edit] = result.kept
    assert edit.path == "calc/ops.py" and edit.before == before["calc/ops.py"]
    assert edit.after == (calc_repo / "calc/ops.py").read_bytes() and edit.mode is not None
    assert read_history(calc_repo / ".git/tieragent")[-1]["kept_files"] == ["calc/ops.py"]


def test_fix_continue_follows_up_the_last_run_and_keeps_a_session(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server, extra={"validate": {"test": QUICK_TEST}})
    proc = cli(["fix", "--continue", "now also sub"], calc_repo)
    assert proc.returncode == 2 and "nothing to continue" in proc.stderr
    fake_server.enqueue("classify", "small", CLASSIFY_OPS, CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", GOOD_PATCH, "no diff")
    fake_server.enqueue("patch", "frontier", "no diff")
    assert cli(["fix", "add() returns the wrong result", "--exit-code-only"], calc_repo).returncode == 0
    proc = cli(["fix", "--continue", "now make sub() check its types", "--json", "--exit-code-only"], calc_repo)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["request"] == "now make sub() check its types"
    follow_up = [r.text() for r in fake_server.requests if r.step == "patch"][1]
    assert "1. Request: add() returns the wrong result" in follow_up and "### calc/ops.py" in follow_up
    record = store.load_latest(calc_repo / ".git/tieragent")
    assert [(m.text, m.status) for m in record.messages] == [
        ("add() returns the wrong result", "fixed"),
        ("now make sub() check its types", "failed"),
    ]
    assert record.pinned == ["calc/ops.py"]


def test_chat_without_a_terminal_exits_2_and_points_to_fix(cli, calc_repo):
    proc = cli(["chat"], calc_repo)
    assert proc.returncode == 2
    assert "needs a terminal" in proc.stderr and "tieragent fix" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("question", "context", "chosen", "escalate", "tier"),
    [
        ("what does parse() return?", 500, None, False, "small"),
        ("why does parse() return None here?", 500, None, False, "mid"),
        ("what does parse() return?", 20_000, None, False, "mid"),
        (" ".join(["word"] * 40), 500, None, False, "mid"),
        ("what does parse() return?", 500, "frontier", False, "frontier"),
        ("what does parse() return?", 500, None, True, "frontier"),
    ],
)
def test_ask_tier_small_for_a_lookup_mid_for_judgement_frontier_only_on_request(
    question, context, chosen, escalate, tier
):
    assert ask_tier(question, context, chosen, escalate)[0] == tier


def test_the_chat_flow_declares_a_policy_for_every_step_it_calls():
    sources = "".join(p.read_text() for p in (Path(__file__).parents[1] / "tieragent/flows/chat").glob("*.py"))
    called = {Step[name] for name in re.findall(r"gw\.call\(\s*Step\.(\w+)", sources)}
    assert called == {Step.ASK, Step.COMPACT, Step.COMMIT_MESSAGE} and called <= set(CHAT_POLICIES)
