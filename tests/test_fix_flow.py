"""The fix flow's behaviour, in-process: real git, real pytest runs, the real journal and repository
map, with a scripted model at the gateway. Routing, escalation, the tree's safety, budgets, and
a ledger row for every call on every path."""

from __future__ import annotations

import json

from conftest import (
    BAD_PATCH,
    CLASSIFY_OPS,
    CLASSIFY_WITH_AUTH,
    GOOD_PATCH,
    WHOLE_FILE,
    add_auth_module,
    git,
    snapshot,
)
from flowkit import TEST_RUN_ENV, config, fix, outcomes, quick, rows, scripted, sent

from tieragent.core.errors import ExitCode, ProviderError
from tieragent.core.vocab import Outcome
from tieragent.repo.runner import SubprocessRunner


def unavailable(kind: str = "server") -> ProviderError:
    return ProviderError(kind, f"frontier tier (openai/fake): {kind}", retryable=True)


def test_mid_fixes_it_without_calling_frontier(calc_repo):
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})
    result = fix(calc_repo, provider, **quick())
    assert result.status == "fixed" and result.exit_code == ExitCode.FIXED
    assert provider.calls() == [("classify", "small"), ("patch", "mid")]
    assert rows(result) == [("classify", "small", "ok"), ("patch", "mid", "ok")]
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()
    assert "+    return a + b" in result.patch and result.accepted_step == 1
    assert "calc/ops.py" in git(calc_repo, "status", "--porcelain")  # not committed unless asked


def test_mid_fails_twice_then_frontier_fixes_it(calc_repo):
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [BAD_PATCH, "no diff here, sorry"],
            ("patch", "frontier"): [GOOD_PATCH],
        }
    )
    result = fix(calc_repo, provider)
    assert result.status == "fixed"
    assert provider.calls() == [("classify", "small"), ("patch", "mid"), ("patch", "mid"), ("patch", "frontier")]
    assert [o for _, o in outcomes(result)] == ["tests-failed", "format-error", "ok"]
    retry = sent(provider, "patch", 1)  # the retry carried the failing test's output back
    assert "return a * b" in retry and "assert" in retry and "test_add" in retry
    assert result.route == [
        "mid #1: starts at mid: task class local",
        "mid #2: retry 1 at mid with the failure",
        "frontier #1: escalated: cheaper attempts failed",
    ]


def test_everything_fails_tree_identical_and_best_diff_saved(calc_repo):
    (calc_repo / "notes.txt").write_text("untracked notes\n")
    before = snapshot(calc_repo)
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH], ("patch", "frontier"): [BAD_PATCH]}
    )
    result = fix(calc_repo, provider)
    assert result.status == "failed" and result.exit_code == ExitCode.NOT_FIXED
    # mid's retry is made (its failure differs from before the patch); the frontier's is not (the same failure again)
    assert [t for t, _ in outcomes(result)] == ["mid", "mid", "frontier"]
    assert snapshot(calc_repo) == before
    assert result.saved_diff and "return a * b" in result.saved_diff.read_text()
    assert ".git" in result.saved_diff.parts  # never in the user's tree


def test_high_risk_goes_to_frontier_first(calc_repo):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS.replace('"low"', '"high"')], ("patch", "frontier"): [GOOD_PATCH]}
    )
    result = fix(calc_repo, provider, **quick())
    assert result.status == "fixed"
    assert provider.calls() == [("classify", "small"), ("patch", "frontier")]
    assert result.route[0].startswith("frontier #1")


def test_dirty_tree_is_preserved_on_success_and_failure(calc_repo):
    ops = calc_repo / "calc/ops.py"
    ops.write_text("# my local note\n" + ops.read_text())  # uncommitted edit in the patched file
    (calc_repo / "calc/__init__.py").write_text("VERSION = '0.0.1-dev'\n")  # and in another, staged
    git(calc_repo, "add", "calc/__init__.py")
    result = fix(
        calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}), **quick()
    )
    assert result.status == "fixed"
    assert ops.read_text().startswith("# my local note\ndef add(a, b):") and "return a + b" in ops.read_text()
    assert (calc_repo / "calc/__init__.py").read_text() == "VERSION = '0.0.1-dev'\n"
    assert git(calc_repo, "diff", "--cached", "--name-only").split() == ["calc/__init__.py"]
    # a failing run on the same dirty tree leaves every byte as it was
    before = snapshot(calc_repo)
    failed = fix(
        calc_repo,
        scripted(
            {
                ("classify", "small"): [CLASSIFY_OPS],
                ("patch", "mid"): ["nothing useful"],
                ("patch", "frontier"): ["still nothing"],
            }
        ),
    )
    assert failed.status == "failed"
    assert snapshot(calc_repo) == before


