"""Who may decide where keys go and what runs: the trust model, and the repositories a user trusts.

Trusted: the built-in defaults, the user file, environment variables, flags, and `.tieragent.yaml`
as committed on the base of a change under review. Untrusted: the diff under review, a model's
patch, and any `.tieragent.yaml` they change. The settings that route keys and choose commands
(`GUARDED`) therefore come only from trusted layers:

- under review (`review --base`, or any run in CI for a pull or merge request) the repository
  layer is the base's committed copy, and the head's changes to it are named, not used;
- outside CI, a repository someone else wrote is used only once its user trusts it: a
  `.tieragent.yaml` that names a key variable (sending that key somewhere) or hands variables to
  the test command is asked about on a terminal, remembered per repository and file digest in the
  user state, or accepted with `--trust-config`;
- everywhere, a key goes only to the endpoint configured beside it in the same layer.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import Config, flatten_leaves
from .private_files import private_dir, user_state_dir, write_private
from .vocab import TIERS

# Settings that decide where keys go and what runs (fnmatch patterns over dotted keys).
GUARDED = ("tiers.*.api_base", "tiers.*.api_key_env", "provider.*", "validate.*")
CI_VARIABLES = ("CI", "TIERAGENT_CI", "GITHUB_ACTIONS", "GITLAB_CI")


def is_guarded(key: str) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in GUARDED)


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """The environment says this is a CI job (the `--ci` flag alone does not: it only changes output)."""
    return any(environ.get(name, "").lower() in ("true", "1") for name in CI_VARIABLES)


def guarded_sources(sources: Mapping[str, str]) -> dict[str, str]:
    """Every guarded setting that is set by some layer (not the defaults), with that layer."""
    return {k: v for k, v in sorted(sources.items()) if is_guarded(k) and v != "default"}


def trust_reasons(cfg: Config, sources: Mapping[str, str], repo_label: str) -> list[str]:
    """What the repository layer would do with the user's secrets: the key variables it names (and
    where they would go) and the variables it hands to the test command. Empty: nothing to trust."""
    reasons = []
    for t in TIERS:
        tier = getattr(cfg.tiers, t)
        if tier is not None and tier.api_key_env and sources.get(f"tiers.{t}.api_key_env") == repo_label:
            where = tier.api_base or "its provider's endpoint"
            reasons.append(f"tiers.{t} sends the key in ${tier.api_key_env} to {where}")
    passed = cfg.validation.env_passthrough
    if passed and sources.get("validate.env_passthrough") == repo_label:
        reasons.append(
            f"validate.env_passthrough hands {', '.join('$' + n for n in passed)} to the test and lint commands"
        )
    return reasons


def mixed_key_routes(cfg: Config, sources: Mapping[str, str]) -> list[str]:
    """Tiers whose key variable and endpoint come from different layers: one layer must not send
    another layer's key to a host of its choosing."""
    problems = []
    for t in TIERS:
        tier = getattr(cfg.tiers, t)
        if tier is None or not (tier.api_base and tier.api_key_env):
            continue
        key_from, base_from = sources.get(f"tiers.{t}.api_key_env"), sources.get(f"tiers.{t}.api_base")
        if key_from != base_from:
            problems.append(
                f"tiers.{t}: the key variable (api_key_env, from {key_from}) would go to the endpoint "
                f"set by another layer (api_base, from {base_from})"
            )
    return problems


def changed_settings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted keys whose value differs between two parsed config layers."""
    a, b = flatten_leaves(dict(old)), flatten_leaves(dict(new))
    return sorted(k for k in set(a) | set(b) if a.get(k, _ABSENT) != b.get(k, _ABSENT))


_ABSENT = object()


# ---------------------------------------------------------------- the user's trusted repositories


def trust_file() -> Path:
    return user_state_dir() / "trusted-configs.json"


def config_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogateescape")).hexdigest()


def _records(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_trusted(root: Path, digest: str, path: Path | None = None) -> bool:
    record = _records(path or trust_file()).get(str(root))
    return isinstance(record, dict) and record.get("sha256") == digest


def remember_trusted(root: Path, digest: str, reasons: list[str], path: Path | None = None) -> None:
    """Record that the user trusts this repository's config as it is now (a changed file asks again).
    The file is private (0600 in a 0700 directory): it lists the user's repositories."""
    path = path or trust_file()
    records = _records(path)
    records[str(root)] = {"sha256": digest, "trusted": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "reasons": reasons}
    private_dir(path.parent)
    write_private(path, json.dumps(records, indent=1))
