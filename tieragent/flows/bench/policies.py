"""The policies a bench compares, and the config each run gets.

- `cascade`: the configured routing, as `tieragent fix` would run here.
- `frontier-only`, `mid-only`, `small-only`: every tier set to that tier's model (its whole tier
  config: model, endpoint, key variable, price), routing starting there for every task class and
  risk, no tier above it, and no verification (no stronger model). The one model gets
  `max(its configured attempts, 2)` attempts, so the single-model policies compare at equal attempts
  (one try, one retry with the failure).
- named variants from the suite's `bench.yaml` (`policies: {name: partial config}`): a routing
  table, an edit format, a retry rule..., merged over the user's config.

Each run's config is written as `.tieragent.yaml` in its throwaway checkout: the checkout's own file
(if it has one, without its key routing and commands), then the user's effective config, then the policy,
then the task's own settings; the fix subprocess trusts that file (`--trust-config`), which the bench wrote.
The fix subprocess gets no `TIERAGENT_*__*` variables (they are already in the user's config here), so
nothing in the environment can undo a policy. `validate.test`/`lint` come from the task or the
checkout, never from the repository the bench runs in (another repository's commands).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ...core.config import Config
from ...core.errors import ConfigError, UsageError
from ...core.trust import is_guarded
from ...core.vocab import TASK_CLASSES, TIERS, Tier
from .checkout import GENERATED_CONFIG, python_path

CASCADE = "cascade"
FORCED: dict[str, Tier] = {"frontier-only": "frontier", "mid-only": "mid", "small-only": "small"}
BUILTIN_POLICIES = (CASCADE, *FORCED)
FORCED_MIN_ATTEMPTS = 2


@dataclass(frozen=True)
class Policy:
    name: str
    overrides: dict[str, Any] = field(default_factory=dict)  # a partial tieragent config
    forced: Tier | None = None  # every tier is this tier's model
    about: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "forced": self.forced, "about": self.about, "overrides": self.overrides}


def merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """`layer` over `base`, mappings merged key by key (as config layers merge)."""
    out = copy.deepcopy(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def user_layer(base: Config) -> dict[str, Any]:
    """The user's effective config as a layer: only what differs from the defaults."""
    return base.model_dump(by_alias=True, exclude_defaults=True)


def forced_policy(name: str, base: Config) -> Policy:
    tier = FORCED[name]
    whole = base.tier(tier).model_dump()  # every field, so none of another tier's settings survives
    attempts = max(base.routing.attempts.get(tier, 1), FORCED_MIN_ATTEMPTS)
    overrides = {
        "tiers": dict.fromkeys(TIERS, whole),
        "routing": {
            "start": dict.fromkeys(TASK_CLASSES, tier),
            "high_risk": tier,
            "attempts": {t: attempts if t == tier else 0 for t in TIERS},
            "verify": "never",  # every tier is the one model: no stronger one to verify with
        },
    }
    return Policy(name, overrides, tier, f"every call to {whole['model']} ({tier} tier), {attempts} attempts")


def resolve_policies(
    names: list[str] | None, variants: dict[str, dict[str, Any]], variants_source: str, base: Config
) -> list[Policy]:
    """The policies asked for (`--policies`; default: the four built-in ones and every variant), each
    checked against the config schema now, so a typo in bench.yaml stops the bench before any run."""
    clash = sorted(set(variants) & set(BUILTIN_POLICIES))
    if clash:
        raise ConfigError(variants_source, f"policies.{clash[0]}", "this name is a built-in policy; choose another")
    wanted = names or [*BUILTIN_POLICIES, *variants]
    out: list[Policy] = []
    for name in dict.fromkeys(wanted):
        if name == CASCADE:
            out.append(Policy(CASCADE, {}, None, "the configured routing"))
        elif name in FORCED:
            out.append(forced_policy(name, base))
        elif name in variants:
            out.append(Policy(name, variants[name], None, f"variant from {Path(variants_source).name}"))
        else:
            known = ", ".join([*BUILTIN_POLICIES, *variants])
            raise UsageError(
                f"--policies: no policy {name!r}", hint=f"Policies: {known} (variants come from the suite's bench.yaml)"
            )
    layer = user_layer(base)
    for policy in out:
        try:
            Config.model_validate(merge(layer, policy.overrides))
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            reason = "unknown key" if err.get("type") == "extra_forbidden" else err.get("msg", "invalid")
            raise ConfigError(variants_source or "bench", f"policies.{policy.name}.{loc}", reason) from None
    return out


def run_config(
    user: dict[str, Any], policy: Policy, test: str | None, lint: str | None, checkout: Path
) -> dict[str, Any]:
    """The config of one run: the checkout's own file < the user's config < the policy < the task."""
    own = _own_config(checkout)
    user = copy.deepcopy(user)
    for command in ("test", "lint"):  # the commands of the repository the bench runs in, not of this one
        user.get("validate", {}).pop(command, None)
    doc = merge(merge(own, user), policy.overrides)
    validate = doc.setdefault("validate", {})
    if test:
        validate["test"] = test
    if lint:
        validate["lint"] = lint
    validate["env"] = {**(validate.get("env") or {}), "PYTHONPATH": python_path(checkout)}
    return doc


def write_run_config(doc: dict[str, Any], checkout: Path) -> Path:
    path = checkout / GENERATED_CONFIG
    path.write_text(
        "# written by tieragent bench for this run; the checkout is a throwaway\n"
        + yaml.safe_dump(doc, sort_keys=False),
        encoding="utf-8",
    )
    return path


def _own_config(checkout: Path) -> dict[str, Any]:
    """The checkout's own file, without what routes keys or chooses commands: the checkout is another
    project's code, and the run's file is trusted as the bench wrote it (`fix --trust-config`)."""
    path = checkout / GENERATED_CONFIG
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return _without_guarded(data) if isinstance(data, dict) else {}


def _without_guarded(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{'validate' if prefix == '' and key == 'validation' else key}"
        if is_guarded(dotted) or dotted in ("validate", "provider"):
            continue
        out[key] = _without_guarded(value, dotted + ".") if isinstance(value, dict) else value
    return out