def test_commit_commits_only_the_patch(calc_repo):
    (calc_repo / "calc/__init__.py").write_text("X = 1\n")
    git(calc_repo, "add", "calc/__init__.py")  # the user's staged work must not ride along
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [GOOD_PATCH],
            ("commit-message", "small"): ["Fix add() to add\n\nIt subtracted."],
        }
    )
    result = fix(calc_repo, provider, commit=True, **quick())
    assert result.status == "fixed" and result.commit_sha
    assert git(calc_repo, "log", "-1", "--format=%s").strip() == "Fix add() to add"
    assert git(calc_repo, "show", "--name-only", "--format=", "HEAD").split() == ["calc/ops.py"]
    assert "calc/__init__.py" in git(calc_repo, "diff", "--cached", "--name-only")
    assert provider.calls()[-1] == ("commit-message", "small")


def test_secret_files_and_env_values_never_reach_the_model(calc_repo, monkeypatch):
    secret = "SUPERSECRET_VALUE_93f7c2"
    (calc_repo / ".env").write_text(f"DB_PASSWORD={secret}\n")
    (calc_repo / "config").mkdir()
    (calc_repo / "config/prod.pem").write_text(f"-----BEGIN KEY-----\n{secret}\n")
    monkeypatch.setenv("DB_PASSWORD", secret)  # and a test run that prints the environment can't leak it
    (calc_repo / "tests/test_env_dump.py").write_text(
        "import os\n\ndef test_dump():\n    print(dict(os.environ))\n    assert os.environ.get('NOPE')\n"
    )
    picks = '{"task_class": "local", "risk": "low", "files": [".env", "config/prod.pem", "calc/ops.py"], "reason": "x"}'
    provider = scripted(
        {("classify", "small"): [picks], ("patch", "mid"): [BAD_PATCH], ("patch", "frontier"): [GOOD_PATCH]}
    )
    result = fix(calc_repo, provider, **quick())
    assert len(provider.requests) >= 3
    for request in provider.requests:
        assert secret not in request.prompt_text()
    assert any(".env" in w for w in result.warnings)


def test_malformed_classification_twice_falls_back_to_heuristic(calc_repo):
    provider = scripted(
        {("classify", "small"): ["I think this is easy!", '{"task_class": "weird"}'], ("patch", "mid"): [GOOD_PATCH]}
    )
    result = fix(calc_repo, provider, "add() in calc/ops.py returns the wrong result", **quick())
    assert result.status == "fixed"
    assert result.classification and result.classification.source == "heuristic"
    assert "calc/ops.py" in result.classification.files
    assert [o for _, o in outcomes(result, "classify")] == ["format-error", "format-error"]


WRONG_CONTEXT = """```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,3 @@
 def add(first, second):
-    return first - second
+    return first + second
```"""


def test_whole_file_fallback_after_two_failed_diffs(calc_repo):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [WRONG_CONTEXT, WRONG_CONTEXT, WHOLE_FILE]}
    )
    result = fix(calc_repo, provider, **quick())
    assert result.status == "fixed"
    assert outcomes(result) == [("mid", "apply-failed"), ("mid", "apply-failed"), ("mid", "ok")]
    patches = [r for r in result.ledger.rows if r.step == "patch"]
    assert patches[2].note == "whole-file fallback for calc/ops.py" and "calc/ops.py hunk 1" in patches[0].note
    assert [p.edit_format for p in patches] == ["diff", "diff", "whole"]
    third = sent(provider, "patch", 2)
    assert "Do not write a diff" in third and "def add(a, b):" in third
    second = sent(provider, "patch", 1)  # the refusal named the line that did not match, with the real lines
    assert "def add(first, second):" in second and "1 | def add(a, b):" in second
    assert (calc_repo / "calc/ops.py").read_text().count("return a + b") == 1


# ---------------------------------------------------------------- budgets and faults: a row on every path


def test_budget_stop_is_recorded_and_the_tree_restored(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH]})
    # frontier's worst case (prompt + 4096 output tokens at $75/Mtok) is over $0.30 alone
    result = fix(calc_repo, provider, **quick({"budget": {"max_cost_usd": 0.25}}))
    assert result.status == "budget_exceeded" and result.exit_code == ExitCode.BUDGET
    assert ("patch", "frontier") not in provider.calls()
    assert rows(result)[-1] == ("patch", "frontier", "budget-stop")
    assert result.ledger.calls == len(provider.requests)  # the stopped call was never made
    assert snapshot(calc_repo) == before


