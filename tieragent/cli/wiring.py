"""Builds the real parts a flow needs from the repository and its config.

Every check that can fail before a file is touched happens here: the repository, the config,
the models and their keys, the test command. Each failure is a clear message with exit 2.
Models are prepared apart from the test command, so a flow that needs no tests can have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.config import Config, Price, load_config, require_models
from ..core.errors import EnvironmentProblem
from ..core.vocab import TIERS, Tier
from ..flows.fix import FixDeps
from ..judge.validation import detect_test_command
from ..model.protocol import Provider
from ..repo.runner import SubprocessRunner
from ..repo.workspace import GitWorkspace


def repo_map_factory(ws: GitWorkspace):
    def build():
        from ..repo.map import build_repo_map

        return build_repo_map(ws.root, cache_dir=ws.state_dir / "tags")

    return build


@dataclass
class Models:
    """The real provider for every tier, with what is known of each tier's price and window."""

    provider: Provider
    prices: dict[Tier, Price | None]
    context_windows: dict[Tier, int | None]
    warnings: list[str]


def prepare_models(cfg: Config) -> Models:
    """Every tier configured, its key present, its provider known; prices and windows looked up."""
    require_models(cfg)
    from ..model.litellm_adapter import LiteLLMProvider

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
    return Models(provider, prices, windows, warnings)


def prepare_fix(directory: Path, overrides: dict[str, Any]) -> tuple[FixDeps, list[str]]:
    """The fix flow's parts; a fix needs a test command, since only the tests can accept a patch."""
    ws = GitWorkspace.open(directory)
    cfg = load_config(ws.root, overrides=overrides)
    require_models(cfg)
    test_cmd = cfg.validation.test or detect_test_command(ws.root)
    if not test_cmd:
        raise EnvironmentProblem(
            "no test command: tieragent accepts a patch only when your tests pass",
            hint="Set validate.test in .tieragent.yaml (e.g. `validate: {test: make check}`) or pass --test 'CMD'.",
        )
    models = prepare_models(cfg)
    deps = FixDeps(
        ws=ws,
        config=cfg,
        provider=models.provider,
        runner=SubprocessRunner(),
        prices=models.prices,
        repo_map=repo_map_factory(ws),
        test_command=test_cmd,
        lint_command=cfg.validation.lint,
        context_windows=models.context_windows,
    )
    return deps, models.warnings
