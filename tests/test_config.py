from __future__ import annotations

import pytest

from tieragent.core.config import load_config, require_models
from tieragent.core.errors import ConfigError, UsageError

ISSUE_SHAPE = """\
tiers:
  small:    {model: openai/gpt-5-nano}
  mid:      {model: anthropic/claude-sonnet-4-5}
  frontier: {model: anthropic/claude-opus-4-5}
validate:
  test: python -m pytest -q
  lint: ruff check .
  timeout_s: 600
budget:
  max_cost_usd: 2.0
"""


def load(tmp_path, text=None, user=None, env=None, overrides=None):
    if text is not None:
        (tmp_path / ".tieragent.yaml").write_text(text)
    user_file = tmp_path / "user.yaml"
    if user is not None:
        user_file.write_text(user)
    return load_config(tmp_path, environ=env or {}, user_file=user_file, overrides=overrides)


def test_issue_shape_is_accepted(tmp_path):
    cfg = load(tmp_path, ISSUE_SHAPE)
    assert cfg.tiers.mid.model == "anthropic/claude-sonnet-4-5"
    assert cfg.validation.lint == "ruff check ." and cfg.budget.max_cost_usd == 2.0
    require_models(cfg, environ={})


def test_precedence_flag_env_repo_user(tmp_path):
    user = "tiers:\n  mid: {model: user-mid, timeout_s: 5}\nbudget: {max_cost_usd: 9}\n"
    repo = "tiers:\n  mid: {model: repo-mid}\n"
    cfg = load(tmp_path, repo, user)
    assert cfg.tiers.mid.model == "repo-mid" and cfg.tiers.mid.timeout_s == 5 and cfg.budget.max_cost_usd == 9
    cfg = load(tmp_path, repo, user, env={"TIERAGENT_TIERS__MID__MODEL": "env-mid"})
    assert cfg.tiers.mid.model == "env-mid"
    cfg = load(
        tmp_path,
        repo,
        user,
        env={"TIERAGENT_TIERS__MID__MODEL": "env-mid"},
        overrides={"tiers": {"mid": {"model": "flag"}}},
    )
    assert cfg.tiers.mid.model == "flag"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("tiers:\n  mid: {api_base: x}\n", ".tieragent.yaml: tiers.mid.model: missing"),
        ("validate:\n  tmeout_s: 3\n", ".tieragent.yaml: validate.tmeout_s: unknown key"),
        (
            "budget:\n  max_cost_usd: -1\n",
            ".tieragent.yaml: budget.max_cost_usd: Input should be greater than or equal to 0",
        ),
        (
            "tiers:\n  mid: {model: m, price: {input_per_mtok: 1}}\n",
            ".tieragent.yaml: tiers.mid.price.output_per_mtok: missing",
        ),
        ("routing:\n  start: {local: huge}\n", ".tieragent.yaml: routing.start.local:"),
        ("- a list\n", ".tieragent.yaml: (top level): must be a mapping"),
        # a typo names the unknown key (not the real key it leaves "missing") and the key it was meant to be
        ("tiers:\n  mid: {modle: openai/x}\n", ".tieragent.yaml: tiers.mid.modle: unknown key (did you mean 'model'?)"),
        ("validation:\n  tset: x\n", ".tieragent.yaml: validation.tset: unknown key (did you mean 'test'?)"),
        (
            "routing:\n  retry_same_falure: true\n",
            ".tieragent.yaml: routing.retry_same_falure: unknown key (did you mean 'retry_same_failure'?)",
        ),
    ],
)
def test_errors_name_file_key_reason(tmp_path, text, expected):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, text)
    assert str(e.value).startswith(expected)


def test_error_in_user_file_names_user_file(tmp_path):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, None, user="tiers:\n  small: {model: 3}\n")
    assert str(e.value).startswith(str(tmp_path / "user.yaml") + ": tiers.small.model")


def test_require_models(tmp_path):
    with pytest.raises(UsageError, match="no model configured"):
        require_models(load(tmp_path, ""), environ={})
    with pytest.raises(UsageError, match=r"tiers\.small: missing"):
        require_models(load(tmp_path, "tiers:\n  mid: {model: a}\n  frontier: {model: b}\n"), environ={})


def test_example_config_is_valid(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / ".tieragent.example.yaml"
    cfg = load(tmp_path, example.read_text())
    require_models(cfg, environ={})
    assert cfg.budget.max_cost_usd == 2.0


def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path):
    (tmp_path / ".tieragent.yaml").write_bytes(b"tiers:\n  mid: {model: caf\xe9}\n")
    with pytest.raises(ConfigError, match=r"^\.tieragent\.yaml: \(file\): not UTF-8 text"):
        load(tmp_path)


@pytest.mark.parametrize(
    "make,what",
    [
        (lambda p: p.symlink_to(p.parent / "missing.yaml"), "a symlink to a missing file"),
        (lambda p: p.symlink_to(p), "a symlink loop"),
        (lambda p: p.mkdir(), "a directory"),
    ],
)
def test_a_config_name_that_is_no_file_is_not_ignored(tmp_path, make, what):
    make(tmp_path / ".tieragent.yaml")
    with pytest.raises(ConfigError, match=f"is {what}"):
        load(tmp_path)
    user = tmp_path / "elsewhere" / "user.yaml"
    user.parent.mkdir()
    make(user)
    with pytest.raises(ConfigError, match=f"is {what}"):
        load_config(None, environ={}, user_file=user)


def test_a_non_utf8_config_exits_2_not_70(cli, calc_repo):
    (calc_repo / ".tieragent.yaml").write_bytes(b"\xff\xfe")
    proc = cli(["fix", "anything"], calc_repo)
    assert proc.returncode == 2 and "not UTF-8 text" in proc.stderr and "internal error" not in proc.stderr
