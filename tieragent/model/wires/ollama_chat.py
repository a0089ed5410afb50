"""Ollama's native chat (`/api/chat`), which unlike Ollama's OpenAI-compatible endpoint takes the
context size per request: Ollama silently drops what does not fit its window (2,048 or 4,096 tokens
by default), so tieragent always says how much it needs."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...core.config import TierConfig
from ...core.tokens import estimate_tokens
from ..protocol import ModelRequest, Usage
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
        if cfg.temperature is not None:
            body["options"]["temperature"] = cfg.temperature  # Ollama takes sampling settings among its options
        return body

    def read(self, data: dict[str, Any]) -> Reading:
        if "error" in data:
            raise ReplyShapeError(f"error: {error_message(json.dumps(data))}")
        message = data.get("message")
        if not isinstance(message, dict):
            raise ReplyShapeError("no message")
        return Reading(str(message.get("content") or ""), ollama_usage(data), data.get("done_reason"))

    def read_stream(self, lines: Iterator[str]) -> Reading:
        """Newline-delimited JSON objects, the last with `done` and the counts."""
        parts: list[str] = []
        usage, finish = None, None
        for line in lines:
            if not line.strip():
                continue
            chunk = parse_json(line)
            if "error" in chunk:
                raise stream_error(chunk)
            parts.append(str((chunk.get("message") or {}).get("content") or ""))
            if chunk.get("done"):
                usage, finish = ollama_usage(chunk), chunk.get("done_reason")
                break
        return Reading("".join(parts), usage, finish)


def ollama_context(request: ModelRequest, max_context: int | None) -> int:
    """num_ctx: the tier's declared window, which tieragent's prompts are sized to; without one, the
    prompt and the longest answer, rounded up to a step (each new size makes Ollama reload the model)."""
    if max_context:
        return max_context
    need = estimate_tokens(request.prompt_text()) * 5 // 4 + request.max_tokens  # estimates run low for code
    return math.ceil(need / OLLAMA_CONTEXT_STEP) * OLLAMA_CONTEXT_STEP


def ollama_body(model: str, request: ModelRequest, stream: bool, max_context: int | None) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [dict(m) for m in request.messages],
        "stream": stream,
        "options": {"num_ctx": ollama_context(request, max_context), "num_predict": request.max_tokens},
    }


def ollama_usage(data: dict[str, Any]) -> Usage | None:
    prompt = data.get("prompt_eval_count")
    if not isinstance(prompt, int) or not prompt:
        return None
    return Usage(prompt, 0, int(data.get("eval_count") or 0))
