"""What every wire format shares: the `Wire` object a tier's requests go through, the reading of a
reply, and the helpers for JSON bodies and server-sent events.

A `Wire` is one tier's endpoint in one format. It owns everything that differs between the formats:
the URL, the headers (how the key is sent), the body (temperature rules included) and the readers of
a whole reply and of a stream, usage included. `HttpProvider` knows none of it: it sends what the
wire builds and hands back what the wire reads. A new per-request option (say, a reasoning effort)
is a field read in each wire's `body`; a new usage figure, a field each wire's usage reader fills.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from ...core.config import TierConfig
from ..protocol import ModelRequest, Usage


class Reading(NamedTuple):
    """What a reply said: its text, its usage (None: not reported) and why it stopped."""

    text: str
    usage: Usage | None
    finish: str | None


class ReplyShapeError(ValueError):
    """A 200 reply that is not the wire format's JSON (a proxy's HTML page, a cut connection)."""


@dataclass(frozen=True)
class Wire(ABC):
    """One tier's endpoint in one wire format."""

    model: str  # the provider's own name for the model, without the 'openai/' or 'anthropic/' prefix
    url: str
    key_env: str | None  # the variable whose value is sent as the key; None: the endpoint takes none
    base: str = ""  # what the user configured (api_base, a base-URL variable) or the public API: named in errors

    name: ClassVar[str]  # the format's short name: openai, anthropic, ollama
    prefixes: ClassVar[tuple[str, ...]]  # the model prefixes it carries ('openai' for 'openai/gpt-5-mini')
    usual_key: ClassVar[str | None]  # the provider's own key variable, for its own endpoint

    @classmethod
    @abstractmethod
    def locate(cls, api_base: str | None, environ: dict[str, str]) -> tuple[str, str]:
        """(base, url): the tier's api_base, else the provider's base-URL variable, else its public API."""

    @abstractmethod
    def headers(self, key: str | None) -> dict[str, str]:
        """The headers that carry the key (and the format's own, such as a version)."""

    @abstractmethod
    def body(self, request: ModelRequest, cfg: TierConfig) -> dict[str, Any]:
        """The request body for `request` at a tier configured as `cfg` (stream, temperature, window)."""

    @abstractmethod
    def read(self, data: dict[str, Any]) -> Reading:
        """A whole (non-streamed) reply."""

    @abstractmethod
    def read_stream(self, lines: Iterator[str]) -> Reading:
        """A streamed reply, line by line."""


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


def sse_data(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a server-sent event stream's `data:` lines, until `[DONE]`."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # event names, comments, keep-alives
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        if payload:
            yield parse_json(payload)


def stream_error(event: dict[str, Any]) -> ReplyShapeError:
    """An error the server sent inside a stream that had begun with a 200."""
    return ReplyShapeError(f"error in stream: {error_message(json.dumps(event))}")
