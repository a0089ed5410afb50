"""Prices and context windows from the model map litellm ships, read without importing litellm.

litellm bundles its price and context-window map as a JSON file in its package; with
LITELLM_LOCAL_MODEL_COST_MAP=True (which we set) `litellm.model_cost` is exactly that file. Tiers
that `HttpProvider` calls need only these figures from litellm, and reading the file takes
milliseconds where importing litellm takes seconds.
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..core.config import Price

MAP_FILE = "model_prices_and_context_window_backup.json"


@lru_cache(maxsize=1)
def _entries() -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")  # finds the package without running its __init__
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / MAP_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return data
    return {}  # no map: every price and window is then unknown, and the ledger says so


def model_info(model: str) -> dict[str, Any]:
    """The map's entry for `model` ('provider/name' or a bare name), or {}."""
    entries = _entries()
    candidates = [model]
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    for name in candidates:
        entry = entries.get(name)
        if isinstance(entry, dict) and entry:
            return entry
    return {}


def price_from_map(info: dict[str, Any]) -> Price | None:
    """A Price from a map entry (per token there, per million tokens here); None when it has none."""
    if info.get("input_cost_per_token") is None or info.get("output_cost_per_token") is None:
        return None
    cached, write = info.get("cache_read_input_token_cost"), info.get("cache_creation_input_token_cost")
    return Price(
        input_per_mtok=info["input_cost_per_token"] * 1e6,
        output_per_mtok=info["output_cost_per_token"] * 1e6,
        cached_input_per_mtok=cached * 1e6 if cached is not None else None,
        cache_write_per_mtok=write * 1e6 if write is not None else None,
    )


def known_price(model: str) -> Price | None:
    return price_from_map(model_info(model))


def context_window(model: str) -> int | None:
    window = model_info(model).get("max_input_tokens")
    return int(window) if isinstance(window, (int, float)) and window > 0 else None