def test_max_calls_stops_before_the_next_call(calc_repo):
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH]})
    result = fix(calc_repo, provider, cfg=config({"budget": {"max_calls": 2}}))
    assert result.exit_code == ExitCode.BUDGET and len(provider.requests) == 2
    assert rows(result)[-1] == ("patch", "mid", "budget-stop") and "max calls reached (2)" in result.error


def test_commit_message_over_budget_falls_back_and_keeps_the_fix(calc_repo):
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})
    result = fix(calc_repo, provider, **quick({"budget": {"max_calls": 2}}), commit=True)
    assert result.status == "fixed" and result.commit_sha
    assert rows(result)[-1] == ("commit-message", "small", "budget-stop")
    assert git(calc_repo, "log", "-1", "--format=%s").strip() == "tieragent: add() returns the wrong result"


def test_an_unavailable_small_tier_classifies_by_heuristic(calc_repo):
    provider = scripted({("classify", "small"): [unavailable("timeout")], ("patch", "mid"): [GOOD_PATCH]})
    events: list = []
    result = fix(calc_repo, provider, "add() in calc/ops.py returns the wrong result", events=events, **quick())
    assert result.status == "fixed" and result.classification.source == "heuristic"
    assert rows(result)[0] == ("classify", "small", "provider-error")
    assert any("small tier unavailable (timeout); the heuristic classifies" in e.message for e in events)


def test_an_unavailable_tier_is_skipped(calc_repo):
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [unavailable()], ("patch", "frontier"): [GOOD_PATCH]}
    )
    result = fix(calc_repo, provider, **quick())
    assert result.status == "fixed"
    assert outcomes(result) == [("mid", "provider-error"), ("frontier", "ok")]  # mid's retry was skipped too


def test_no_reachable_tier_ends_with_a_provider_error(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [unavailable()],
            ("patch", "frontier"): [unavailable()],
        }
    )
    result = fix(calc_repo, provider, **quick())
    assert result.exit_code == ExitCode.PROVIDER and "no tier could be reached" in result.error
    assert outcomes(result) == [("mid", "provider-error"), ("frontier", "provider-error")]
    assert snapshot(calc_repo) == before


def test_an_auth_error_stops_the_run_at_once(calc_repo):
    before = snapshot(calc_repo)
    auth = ProviderError(
        "auth",
        "small tier (openai/fake-small): authentication failed",
        retryable=False,
        hint="Check the key in FAKE_KEY.",
    )
    provider = scripted({("classify", "small"): [auth]})
    result = fix(calc_repo, provider, **quick())
    assert (
        result.exit_code == ExitCode.PROVIDER and "authentication failed" in result.error and "FAKE_KEY" in result.error
    )
    assert rows(result) == [("classify", "small", "provider-error")]
    assert snapshot(calc_repo) == before


def test_an_unavailable_summary_keeps_the_trimmed_output(calc_repo):
    (calc_repo / "tests/test_many.py").write_text(
        "from calc.ops import add\n\n\n"
        + "\n\n".join(
            f"def test_case_{i}():\n    assert add({i}, 1) == {i + 1}, 'case {i} ' + 'x' * 300" for i in range(60)
        )
        + "\n"
    )
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "many")
    cfg = config({"validate": {"test": config().validation.test.replace(" -x", "")}})
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [BAD_PATCH, GOOD_PATCH],
            ("summarize", "small"): [unavailable()],
        },
        cfg,
    )
    result = fix(calc_repo, provider, cfg=cfg)
    assert result.status == "fixed"
    assert outcomes(result, "summarize") == [("small", "provider-error")]
    assert "test_case_7" in sent(provider, "patch", 1)


