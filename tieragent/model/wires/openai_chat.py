"""OpenAI's chat completions, and every server that copies them (vLLM, llama.cpp, LM Studio, a LiteLLM
proxy, ...)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...core.config import TierConfig
from ..protocol import ModelRequest, Usage
from ..reasoning import Control, family_of, output_with_reasoning, sends_temperature
from .base import Reading, ReplyShapeError, Wire, sse_data, stream_error

OPENAI_API = "https://api.openai.com/"
REASONING_MODEL = re.compile(r"(o\d|gpt-5)", re.IGNORECASE)  # o1, o3-mini, o4-mini, gpt-5, gpt-5-mini, ...


@dataclass(frozen=True)
class OpenAIChat(Wire):
    name = "openai"
    prefixes = ("openai",)
    usual_key = "OPENAI_API_KEY"

    @classmethod
    def locate(cls, api_base: str | None, environ: dict[str, str]) -> tuple[str, str]:
        base = api_base or environ.get("OPENAI_BASE_URL") or environ.get("OPENAI_API_BASE") or OPENAI_API + "v1"
        return base, base.rstrip("/") + "/chat/completions"

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or 'no-key'}"}  # local servers want some value

    def body(self, request: ModelRequest, cfg: TierConfig) -> dict[str, Any]:
        body = openai_body(self.model, request, cfg.stream, official=self.url.startswith(OPENAI_API))
        family = family_of(f"openai/{self.model}")
        if request.effort is not None and family is not None and family.control is Control.EFFORT:
            body["reasoning_effort"] = request.effort
        if cfg.temperature is not None and sends_temperature(family, request.effort):
            body["temperature"] = cfg.temperature
        return body

    def read(self, data: dict[str, Any]) -> Reading:
        choices = data.get("choices")
        if not isinstance(choices, list):
            raise ReplyShapeError("no choices")
        if not choices:
            return Reading("", openai_usage(data.get("usage")), None)
        first = choices[0] or {}
        text = (first.get("message") or {}).get("content") or ""
        return Reading(str(text), openai_usage(data.get("usage")), first.get("finish_reason"))

    def read_stream(self, lines: Iterator[str]) -> Reading:
        parts: list[str] = []
        usage, finish = None, None
        for chunk in sse_data(lines):
            if "error" in chunk:
                raise stream_error(chunk)
            for choice in chunk.get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
                finish = choice.get("finish_reason") or finish
            usage = openai_usage(chunk.get("usage")) or usage
        return Reading("".join(parts), usage, finish)


def openai_body(model: str, request: ModelRequest, stream: bool, *, official: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in request.messages]}
    # OpenAI's reasoning models refuse max_tokens and want max_completion_tokens, which OpenAI's own
    # API takes for every model; servers that copy the format (llama.cpp, vLLM, ...) know max_tokens.
    # A reasoning model behind a proxy gets the new name, as litellm does it.
    wants_new_name = official or REASONING_MODEL.match(model.rsplit("/", 1)[-1]) is not None
    body["max_completion_tokens" if wants_new_name else "max_tokens"] = request.output_cap
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def openai_usage(usage: Any) -> Usage | None:
    """Usage with cached prompt tokens and reasoning tokens (`completion_tokens_details.reasoning_tokens`)."""
    if not isinstance(usage, dict) or not usage.get("prompt_tokens"):
        return None
    prompt = int(usage["prompt_tokens"])
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
    out_details = usage.get("completion_tokens_details") or {}
    reasoning = int(out_details.get("reasoning_tokens") or 0) if isinstance(out_details, dict) else 0
    total = usage.get("total_tokens")
    output = output_with_reasoning(
        prompt, int(usage.get("completion_tokens") or 0), reasoning, total if isinstance(total, int) else None
    )
    return Usage(prompt, cached, output, reasoning_tokens=reasoning)
