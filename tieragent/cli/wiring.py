"""Builds the real parts a flow needs from the repository and its config.

Every check that can fail before a file is touched happens here: the repository, the config,
the models and their keys, the test command. Each failure is a clear message with exit 2.
Models are prepared apart from the test command, so a flow that needs no tests can have them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..core.config import Config, Price, require_models
from ..core.errors import EnvironmentProblem, UsageError
from ..core.vocab import TIERS, Tier
from ..flows.fix import FixDeps
from ..flows.format_memory import memory_file
from ..flows.review.run import ReviewDeps
from ..judge.validation import detect_test_command
from ..model.protocol import Models, Provider
from ..repo.changes import DiffSource
from ..repo.runner import SubprocessRunner
from ..repo.workspace import GitWorkspace
from .config_trust import Ask, load_trusted_config


def repo_map_factory(ws: GitWorkspace):
    def build():
        from ..repo.map import build_repo_map

        return build_repo_map(ws.root, cache_dir=ws.state_dir / "tags")

    return build


def prepare_models(cfg: Config, *, check_keys: bool = True) -> Models:
    """Every tier configured and its provider known, and (`check_keys`) its key present, else before
    the tier's first call; prices and windows looked up."""
    require_models(cfg, check_keys=check_keys)
    from ..model.providers import real_provider

    tiers = {t: cfg.tier(t) for t in TIERS}
    provider: Provider = real_provider(tiers, cfg.provider)
    provider.preflight(check_keys=check_keys)
    provider.warm_up()
    prices: dict[Tier, Price | None] = {}
    warnings: list[str] = []
    for t in TIERS:
        prices[t] = tiers[t].price or provider.known_price(t)
        if prices[t] is None:
            warnings.append(
                f"no known price for {tiers[t].model} ({t} tier): its calls show '?' in the ledger; "
                f"set tiers.{t}.price in .tieragent.yaml"
            )
    windows = {t: tiers[t].max_context or provider.context_window(t) for t in TIERS}
    return Models(provider, prices, windows, warnings)


class BackgroundModels:
    """`prepare_models` in a thread started at once; calling the object waits for it.

    Importing litellm takes seconds (when a tier goes through it; httpx, for the others, a tenth of
    one); the fix flow runs the baseline and indexes the repository meanwhile, and calls this only
    before its first model call. Errors (a missing key, an unknown provider) are raised there,
    before any file is touched.
    """

    def __init__(self, cfg: Config, *, check_keys: bool = True):
        self._models: Models | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, args=(cfg, check_keys), name="tieragent-models", daemon=True)
        self._thread.start()

    def _load(self, cfg: Config, check_keys: bool) -> None:
        try:
            self._models = prepare_models(cfg, check_keys=check_keys)
        except BaseException as err:  # handed to the caller, in the main thread
            self._error = err

    def __call__(self) -> Models:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._models is not None
        return self._models


def prepare_fix(
    directory: Path,
    overrides: dict[str, Any],
    *,
    trust_flag: bool = False,
    ask: Ask | None = None,
    branch: str | None = None,
) -> tuple[FixDeps, list[str]]:
    """The fix flow's parts; a fix needs a test command, since only the tests can accept a patch.
    `--branch NAME` is checked here, before any model is paid for."""
    ws = GitWorkspace.open(directory)
    if branch is not None:
        check_new_branch(ws, branch)
    loaded = load_trusted_config(ws, overrides, trust_flag=trust_flag, ask=ask)
    cfg = loaded.config
    require_models(cfg)
    test_cmd = cfg.validation.test or detect_test_command(ws.root)
    if not test_cmd:
        raise EnvironmentProblem(
            "no test command: tieragent accepts a patch only when your tests pass",
            hint="Set validate.test in .tieragent.yaml (e.g. `validate: {test: make check}`) or pass --test 'CMD'.",
        )
    runner = validation_runner(cfg)
    deps = FixDeps(
        ws=ws,
        config=cfg,
        runner=runner,
        models=BackgroundModels(cfg),  # the providers' imports run while the baseline does
        repo_map=repo_map_factory(ws),
        test_command=test_cmd,
        lint_command=cfg.validation.lint,
        format_memory=memory_file(),
    )
    return deps, loaded.warnings + network_warning(cfg, runner)


def prepare_review(
    directory: Path,
    overrides: dict[str, Any],
    source_kind: str,
    base: str | None,
    diff_file: str | None,
    stdin_text: str | None,
    *,
    trust_flag: bool = False,
    ask: Ask | None = None,
) -> tuple[ReviewDeps, DiffSource, list[str]]:
    """The review flow's parts, the diff to review and the warnings of loading them. No test command is
    needed, and the models (and their keys) are set up only when a hunk needs one. Under `--base`, the
    base's committed `.tieragent.yaml` is the repository layer: the change under review is not trusted."""
    from ..repo import changes

    ws = GitWorkspace.open(directory)
    if source_kind == "diff":
        source = changes.from_text(
            changes.read_diff_file(diff_file or "-", stdin_text),
            "standard input" if diff_file == "-" else str(diff_file),
        )
    elif source_kind == "staged":
        source = changes.staged(ws)
    elif source_kind == "base":
        source = changes.since_base(ws, base or "")
    else:
        source = changes.working_tree(ws)
    base_commit = source.old_rev if source_kind == "base" else None
    loaded = load_trusted_config(
        ws, overrides, base_commit=base_commit, base_label=base or "", trust_flag=trust_flag, ask=ask
    )
    cfg = loaded.config
    deps = ReviewDeps(
        ws=ws,
        config=cfg,
        models=lambda: prepare_models(cfg, check_keys=False),
        repo_map=repo_map_factory(ws),
        runner=validation_runner(cfg),
        test_command=cfg.validation.test or detect_test_command(ws.root),
        lint_command=cfg.validation.lint,
    )
    return deps, source, loaded.warnings


def check_new_branch(ws: GitWorkspace, name: str) -> None:
    """`--branch NAME` must be a valid name that no branch has yet (exit 2 otherwise)."""
    if ws.git("check-ref-format", "--branch", name, check=False).strip() == b"":
        raise UsageError(f"--branch {name!r} is not a valid branch name")
    if ws.git("rev-parse", "--verify", "-q", f"refs/heads/{name}", check=False).strip():
        raise UsageError(
            f"--branch {name}: a branch named {name} exists already",
            hint="Choose a new name, or delete the old branch first (git branch -D NAME).",
        )


def validation_runner(cfg: Config) -> SubprocessRunner:
    """The runner for the repository's commands, which run model-written code: no provider keys, and
    no network when `validate.network` is off."""
    key_names = [c.api_key_env for c in (cfg.tiers.small, cfg.tiers.mid, cfg.tiers.frontier) if c and c.api_key_env]
    return SubprocessRunner(
        dict(cfg.validation.env),
        key_names=key_names,
        passthrough=cfg.validation.env_passthrough,
        no_network=cfg.validation.network == "off",
    )


def network_warning(cfg: Config, runner: SubprocessRunner) -> list[str]:
    if cfg.validation.network == "off" and not runner.no_network:
        return [
            "validate.network is off, but this system cannot run commands without network "
            "(no `unshare` with network namespaces): the tests run with network"
        ]
    return []