def test_an_unavailable_frontier_review_rejects_the_patch_and_saves_it(calc_repo):
    """A 503 from the frontier while reviewing a validated high-risk patch: its own row, the diff saved,
    the patch not accepted unreviewed (and not an exit 4 with no review row, as before)."""
    add_auth_module(calc_repo)
    before = snapshot(calc_repo)
    judged_quickly = quick({"routing": {"high_risk": "mid"}})
    cfg = judged_quickly["cfg"]
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_WITH_AUTH],
            ("patch", "mid"): [GOOD_PATCH],
            ("review", "frontier"): [unavailable()],
            ("patch", "frontier"): [unavailable()],
        },
        cfg,
    )
    result = fix(calc_repo, provider, **judged_quickly)
    assert result.status == "failed" and result.exit_code == ExitCode.NOT_FIXED
    assert ("review", "frontier", "provider-error") in rows(result)
    patch_rows = [r for r in result.ledger.rows if r.step == "patch"]
    assert patch_rows[0].outcome is Outcome.REVIEW_REJECTED and "not accepted unreviewed" in patch_rows[0].note
    assert result.saved_diff and "return a + b" in result.saved_diff.read_text()
    assert snapshot(calc_repo) == before


def test_ctrl_c_during_a_model_call_restores_and_records_the_call(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted(
        {
            ("classify", "small"): [CLASSIFY_OPS],
            ("patch", "mid"): [BAD_PATCH],
            ("patch", "frontier"): [KeyboardInterrupt()],
        }
    )
    result = fix(calc_repo, provider, **quick({"routing": {"attempts": {"mid": 1}}}))
    assert result.exit_code == ExitCode.INTERRUPTED and result.error == "interrupted"
    assert rows(result)[-1] == ("patch", "frontier", "interrupted")
    assert snapshot(calc_repo) == before
    assert not list((calc_repo / ".git/tieragent/journal").glob("*-*"))


class InterruptingRunner(SubprocessRunner):
    """Ctrl-C arrives while the n-th command runs (after it has started in the patched tree)."""

    def __init__(self, at: int):
        super().__init__(TEST_RUN_ENV)
        self.at, self.runs = at, 0

    def run(self, command, cwd, timeout_s):
        self.runs += 1
        if self.runs == self.at:
            raise KeyboardInterrupt
        return super().run(command, cwd, timeout_s)


def test_ctrl_c_during_validation_restores_the_tree(calc_repo):
    before = snapshot(calc_repo)
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})
    # 1: the baseline, 2: validating the patch
    result = fix(calc_repo, provider, runner=InterruptingRunner(at=2), **quick())
    assert result.exit_code == ExitCode.INTERRUPTED
    assert snapshot(calc_repo) == before


def test_history_line_names_the_flow_and_the_accepted_call(calc_repo):
    fix(
        calc_repo,
        scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH, GOOD_PATCH]}),
    )
    (line,) = (calc_repo / ".git/tieragent/ledger.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["flow"] == "fix" and record["accepted_step"] == 2
    assert [r["outcome"] for r in record["steps"]] == ["ok", "tests-failed", "ok"]
    assert "patch" not in record  # the diff itself is not kept in the history
    assert (calc_repo / ".gitignore").read_text() == "*.log\n"  # the user's file untouched


def test_a_second_run_refuses_while_a_killed_run_awaits_recovery(calc_repo, tmp_path):
    journal_dir = calc_repo / ".git/tieragent/journal/999999-1"
    journal_dir.mkdir(parents=True)
    (journal_dir / "manifest.json").write_text(
        json.dumps(
            {
                "pid": 999999999,
                "root": str(calc_repo),
                "files": {"calc/ops.py": {"existed": True, "mode": 0o644, "sha": "0" * 64, "written_sha": "1" * 64}},
            }
        )
    )
    provider = scripted({("classify", "small"): [CLASSIFY_OPS]})
    result = fix(calc_repo, provider, **quick())
    assert result.exit_code == ExitCode.USAGE and "tieragent recover" in result.error
    assert provider.requests == []


def test_a_retry_that_would_repeat_the_same_failure_is_skipped_unless_configured(calc_repo):
    script = {
        ("classify", "small"): [CLASSIFY_OPS],
        ("patch", "mid"): [BAD_PATCH, GOOD_PATCH],
        ("patch", "frontier"): [BAD_PATCH],
    }
    unchanged = BAD_PATCH.replace("return a * b", "return a - b  # unchanged")
    # mid's first patch fails exactly as the code did before: its retry is skipped, the frontier is next
    same = fix(
        calc_repo, scripted({**script, ("patch", "mid"): [unchanged, GOOD_PATCH], ("patch", "frontier"): [GOOD_PATCH]})
    )
    assert outcomes(same) == [("mid", "tests-failed"), ("frontier", "ok")]
    git(calc_repo, "checkout", "--", "calc/ops.py")
    # with retry_same_failure the old ladder is walked
    cfg = config({"routing": {"retry_same_failure": True}})
    again = fix(calc_repo, scripted({**script, ("patch", "mid"): [unchanged, GOOD_PATCH]}, cfg), cfg=cfg)
    assert outcomes(again) == [("mid", "tests-failed"), ("mid", "ok")]


def test_a_retry_after_progress_is_made(calc_repo):
    """A different failure than before the patch is progress: the same tier tries again with it."""
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [BAD_PATCH, GOOD_PATCH]})
    result = fix(calc_repo, provider)
    assert outcomes(result) == [("mid", "tests-failed"), ("mid", "ok")]


