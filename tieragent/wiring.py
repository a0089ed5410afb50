"""Builds the real pipeline parts for `tieragent fix` from the repository and its config.

Every check that can fail before a file is touched happens here: the repository, the config,
the models and their keys, the test command. Each failure is a clear message with exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import TIERS, Price, Tier, load_config, require_models
from .errors import EnvironmentProblem
from .pipeline import FixDeps
from .runner import SubprocessRunner
from .validation import detect_test_command
from .workspace import GitWorkspace


def repo_map_factory(ws: GitWorkspace):
    def build():
        from .repomap import build_repo_map

        return build_repo_map(ws.root, cache_dir=ws.state_dir / "tags")

    return build


def prepare_fix(directory: Path, overrides: dict[str, Any]) -> tuple[FixDeps, list[str]]:
    ws = GitWorkspace.open(directory)
    cfg = load_config(ws.root, overrides=overrides)
    require_models(cfg)
    test_cmd = cfg.validation.test or detect_test_command(ws.root)
    if not test_cmd:
        raise EnvironmentProblem(
            "no test command: tieragent accepts a patch only when your tests pass",
            hint="Set validate.test in .tieragent.yaml (e.g. `validate: {test: make check}`) or pass --test 'CMD'.",
        )
    from .litellm_provider import LiteLLMProvider

    tiers = {t: cfg.tier(t) for t in TIERS}
    provider = LiteLLMProvider(tiers, cfg.provider)
    provider.preflight()
    prices: dict[Tier, Price | None] = {}
    warnings = []
    for t in TIERS:
        prices[t] = tiers[t].price or provider.known_price(t)
        if prices[t] is None:
            warnings.append(
                f"no known price for {tiers[t].model} ({t} tier): its calls show '?' in the ledger; "
                f"set tiers.{t}.price in .tieragent.yaml"
            )
    windows = {t: tiers[t].max_context or provider.context_window(t) for t in TIERS}
    deps = FixDeps(
        ws=ws,
        config=cfg,
        provider=provider,
        runner=SubprocessRunner(),
        prices=prices,
        repo_map=repo_map_factory(ws),
        test_command=test_cmd,
        lint_command=cfg.validation.lint,
        context_windows=windows,
    )
    return deps, warnings
