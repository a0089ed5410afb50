"""Running a flow in-process: the real parts (git, the journal, the test commands as subprocesses,
the repository map) with a `ScriptedProvider` at the model boundary instead of HTTP.

    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})
    result = fix(calc_repo, provider)
    assert provider.calls() == [("classify", "small"), ("patch", "mid")]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from conftest import PRICES, QUICK

from tieragent.cli.wiring import validation_runner
from tieragent.core.config import Config, load_config
from tieragent.core.events import Event
from tieragent.core.vocab import TIERS
from tieragent.flows.fix import FixDeps, FixOptions, FixResult, run_fix
from tieragent.model.protocol import Models
from tieragent.model.scripted import ScriptedProvider
from tieragent.repo.map import build_repo_map
from tieragent.repo.workspace import GitWorkspace

PYTEST = f'"{sys.executable}" -m pytest -q -x'
# The repositories under test need no pytest plugins; loading this environment's (hypothesis, anyio)
# would triple the time of every test run the flow makes.
TEST_RUN_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


# The fake models stand for models known to write diffs (most tests are about diffs); the tests of how
# the edit format is chosen name real models instead.
FAKE_MODELS_WRITE_DIFFS = {"edit_formats": {"*fake-*": "diff"}}
# calc_repo's test holds one assertion, so by default every cheap patch would be verified (a frontier call
# more in each test); the tests of verification turn it back on (tests/test_verify.py)
NO_VERIFY = {"verify": "never"}


def config(extra: dict[str, Any] | None = None) -> Config:
    data: dict[str, Any] = {
        "tiers": {t: {"model": f"openai/fake-{t}", "price": PRICES[t]} for t in TIERS},
        "validate": {"test": PYTEST, "timeout_s": 60},
        "routing": {**FAKE_MODELS_WRITE_DIFFS, **NO_VERIFY},
    }
    for key, value in (extra or {}).items():
        data.setdefault(key, {}).update(value)
    return Config.model_validate(data)


def quick(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """`fix(..., **quick())`: the calc repository judged by its quick command's exit code, for runs about
    routing, the ledger, the tree or the refusals rather than the test runner (the runs that read pytest's
    results keep it). `extra`: more config, as `config` takes it."""
    return {"cfg": config({**QUICK, **(extra or {})}), "exit_code_only": True}


def scripted(
    script: dict[tuple[str, str], list[str | BaseException]] | None = None, cfg: Config | None = None
) -> ScriptedProvider:
    """A provider answering from `script`; `fix(..., provider=http_provider(cfg))` goes through HTTP instead."""
    cfg = cfg or config()
    return ScriptedProvider({t: cfg.tier(t) for t in TIERS}, script=dict(script or {}))


def deps(repo: Path, provider: Any, cfg: Config | None = None, **kw: Any) -> FixDeps:
    ws = GitWorkspace.open(repo)
    cfg = cfg or config()
    windows = kw.pop("windows", {})
    return FixDeps(
        ws=ws,
        config=cfg,
        runner=kw.pop("runner", validation_runner(cfg).with_env(TEST_RUN_ENV)),
        models=lambda: Models(provider, {t: cfg.tier(t).price for t in TIERS}, windows),
        repo_map=lambda: build_repo_map(ws.root, cache_dir=ws.state_dir / "tags"),
        test_command=cfg.validation.test or PYTEST,
        lint_command=cfg.validation.lint,
        **kw,
    )


def fix(
    repo: Path,
    provider: Any,
    request: str = "add() returns the wrong result",
    *,
    cfg: Config | None = None,
    events: list[Event] | None = None,
    **options: Any,
) -> FixResult:
    """One `fix` run in-process; `options` are FixOptions fields, or FixDeps fields such as `confirm`."""
    option_names = set(FixOptions.__dataclass_fields__)
    opts = FixOptions(**{k: v for k, v in options.items() if k in option_names})
    extra = {k: v for k, v in options.items() if k not in option_names}
    if events is not None:
        extra["on_event"] = events.append
    return run_fix(request, deps(repo, provider, cfg, **extra), opts)


def repo_config(repo: Path, extra: dict[str, Any] | None = None) -> Config:
    """The config as the CLI would load it for `repo` (its .tieragent.yaml), with test defaults."""
    cfg = load_config(repo, environ={}, user_file=repo / "no-user-config.yaml")
    return config({**cfg.model_dump(by_alias=True, exclude_defaults=True), **(extra or {})})


def outcomes(result: FixResult, step: str = "patch") -> list[tuple[str, str]]:
    assert result.ledger is not None
    return [(r.tier, str(r.outcome)) for r in result.ledger.rows if r.step == step]


def rows(result: FixResult) -> list[tuple[str, str, str]]:
    assert result.ledger is not None
    return [(str(r.step), r.tier, str(r.outcome)) for r in result.ledger.rows]


def sent(provider: ScriptedProvider, step: str, n: int) -> str:
    """The text of the n-th request (0-based) the provider received for `step`."""
    return [r for r in provider.requests if r.step == step][n].prompt_text()


def review(
    repo: Path,
    provider: ScriptedProvider,
    source=None,
    *,
    cfg: Config | None = None,
    fail_on: str = "high",
    run_tests: bool = False,
    windows: dict | None = None,
    events: list[Event] | None = None,
):
    """One `review` run in-process; `source` defaults to the working tree against HEAD."""
    from tieragent.flows.review import ReviewDeps, ReviewOptions, run_review
    from tieragent.repo import changes

    ws = GitWorkspace.open(repo)
    cfg = cfg or config()
    deps = ReviewDeps(
        ws=ws,
        config=cfg,
        models=lambda: Models(provider, {t: cfg.tier(t).price for t in TIERS}, dict(windows or {})),
        repo_map=lambda: build_repo_map(ws.root, cache_dir=ws.state_dir / "tags"),
        runner=validation_runner(cfg).with_env(TEST_RUN_ENV),
        test_command=cfg.validation.test,
        lint_command=cfg.validation.lint,
        on_event=events.append if events is not None else (lambda e: None),
    )
    return run_review(source or changes.working_tree(ws), deps, ReviewOptions(fail_on=fail_on, run_tests=run_tests))


def http_config(server, extra: dict[str, Any] | None = None) -> Config:
    """Every tier on the fake OpenAI-compatible server (`openai/...` models: direct HTTP, unless
    `extra` sets provider.client to litellm)."""
    tiers = {
        t: {
            "model": f"openai/fake-{t}",
            "api_base": server.url,
            "api_key_env": "FAKE_PROVIDER_KEY",
            "price": PRICES[t],
            "timeout_s": 5,
        }
        for t in TIERS
    }
    base = {"tiers": tiers, "provider": {"retries": 1, "backoff_s": 0.05, "max_wait_s": 2.0}}
    for key, value in (extra or {}).items():
        if key == "tiers":
            for t, fields in value.items():
                tiers[t].update(fields)
        else:
            base.setdefault(key, {}).update(value)
    return config(base)


def http_provider(cfg: Config):
    """The real provider for `cfg`, as the CLI builds it, with the fake server's key."""
    from tieragent.model.providers import real_provider

    return real_provider(
        {t: cfg.tier(t) for t in TIERS}, cfg.provider, environ={"FAKE_PROVIDER_KEY": "sk-fake-test-key-0123456789"}
    )