def test_auto_starts_with_whole_files_for_a_model_whose_diffs_here_mostly_failed(calc_repo):
    """Five unreadable diffs from the mid model in this repository's history: its next run starts whole."""
    from tieragent.flows.ledger_summary import format_records
    from tieragent.model.ledger import read_history

    for _ in range(
        3
    ):  # each run: two unusable diffs at mid (then a whole file that is unusable too), then the frontier fixes it
        fix(
            calc_repo,
            scripted(
                {
                    ("classify", "small"): [CLASSIFY_OPS],
                    ("patch", "mid"): ["no diff"],
                    ("patch", "frontier"): [GOOD_PATCH],
                }
            ),
            **quick(),
        )
        git(calc_repo, "checkout", "--", "calc/ops.py")
    record = format_records(read_history(calc_repo / ".git/tieragent"), "openai/fake-mid")
    assert (record["diff"].attempts, record["diff"].failed) == (6, 6)
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [WHOLE_FILE]})
    result = fix(calc_repo, provider, **quick())
    assert result.status == "fixed" and outcomes(result) == [("mid", "ok")]
    assert result.ledger.rows[1].edit_format == "whole" and "Do not write a diff" in sent(provider, "patch", 0)
    assert "learned here: 6 of 6 diffs from openai/fake-mid failed to apply" in result.route[0]
    assert result.ledger.rows[1].edit_format_reason.startswith("learned here: 6 of 6 diffs")
    # and with edit_format: diff, the history does not matter
    git(calc_repo, "checkout", "--", "calc/ops.py")
    cfg = config(
        {
            "tiers": {
                "mid": {
                    "model": "openai/fake-mid",
                    "price": {"input_per_mtok": 3, "output_per_mtok": 15},
                    "edit_format": "diff",
                }
            }
        }
    )
    diff_only = fix(
        calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg), cfg=cfg
    )
    assert diff_only.ledger.rows[1].edit_format == "diff"


def test_the_fallback_counts_failures_per_tier_whatever_file_they_named(calc_repo):
    """Two bad diffs at mid naming different files, then whole files: the count is per tier."""
    other = WRONG_CONTEXT.replace("calc/ops.py", "tests/test_ops.py")
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [WRONG_CONTEXT, other, WHOLE_FILE]})
    result = fix(calc_repo, provider, **quick())
    assert result.status == "fixed"
    assert [(t, o) for t, o in outcomes(result)] == [("mid", "apply-failed"), ("mid", "apply-failed"), ("mid", "ok")]
    assert [r.edit_format for r in result.ledger.rows if r.step == "patch"] == ["diff", "diff", "whole"]


def test_the_ledger_command_shows_apply_rates_per_tier_and_format(calc_repo):
    from tieragent.flows.ledger_summary import summarize_history
    from tieragent.model.ledger import read_history

    fix(
        calc_repo,
        scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [WRONG_CONTEXT, WRONG_CONTEXT, WHOLE_FILE]}),
        **quick(),
    )
    formats = summarize_history(read_history(calc_repo / ".git/tieragent")).formats
    assert formats == {"mid": {"diff": {"attempts": 2, "applied": 0}, "whole": {"attempts": 1, "applied": 1}}}


def test_edit_format_diff_means_diffs_only(calc_repo):
    cfg = config(
        {
            "tiers": {
                "mid": {
                    "model": "openai/fake-mid",
                    "price": {"input_per_mtok": 3, "output_per_mtok": 15},
                    "edit_format": "diff",
                }
            }
        }
    )
    provider = scripted(
        {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [WRONG_CONTEXT], ("patch", "frontier"): [GOOD_PATCH]},
        cfg,
    )
    result = fix(calc_repo, provider, cfg=cfg)
    assert outcomes(result) == [
        ("mid", "apply-failed"),
        ("mid", "apply-failed"),
        ("frontier", "ok"),
    ]  # no whole-file fallback at mid
