"""`tieragent init`, `doctor` and `config show`: real files, real git repositories, and the fake
OpenAI-compatible server for `doctor --ping`. The commands are driven in-process through a Typer
app they are registered on (as app.py registers them), with the environment set by monkeypatch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from conftest import CALC_FILES, FAKE_KEY, git, make_repo, state_home, trust_config, write_config
from fake_openai import Reply
from typer.testing import CliRunner

from tieragent.cli.config_show import config_report, looks_secret_key, mask_secrets
from tieragent.cli.init_command import PRESETS, preset_from_environment
from tieragent.cli.setup_commands import register
from tieragent.core.config import load_config, load_config_with_sources
from tieragent.core.trust import CI_VARIABLES
from tieragent.judge.detect import detect_commands, python_command
from tieragent.judge.validation import detect_test_command

PY = python_command()
GREEN_CALC = {
    **CALC_FILES,
    "calc/ops.py": CALC_FILES["calc/ops.py"].replace("return a - b\n\n\ndef sub", "return a + b\n\n\ndef sub"),
}


@pytest.fixture
def run(monkeypatch, tmp_path):
    """`run("doctor", "-C", repo)` -> click's Result (stdout and stderr apart), in a clean environment."""
    for name in list(os.environ):
        if name.startswith(("TIERAGENT_", "OPENAI_", "ANTHROPIC_", "GEMINI_", "GOOGLE_")) or name in (
            "FAKE_PROVIDER_KEY",
            *CI_VARIABLES,
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # keep the developer's user config out
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home(tmp_path)))  # and the configs they trust
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        pass

    register(app)

    def invoke(*args: object, input: str | None = None):
        return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


# ---------------------------------------------------------------- detection

