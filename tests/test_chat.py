"""`tieragent chat`, in-process: scripted lines and answers, scripted model replies, and the real fix flow,
git, journal and test runs underneath. Each request is a fix run; the session keeps, discards, undoes,
asks, commits and counts its cost."""

from __future__ import annotations

import json
import stat

import pytest
from chatkit import chat
from conftest import CLASSIFY_OPS, EDITS_TEST, GOOD_PATCH, git, snapshot
from flowkit import scripted, sent

from tieragent.core.vocab import Outcome
from tieragent.flows.chat import Kind, store
from tieragent.flows.chat.views import AnswerView, DiffView, FixView, HelpView, SuiteRunView
from tieragent.flows.skeleton import Status
from tieragent.model.ledger import read_history

FIXED_OPS = 'def add(a, b):\n    """Sum of a and b."""\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n'
CLASSIFY_NONE = '{"task_class": "local", "risk": "low", "files": [], "reason": "a new function"}'
# relies on the first patch: its context is the fixed line, which is only there once that patch is kept
MUL_PATCH = "\n".join(
    [
        "```diff",
        "--- a/calc/ops.py",
        "+++ b/calc/ops.py",
        "@@ -2,6 +2,10 @@",
        '     """Sum of a and b."""',
        "     return a + b",
        " ",
        " ",
        " def sub(a, b):",
        "     return a - b",
        "+",
        "+",
        "+def mul(a, b):",
        "+    return a * b",
        "```",
        "",
    ]
)
FIX_ADD = "add() returns the wrong result"


def fix_script(more: dict | None = None) -> dict:
    return {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH], **(more or {})}


def test_a_request_kept_then_a_follow_up_that_relies_on_it(calc_repo):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS, CLASSIFY_NONE], ("patch", "mid"): [GOOD_PATCH, MUL_PATCH]}
    )
    lines = [FIX_ADD, "now also add mul() next to it"]
    result, io = chat(calc_repo, provider, lines, decisions=["y", "y"], pytest=True)
    assert [m.status for m in result.messages] == ["fixed", "fixed"]
    assert "+    return a + b" in io.diffs[0]  # the validated diff was shown before the question
    assert (calc_repo / "calc/ops.py").read_text() == FIXED_OPS + "\n\ndef mul(a, b):\n    return a * b\n"
    follow_up = sent(provider, "patch", 1)
    assert "Earlier in this session" in follow_up and FIX_ADD in follow_up
    assert "+    return a + b" in follow_up  # the kept patch itself
    assert "### calc/ops.py" in follow_up  # pinned, though the classification picked no file
    assert FIX_ADD in sent(provider, "classify", 1)
    assert result.status == Status.ENDED and result.exit_code == 0
    assert [type(v) for v in io.views] == [FixView, FixView]
    assert io.of(FixView)[1].outcome.baseline["reused"]  # the kept patch's test run is the next baseline
    assert "calc/ops.py" in git(calc_repo, "status", "--porcelain")  # nothing committed unless asked


def test_n_restores_the_tree_byte_for_byte(calc_repo):
    (calc_repo / "notes.txt").write_text("untracked notes\n")
    before = snapshot(calc_repo)
    result, _ = chat(calc_repo, scripted(fix_script()), [FIX_ADD], decisions=["n"])
    assert snapshot(calc_repo) == before
    [m] = result.messages
    assert m.status == Status.DISCARDED and not m.kept and m.rows  # its calls are still in the ledger
    assert not list((calc_repo / ".git/tieragent/journal").glob("*-*"))  # the journal is closed


def test_e_discards_and_runs_the_amended_request(calc_repo):
    provider = scripted(fix_script())
    result, io = chat(calc_repo, provider, [FIX_ADD], decisions=["e", "y"], amends=["add() must return a + b"])
    assert io.amended == [FIX_ADD]  # the old request, offered for editing
    assert [(m.text, m.status) for m in result.messages] == [
        (FIX_ADD, "discarded"),
        ("add() must return a + b", "fixed"),
    ]
    assert "add() must return a + b" in sent(provider, "patch", 1)
    assert (calc_repo / "calc/ops.py").read_text() == FIXED_OPS


