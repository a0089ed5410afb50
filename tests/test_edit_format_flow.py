"""The edit format through the whole run, over real HTTP to the fake server: chosen by model from the
first call of a fresh repository, search/replace blocks end to end, learnt across repositories through
the user state, and overridden by config. Each run names the mid tier's model; classify (small) routes
the request to mid."""

from __future__ import annotations

import json
import stat

import pytest
from conftest import (
    CALC_FILES,
    CLASSIFY_OPS,
    GOOD_PATCH,
    PRICES,
    QUICK,
    WHOLE_FILE,
    cli_env,
    make_repo,
    state_home,
    write_config,
)
from fake_openai import Reply
from flowkit import fix, http_config, http_provider, outcomes

SEARCH_REPLACE = '''The fix:

calc/ops.py
```python
<<<<<<< SEARCH
    """Sum of a and b."""
    return a - b
=======
    """Sum of a and b."""
    return a + b
>>>>>>> REPLACE
```
'''
WRONG_SEARCH = SEARCH_REPLACE.replace("    return a - b\n=", "    return first - second\n=")
WRONG_CONTEXT = GOOD_PATCH.replace("def add(a, b):", "def add(first, second):")
PROMPT_MARK = {"diff": "```diff", "whole": "Do not write a diff", "search_replace": "<<<<<<< SEARCH"}
ANSWER = {"diff": GOOD_PATCH, "whole": WHOLE_FILE, "search_replace": SEARCH_REPLACE}
# The runs are about edit formats, not the test runner: judged by the calc repository's quick command (QUICK),
# by its exit code
FIX = ["fix", "add() returns the wrong result", "--exit-code-only"]
REMOTE = "http://models.example.invalid/v1"  # not this machine: reached through the fake server as an HTTP proxy


def mid_tier(server, model: str, api_base: str | None = None, **fields) -> dict:
    return {
        "model": model,
        "api_base": api_base or server.url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "price": PRICES["mid"],
        "timeout_s": 20,
        **fields,
    }


def proxied_env(tmp_home, server) -> dict[str, str]:
    env = {k: v for k, v in cli_env(tmp_home).items() if "proxy" not in k.lower()}
    env["HTTP_PROXY"] = server.url.rsplit("/v1", 1)[0]
    return env


def patch_requests(server):
    return [r for r in server.requests if r.step == "patch"]


@pytest.mark.parametrize(
    "model, remote, fmt, why",
    [
        ("openai/gpt-4.1", False, "diff", "built-in table: gpt-4.1 family"),  # behind a loopback proxy: still known
        ("anthropic/claude-sonnet-4-5", False, "search_replace", "built-in table: claude family"),
        ("openai/acme-coder", True, "whole", "unknown model"),
    ],
    ids=["known", "claude-search-replace", "unknown"],
)
def test_the_first_call_of_a_fresh_repository_uses_the_models_format(
    cli, calc_repo, fake_server, model, remote, fmt, why
):
    write_config(
        calc_repo,
        fake_server,
        extra={**QUICK, "tiers": {"mid": mid_tier(fake_server, model, REMOTE if remote else None)}},
    )
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", ANSWER[fmt])
    env = proxied_env(calc_repo.parent, fake_server) if remote else None
    proc = cli([*FIX, "--json"], calc_repo, env=env)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0, (proc.stderr, doc.get("steps"))
    assert doc["routing"]["edit_formats"]["mid"] == {"format": fmt, "why": why}
    first = next(r for r in doc["steps"] if r["step"] == "patch")
    assert (first["edit_format"], first["edit_format_reason"], first["outcome"]) == (fmt, why, "ok")
    sent = patch_requests(fake_server)[0]
    assert PROMPT_MARK[fmt] in sent.text()
    assert sent.path.startswith(REMOTE) if remote else sent.path.startswith("/v1")
    assert "return a + b" in (calc_repo / "calc/ops.py").read_text()


