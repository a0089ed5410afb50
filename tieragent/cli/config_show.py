"""`tieragent config show`: the effective configuration, and where each value came from.

Five layers can set a value (defaults, the user file, `.tieragent.yaml`, TIERAGENT_* variables,
flags), so "why is mid using that model?" needs the source next to every value. Values of keys
that look like secrets are masked: the config should hold none, but if one lands there, this
output (often pasted into an issue) must not carry it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MASK = "***"
_SECRET_WORDS = {"token", "secret", "secrets", "password", "passwd", "apikey", "credential", "credentials"}


def looks_secret_key(name: str) -> bool:
    """api_key*, and names with a word token/secret/password; `api_key_env` holds a NAME, and
    `max_output_tokens` counts tokens: neither is a secret."""
    n = name.lower()
    if n == "api_key_env":
        return False
    return n.startswith("api_key") or bool(set(re.split(r"[^a-z0-9]+", n)) & _SECRET_WORDS)


def mask_secrets(data: Any) -> Any:
    """A copy of `data` with the value (or whole subtree) of every secret-looking key replaced."""
    if isinstance(data, dict):
        return {k: MASK if looks_secret_key(str(k)) and v is not None else mask_secrets(v) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_secrets(v) for v in data]
    return data


def config_report(
    repo_root: Path | None,
    *,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    user_file: Path | None = None,
) -> dict[str, Any]:
    """{"config": {...nested, masked...}, "sources": {"tiers.mid.model": ".tieragent.yaml", ...}}.

    `overrides` are flags (source "flag"), so any command can show what it will run with.
    """
    from ..core.config import load_config_with_sources

    cfg, sources = load_config_with_sources(repo_root, overrides=overrides, environ=environ, user_file=user_file)
    return {"config": mask_secrets(cfg.model_dump(by_alias=True, mode="json")), "sources": sources}


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def render_report(report: dict[str, Any]) -> str:
    """One line per leaf: key, value, source; aligned, no colour (it is meant to be read and pasted)."""
    from ..core.config import flatten_leaves

    leaves = flatten_leaves(report["config"])
    rows = [(k, _shown(v), report["sources"].get(k, "default")) for k, v in leaves.items()]
    wk = max(len(k) for k, _, _ in rows)
    wv = min(max(len(v) for _, v, _ in rows), 48)
    lines = ["# later layers win: default < user file < .tieragent.yaml < env TIERAGENT_* < flag"]
    lines += [f"{k:<{wk}}  {v:<{wv}}  ({s})" for k, v, s in rows]
    return "\n".join(lines) + "\n"
