"""Prompt files (one per step, shipped as package data) and strict rendering.

A prompt file has a `[system]` section and a `[user]` section. Placeholders are `{{ name }}`.
Rendering is strict both ways: a placeholder without a value is an error, and so is a value
that no placeholder uses (it is almost always a renamed variable). Values are inserted as
they are, never re-scanned, so code with braces in it is safe.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
SECTION = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)


class PromptError(Exception):
    pass


@lru_cache(maxsize=None)
def load_prompt(name: str) -> dict[str, str]:
    try:
        text = (resources.files("tieragent.prompts") / f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"no prompt file {name}.md in the package") from None
    parts = SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise PromptError(f"prompt {name}.md has no [user] section")
    return sections


def render(name: str, **values: str) -> tuple[dict[str, str], ...]:
    """The chat messages for step `name`, with every placeholder filled."""
    sections = load_prompt(name)
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise PromptError(f"prompt {name}.md needs a value for {{{{ {key} }}}}")
        used.add(key)
        return str(values[key])

    messages = tuple(
        {"role": role, "content": PLACEHOLDER.sub(fill, sections[role])} for role in ("system", "user") if role in sections
    )
    unused = set(values) - used
    if unused:
        raise PromptError(f"prompt {name}.md has no placeholder for: {', '.join(sorted(unused))}")
    return messages
