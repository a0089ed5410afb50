"""Bad input gets a clear message and a defined exit code, never a traceback.

The CLI runs in-process (`cli`), except where only a real process shows it (what gets imported).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import cli_env, make_repo, snapshot


def test_not_a_git_repo_exits_2(cli, tmp_path):
    d = tmp_path / "plain"
    d.mkdir()
    proc = cli(["fix", "anything"], d)
    assert proc.returncode == 2
    assert "not inside a git repository" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_model_configured_exits_2_and_mentions_demo(cli, calc_repo):
    proc = cli(["fix", "anything"], calc_repo)
    assert proc.returncode == 2
    assert "no model configured" in proc.stderr
    assert "TIERAGENT_TIERS__MID__MODEL" in proc.stderr and "tieragent demo" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_config_names_file_key_and_reason(cli, calc_repo):
    (calc_repo / ".tieragent.yaml").write_text(
        "tiers:\n  small: {model: openai/a}\n  mid: {api_base: http://x}\n  frontier: {model: openai/b}\n"
    )
    proc = cli(["fix", "anything", "--json"], calc_repo)
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert data["status"] == "error" and data["error"].startswith(".tieragent.yaml: tiers.mid.model: missing")


def test_invalid_yaml_exits_2(cli, calc_repo):
    (calc_repo / ".tieragent.yaml").write_text("tiers: [unclosed\n")
    proc = cli(["fix", "anything"], calc_repo)
    assert proc.returncode == 2
    assert ".tieragent.yaml: line" in proc.stderr and "not valid YAML" in proc.stderr


def test_env_var_config_error_names_the_variable(cli, calc_repo):
    env = cli_env(calc_repo.parent)
    env["TIERAGENT_BUDGET__MAX_COST_USD"] = "lots"
    proc = cli(["fix", "anything"], calc_repo, env=env)
    assert proc.returncode == 2
    assert "env TIERAGENT_BUDGET__MAX_COST_USD: budget.max_cost_usd" in proc.stderr


def test_missing_key_variable_exits_2(cli, calc_repo):
    (calc_repo / ".tieragent.yaml").write_text(
        "tiers:\n"
        "  small: {model: openai/a, api_key_env: MY_UNSET_KEY}\n"
        "  mid: {model: openai/b}\n"
        "  frontier: {model: openai/c}\n"
    )
    proc = cli(["fix", "anything", "--trust-config"], calc_repo)
    assert proc.returncode == 2
    assert "MY_UNSET_KEY is not set" in proc.stderr


def test_provider_key_missing_is_reported_before_any_call(cli, calc_repo):
    (calc_repo / ".tieragent.yaml").write_text(
        "tiers:\n  small: {model: openai/gpt-5-nano}\n  mid: {model: anthropic/claude-sonnet-4-5}\n"
        "  frontier: {model: anthropic/claude-opus-4-5}\n"
    )
    proc = cli(["fix", "anything"], calc_repo)
    assert proc.returncode == 2
    assert "OPENAI_API_KEY" in proc.stderr


def test_no_test_command_exits_2(cli, tmp_path, fake_server):
    from conftest import write_config

    repo = make_repo(tmp_path / "r", {"main.c": "int main(){return 0;}\n"})
    write_config(repo, fake_server)
    cfg = (repo / ".tieragent.yaml").read_text()
    (repo / ".tieragent.yaml").write_text("\n".join(line for line in cfg.splitlines() if "pytest" not in line) + "\n")
    proc = cli(["fix", "anything", "--trust-config"], repo)
    assert proc.returncode == 2, proc.stderr
    assert "no test command" in proc.stderr


def test_commands_that_call_no_model_never_import_litellm(calc_repo):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tieragent.cli import app\n"
        "import tieragent.flows.fix, tieragent.cli.render, tieragent.cli.wiring, tieragent.cli.demo\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['map', '-C', sys.argv[1]])\n"
        "print('litellm' in sys.modules, 'openai' in sys.modules, 'prompt_toolkit' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(calc_repo)], capture_output=True, text=True, env=cli_env(calc_repo.parent)
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False False False"  # chat's prompt library: only for chat


def test_empty_request_exits_2(cli, calc_repo):
    proc = cli(["fix", "   "], calc_repo)
    assert proc.returncode == 2 and "empty" in proc.stderr


def test_version():
    proc = subprocess.run([sys.executable, "-m", "tieragent", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("tieragent ")


def test_test_command_that_cannot_run_exits_2_before_any_patch(cli, calc_repo, fake_server):
    from conftest import write_config

    write_config(calc_repo, fake_server, extra={"validate": {"test": "no-such-test-runner --all"}})
    before = snapshot(calc_repo)
    proc = cli(["fix", "anything", "--json"], calc_repo)
    assert proc.returncode == 2, proc.stderr  # not the provider's error: the calls made while the baseline ran
    assert "could not run" in json.loads(proc.stdout)["error"]  # failed (nothing is enqueued), the baseline first
    assert snapshot(calc_repo) == before


def test_no_tests_collected_exits_2(cli, tmp_path, fake_server):
    from conftest import write_config

    repo = make_repo(tmp_path / "r", {"tests/helper.py": "X = 1\n", "app.py": "def f():\n    return 1\n"})
    write_config(repo, fake_server)
    before = snapshot(repo)
    proc = cli(["fix", "anything"], repo)
    assert proc.returncode == 2, proc.stderr
    assert "collected no tests" in proc.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    "args, says",
    [
        (["fix"], "say what to fix"),
        (["fix", "x", "--no-such-flag"], "No such option"),
        (["frobnicate"], "No such command"),
        (["review", "--fail-on"], "requires an argument"),
        (["review", "--format", "xml"], "--format 'xml'"),
        (["review", "--staged", "--base", "main"], "give one of them"),
        (["fix", "--request-file", "/no/such/file"], "cannot read it"),
        (["fix", "x", "--request-file", "/no/such/file"], "not both"),
    ],
)
def test_usage_mistakes_print_the_usage_and_exit_2(cli, calc_repo, args, says):
    proc = cli(args, calc_repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert says in proc.stderr
    assert "internal error" not in proc.stderr and "restored" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "flag, environ, expected",
    [
        (None, {"CI": "true"}, True),
        (None, {"TIERAGENT_CI": "1"}, True),
        (False, {"CI": "true"}, False),
        (True, {}, True),
    ],
)
def test_ci_mode_detection(flag, environ, expected):
    from tieragent.cli.streams import ci_mode

    assert ci_mode(flag, environ) is expected


def test_stdin_alone_does_not_switch_ci_mode_or_the_format(monkeypatch):
    """A piped diff (`git diff | tieragent review --diff -`) is not CI: stdin says nothing about stdout (issue 21)."""
    import io

    from tieragent.cli.streams import ci_mode, output_mode

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert ci_mode(None, {}) is False
    monkeypatch.setattr(sys, "stdout", type("Tty", (io.StringIO,), {"isatty": lambda self: True})())
    assert output_mode(None, None, {}).fmt == "text"
    assert output_mode(None, None, {"CI": "true"}).fmt == "text"  # a terminal on stdout gets text, even in CI
    assert output_mode(None, "json", {"CI": "true"}).fmt == "json"
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert output_mode(None, None, {"CI": "true"}).fmt == "json"  # CI with stdout in a log or a pipe: JSON
    assert output_mode(None, None, {}).fmt == "text"
    assert output_mode(True, None, {}).interactive is False


def test_a_bare_repository_exits_2(cli, tmp_path):
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    proc = cli(["fix", "anything", "--no-ci"], bare)
    assert proc.returncode == 2 and "bare" in proc.stderr and "Traceback" not in proc.stderr