NPM_TEST = json.dumps({"scripts": {"test": "jest"}})
DETECTION = [
    # (files, test command, lint command)
    ({"conftest.py": "", "app.py": ""}, f"{PY} -m pytest -q", None),
    ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, f"{PY} -m pytest -q", None),
    ({"tests/test_x.py": "def test_x():\n    assert 1\n"}, f"{PY} -m pytest -q", None),
    (
        {"calc/ops.py": "", "calc/test_ops.py": "def test_x():\n    assert 1\n"},
        f"{PY} -m pytest -q",
        None,
    ),  # a package's own tests
    ({"tests/__init__.py": "", "tests/test_x.py": "import unittest\n"}, f"{PY} -m unittest", None),
    ({"tests/test_x.py": "import unittest\n"}, f"{PY} -m unittest discover -s tests", None),
    ({"test_x.py": "from unittest import TestCase\n"}, f"{PY} -m unittest", None),
    (
        {"pytest.ini": "[pytest]\n", "tests/test_x.py": "import unittest\n"},
        f"{PY} -m pytest -q",
        None,
    ),  # pytest runs them too
    ({"tox.ini": "[tox]\nenvlist = py311\n"}, "tox", None),
    ({"tox.ini": "[tox]\n[testenv]\ncommands = pytest\n"}, f"{PY} -m pytest -q", None),
    ({"noxfile.py": "import nox\n"}, "nox", None),
    ({"ruff.toml": "line-length = 100\n"}, None, "ruff check ."),
    ({".ruff.toml": ""}, None, "ruff check ."),
    ({"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, None, "ruff check ."),
    ({".flake8": "[flake8]\n"}, None, "flake8"),
    ({"setup.cfg": "[flake8]\nmax-line-length = 100\n"}, None, "flake8"),
    ({"tox.ini": "[tox]\n[flake8]\nmax-line-length = 100\n"}, "tox", "flake8"),
    ({"mypy.ini": "[mypy]\n"}, None, "mypy ."),
    (
        {"pyproject.toml": "[tool.mypy]\nstrict = true\n[tool.ruff]\n"},
        None,
        "ruff check .",
    ),  # ruff first, mypy also found
    ({"package.json": NPM_TEST}, "npm test", None),
    ({"package.json": NPM_TEST, "pnpm-lock.yaml": ""}, "pnpm test", None),
    ({"package.json": NPM_TEST, "yarn.lock": ""}, "yarn test", None),
    ({"package.json": json.dumps({"scripts": {"test": 'echo "Error: no test specified" && exit 1'}})}, None, None),
    ({"package.json": NPM_TEST, "eslint.config.js": "export default []\n"}, "npm test", "npx eslint ."),
    ({"package.json": NPM_TEST, ".eslintrc.json": "{}"}, "npm test", "npx eslint ."),
    ({"package.json": json.dumps({"devDependencies": {"eslint": "^9"}})}, None, "npx eslint ."),
    ({"go.mod": "module x\n"}, "go test ./...", None),
    ({"go.mod": "module x\n", ".golangci.yml": "linters: {}\n"}, "go test ./...", "golangci-lint run"),
    (
        {"Cargo.toml": "[package]\nname = 'x'\n"},
        "cargo test",
        "cargo clippy --quiet --message-format short -- -D warnings",
    ),
    ({"Makefile": "test: build\n\t./run\nlint:\n\t./lint\n"}, "make test", "make lint"),
    ({"Makefile": "test := 1\nall:\n\techo\n"}, None, None),
    ({"README.md": "hello\n"}, None, None),
]


@pytest.mark.parametrize(
    "files,test,lint", DETECTION, ids=[", ".join(sorted(f)) + f" -> {t} | {lt}" for f, t, lt in DETECTION]
)
def test_detect_commands(tmp_path, files, test, lint):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = detect_commands(tmp_path)
    assert (found.test, found.lint) == (test, lint)
    assert detect_test_command(tmp_path) == test  # fix and review use the same facts


def test_detect_prefers_the_language_runner_and_names_the_others(tmp_path):
    for rel, text in {
        "tests/test_x.py": "import pytest\n",
        "tox.ini": "[tox]\n",
        "Makefile": "test:\n\tpytest\n",
        "pyproject.toml": "[tool.ruff]\n[tool.mypy]\n",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = detect_commands(tmp_path)
    assert [f.tool for f in found.tests] == ["pytest", "tox", "make test"]
    assert [f.tool for f in found.lints] == ["ruff", "mypy"]
    assert found.explain("test") == (
        "pytest, detected from tests/test_x.py imports pytest; "
        "also found: tox (tox.ini), make test (a test: target in Makefile)"
    )
    assert found.explain("lint").startswith("ruff, detected from [tool.ruff] in pyproject.toml; also found: mypy")


# ---------------------------------------------------------------- init

PYTEST_RUFF = {
    "tests/test_x.py": "def test_x():\n    assert 1\n",
    "pyproject.toml": "[tool.ruff]\n",
    "tox.ini": "[tox]\n",
}


def test_init_writes_a_config_that_loads(tmp_path, run):
    repo = make_repo(tmp_path / "repo", PYTEST_RUFF)
    res = run("init", "--preset", "mixed", "-C", repo)
    assert res.exit_code == 0, res.stderr
    text = (repo / ".tieragent.yaml").read_text()
    assert text.startswith("# tieragent configuration") and "tieragent doctor" in text.split("tiers:")[0]
    assert "# test: pytest, detected from tests/test_x.py; also found: tox (tox.ini)" in text
    cfg = load_config(repo, environ={}, user_file=tmp_path / "none.yaml")
    assert cfg.validation.test == f"{PY} -m pytest -q" and cfg.validation.lint == "ruff check ."
    assert [getattr(cfg.tiers, t).model for t in ("small", "mid", "frontier")] == [
        "openai/gpt-5-nano",
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-opus-4-5",
    ]
    assert f"Wrote {repo / '.tieragent.yaml'}" in res.stdout and "tieragent doctor" in res.stdout
    assert "OPENAI_API_KEY and ANTHROPIC_API_KEY" in res.stdout  # which keys to export, by name


def test_init_refuses_to_overwrite_without_force(tmp_path, run):
    repo = make_repo(tmp_path / "repo", PYTEST_RUFF)
    (repo / ".tieragent.yaml").write_text("# mine\n")
    res = run("init", "--preset", "openai", "-C", repo)
    assert res.exit_code == 2 and f"{repo / '.tieragent.yaml'} exists already" in res.stderr and "--force" in res.stderr
    assert (repo / ".tieragent.yaml").read_text() == "# mine\n"
    res = run("init", "--preset", "openai", "--force", "-C", repo)
    assert res.exit_code == 0 and "openai/gpt-5-mini" in (repo / ".tieragent.yaml").read_text()


def test_init_unknown_preset_and_no_repository(tmp_path, run):
    repo = make_repo(tmp_path / "repo", PYTEST_RUFF)
    res = run("init", "--preset", "cheap", "-C", repo)
    assert res.exit_code == 2 and "openai, anthropic, gemini, mixed, local" in res.stderr
    assert not (repo / ".tieragent.yaml").exists()
    (tmp_path / "plain").mkdir()
    res = run("init", "--preset", "openai", "-C", tmp_path / "plain")
    assert res.exit_code == 2 and "is not inside a git repository" in res.stderr


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_loads(tmp_path, run, name):
    repo = make_repo(tmp_path / "repo", {"README.md": "no tests here\n"})
    assert run("init", "--preset", name, "-C", repo).exit_code == 0
    cfg = load_config(repo, environ={}, user_file=tmp_path / "none.yaml")
    for tier, preset in PRESETS[name].tiers.items():
        assert cfg.tier(tier).model == preset.model
    assert cfg.validation.test is None  # nothing detected: a commented example instead
    if name == "local":
        assert cfg.tiers.small.api_base == "http://127.0.0.1:11434" and cfg.tiers.small.price.output_per_mtok == 0


@pytest.mark.parametrize(
    "keys,expected",
    [
        ((), "openai"),
        (("OPENAI_API_KEY",), "openai"),
        (("ANTHROPIC_API_KEY",), "anthropic"),
        (("GEMINI_API_KEY",), "gemini"),
        (("GOOGLE_API_KEY",), "gemini"),
        (("OPENAI_API_KEY", "ANTHROPIC_API_KEY"), "mixed"),
        (("ANTHROPIC_API_KEY", "GEMINI_API_KEY"), "anthropic"),
    ],
)
def test_preset_without_a_terminal_follows_the_keys(tmp_path, run, monkeypatch, keys, expected):
    repo = make_repo(tmp_path / "repo", PYTEST_RUFF)
    for k in keys:
        monkeypatch.setenv(k, "sk-secret-value-123456")
    res = run("init", "-C", repo)  # CliRunner's stdin is not a terminal
    assert res.exit_code == 0, res.stderr
    assert f"using the {expected} preset, because" in res.stderr
    assert (keys[0] if keys else "no provider key") in res.stderr
    assert f"the {expected} preset" in (repo / ".tieragent.yaml").read_text()
    assert "sk-secret-value-123456" not in res.stdout + res.stderr + (repo / ".tieragent.yaml").read_text()
    assert preset_from_environment(dict.fromkeys(keys, "x"))[0] == expected


def test_init_asks_on_a_terminal(tmp_path, run, monkeypatch):
    repo = make_repo(tmp_path / "repo", PYTEST_RUFF)
    monkeypatch.setattr("tieragent.cli.init_command.stdin_and_stdout_are_terminals", lambda: True)
    res = run("init", "-C", repo, input="3\n")
    assert res.exit_code == 0, res.stderr
    assert "1. openai" in res.stdout and "5. local" in res.stdout
    assert load_config(repo, environ={}, user_file=tmp_path / "none.yaml").tiers.mid.model == "gemini/gemini-2.5-flash"


# ---------------------------------------------------------------- doctor


def doctor_repo(tmp_path, server, files=GREEN_CALC, **tier_changes) -> Path:
    """The calc repository with the fake server's config, each tier's window known;
    `mid={"price": None}` edits a tier."""
    repo = make_repo(tmp_path / "repo", files)
    write_config(repo, server)
    cfg = yaml.safe_load((repo / ".tieragent.yaml").read_text())
    for tier, t in cfg["tiers"].items():
        t["max_context"] = 128000
        for key, value in tier_changes.get(tier, {}).items():
            t.pop(key) if value is None else t.__setitem__(key, value)
    text = yaml.safe_dump(cfg)
    (repo / ".tieragent.yaml").write_text(text)
    trust_config(repo, text)
    return repo


def lines(res, mark: str) -> list[str]:
    return [ln for ln in res.stdout.splitlines() if ln.startswith(mark)]


def test_doctor_all_green_with_ping(tmp_path, run, fake_server, monkeypatch):
    repo = doctor_repo(tmp_path, fake_server)
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    for tier in ("small", "mid", "frontier"):
        fake_server.enqueue("ping", tier, "OK")
    res = run("doctor", "--ping", "-C", repo)
    assert res.exit_code == 0, res.stdout
    assert not lines(res, "✗") and not lines(res, "!")
    for expected in (
        "✓ config: loads: defaults < .tieragent.yaml",
        "✓ small key: FAKE_PROVIDER_KEY is set",
        "✓ mid price: $3 in / $15 out per Mtok (tiers.mid.price)",
        "✓ frontier ping: openai/fake-frontier answered in",
        "✓ baseline: 2 tests ran, none failed",
        "✓ git state: no merge",
    ):
        assert any(ln.startswith(expected) for ln in res.stdout.splitlines()), expected
    assert fake_server.calls() == [("ping", "small"), ("ping", "mid"), ("ping", "frontier")]
    assert all(r.body["max_tokens"] == 1 for r in fake_server.requests)
    assert FAKE_KEY not in res.stdout + res.stderr

    res = run("doctor", "--json", "--no-baseline", "-C", repo)
    data = json.loads(res.stdout)
    assert res.exit_code == 0 and data["ok"] is True and set(data) == {"ok", "checks"}
    assert all(set(c) == {"name", "status", "detail", "hint"} and c["status"] == "ok" for c in data["checks"])
    assert "baseline" not in {c["name"] for c in data["checks"]}


def test_doctor_missing_key_names_the_variable(tmp_path, run, fake_server):
    repo = doctor_repo(tmp_path, fake_server)  # FAKE_PROVIDER_KEY is not set
    res = run("doctor", "--no-baseline", "-C", repo)
    assert res.exit_code == 1
    assert lines(res, "✗ mid key: FAKE_PROVIDER_KEY is not set")
    assert "export FAKE_PROVIDER_KEY=..." in res.stdout


@pytest.mark.parametrize("status,kind", [(500, "server"), (401, "auth")])
def test_doctor_failing_ping(tmp_path, run, fake_server, monkeypatch, status, kind):
    repo = doctor_repo(tmp_path, fake_server)
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    fake_server.enqueue("ping", "small", "OK")
    fake_server.enqueue("ping", "mid", Reply(status=status))
    fake_server.enqueue("ping", "frontier", "OK")
    res = run("doctor", "--ping", "--json", "--no-baseline", "-C", repo)
    assert res.exit_code == 1
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["mid ping"]["status"] == "fail" and checks["mid ping"]["detail"].startswith(
        f"{kind}: mid tier (openai/fake-mid at {fake_server.url})"
    )
    assert checks["small ping"]["status"] == checks["frontier ping"]["status"] == "ok"
    assert fake_server.calls().count(("ping", "mid")) == 1  # no retries for a ping
    assert FAKE_KEY not in res.stdout + res.stderr


def test_doctor_unknown_price_and_window_warn(tmp_path, run, fake_server, monkeypatch):
    repo = doctor_repo(tmp_path, fake_server, files=CALC_FILES, mid={"price": None, "max_context": None})
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    res = run("doctor", "-C", repo)
    assert res.exit_code == 0, res.stdout
    assert lines(res, "! mid price: no known price for openai/fake-mid: the ledger will show '?'")
    assert "Set tiers.mid.price" in res.stdout
    assert lines(res, "! mid context window: unknown for openai/fake-mid: a 32,000-token window is assumed")
    assert lines(res, "! baseline: 2 tests ran, 1 failed")  # failing tests before a fix are expected: a warning
    assert not lines(res, "✗")


def test_doctor_repository_without_commits(tmp_path, run, fake_server, monkeypatch):
    repo = make_repo(tmp_path / "repo", GREEN_CALC, commit=False)
    write_config(repo, fake_server)
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    res = run("doctor", "--no-baseline", "-C", repo)
    # a warning, not a failure: fix and review run there (issue 21)
    assert res.exit_code == 0 and lines(res, f"! git repository: {repo} has no commits yet"), res.stdout


def test_doctor_merge_in_progress(tmp_path, run, fake_server, monkeypatch):
    repo = doctor_repo(tmp_path, fake_server)
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    base = git(repo, "symbolic-ref", "--short", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "calc/ops.py").write_text("other\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", base)
    (repo / "calc/ops.py").write_text("mine\n")
    git(repo, "commit", "-qam", "mine")
    assert subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True).returncode != 0
    res = run("doctor", "--no-baseline", "-C", repo)
    assert res.exit_code == 1
    assert lines(res, "✗ git state: a merge is in progress")
    assert "git merge --abort" in res.stdout


def test_doctor_shallow_clone_and_stale_journal(tmp_path, run, fake_server, monkeypatch):
    origin = doctor_repo(tmp_path, fake_server)
    (origin / "calc/ops.py").write_text(GREEN_CALC["calc/ops.py"] + "\n")
    git(origin, "commit", "-qam", "second")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    write_config(clone, fake_server)
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    from tieragent.repo.workspace import GitWorkspace

    journal = GitWorkspace.open(clone).journal()
    journal.write("calc/ops.py", b"half-written\n")
    dead = subprocess.Popen(["true"])
    dead.wait()
    manifest = journal.dir / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "pid": dead.pid}))
    os.close(journal._lock_fd)  # a killed run holds no lock
    journal._lock_fd = None
    res = run("doctor", "--json", "--no-baseline", "-C", clone)
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["git history"]["status"] == "warn" and checks["git history"]["hint"] == "git fetch --unshallow"
    assert checks["recovery journal"]["status"] == "fail" and "tieragent recover" in checks["recovery journal"]["hint"]
    assert res.exit_code == 1


