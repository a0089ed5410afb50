"""The repository's commands (tests, lint, --repro) run model-written code: they see an allowlisted
environment, the names in validate.env_passthrough and the values of validate.env, and nothing else."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import CLASSIFY_OPS, GOOD_PATCH, cli_env, write_config
from flowkit import PYTEST, config, fix, scripted

from tieragent.core.errors import ExitCode
from tieragent.repo.runner import SubprocessRunner, command_environment, passed_names

SECRETS = {
    "GITHUB_TOKEN": "ghp_" + "t0K" * 12,
    "MY_DB_PASSWORD": "hunter2-but-longer",
    "OPENAI_API_KEY": "sk-proj-" + "Zx9" * 12,
    "HTTPS_PROXY": "http://alice:s3cret@proxy.example:3128",
    "PIP_INDEX_URL": "https://bob:pw@pypi.internal/simple",
    "NPM_TOKEN": "npm_" + "a" * 36,
    "AWS_SECRET_ACCESS_KEY": "x" * 40,
    "PYENV_GITHUB_TOKEN": "a name on an allowed prefix that says it holds a credential",
    "XDG_RUNTIME_DIR": "/run/user/1000",
}


def dumping_test_command(dump: Path) -> str:
    """The test command, preceded by a program that appends its environment to `dump` (one JSON per line)."""
    script = dump.with_suffix(".py")
    script.write_text(
        f"import json, os\nwith open({str(dump)!r}, 'a') as f:\n    f.write(json.dumps(dict(os.environ)) + '\\n')\n"
    )
    return f'"{sys.executable}" "{script}" && {PYTEST}'


def test_the_test_command_sees_no_secret_but_what_the_config_passes(calc_repo, monkeypatch, tmp_path):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NEEDED_BY_TESTS", "passed on purpose")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    dump = tmp_path / "environment.jsonl"
    cfg = config(
        {
            "validate": {
                "test": dumping_test_command(dump),
                "env_passthrough": ["NEEDED_BY_TESTS"],
                "env": {"APP_MODE": "test"},
            }
        }
    )
    result = fix(
        calc_repo, scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg), cfg=cfg
    )
    assert result.exit_code == ExitCode.FIXED, result.error  # the tests ran, in this venv, before and after the patch
    runs = [json.loads(line) for line in dump.read_text().splitlines()]
    assert len(runs) == 2  # the baseline and the patched tree
    for seen in runs:
        assert not set(SECRETS) & set(seen), set(SECRETS) & set(seen)
        assert not any(value in json.dumps(seen) for value in SECRETS.values())
        assert seen["NEEDED_BY_TESTS"] == "passed on purpose"  # validate.env_passthrough
        assert seen["APP_MODE"] == "test"  # validate.env
        assert seen["LC_ALL"] == "C.UTF-8" and seen["XDG_CACHE_HOME"] == str(tmp_path / "cache")
        assert {"PATH", "HOME"} <= set(seen) and seen["PYTHONDONTWRITEBYTECODE"] == "1"


def test_command_environment_is_an_allowlist():
    environ = {
        **SECRETS,
        "PATH": "/bin",
        "HOME": "/home/u",
        "GOCACHE": "/c",
        "LC_CTYPE": "C",
        "XDG_CONFIG_HOME": "/x",
        "DATABASE_URL": "postgres://localhost/db",
        "SOMETHING_ELSE": "1",
        "MY_GATEWAY": "k",
    }
    assert command_environment(environ) == {
        "PATH": "/bin",
        "HOME": "/home/u",
        "GOCACHE": "/c",
        "LC_CTYPE": "C",
        "XDG_CONFIG_HOME": "/x",
    }
    kept = command_environment(environ, passthrough=["GITHUB_TOKEN", "DATABASE_URL"])
    assert kept["GITHUB_TOKEN"] == SECRETS["GITHUB_TOKEN"] and kept["DATABASE_URL"] == environ["DATABASE_URL"]
    assert "HOME" not in command_environment(environ, key_names=["HOME"])  # a tier's key variable, whatever its name
    allowed, passed, dropped = passed_names(environ, ["DATABASE_URL", "NOT_SET"])
    assert allowed == ["PATH", "HOME", "GOCACHE", "LC_CTYPE", "XDG_CONFIG_HOME"] and passed == ["DATABASE_URL"]
    assert dropped == len(environ) - 6


def test_pytest_options_and_with_env_still_apply(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_ADDOPTS", "-q")
    monkeypatch.setenv("GITHUB_TOKEN", SECRETS["GITHUB_TOKEN"])
    probe = (
        f"\"{sys.executable}\" -c \"import os; print(os.environ['PYTEST_ADDOPTS'], os.environ['EXTRA'], "
        "'GITHUB_TOKEN' in os.environ)\""
    )
    out = SubprocessRunner(passthrough=["NOPE"]).with_env({"EXTRA": "given"}).run(probe, tmp_path, 30).output
    assert out.split() == ["-q", "-p", "no:cacheprovider", "given", "False"]


def test_doctor_lists_what_passes_through(calc_repo, fake_server, cli, tmp_path):
    write_config(
        calc_repo,
        fake_server,
        extra={"validate": {"env_passthrough": ["NEEDED_BY_TESTS", "UNSET_ONE"], "env": {"APP_MODE": "test"}}},
    )
    env = {**cli_env(tmp_path), **SECRETS, "NEEDED_BY_TESTS": "1"}
    res = cli(["doctor", "--json", "--no-baseline", "-C", str(calc_repo)], calc_repo, env=env)
    check = {c["name"]: c for c in json.loads(res.stdout)["checks"]}["command environment"]
    assert check["status"] == "ok"
    detail = check["detail"]
    assert detail.startswith("passes PATH, HOME, ")
    assert "(+ env_passthrough: NEEDED_BY_TESTS; validate.env: APP_MODE)" in detail
    assert not any(name in detail for name in SECRETS) and "UNSET_ONE" not in detail
    passed = command_environment(env, ["NEEDED_BY_TESTS", "UNSET_ONE"])
    assert detail.endswith(f"; drops {len(env) - len(passed)} other(s)")


def test_doctors_baseline_runs_with_the_environment_fix_gives(calc_repo, fake_server, cli, tmp_path):
    needs = (
        f"\"{sys.executable}\" -c \"import os, sys; sys.exit(os.environ.get('APP_MODE') != 'test' or "
        "'NEEDED_BY_TESTS' not in os.environ)\""
    )
    write_config(
        calc_repo,
        fake_server,
        extra={"validate": {"test": needs, "env_passthrough": ["NEEDED_BY_TESTS"], "env": {"APP_MODE": "test"}}},
    )
    env = {**cli_env(tmp_path), "NEEDED_BY_TESTS": "1"}
    res = cli(["doctor", "--json", "-C", str(calc_repo)], calc_repo, env=env)
    check = {c["name"]: c for c in json.loads(res.stdout)["checks"]}["baseline"]
    assert check["status"] == "ok", check
