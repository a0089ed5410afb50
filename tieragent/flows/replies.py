"""Reading model replies leniently: JSON objects in fences, or with prose around them."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n(.*?)```", re.DOTALL)


class ReplyFormatError(ValueError):
    """The reply holds nothing usable; the message says what was expected (it is sent back to the model)."""


def json_objects(text: str) -> list[dict[str, Any]]:
    """JSON objects found in fences first, then anywhere in the text."""
    found: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    for chunk in [m.group(1) for m in _FENCE.finditer(text or "")] + [text or ""]:
        i = chunk.find("{")
        while i != -1:
            try:
                obj, end = decoder.raw_decode(chunk, i)
            except ValueError:
                i = chunk.find("{", i + 1)
                continue
            if isinstance(obj, dict):
                found.append(obj)
            i = chunk.find("{", end)
    return found


def norm(value: Any) -> str:
    """'Long-Horizon ' -> 'long_horizon': near-miss spellings of an enum value."""
    return re.sub(r"[\s-]+", "_", str(value).strip().lower())