def test_doctor_test_command_that_does_not_exist(tmp_path, run, fake_server, monkeypatch):
    repo = doctor_repo(tmp_path, fake_server)
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    monkeypatch.setenv("TIERAGENT_VALIDATE__TEST", "no-such-runner-xyz --all")
    monkeypatch.setenv("TIERAGENT_VALIDATE__LINT", "./scripts/lint.sh")
    res = run("doctor", "-C", repo)
    assert res.exit_code == 1
    assert lines(
        res,
        "✗ test command: `no-such-runner-xyz --all` (validate.test from env TIERAGENT_VALIDATE__TEST): "
        "no-such-runner-xyz is not on PATH",
    )
    assert lines(res, "✗ lint command: `./scripts/lint.sh`")
    assert not lines(res, "✓ baseline") and "env TIERAGENT_VALIDATE__TEST" in lines(res, "✓ config")[0]


def test_doctor_baseline_that_runs_no_tests_fails(tmp_path, run, fake_server, monkeypatch):
    repo = doctor_repo(tmp_path, fake_server, files={"calc/__init__.py": "", "tests/helper.py": ""})
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    res = run("doctor", "-C", repo)
    assert res.exit_code == 1 and lines(res, "✗ baseline:") and "collected no tests" in res.stdout


def test_doctor_config_error_skips_the_rest(tmp_path, run):
    repo = make_repo(tmp_path / "repo", GREEN_CALC)
    (repo / ".tieragent.yaml").write_text("tiers:\n  mid: {timeout_s: 5}\n")
    res = run("doctor", "--json", "-C", repo)
    data = json.loads(res.stdout)
    assert res.exit_code == 1 and data["ok"] is False
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["config"] == {
        "name": "config",
        "status": "fail",
        "detail": ".tieragent.yaml: tiers.mid.model: missing",
        "hint": checks["config"]["hint"],
    }
    assert checks["tiers"]["detail"].startswith("skipped") and checks["git repository"]["status"] == "ok"