def test_ask_answers_without_edits_at_the_tier_the_rule_picks(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted(
        {
            ("ask", "small"): ["sub() returns a - b."],
            ("ask", "mid"): ["add() subtracts: it should return a + b."],
            ("ask", "frontier"): ["The frontier's answer."],
        }
    )
    lines = ["/ask what does sub return?", "/ask why is add wrong?", "/ask! what does sub return?"]
    result, io = chat(calc_repo, provider, lines)
    assert provider.calls() == [("ask", "small"), ("ask", "mid"), ("ask", "frontier")]
    assert [v.tier for v in io.of(AnswerView)] == ["small", "mid", "frontier"]
    assert io.of(AnswerView)[0].message.answer == "sub() returns a - b."
    asked = sent(provider, "ask", 0)
    assert "what does sub return?" in asked and "def sub(a, b)" in asked  # the ranked file is shown
    assert snapshot(calc_repo) == before
    assert [m.kind for m in result.messages] == [Kind.ASK] * 3


def test_undo_refuses_after_a_user_edit_then_reverts_the_last_kept_patch(calc_repo):
    before = snapshot(calc_repo)
    ops = calc_repo / "calc/ops.py"

    def user_edits() -> str:
        ops.write_text(ops.read_text() + "# my note\n")
        return "/undo"

    def user_reverts() -> str:
        assert ops.read_text() == FIXED_OPS + "# my note\n"  # the refused /undo lost nothing
        ops.write_text(FIXED_OPS)
        return "/undo"

    lines = [FIX_ADD, user_edits, user_reverts, "/undo"]
    result, io = chat(calc_repo, scripted(fix_script()), lines, decisions=["y"])
    refused, undone, nothing = io.notices()
    assert refused.startswith("not undone: calc/ops.py changed since message 1")
    assert undone.startswith("undone: message 1") and nothing.startswith("nothing to undo")
    assert snapshot(calc_repo) == before
    assert result.messages[0].undone and not result.messages[0].kept
    assert not list((calc_repo / ".git/tieragent/journal").glob("*-*"))  # the undo's journal is closed


def test_cost_totals_equal_the_ledgers_sum(calc_repo):
    provider = scripted(fix_script({("ask", "small"): ["sub() returns a - b."]}))
    _, io = chat(calc_repo, provider, [FIX_ADD, "/ask what does sub return?", "/cost"], decisions=["y"])
    view = io.cost()
    history = read_history(calc_repo / ".git/tieragent")  # each fix run's line, and the session's own
    recorded = sum(line["totals"]["cost_usd"] for line in history)
    assert [line["flow"] for line in history] == ["fix", "chat"]
    assert view.total_usd == pytest.approx(recorded, abs=1e-9) and view.total_usd > 0
    assert sum(line.cost_usd for line in view.lines) == pytest.approx(view.total_usd, abs=1e-9)
    assert [line.calls for line in view.lines] == [
        {"small": 1, "mid": 1, "frontier": 0},
        {"small": 1, "mid": 0, "frontier": 0},
    ]
    assert view.ledger.frontier_only_estimate() > view.total_usd


def test_yes_keeps_without_asking_and_commit_commits_with_the_small_tiers_message(calc_repo):
    provider = scripted(fix_script({("commit-message", "small"): ["Make add() add\n\nIt subtracted."]}))
    result, io = chat(calc_repo, provider, [FIX_ADD, "/commit", "/undo"], keep_all=True)
    assert io.diffs == [] and io.of(FixView)[0].diff_shown is False  # so the terminal shows it after keeping
    assert git(calc_repo, "log", "-1", "--format=%s").strip() == "Make add() add"
    assert git(calc_repo, "status", "--porcelain") == ""
    fixed, committed = result.messages
    assert committed.kind is Kind.COMMIT and fixed.commit and committed.rows[0].step == "commit-message"
    assert "use `git revert" in io.notices()[-1]  # a committed patch is not undone behind git's back


def test_commit_refuses_files_that_held_changes_of_yours(calc_repo):
    ops = calc_repo / "calc/ops.py"
    ops.write_text(ops.read_text() + "# my uncommitted note\n")
    provider = scripted(fix_script())
    result, io = chat(calc_repo, provider, [FIX_ADD, "/commit"], decisions=["y"])
    assert result.messages[0].kept and result.messages[0].mixed == ["calc/ops.py"]
    assert "not committed: calc/ops.py had uncommitted changes of yours" in io.notices()[-1]
    assert git(calc_repo, "log", "--format=%s") == "initial\n" and ("commit-message", "small") not in provider.calls()


def test_exit_saves_a_private_masked_session_that_resume_continues(calc_repo, monkeypatch):
    secret = "sk-proj-" + "x7Q2" * 8
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    request = f"add() returns the wrong result (my key is {secret})"
    result, _ = chat(calc_repo, scripted(fix_script()), [request, "/exit", "never read"], decisions=["y"])
    assert result.status == Status.ENDED and result.exit_code == 0
    folder = store.latest(calc_repo / ".git/tieragent")
    text = (folder / "session.json").read_text()
    assert secret not in text and "TIERAGENT_SECRET" in text
    for p in [folder / "session.json", *(folder / "blobs").iterdir()]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    resumed = store.load_latest(calc_repo / ".git/tieragent")
    again, _ = chat(calc_repo, scripted({}), ["/undo"], resume=resumed)
    assert again.session_id == result.session_id and again.messages[0].undone
    assert "return a - b" in (calc_repo / "calc/ops.py").read_text().split("def sub")[0]  # the original bytes


def test_ctrl_c_during_a_run_restores_and_returns_to_the_prompt_twice_at_the_prompt_leaves(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted(fix_script({("patch", "mid"): [KeyboardInterrupt()]}))
    result, io = chat(calc_repo, provider, [FIX_ADD, KeyboardInterrupt(), KeyboardInterrupt(), "never read"])
    assert snapshot(calc_repo) == before
    [m] = result.messages
    assert m.status == Status.ERROR and m.rows[-1].outcome is Outcome.INTERRUPTED
    assert io.lines == ["never read"] and result.exit_code == 0


def test_the_test_edit_guard_asks(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted(fix_script({("patch", "mid"): [EDITS_TEST], ("patch", "frontier"): ["no diff"]}))
    result, io = chat(calc_repo, provider, [FIX_ADD], confirms=[False, False])
    assert io.questions and "Accept it?" in io.questions[0]
    assert result.messages[0].status == Status.FAILED and snapshot(calc_repo) == before


def test_tier_add_drop_diff_test_and_help(calc_repo):
    provider = scripted(fix_script({("patch", "frontier"): [GOOD_PATCH]}))
    lines = ["/tier frontier", "/add tests/test_ops.py nope.py", FIX_ADD, "/diff", "/test", "/drop tests/test_ops.py"]
    _, io = chat(calc_repo, provider, [*lines, "/tier auto", "/help", "/bogus"], decisions=["y"])
    assert provider.calls() == [("classify", "small"), ("patch", "frontier")]
    assert "### tests/test_ops.py" in sent(provider, "patch", 0)
    assert any("not pinned: nope.py" in n for n in io.notices())
    assert "+    return a + b" in io.of(DiffView)[0].diff
    assert io.of(SuiteRunView)[0].exit_code == 0
    assert io.of(HelpView) and "unknown command /bogus" in io.notices()[-1]
    assert [p.tier for p in io.prompts][2:4] == ["frontier", "frontier"] and io.prompts[-1].tier == "auto"


def test_the_budget_is_per_session_and_per_message(calc_repo):
    state = calc_repo / ".git/tieragent"
    first, _ = chat(calc_repo, scripted(fix_script()), [FIX_ADD], decisions=["y"])
    spent = first.messages[0].cost_usd
    # enough left to classify, not for the mid tier's worst case (its prompt and 4,096 tokens out: ~$0.065)
    for budget, options in [
        ({"max_cost_usd": spent + 0.03}, {}),  # what the session has left
        ({}, {"max_message_cost_usd": 0.03}),  # the message's own cap
    ]:
        provider = scripted(fix_script())
        result, io = chat(
            calc_repo, provider, ["also handle floats"], budget=budget, resume=store.load_latest(state), **options
        )
        assert result.messages[-1].status == Status.BUDGET_EXCEEDED
        assert provider.calls() == [("classify", "small")]
    provider = scripted(fix_script())
    budget = {"max_cost_usd": spent / 2}
    lines = ["also handle floats", "/ask what?"]
    result, io = chat(calc_repo, provider, lines, budget=budget, resume=store.load_latest(state))
    assert provider.calls() == [] and len(result.messages) == 3  # nothing more was sent, or recorded
    assert all("the session's budget" in n for n in io.notices()[1:])
    assert (calc_repo / "calc/ops.py").read_text() == FIXED_OPS


def test_compaction_by_the_small_tier_when_the_session_outgrows_the_smallest_window(calc_repo):
    provider = scripted(fix_script({("ask", "small"): ["x" * 400], ("compact", "small"): ["Asked about sub twice."]}))
    windows = {"small": 2000, "mid": 100_000, "frontier": 100_000}  # 15%: 300 tokens of history
    lines = ["/ask what does sub return?"] * 4
    result, _ = chat(calc_repo, provider, lines, windows=windows)
    assert ("compact", "small") in provider.calls()
    last = sent(provider, "ask", 3)
    assert "Summary of the earlier messages:\nAsked about sub twice." in last
    compacted = [m for m in result.messages if any(r.step == "compact" for r in m.rows)]
    assert compacted  # the compaction's row is filed with the message it preceded
    assert json.dumps(result.to_json())  # the session's document is JSON
