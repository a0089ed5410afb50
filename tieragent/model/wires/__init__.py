"""The wire formats `HttpProvider` speaks, one `Wire` class each: OpenAI's chat completions
(`openai_chat`), Anthropic's messages (`anthropic_messages`) and Ollama's native chat (`ollama_chat`).
`wire_for` gives a tier's wire: its format, its endpoint and the variable its key comes from.
"""

from __future__ import annotations

from ...core.config import TierConfig
from ...core.errors import UsageError
from .anthropic_messages import AnthropicMessages
from .base import Reading, ReplyShapeError, Wire, error_message, parse_json
from .ollama_chat import OllamaChat, ollama_context
from .openai_chat import OpenAIChat

WIRES: tuple[type[Wire], ...] = (OpenAIChat, AnthropicMessages, OllamaChat)
BY_PREFIX: dict[str, type[Wire]] = {prefix: wire for wire in WIRES for prefix in wire.prefixes}

__all__ = [
    "WIRES",
    "AnthropicMessages",
    "OllamaChat",
    "OpenAIChat",
    "Reading",
    "ReplyShapeError",
    "Wire",
    "error_message",
    "ollama_context",
    "parse_json",
    "wire_for",
    "wire_of",
]


def wire_of(model: str) -> type[Wire] | None:
    """Which wire format carries `model` without litellm; None: only litellm knows its provider."""
    prefix = model.split("/", 1)[0].lower() if "/" in model else ""
    return BY_PREFIX.get(prefix)


def wire_for(cfg: TierConfig, environ: dict[str, str]) -> Wire:
    """The tier's wire, its endpoint read as litellm reads it: `api_base`, else the provider's base-URL
    variable, else the public API (for Ollama, this machine). A tier with its own `api_base` and no
    `api_key_env` sends no key: the provider's usual key is not handed to another endpoint."""
    kind = wire_of(cfg.model)
    if kind is None:
        raise UsageError(f"{cfg.model!r} is not an openai/, anthropic/ or ollama/ model")
    base, url = kind.locate(cfg.api_base, environ)
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(
            f"the endpoint of {cfg.model} is not an http(s) URL: {base!r}",
            hint="Set the tier's api_base to e.g. http://127.0.0.1:8080/v1.",
        )
    key_env = cfg.api_key_env or (None if cfg.api_base else kind.usual_key)
    return kind(cfg.model.split("/", 1)[1], url, key_env, base)