# ---------------------------------------------------------------- config show


def test_config_show_names_every_layer(tmp_path, run, monkeypatch):
    repo = make_repo(tmp_path / "repo", GREEN_CALC)
    user = tmp_path / "xdg" / "tieragent" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text(
        "tiers:\n  small: {model: openai/gpt-5-nano}\n  mid: {model: user-mid}\nbudget: {max_cost_usd: 9}\n"
    )
    (repo / ".tieragent.yaml").write_text(
        "tiers:\n  mid: {model: anthropic/claude-sonnet-4-5, api_key_env: FAKE_PROVIDER_KEY}\n"
        "validate: {test: make check}\n"
    )
    monkeypatch.setenv("TIERAGENT_ROUTING__HIGH_RISK", "mid")
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    res = run("config", "show", "--json", "-C", repo)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) == {"config", "sources"}
    src, cfg = data["sources"], data["config"]
    assert src["tiers.small.model"] == str(user) and src["budget.max_cost_usd"] == str(user)
    assert src["tiers.mid.model"] == ".tieragent.yaml" and cfg["tiers"]["mid"]["model"] == "anthropic/claude-sonnet-4-5"
    assert src["tiers.mid.timeout_s"] == "default"  # the file gave the tier, not this field
    assert src["validate.test"] == ".tieragent.yaml" and cfg["validate"]["test"] == "make check"
    assert src["routing.high_risk"] == "env TIERAGENT_ROUTING__HIGH_RISK" and cfg["routing"]["high_risk"] == "mid"
    assert src["context.outline_tokens"] == "default" and cfg["context"]["outline_tokens"] == 1500
    assert cfg["tiers"]["mid"]["api_key_env"] == "FAKE_PROVIDER_KEY"  # a NAME, shown
    assert FAKE_KEY not in res.stdout

    text = run("config", "show", "-C", repo).stdout
    row = next(ln for ln in text.splitlines() if ln.startswith("routing.high_risk "))
    assert row.split() == ["routing.high_risk", "mid", "(env", "TIERAGENT_ROUTING__HIGH_RISK)"]
    assert next(ln for ln in text.splitlines() if ln.startswith("tiers.mid.model ")).endswith("(.tieragent.yaml)")


