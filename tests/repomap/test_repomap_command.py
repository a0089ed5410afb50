"""`tieragent map`: the JSON shape, --explain, errors, the config's token default, no litellm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from repomap_fixtures import make_repo  # noqa: F401  (fixtures)

from tieragent.cli.map_command import run_map
from tieragent.core.tokens import estimate_tokens

FILES = {
    "src/parser.py": (
        "def parse_header(line):\n    return line.split(':', 1)\n\n\ndef parse_body(data):\n    return data\n"
    ),
    "src/client.py": (
        "from src.parser import parse_header\n\n\nclass Client:\n    def fetch(self, url):\n"
        "        return parse_header(url)\n"
    ),
    "tests/test_parser.py": (
        "from src.parser import parse_header\n\n\ndef test_parse_header():\n    assert parse_header('a: b')\n"
    ),
}


@pytest.fixture
def repo(make_repo):
    return make_repo(FILES)


def test_json_is_one_object_with_the_outline_and_ranking(repo, capsys):
    code = run_map(repo, "parse_header splits on the wrong colon", None, True, False)
    out, _err = capsys.readouterr()
    assert code == 0
    data = json.loads(out)  # the whole of stdout is one JSON object
    assert data["status"] == "ok" and data["request"] == "parse_header splits on the wrong colon"
    assert data["token_budget"] == 1500
    assert data["outline"].startswith("src/parser.py\n")
    assert data["outline_files"][0] == "src/parser.py"
    assert data["outline_tokens"] == estimate_tokens(data["outline"]) <= 1500
    assert next(f["path"] for f in data["files"]) == "src/parser.py"
    assert set(data["files"][0]) == {"path", "score"}
    assert data["index"]["files"] == 3 and data["index"]["parsed"] + data["index"]["reused"] == 3


def test_json_with_explain_carries_the_reasons(repo, capsys):
    assert run_map(repo, "parse_header splits on the wrong colon", 50, True, True) == 0
    data = json.loads(capsys.readouterr().out)
    first = data["files"][0]
    assert "defines 'parse_header', mentioned in request" in first["reasons"]
    assert any(r.startswith("pagerank") for r in first["reasons"])
    assert data["token_budget"] == 50 and data["outline_tokens"] <= 50


def test_text_output_and_explain(repo, capsys):
    assert run_map(repo, "Client.fetch", None, False, False) == 0
    out = capsys.readouterr().out
    assert out.startswith("src/client.py\n") and "  class Client:" in out and "#" not in out
    assert run_map(repo, "Client.fetch", None, False, True) == 0
    out = capsys.readouterr().out
    assert "  1. " in out and "src/client.py" in out and "defines 'fetch', mentioned in request" in out
    assert "files indexed" in out


def test_without_a_request_the_outline_is_global(repo, capsys):
    assert run_map(repo, None, None, True, False) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["request"] is None and data["outline_files"][0] == "src/parser.py"


def test_from_a_subdirectory_the_whole_work_tree_is_mapped(repo, capsys):
    assert run_map(repo / "src", None, None, True, False) == 0
    data = json.loads(capsys.readouterr().out)
    assert Path(data["root"]) == repo.resolve() and data["index"]["files"] == 3


def test_token_default_comes_from_the_config(repo, capsys):
    (repo / ".tieragent.yaml").write_text("context:\n  outline_tokens: 30\n")
    assert run_map(repo, "parse", None, True, False) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["token_budget"] == 30 and data["outline_tokens"] <= 30


def test_not_a_git_repository_exits_2_with_a_clear_message(tmp_path, capsys):
    assert run_map(tmp_path, "x", None, False, False) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not inside a git repository" in captured.err
    assert run_map(tmp_path, "x", None, True, False) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "error" and data["exit_code"] == 2 and "not inside a git repository" in data["error"]


def test_bad_token_budget_and_bad_config_exit_2(repo, capsys):
    assert run_map(repo, "x", 0, False, False) == 2
    assert "--tokens" in capsys.readouterr().err
    (repo / ".tieragent.yaml").write_text("context:\n  outline_tokens: -5\n")
    assert run_map(repo, "x", None, False, False) == 2
    assert "context.outline_tokens" in capsys.readouterr().err


def test_map_never_imports_litellm(repo):
    code = (
        "import sys\n"
        "from tieragent.cli.map_command import run_map\n"
        f"rc = run_map({str(repo)!r}, 'parse_header', None, True, True)\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'openai', 'tiktoken'))\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def test_the_cli_command(repo):
    """Through `python -m tieragent map`, which never imports litellm."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tieragent", "map", "parse_header", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["outline_files"][0] == "src/parser.py"
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert imported and not [m for m in imported if m.split(".")[0] == "litellm"]
