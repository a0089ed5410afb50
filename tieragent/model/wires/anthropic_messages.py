"""Anthropic's messages API: the system text apart, alternating turns, cache breakpoints, thinking in
the form each model takes, and usage that counts cache reads and writes apart from the other input
tokens. Thinking blocks are not the answer (only text blocks are read), but their tokens are output."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ...core.config import TierConfig
from ..protocol import ModelRequest, Usage
from ..reasoning import Control, Family, family_of, reasoning_share, sends_temperature
from ..remote import with_cache_breakpoints
from .base import Reading, ReplyShapeError, Wire, sse_data, stream_error

ANTHROPIC_VERSION = "2023-06-01"
PUBLIC_API = "https://api.anthropic.com"
MAX_TEMPERATURE = 1.0  # Anthropic's range is 0 to 1; the config allows up to 2 (OpenAI's range)
THINKING_BLOCKS = ("thinking", "redacted_thinking")


@dataclass(frozen=True)
class AnthropicMessages(Wire):
    name = "anthropic"
    prefixes = ("anthropic",)
    usual_key = "ANTHROPIC_API_KEY"

    @classmethod
    def locate(cls, api_base: str | None, environ: dict[str, str]) -> tuple[str, str]:
        base = api_base or environ.get("ANTHROPIC_BASE_URL") or environ.get("ANTHROPIC_API_BASE") or PUBLIC_API
        base = base.rstrip("/")
        return base, base + ("/messages" if base.endswith("/v1") else "/v1/messages")

    def headers(self, key: str | None) -> dict[str, str]:
        return {"anthropic-version": ANTHROPIC_VERSION, **({"x-api-key": key} if key else {})}

    def body(self, request: ModelRequest, cfg: TierConfig) -> dict[str, Any]:
        body = anthropic_body(self.model, request, cfg.stream)
        family = family_of(f"anthropic/{self.model}")
        body.update(thinking_fields(family, request))
        if cfg.temperature is not None and sends_temperature(family, request.effort):
            body["temperature"] = min(cfg.temperature, MAX_TEMPERATURE)
        return body

    def read(self, data: dict[str, Any]) -> Reading:
        content = data.get("content")
        if not isinstance(content, list):
            raise ReplyShapeError("no content")
        blocks = [b for b in content if isinstance(b, dict)]
        text = "".join(str(b.get("text") or "") for b in blocks if b.get("type") == "text")
        thought = any(b.get("type") in THINKING_BLOCKS for b in blocks)
        return Reading(text, with_thinking(anthropic_usage(data.get("usage")), text, thought), data.get("stop_reason"))

    def read_stream(self, lines: Iterator[str]) -> Reading:
        parts: list[str] = []
        start_usage: dict[str, Any] = {}
        output_tokens, finish, thought = None, None, False
        for event in sse_data(lines):
            kind = event.get("type")
            if kind == "error":
                raise stream_error(event)
            if kind == "message_start":
                start_usage = (event.get("message") or {}).get("usage") or {}
            elif kind == "content_block_start":
                thought = thought or (event.get("content_block") or {}).get("type") in THINKING_BLOCKS
            elif kind == "content_block_delta":
                delta = event.get("delta") or {}
                if delta.get("type") == "text_delta":
                    parts.append(str(delta.get("text") or ""))
            elif kind == "message_delta":
                finish = (event.get("delta") or {}).get("stop_reason") or finish
                output_tokens = (event.get("usage") or {}).get("output_tokens", output_tokens)
            elif kind == "message_stop":
                break
        text = "".join(parts)
        return Reading(text, with_thinking(anthropic_usage(start_usage, output_tokens), text, thought), finish)


def thinking_fields(family: Family | None, request: ModelRequest) -> dict[str, Any]:
    """Claude 3.7 to 4.5: a thinking budget (the request's reasoning room, which max_tokens includes).
    Claude 4.6 and later: adaptive thinking at an effort; none is no thinking at the least effort."""
    if family is None or request.effort is None:
        return {}
    if family.control is Control.BUDGET and request.effort != "none":
        return {"thinking": {"type": "enabled", "budget_tokens": request.reasoning_tokens}}
    if family.control is Control.ADAPTIVE:
        if request.effort == "none":
            return {"output_config": {"effort": "low"}}
        return {"thinking": {"type": "adaptive"}, "output_config": {"effort": request.effort}}
    return {}


def with_thinking(usage: Usage | None, answer: str, thought: bool) -> Usage | None:
    """Anthropic counts thinking within output_tokens and reports no share of its own."""
    if usage is None or not thought:
        return usage
    return replace(usage, reasoning_tokens=reasoning_share(usage.output_tokens, answer))


def anthropic_body(model: str, request: ModelRequest, stream: bool) -> dict[str, Any]:
    """System text apart, consecutive turns of one role merged (the API wants them alternating),
    and cache breakpoints after the stable prefix (Anthropic caches only what is marked)."""
    marked = with_cache_breakpoints(request.messages)
    system = [block for m in marked if m["role"] == "system" for block in _blocks(m["content"])]
    messages: list[dict[str, Any]] = []
    for m in marked:
        if m["role"] == "system":
            continue
        if messages and messages[-1]["role"] == m["role"]:
            messages[-1]["content"].extend(_blocks(m["content"]))
        else:
            messages.append({"role": m["role"], "content": _blocks(m["content"])})
    body: dict[str, Any] = {"model": model, "max_tokens": request.output_cap, "messages": messages}
    if system:
        body["system"] = system
    if stream:
        body["stream"] = True
    return body


def _blocks(content: Any) -> list[dict[str, Any]]:
    return list(content) if isinstance(content, list) else [{"type": "text", "text": str(content)}]


def anthropic_usage(usage: Any, output_tokens: int | None = None) -> Usage | None:
    """Anthropic counts cache reads and writes apart from `input_tokens`; the ledger's input
    includes them, as OpenAI's `prompt_tokens` does."""
    if not isinstance(usage, dict):
        return None
    read = int(usage.get("cache_read_input_tokens") or 0)
    total = int(usage.get("input_tokens") or 0) + read + int(usage.get("cache_creation_input_tokens") or 0)
    if not total:
        return None
    written = int(usage.get("cache_creation_input_tokens") or 0)
    return Usage(
        total,
        read,
        int(output_tokens if output_tokens is not None else usage.get("output_tokens") or 0),
        cache_write_tokens=written,
    )