def test_a_local_model_starts_with_whole_files_and_explain_routing_says_why(cli, calc_repo, fake_server):
    write_config(calc_repo, fake_server, extra={**QUICK, "tiers": {"mid": mid_tier(fake_server, "openai/acme-coder")}})
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", WHOLE_FILE)
    proc = cli([*FIX, "--explain-routing", "--no-ci"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    why = "local model (loopback api_base)"
    assert f"edit format at mid: whole: {why}" in proc.stdout
    assert "edit format at frontier: diff: routing.edit_formats: *fake-*" in proc.stdout
    assert PROMPT_MARK["whole"] in patch_requests(fake_server)[0].text()
    history = json.loads((calc_repo / ".git/tieragent/ledger.jsonl").read_text())
    first = next(r for r in history["steps"] if r["step"] == "patch")
    assert (first["edit_format"], first["edit_format_reason"]) == ("whole", why)


def test_whole_files_leave_the_tests_to_read_not_to_write(cli, calc_repo, fake_server):
    # asked to write out every file it is shown, a small model rewrites the tests too, and the guard refuses
    # that edit: the tests are shown for reference, and a rewrite of them in the reply is not applied
    write_config(calc_repo, fake_server, extra={**QUICK, "tiers": {"mid": mid_tier(fake_server, "openai/acme-coder")}})
    fake_server.enqueue(
        "classify", "small", CLASSIFY_OPS.replace('"calc/ops.py"', '"calc/ops.py", "tests/test_ops.py"')
    )
    weaker_test = "```tests/test_ops.py\nfrom calc.ops import add\n\n\ndef test_add():\n    assert True\n```"
    fake_server.enqueue("patch", "mid", WHOLE_FILE + "\n\n" + weaker_test)
    proc = cli([*FIX, "--json"], calc_repo)
    assert proc.returncode == 0, proc.stderr
    prompt = patch_requests(fake_server)[0].text()
    assert "(of: calc/ops.py)" in prompt
    assert "For reference only" in prompt and "def test_sub():" in prompt  # the tests are still there to read
    assert [(r["tier"], r["outcome"]) for r in json.loads(proc.stdout)["steps"] if r["step"] == "patch"] == [
        ("mid", "ok")
    ]
    assert "assert add(2, 3) == 5" in (calc_repo / "tests/test_ops.py").read_text()


def test_the_config_overrides_the_table(cli, calc_repo, fake_server):
    """mid: a known diff model set to search_replace; frontier: an unknown model a pattern says writes diffs."""
    mid = mid_tier(fake_server, "openai/gpt-4.1", edit_format="search_replace")
    frontier = {**mid_tier(fake_server, "openai/acme-coder"), "price": PRICES["frontier"]}
    patterns = {"edit_formats": {"openai/acme-*": "diff"}}
    write_config(
        calc_repo, fake_server, extra={**QUICK, "tiers": {"mid": mid, "frontier": frontier}, "routing": patterns}
    )
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", SEARCH_REPLACE)
    proc = cli([*FIX, "--json"], calc_repo)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert doc["routing"]["edit_formats"] == {
        "mid": {"format": "search_replace", "why": "edit_format: search_replace"},
        "frontier": {"format": "diff", "why": "routing.edit_formats: openai/acme-*"},
    }
    assert PROMPT_MARK["search_replace"] in patch_requests(fake_server)[0].text()


def test_what_a_model_teaches_in_one_repository_sets_its_first_format_in_another(cli, tmp_path, fake_server):
    """Repository A pins diffs for gpt-4.1 and all five fail; in a fresh repository B, `auto` starts whole."""
    first = make_repo(tmp_path / "a", CALC_FILES)
    tier = mid_tier(fake_server, "openai/gpt-4.1", edit_format="diff")
    write_config(first, fake_server, extra={**QUICK, "tiers": {"mid": tier}, "routing": {"attempts": {"mid": 5}}})
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", WRONG_CONTEXT)
    fake_server.enqueue("patch", "frontier", GOOD_PATCH)
    done = cli([*FIX, "--json"], first)
    assert done.returncode == 0, done.stderr
    assert [r["outcome"] for r in json.loads(done.stdout)["steps"] if r["tier"] == "mid"] == ["apply-failed"] * 5
    memory = state_home(tmp_path) / "tieragent" / "edit-formats.json"
    assert stat.S_IMODE(memory.stat().st_mode) == 0o600
    assert json.loads(memory.read_text())["models"]["openai/gpt-4.1"]["diff"]["recent"] == ["failed"] * 5

    second = make_repo(tmp_path / "b", CALC_FILES)
    write_config(second, fake_server, extra={**QUICK, "tiers": {"mid": mid_tier(fake_server, "openai/gpt-4.1")}})
    fake_server.script.clear()
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", WHOLE_FILE)
    proc = cli([*FIX, "--json"], second)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    why = "learned: 5 of 5 diffs from openai/gpt-4.1 failed to apply"
    assert doc["routing"]["edit_formats"]["mid"] == {"format": "whole", "why": why}
    assert PROMPT_MARK["whole"] in patch_requests(fake_server)[-1].text()
    assert [(r["edit_format"], r["outcome"]) for r in doc["steps"] if r["step"] == "patch"] == [("whole", "ok")]
    assert json.loads(memory.read_text())["models"]["openai/gpt-4.1"]["whole"]["recent"] == ["applied"]


# ---------------------------------------------------------------- in-process, over HTTP: what happens after a miss


def run_mid(repo, server, model: str, *replies, memory=None, **tier_fields):
    cfg = http_config(server, {**QUICK, "tiers": {"mid": {"model": model, **tier_fields}}})
    server.enqueue("classify", "small", CLASSIFY_OPS)
    server.enqueue("patch", "mid", *replies)
    server.enqueue("patch", "frontier", GOOD_PATCH)
    return fix(repo, http_provider(cfg), cfg=cfg, format_memory=memory, exit_code_only=True)


def test_failed_search_replace_edits_get_the_file_lines_back_then_the_tier_writes_whole_files(calc_repo, fake_server):
    result = run_mid(calc_repo, fake_server, "anthropic/claude-sonnet-4-5", WRONG_SEARCH, WRONG_SEARCH, WHOLE_FILE)
    assert outcomes(result) == [("mid", "apply-failed"), ("mid", "apply-failed"), ("mid", "ok")]
    rows = [r for r in result.ledger.rows if r.step == "patch"]
    assert rows[0].note == "calc/ops.py block 1: context not found"
    retry = patch_requests(fake_server)[1].text()
    assert "calc/ops.py, SEARCH/REPLACE block 1: context not found" in retry
    assert "line 2 of its SEARCH section:\n        return first - second" in retry
    assert "3 |     return a - b" in retry and "Send every SEARCH/REPLACE block again" in retry
    assert [r.edit_format for r in rows] == ["search_replace", "search_replace", "whole"]
    assert rows[2].edit_format_reason == "2 failed search/replace edits at mid in this run"


def test_whole_files_cut_off_at_the_output_limit_send_the_tier_back_to_its_edit_format(
    calc_repo, fake_server, tmp_path
):
    memory = tmp_path / "state" / "edit-formats.json"
    cut = Reply(WHOLE_FILE[:60], finish_reason="length")
    result = run_mid(calc_repo, fake_server, "openai/acme-coder", cut, SEARCH_REPLACE, memory=memory)
    assert result.status == "fixed" and outcomes(result) == [("mid", "format-error"), ("mid", "ok")]
    rows = [r for r in result.ledger.rows if r.step == "patch"]
    assert [r.edit_format for r in rows] == ["whole", "search_replace"]
    assert rows[0].truncated and rows[1].edit_format_reason == "whole files were cut off at 4096 tokens"
    assert "the files do not fit in one reply" in patch_requests(fake_server)[1].text()
    assert json.loads(memory.read_text())["models"]["openai/acme-coder"]["whole"]["recent"] == ["cut-off"]


def test_this_repositorys_record_overrides_the_user_level_one(calc_repo, fake_server, tmp_path):
    """The user-level record says gpt-4.1's diffs fail (alone it would start whole files, as the run in
    another repository above shows); this repository's ledger says five applied: diffs."""
    from tieragent.core.vocab import Outcome, Step
    from tieragent.flows.format_memory import remember
    from tieragent.model.ledger import LedgerRow, append_history

    def row(outcome: Outcome) -> LedgerRow:
        return LedgerRow(Step.PATCH, "mid", "openai/gpt-4.1", 1, 0, 1, None, 0.1, outcome, edit_format="diff")

    memory = tmp_path / "state" / "edit-formats.json"
    remember(memory, [row(Outcome.APPLY_FAILED)] * 6)
    (calc_repo / ".git/tieragent").mkdir()
    append_history(calc_repo / ".git/tieragent", {"steps": [row(Outcome.TESTS_FAILED).to_json()] * 5})
    here = run_mid(calc_repo, fake_server, "openai/gpt-4.1", GOOD_PATCH, memory=memory)
    assert here.status == "fixed"
    assert here.routing["edit_formats"]["mid"] == {"format": "diff", "why": "built-in table: gpt-4.1 family"}
