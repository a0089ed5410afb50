"""Prompt files (one per step, in `tieragent/prompts/`, shipped as package data) and strict rendering.

A prompt file has a `[system]` section, a `[user]` section and, for steps that are retried, a
`[feedback]` section: what changes from one attempt to the next. It becomes a message of its
own after the others (and is left out when it renders empty), so the messages before it stay
byte for byte the same across attempts and a provider's prompt cache can serve them.
Placeholders are `{{ name }}`.
Rendering is strict both ways: a placeholder without a value is an error, and so is a value
that no placeholder uses (it is almost always a renamed variable). Values are inserted as
they are, never re-scanned, so code with braces in it is safe.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
SECTION = re.compile(r"^\[(system|user|feedback)\]\s*$", re.MULTILINE)


class PromptError(Exception):
    pass


@cache
def load_prompt(name: str) -> dict[str, str]:
    try:
        text = (resources.files("tieragent") / "prompts" / f"{name}.md").read_text(encoding="utf-8")
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

    rendered = {
        part: PLACEHOLDER.sub(fill, sections[part]) for part in ("system", "user", "feedback") if part in sections
    }
    messages = tuple(
        {"role": "user" if part == "feedback" else part, "content": text}
        for part, text in rendered.items()
        if part != "feedback" or text.strip()  # no feedback yet: no message, and the prefix is all there is
    )
    unused = set(values) - used
    if unused:
        raise PromptError(f"prompt {name}.md has no placeholder for: {', '.join(sorted(unused))}")
    return messages
