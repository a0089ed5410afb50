"""The wire formats `HttpProvider` speaks: the request body for a `ModelRequest`, and the text,
usage and finish reason read back from a reply or a stream.

OpenAI's chat completions (and the servers that copy them), Anthropic's messages, and Ollama's
native chat (`/api/chat`), which unlike Ollama's OpenAI-compatible endpoint takes the context
size per request: Ollama silently drops what does not fit its window (2,048 or 4,096 tokens by
default), so tieragent always says how much it needs.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterator, Optional

from ..core.tokens import estimate_tokens
from .protocol import ModelRequest, Usage
from .remote import with_cache_breakpoints

Reading = tuple[str, Optional[Usage], Optional[str]]  # text, usage (None: not reported), finish reason

REASONING_MODEL = re.compile(r"(o\d|gpt-5)", re.IGNORECASE)  # o1, o3-mini, o4-mini, gpt-5, gpt-5-mini, ...
OLLAMA_CONTEXT_STEP = 8192  # num_ctx grows in steps, so that Ollama does not reload the model for every prompt size


class ReplyShapeError(ValueError):
    """A 200 reply that is not the wire format's JSON (a proxy's HTML page, a cut connection)."""


def parse_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise ReplyShapeError(f"not JSON: {text[:80]!r}") from None
    if not isinstance(data, dict):
        raise ReplyShapeError("not a JSON object")
    return data


def error_message(text: str) -> str:
    """The provider's own words from an error body: `{"error": {"message": ...}}` (OpenAI, Anthropic)
    or `{"error": "..."}` (Ollama)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        parts = [str(err.get("message") or ""), str(err.get("code") or err.get("type") or "")]
        return " ".join(p for p in parts if p).strip()
    return str(err or data)[:300]


# ---------------------------------------------------------------- OpenAI chat completions


def openai_body(model: str, request: ModelRequest, stream: bool, *, official: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in request.messages]}
    # OpenAI's reasoning models refuse max_tokens and want max_completion_tokens, which OpenAI's own
    # API takes for every model; servers that copy the format (llama.cpp, vLLM, ...) know max_tokens.
    # A reasoning model behind a proxy gets the new name, as litellm does it.
    wants_new_name = official or REASONING_MODEL.match(model.rsplit("/", 1)[-1]) is not None
    body["max_completion_tokens" if wants_new_name else "max_tokens"] = request.max_tokens
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def openai_usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict) or not usage.get("prompt_tokens"):
        return None
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
    return Usage(int(usage["prompt_tokens"]), cached, int(usage.get("completion_tokens") or 0))


def read_openai(data: dict[str, Any]) -> Reading:
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise ReplyShapeError("no choices")
    if not choices:
        return "", openai_usage(data.get("usage")), None
    first = choices[0] or {}
    text = (first.get("message") or {}).get("content") or ""
    return str(text), openai_usage(data.get("usage")), first.get("finish_reason")


def _sse_data(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a server-sent event stream's `data:` lines, until `[DONE]`."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # event names, comments, keep-alives
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        if payload:
            yield parse_json(payload)


def read_openai_stream(lines: Iterator[str]) -> Reading:
    parts: list[str] = []
    usage, finish = None, None
    for chunk in _sse_data(lines):
        if "error" in chunk:
            raise ReplyShapeError(f"error in stream: {error_message(json.dumps(chunk))}")
        for choice in chunk.get("choices") or []:
            parts.append((choice.get("delta") or {}).get("content") or "")
            finish = choice.get("finish_reason") or finish
        usage = openai_usage(chunk.get("usage")) or usage
    return "".join(parts), usage, finish


# ---------------------------------------------------------------- Anthropic messages


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
    body: dict[str, Any] = {"model": model, "max_tokens": request.max_tokens, "messages": messages}
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
    return Usage(total, read, int(output_tokens if output_tokens is not None else usage.get("output_tokens") or 0),
                 cache_write_tokens=written)


def read_anthropic(data: dict[str, Any]) -> Reading:
    content = data.get("content")
    if not isinstance(content, list):
        raise ReplyShapeError("no content")
    text = "".join(str(b.get("text") or "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return text, anthropic_usage(data.get("usage")), data.get("stop_reason")


def read_anthropic_stream(lines: Iterator[str]) -> Reading:
    parts: list[str] = []
    start_usage: dict[str, Any] = {}
    output_tokens, finish = None, None
    for event in _sse_data(lines):
        kind = event.get("type")
        if kind == "error":
            raise ReplyShapeError(f"error in stream: {error_message(json.dumps(event))}")
        if kind == "message_start":
            start_usage = (event.get("message") or {}).get("usage") or {}
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta":
                parts.append(str(delta.get("text") or ""))
        elif kind == "message_delta":
            finish = (event.get("delta") or {}).get("stop_reason") or finish
            output_tokens = (event.get("usage") or {}).get("output_tokens", output_tokens)
        elif kind == "message_stop":
            break
    return "".join(parts), anthropic_usage(start_usage, output_tokens), finish


# ---------------------------------------------------------------- Ollama's native chat


def ollama_context(request: ModelRequest, max_context: int | None) -> int:
    """num_ctx: the tier's declared window, which tieragent's prompts are sized to; without one, the
    prompt and the longest answer, rounded up to a step (each new size makes Ollama reload the model)."""
    if max_context:
        return max_context
    need = estimate_tokens(request.prompt_text()) * 5 // 4 + request.max_tokens  # estimates run low for code
    return math.ceil(need / OLLAMA_CONTEXT_STEP) * OLLAMA_CONTEXT_STEP


def ollama_body(model: str, request: ModelRequest, stream: bool, max_context: int | None) -> dict[str, Any]:
    return {"model": model, "messages": [dict(m) for m in request.messages], "stream": stream,
            "options": {"num_ctx": ollama_context(request, max_context), "num_predict": request.max_tokens}}


def ollama_usage(data: dict[str, Any]) -> Usage | None:
    prompt = data.get("prompt_eval_count")
    if not isinstance(prompt, int) or not prompt:
        return None
    return Usage(prompt, 0, int(data.get("eval_count") or 0))


def read_ollama(data: dict[str, Any]) -> Reading:
    if "error" in data:
        raise ReplyShapeError(f"error: {error_message(json.dumps(data))}")
    message = data.get("message")
    if not isinstance(message, dict):
        raise ReplyShapeError("no message")
    return str(message.get("content") or ""), ollama_usage(data), data.get("done_reason")


def read_ollama_stream(lines: Iterator[str]) -> Reading:
    """Newline-delimited JSON objects, the last with `done` and the counts."""
    parts: list[str] = []
    usage, finish = None, None
    for line in lines:
        if not line.strip():
            continue
        chunk = parse_json(line)
        if "error" in chunk:
            raise ReplyShapeError(f"error in stream: {error_message(json.dumps(chunk))}")
        parts.append(str((chunk.get("message") or {}).get("content") or ""))
        if chunk.get("done"):
            usage, finish = ollama_usage(chunk), chunk.get("done_reason")
            break
    return "".join(parts), usage, finish


READERS = {"openai": read_openai, "anthropic": read_anthropic, "ollama": read_ollama}
STREAM_READERS = {"openai": read_openai_stream, "anthropic": read_anthropic_stream, "ollama": read_ollama_stream}