def test_config_sources_for_flags_and_load_config_unchanged(tmp_path):
    (tmp_path / ".tieragent.yaml").write_text("budget: {max_cost_usd: 1}\nvalidation: {lint: ruff check .}\n")
    kw = {"environ": {}, "user_file": tmp_path / "none.yaml", "overrides": {"budget": {"max_calls": 3}}}
    cfg, sources = load_config_with_sources(tmp_path, **kw)
    assert sources["budget.max_calls"] == "flag" and sources["budget.max_cost_usd"] == ".tieragent.yaml"
    assert sources["validate.lint"] == ".tieragent.yaml"  # the `validation:` spelling, under the `validate` alias
    assert cfg == load_config(tmp_path, **kw)
    report = config_report(tmp_path, **kw)
    assert set(report["sources"]) >= {"tiers.small", "routing.start.local", "risk.extra_sensitive_paths"}


def test_secret_looking_values_are_masked():
    data = {
        "tiers": {"mid": {"api_key": "sk-live-1", "api_key_env": "MY_KEY", "max_output_tokens": 5}},
        "gateway": {"auth_token": "t-2", "client_secret": "s-3", "db_password": "p-4", "secrets": {"a": "b"}},
        "context": {"outline_tokens": 1500},
    }
    masked = mask_secrets(data)
    assert masked["tiers"]["mid"] == {"api_key": "***", "api_key_env": "MY_KEY", "max_output_tokens": 5}
    assert masked["gateway"] == {"auth_token": "***", "client_secret": "***", "db_password": "***", "secrets": "***"}
    assert masked["context"] == {"outline_tokens": 1500}
    assert not looks_secret_key("api_key_env") and looks_secret_key("api_key_value") and looks_secret_key("TOKEN")


def test_config_show_error_exits_2(tmp_path, run):
    repo = make_repo(tmp_path / "repo", GREEN_CALC)
    (repo / ".tieragent.yaml").write_text("budget: {max_cost_usd: lots}\n")
    res = run("config", "show", "-C", repo)
    assert (
        res.exit_code == 2
        and "tieragent: error: .tieragent.yaml: budget.max_cost_usd:" in res.stderr
        and res.stdout == ""
    )


def test_importing_the_commands_is_cheap():
    code = (
        "import sys, tieragent.cli.setup_commands; assert 'litellm' not in sys.modules and 'pydantic' not in "
        "sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_doctor_fails_a_red_baseline_that_fix_could_not_judge(tmp_path, run, fake_server, monkeypatch):
    repo = doctor_repo(tmp_path, fake_server, files={"check.sh": "exit 1\n"})
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    monkeypatch.setenv("TIERAGENT_VALIDATE__TEST", "sh check.sh")
    res = run("doctor", "-C", repo)
    assert res.exit_code == 1
    (line,) = lines(res, "✗ baseline")
    assert "no per-test results" in line and "fix would stop here" in line
