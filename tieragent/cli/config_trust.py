"""The configuration a command may act on: which copy of `.tieragent.yaml` is trusted, and the
one-time question about a repository someone else wrote (the rules are in `core/trust.py`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.config import REPO_CONFIG_NAME, Config, RepoLayer, load_config_with_sources, read_repo_layer
from ..core.config_layers import parse_layer
from ..core.errors import ConfigError, EnvironmentProblem, TieragentError, UsageError
from ..core.trust import (
    changed_settings,
    config_digest,
    is_guarded,
    is_trusted,
    mixed_key_routes,
    remember_trusted,
    running_in_ci,
    trust_reasons,
)
from ..repo.pr_base import request_base
from ..repo.workspace import GitWorkspace

Ask = Callable[[str], bool]  # the question -> the user's answer
MAX_NAMED_CHANGES = 8


@dataclass
class LoadedConfig:
    config: Config
    sources: dict[str, str]
    repo_label: str  # the repository layer as the sources name it
    warnings: list[str] = field(default_factory=list)
    trust: str = ""  # why the repository layer may route keys and choose commands (for doctor)


def load_trusted_config(
    ws: GitWorkspace,
    overrides: dict[str, Any] | None = None,
    *,
    base_commit: str | None = None,
    base_label: str = "",
    trust_flag: bool = False,
    ask: Ask | None = None,
    environ: dict[str, str] | None = None,
    check_trust: bool = True,
) -> LoadedConfig:
    """The merged config with the repository layer it may trust.

    `base_commit`: a change is under review, and the base's committed copy is the repository layer.
    In CI for a pull or merge request, the request's base is found from the environment. Outside
    CI, a repository layer that names key variables or hands variables to commands must be trusted
    by the user (`ask`, `--trust-config`, or an earlier answer), else the run stops with exit 2.
    """
    environ = dict(os.environ) if environ is None else environ
    ci = running_in_ci(environ)
    layer, warnings, trust = _repo_layer(ws, environ, base_commit, base_label, ci)
    cfg, sources = load_config_with_sources(ws.root, overrides=overrides, environ=environ, repo_layer=layer)
    mixed = mixed_key_routes(cfg, sources)
    if mixed:
        raise UsageError(
            mixed[0],
            hint="Set a tier's api_base and api_key_env together, in one place (the same file, "
            "or both as TIERAGENT_TIERS__<TIER>__... variables).",
        )
    reasons = trust_reasons(cfg, sources, layer.label) if layer.text is not None else []
    if reasons and check_trust and not ci:
        trust = _require_trust(ws, layer, reasons, trust_flag, ask)
    elif reasons and not ci:
        trust = (
            "not trusted yet" if not is_trusted(ws.root, config_digest(layer.text or "")) else "trusted earlier by you"
        )
    return LoadedConfig(
        cfg, sources, layer.label, warnings, trust or ("nothing in it to trust" if layer.text else "none")
    )


def _repo_layer(
    ws: GitWorkspace, environ: dict[str, str], base_commit: str | None, base_label: str, ci: bool
) -> tuple[RepoLayer, list[str], str]:
    head = read_repo_layer(ws.root)
    if base_commit is None and ci:
        found = request_base(ws, environ)
        if found is not None and found.commit is None:
            if head.text is not None and _guarded_keys(head):
                raise EnvironmentProblem(
                    f"this CI job runs for a pull or merge request, but its base ({found.label}) is not in the "
                    f"checkout ({found.problem}), so the change's {REPO_CONFIG_NAME} cannot be told from the base's",
                    hint=(
                        "Check out with fetch-depth: 0 (actions/checkout), or fetch the base branch before "
                        "tieragent runs."
                    ),
                )
            return head, [], "the checkout's copy (CI; it routes no keys and chooses no commands)"
        if found is not None:
            base_commit, base_label = found.commit, found.label
    if base_commit is None:
        return head, [], "the CI job's checkout" if ci and head.text is not None else ""
    label = f"{REPO_CONFIG_NAME} at {base_label or base_commit[:12]}"
    blob = ws.blob(base_commit, REPO_CONFIG_NAME)
    try:
        layer = RepoLayer(blob.decode("utf-8") if blob is not None else None, label)
    except UnicodeDecodeError:
        raise ConfigError(label, "(file)", "not UTF-8 text") from None
    warnings = []
    changed = _changes(layer, head)
    if changed:
        named = ", ".join(changed[:MAX_NAMED_CHANGES]) + (
            f" and {len(changed) - MAX_NAMED_CHANGES} more" if len(changed) > MAX_NAMED_CHANGES else ""
        )
        warnings.append(
            f"the change's {REPO_CONFIG_NAME} is not used: only the base's copy is trusted ({label}); "
            f"the change sets {named}"
        )
    return layer, warnings, f"the base's committed copy ({label})"


def _layer_dict(layer: RepoLayer) -> dict[str, Any]:
    return parse_layer(layer.text, layer.label) if layer.text is not None else {}


def _guarded_keys(layer: RepoLayer) -> list[str]:
    try:
        return [k for k in changed_settings({}, _layer_dict(layer)) if is_guarded(_canonical_key(k))]
    except TieragentError:
        return ["(the file does not parse)"]


def _canonical_key(key: str) -> str:
    return key.replace("validation.", "validate.", 1) if key.startswith("validation.") else key


def _changes(base: RepoLayer, head: RepoLayer) -> list[str]:
    if base.text == head.text:
        return []
    try:
        return changed_settings(_layer_dict(base), _layer_dict(head))
    except TieragentError:
        return ["(the whole file: it does not parse)"]


def _require_trust(ws: GitWorkspace, layer: RepoLayer, reasons: list[str], trust_flag: bool, ask: Ask | None) -> str:
    digest = config_digest(layer.text or "")
    if is_trusted(ws.root, digest):
        return "trusted earlier by you"
    listing = "; ".join(reasons)
    if trust_flag:
        remember_trusted(ws.root, digest, reasons)
        return "trusted with --trust-config"
    if ask is not None:
        question = (
            f"{layer.label} in {ws.root} {listing}.\nOnly trust a configuration you wrote or have read. "
            "Trust it for this repository (asked again if the file changes)?"
        )
        if ask(question):
            remember_trusted(ws.root, digest, reasons)
            return "trusted by you just now"
        raise UsageError(
            f"{layer.label} is not trusted, so it is not used: it {listing}",
            hint="Remove those settings from the file, or set them in your own config file or in the environment.",
        )
    raise UsageError(
        f"{layer.label} {listing}, and you have not trusted this repository's configuration yet",
        hint="Read the file. If you trust it, run once with --trust-config (remembered until the file changes), or run "
        "on a terminal to be asked. Your own settings belong in the user config file or in TIERAGENT_* variables.",
    )
