"""Ollama's native chat (`/api/chat`), which unlike Ollama's OpenAI-compatible endpoint takes the
context size per request: Ollama silently drops what does not fit its window (2,048 or 4,096 tokens
by default), so tieragent always says how much it needs. Thinking models take `think` (their
thinking comes apart from the answer, in `message.thinking`); other models refuse it."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...core.config import TierConfig
from ...core.tokens import estimate_tokens
from ..protocol import ModelRequest, Usage
from ..reasoning import Control, family_of
from .base import Reading, ReplyShapeError, Wire, error_message, parse_json, stream_error

OLLAMA_CONTEXT_STEP = 8192  # num_ctx grows in steps, so that Ollama does not reload the model for every prompt size


@dataclass(frozen=True)
class OllamaChat(Wire):
    name = "ollama"
    prefixes = ("ollama", "ollama_chat")
    usual_key = None  # a local Ollama takes no key; a remote one behind a proxy may (api_key_env)

    @classmethod
    def locate(cls, api_base: str | None, environ: dict[str, str]) -> tuple[str, str]:
        base = api_base or environ.get("OLLAMA_API_BASE") or "http://localhost:11434"
        # the native API is not under /v1, the OpenAI-compatible one is: a base copied from the latter still works
        base = base.rstrip("/").removesuffix("/api/chat").removesuffix("/v1")
        return base, base + "/api/chat"

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def body(self, request: ModelRequest, cfg: TierConfig) -> dict[str, Any]:
        body = ollama_body(self.model, request, cfg.stream, cfg.max_context)
        family = family_of(f"ollama/{self.model}")
        if request.effort is not None and family is not None:
            if family.control is Control.THINK:
                body["think"] = request.effort != "none"
            elif family.control is Control.THINK_LEVELS:
                body["think"] = request.effort
        if cfg.temperature is not None:
            body["options"]["temperature"] = cfg.temperature  # Ollama takes sampling settings among its options
        return body

    def read(self, data: dict[str, Any]) -> Reading:
        if "error" in data:
            raise ReplyShapeError(f"error: {error_message(json.dumps(data))}")
        message = data.get("message")
        if not isinstance(message, dict):
            raise ReplyShapeError("no message")
        thinking = str(message.get("thinking") or "")
        return Reading(str(message.get("content") or ""), ollama_usage(data, thinking), data.get("done_reason"))

    def read_stream(self, lines: Iterator[str]) -> Reading:
        """Newline-delimited JSON objects, the last with `done` and the counts."""
        parts: list[str] = []
        thinking: list[str] = []
        usage, finish = None, None
        for line in lines:
            if not line.strip():
                continue
            chunk = parse_json(line)
            if "error" in chunk:
                raise stream_error(chunk)
            message = chunk.get("message") or {}
            parts.append(str(message.get("content") or ""))
            thinking.append(str(message.get("thinking") or ""))
            if chunk.get("done"):
                usage, finish = ollama_usage(chunk, "".join(thinking)), chunk.get("done_reason")
                break
        return Reading("".join(parts), usage, finish)


def ollama_context(request: ModelRequest, max_context: int | None) -> int:
    """num_ctx: the tier's declared window, which tieragent's prompts are sized to; without one, the
    prompt and the longest answer, rounded up to a step (each new size makes Ollama reload the model)."""
    if max_context:
        return max_context
    need = estimate_tokens(request.prompt_text()) * 5 // 4 + request.output_cap  # estimates run low for code
    return math.ceil(need / OLLAMA_CONTEXT_STEP) * OLLAMA_CONTEXT_STEP


def ollama_body(model: str, request: ModelRequest, stream: bool, max_context: int | None) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [dict(m) for m in request.messages],
        "stream": stream,
        "options": {"num_ctx": ollama_context(request, max_context), "num_predict": request.output_cap},
    }


def ollama_usage(data: dict[str, Any], thinking: str = "") -> Usage | None:
    """eval_count counts the thinking too; its share is estimated from the thinking's text."""
    prompt = data.get("prompt_eval_count")
    if not isinstance(prompt, int) or not prompt:
        return None
    output = int(data.get("eval_count") or 0)
    return Usage(prompt, 0, output, reasoning_tokens=min(estimate_tokens(thinking), output) if thinking else 0)
