"""How a tier's edit format is chosen: the model table, the local/unknown rule, the config, and what
was learned. Pure functions, driven table by table (the flow tests are in test_edit_format_flow.py)."""

from __future__ import annotations

import json
import re
import stat

import pytest

from tieragent.core.vocab import Outcome, Step
from tieragent.flows.format_memory import read_memory, remember
from tieragent.flows.ledger_summary import format_records
from tieragent.model.ledger import LedgerRow
from tieragent.routing.edit_format import (
    FAMILIES,
    FormatStats,
    Learned,
    Prior,
    choose_format,
    is_local,
    merge_learned,
    prior_format,
    stated_size,
)


@pytest.mark.parametrize(
    "model, api_base, fmt, why",
    [
        ("openai/gpt-5-mini", None, "diff", "built-in table: gpt-5 family"),
        ("openai/gpt-4.1", "http://127.0.0.1:4000/v1", "diff", "built-in table: gpt-4.1 family"),  # a proxy
        ("openai/gpt-4.1-nano", None, "search_replace", "built-in table: gpt-4.1-nano family"),
        ("openai/o4-mini", None, "diff", "built-in table: o-series family"),
        ("anthropic/claude-sonnet-4-5", None, "search_replace", "built-in table: claude family"),
        ("bedrock/anthropic.claude-opus-4-1-20250805-v1:0", None, "search_replace", "built-in table: claude family"),
        ("gemini/gemini-2.5-flash", None, "search_replace", "built-in table: gemini family"),
        ("deepseek/deepseek-chat", None, "search_replace", "built-in table: deepseek family"),
        ("ollama/deepseek-r1:70b", None, "whole", "local model (ollama)"),  # a local copy of an open model
        ("ollama_chat/qwen2.5-coder:1.5b", None, "whole", "small model (1.5B parameters)"),
        ("openai/qwen2.5-coder-32b-instruct", "https://api.example.com/v1", "whole", "built-in table: qwen2.5-coder"),
        ("ollama_chat/llama3.3", None, "whole", "local model (ollama_chat)"),
        ("openai/acme-coder", "http://localhost:8080/v1", "whole", "local model (loopback api_base)"),
        ("openai/acme-coder", "http://[::1]:8080/v1", "whole", "local model (loopback api_base)"),
        ("openai/acme-coder", "https://llm.example.com/v1", "whole", "unknown model"),
        ("openai/acme-coder", None, "whole", "unknown model"),
    ],
)
def test_the_start_format_by_model(model, api_base, fmt, why):
    prior = prior_format(model, api_base, {})
    assert prior.format == fmt
    assert prior.why.startswith(why)
    assert prior.fallback in ("diff", "search_replace")  # where whole files do not fit, an edit format


def test_config_patterns_come_before_the_table():
    assert prior_format("openai/acme-coder", None, {"openai/acme-*": "diff"}) == Prior(
        "diff", "diff", "routing.edit_formats: openai/acme-*"
    )
    assert prior_format("anthropic/claude-sonnet-4-5", None, {"*CLAUDE*": "whole"}).format == "whole"  # any case
    assert prior_format("anthropic/claude-sonnet-4-5", None, {"openai/*": "diff"}).format == "search_replace"


def test_every_row_of_the_table_says_why_and_its_pattern_compiles():
    for fam in FAMILIES:
        re.compile(fam.pattern)
        assert len(fam.why) > 30, fam.name
        assert fam.fallback != "whole"


def test_local_and_size():
    assert is_local("ollama/llama3", None) == "ollama"
    assert is_local("openai/x", "127.0.0.2:8080") == "loopback api_base"
    assert is_local("openai/x", "https://10.0.0.5/v1") is None  # a private address is not this machine
    assert stated_size("openai/mixtral-8x7b") is None  # 8x7b is not "7b"
    assert stated_size("meta-llama/llama-3.1-405b-instruct") == 405


def learned(**stats: FormatStats) -> Learned:
    return Learned("m", stats, {})


