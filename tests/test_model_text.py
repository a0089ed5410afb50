"""Model text is sanitised where replies enter (the gateway): lone surrogates, NUL and other control
characters never reach a file, the terminal or the ledger, and never crash a run."""

from __future__ import annotations

import json

import pytest
from conftest import CLASSIFY_OPS, GOOD_PATCH, QUICK, snapshot
from fake_openai import Reply
from flowkit import config, fix, http_config, http_provider, scripted

from tieragent.core.errors import ExitCode
from tieragent.model.sanitize import clean_model_text

HOSTILE = "\ud800 nul\x00 esc\x1b[31m bell\x07 c1\x85 del\x7f"


@pytest.mark.parametrize(
    "text, clean",
    [
        ("plain\ttext\r\nwith lines\n", "plain\ttext\r\nwith lines\n"),
        ("page\fbreak", "page\fbreak"),  # kept: Python and C sources use form feeds
        ("lone \ud800 high, lone \udfff low", "lone \ufffd high, lone \ufffd low"),
        (
            "a pair split in two code points \ud83d\ude00 stays one",
            "a pair split in two code points \U0001f600 stays one",
        ),
        ("nul\x00 esc\x1b[31m bell\x07 c1\x85 del\x7f", "nul\ufffd esc\ufffd[31m bell\ufffd c1\ufffd del\ufffd"),
        ("emoji \U0001f600 and accents é", "emoji \U0001f600 and accents é"),
    ],
)
def test_clean_model_text(text, clean):
    assert clean_model_text(text) == clean
    clean.encode("utf-8")  # always encodable


# where the fixed run's test output is not the point: the calc repository's quick command (QUICK) judges it


def patch_with(comment: str) -> str:
    return GOOD_PATCH.replace("return a + b", f"return a + b  # {comment}")


def test_a_reply_with_a_lone_surrogate_and_control_characters_is_written_clean(calc_repo):
    cfg = config(QUICK)
    script = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [patch_with(HOSTILE)]}
    result = fix(calc_repo, scripted(script, cfg), cfg=cfg, exit_code_only=True)
    assert result.exit_code == ExitCode.FIXED, result.error
    written = (calc_repo / "calc/ops.py").read_text(encoding="utf-8")
    assert "return a + b  # \ufffd nul\ufffd esc\ufffd[31m" in written
    assert not any(c in written for c in "\x00\x1b\x07\x85\x7f")
    assert "\ud800" not in result.patch and "\x1b" not in result.patch
    json.dumps(result.to_json()).encode("utf-8")  # the --json output and the history line can be written


def test_a_surrogate_escape_in_the_json_of_a_reply_over_http(calc_repo, fake_server):
    cfg = http_config(fake_server, QUICK)
    fake_server.enqueue("classify", "small", CLASSIFY_OPS)
    fake_server.enqueue("patch", "mid", Reply(text=patch_with("\ud800\x00")))
    assert "\\ud800" in json.dumps({"content": patch_with("\ud800")})  # how it travels: a JSON escape
    result = fix(calc_repo, http_provider(cfg), cfg=cfg, exit_code_only=True)
    assert result.exit_code == ExitCode.FIXED, result.error
    assert "return a + b  # \ufffd\ufffd" in (calc_repo / "calc/ops.py").read_text(encoding="utf-8")
    history = (calc_repo / ".git/tieragent/ledger.jsonl").read_bytes()
    history.decode("utf-8")
    assert b"\\ud800" not in history


def test_a_surrogate_in_a_failing_patch_restores_the_tree(calc_repo):
    """A bad patch carrying a surrogate: the run ends as any failure does, and every file is back."""
    before = snapshot(calc_repo)
    bad = GOOD_PATCH.replace("return a + b", "return a * b  # \ud800")
    script = {("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [bad], ("patch", "frontier"): [bad]}
    result = fix(calc_repo, scripted(script))
    assert result.exit_code == ExitCode.NOT_FIXED, result.error
    assert snapshot(calc_repo) == before
    assert "\ufffd" in (calc_repo / ".git/tieragent/attempts" / f"{result.run_id}.diff").read_text(encoding="utf-8")