@pytest.mark.parametrize(
    "configured, prior, got, fits, fmt, why",
    [
        ("diff", "whole", learned(diff=FormatStats(10, 10)), True, "diff", "edit_format: diff"),
        ("search_replace", "diff", None, True, "search_replace", "edit_format: search_replace"),
        ("whole", "diff", None, True, "whole", "edit_format: whole"),
        ("whole", "diff", None, False, "diff", "edit_format: whole, but the files are too large"),
        ("auto", "diff", None, True, "diff", "p"),
        ("auto", "whole", None, True, "whole", "p"),
        ("auto", "whole", None, False, "search_replace", "p; the files are too large to write out whole"),
        ("auto", "diff", learned(diff=FormatStats(4, 4)), True, "diff", "p"),  # too few to judge
        ("auto", "diff", learned(diff=FormatStats(9, 7)), True, "whole", "learned: 7 of 9 diffs from m failed"),
        ("auto", "diff", learned(diff=FormatStats(6, 3)), True, "diff", "p"),  # half is not most
        ("auto", "diff", learned(diff=FormatStats(6, 6)), False, "search_replace", "learned: 6 of 6 diffs"),
        (
            "auto",
            "diff",
            learned(diff=FormatStats(6, 6), search_replace=FormatStats(5, 5), whole=FormatStats(5, 4)),
            True,
            "diff",  # everything failed: nothing better to go to
            "p",
        ),
        (
            "auto",
            "whole",
            learned(whole=FormatStats(6, 5, cut_off=5)),
            True,
            "search_replace",
            "learned: 5 of 6 whole files from m were cut off at the output limit",
        ),
        (
            "auto",
            "whole",
            learned(search_replace=FormatStats(10, 1)),
            True,
            "search_replace",
            "learned: 9 of 10 search/replace edits from m applied",
        ),
        ("auto", "whole", learned(search_replace=FormatStats(10, 3)), True, "whole", "p"),  # not reliable enough
    ],
)
def test_the_choice(configured, prior, got, fits, fmt, why):
    fallback = "diff" if prior == "diff" else "search_replace"
    choice = choose_format(configured, Prior(prior, fallback, "p"), got, fits)
    assert (choice.format, choice.why[: len(why)]) == (fmt, why)


def test_this_repositorys_record_overrides_the_user_level_one_where_it_knows_enough():
    here = {"diff": FormatStats(6, 0), "whole": FormatStats(2, 2)}
    everywhere = {"diff": FormatStats(20, 18), "whole": FormatStats(8, 0)}
    got = merge_learned("m", here, everywhere)
    assert got.of("diff") == FormatStats(6, 0) and got.where["diff"] == "here"
    assert got.of("whole") == FormatStats(8, 0) and got.where["whole"] == ""  # two attempts here say nothing
    assert choose_format("auto", Prior("diff", "diff", "p"), got, True).format == "diff"
    bad_here = merge_learned("m", {"diff": FormatStats(5, 4)}, {})
    assert choose_format("auto", Prior("diff", "diff", "p"), bad_here, True).why.startswith("learned here: 4 of 5")


# ---------------------------------------------------------------- the records learning reads


def row(model: str, fmt: str, outcome: Outcome, truncated: bool = False, step: Step = Step.PATCH) -> LedgerRow:
    return LedgerRow(step, "mid", model, 10, 0, 10, None, 0.1, outcome, edit_format=fmt, truncated=truncated)


def test_the_user_level_record_keeps_the_last_outcomes_per_model_and_format(tmp_path):
    path = tmp_path / "state" / "tieragent" / "edit-formats.json"
    rows = [row("m", "diff", Outcome.APPLY_FAILED) for _ in range(25)] + [
        row("m", "diff", Outcome.TESTS_FAILED),  # applied: the tests judge the change, not the format
        row("m", "whole", Outcome.FORMAT_ERROR, truncated=True),
        row("m", "whole", Outcome.PROVIDER_ERROR),  # no reply: says nothing about the model
        row("m", "diff", Outcome.OK, step=Step.CLASSIFY),  # not a patch
        row("other", "search_replace", Outcome.OK),
    ]
    assert remember(path, rows) == 28
    assert read_memory(path, "m") == {"diff": FormatStats(20, 19), "whole": FormatStats(1, 1, 1)}
    assert read_memory(path, "other") == {"search_replace": FormatStats(1, 0)}
    assert read_memory(path, "unknown") == {}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert set(data) == {"version", "models"} and set(data["models"]["m"]) == {"updated", "diff", "whole"}
    assert set(data["models"]["m"]["diff"]) == {"recent"}  # outcome words only: no text from any repository


def test_a_damaged_user_level_record_counts_as_empty_and_is_rewritten(tmp_path):
    path = tmp_path / "edit-formats.json"
    path.write_text("{not json")
    assert read_memory(path, "m") == {}
    remember(path, [row("m", "diff", Outcome.OK)])
    assert read_memory(path, "m") == {"diff": FormatStats(1, 0)}


def test_this_repositorys_record_per_format():
    steps = [r.to_json() for r in [row("m", "diff", Outcome.APPLY_FAILED), row("m", "whole", Outcome.OK)]]
    old = {"step": "patch", "model": "m", "outcome": "format-error"}  # written before formats were recorded
    runs = [{"steps": [*steps, old]}, {"steps": [row("n", "diff", Outcome.OK).to_json()]}]
    assert format_records(runs, "m") == {"diff": FormatStats(2, 2), "whole": FormatStats(1, 0)}
