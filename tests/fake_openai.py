"""A fake model server on 127.0.0.1 for the real HTTP paths (tieragent's own and litellm's): it
speaks OpenAI's chat completions at `/v1/chat/completions`, Anthropic's messages at
`/v1/messages` and Ollama's native chat at `/api/chat`.

It answers by the X-Tieragent-Step and X-Tieragent-Tier headers from queues of scripted
replies (text, an HTTP error, or a delay), streams when asked, reports usage (reasoning tokens
included, in each format's own way), and records every request it receives, body and all.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200  # non-200: an error reply
    error_body: dict | None = None
    delay_s: float = 0.0
    prompt_tokens: int | None = None  # None: len(request body) // 4
    completion_tokens: int | None = None  # None: len(text) // 4
    cached_tokens: int = 0
    cache_write_tokens: int = 0  # Anthropic's cache_creation_input_tokens
    no_usage: bool = False
    headers: dict = field(default_factory=dict)  # extra response headers (e.g. Retry-After)
    finish_reason: str = "stop"  # "length": the reply was cut at max_tokens
    reset: bool = False  # close the connection without answering
    raw_body: str | None = None  # sent as is with a 200 (e.g. a proxy's HTML page)
    # reasoning, counted within the output as each provider does (OpenAI's completion_tokens_details,
    # Anthropic's thinking block, Ollama's message.thinking) on top of completion_tokens
    reasoning_tokens: int = 0
    thinking: str = ""  # the thinking's text (Anthropic's summary, Ollama's thinking)
    reasoning_apart: bool = False  # completion_tokens leaves the reasoning out (as some OpenAI-compatible endpoints do)

    def answer_tokens(self) -> int:
        return self.completion_tokens if self.completion_tokens is not None else len(self.text) // 4

    def output_tokens(self) -> int:
        return self.answer_tokens() + self.reasoning_tokens


@dataclass
class Recorded:
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str
    path: str = ""

    @property
    def step(self) -> str | None:
        return self.headers.get("x-tieragent-step")

    @property
    def tier(self) -> str | None:
        return self.headers.get("x-tieragent-tier")

    def text(self) -> str:
        """Every message's text (Anthropic's system blocks first), whatever the wire format."""

        def flat(content: Any) -> str:
            if isinstance(content, list):
                return "\n".join(str(b.get("text") or "") for b in content if isinstance(b, dict))
            return content or ""

        system = [flat(self.body["system"])] if "system" in self.body else []
        return "\n".join(system + [flat(m.get("content")) for m in self.body.get("messages", [])])


@dataclass
class FakeOpenAI:
    script: dict[tuple[str, str], deque] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    default: Reply | None = None
    # consulted before the queues: a reply chosen from the request itself (None: use the queues)
    responder: Callable[[Recorded], Reply | str | None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: with Nagle on, the client's delayed ACK
            # holds the body back ~40 ms on every reply
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a reset the script asked for is not worth a traceback in the test log

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def enqueue(self, step: str, tier: str, *replies: Reply | str) -> None:
        q = self.script.setdefault((step, tier), deque())
        for r in replies:
            q.append(Reply(text=r) if isinstance(r, str) else r)

    def calls(self) -> list[tuple[str | None, str | None]]:
        return [(r.step, r.tier) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ serving
    def _next(self, step: str | None, tier: str | None) -> Reply | None:
        with self._lock:
            q = self.script.get((step or "", tier or ""))
            if q:
                return q.popleft() if len(q) > 1 else q[0]
            return self.default

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0)).decode()
        body = json.loads(raw or "{}")
        rec = Recorded({k.lower(): v for k, v in h.headers.items()}, body, raw, h.path)
        with self._lock:
            self.requests.append(rec)
        chosen = self.responder(rec) if self.responder else None
        reply = Reply(text=chosen) if isinstance(chosen, str) else chosen or self._next(rec.step, rec.tier)
        if reply is None:
            reply = Reply(status=400, error_body={"error": {"message": f"no scripted reply for {rec.step}/{rec.tier}"}})
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.reset:
            import socket

            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            h.close_connection = True
            h.connection.close()  # with SO_LINGER 0: a TCP reset, not a polite close
            return
        if reply.raw_body is not None:
            payload = reply.raw_body.encode()
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        if reply.status != 200:
            _send_json(
                h,
                reply.status,
                reply.error_body or {"error": {"message": f"HTTP {reply.status}", "type": "error"}},
                reply.headers,
            )
            return
        if h.path.rstrip("/").endswith("/messages"):
            self._anthropic(h, body, raw, reply)
            return
        if h.path.rstrip("/").endswith("/api/chat"):
            self._ollama(h, body, raw, reply)
            return
        usage: dict[str, Any] = {
            "prompt_tokens": reply.prompt_tokens if reply.prompt_tokens is not None else len(raw) // 4,
            "completion_tokens": reply.answer_tokens() if reply.reasoning_apart else reply.output_tokens(),
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
        }
        usage["total_tokens"] = usage["prompt_tokens"] + reply.output_tokens()
        if reply.reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
        model = body.get("model", "fake")
        if body.get("stream"):
            self._stream(h, model, reply, usage)
            return
        out: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": reply.finish_reason,
                }
            ],
        }
        if not reply.no_usage:
            out["usage"] = usage
        _send_json(h, 200, out)

    def _stream(self, h: BaseHTTPRequestHandler, model: str, reply: Reply, usage: dict) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()

        def chunk(delta: dict, finish: str | None, with_usage: bool = False) -> bytes:
            c: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if with_usage:
                c["usage"] = usage
            return f"data: {json.dumps(c)}\n\n".encode()

        h.wfile.write(chunk({"role": "assistant", "content": ""}, None))
        text = reply.text
        for i in range(0, len(text), 40):
            h.wfile.write(chunk({"content": text[i : i + 40]}, None))
        h.wfile.write(chunk({}, reply.finish_reason, with_usage=not reply.no_usage))
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
        h.close_connection = True

    # ------------------------------------------------------------ Anthropic's messages
    def _anthropic(self, h: BaseHTTPRequestHandler, body: dict, raw: str, reply: Reply) -> None:
        prompt = reply.prompt_tokens if reply.prompt_tokens is not None else len(raw) // 4
        usage = {
            "input_tokens": prompt
            - reply.cached_tokens
            - reply.cache_write_tokens,  # Anthropic counts cache reads and writes apart
            "cache_read_input_tokens": reply.cached_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
            "output_tokens": reply.output_tokens(),
        }
        stop = "max_tokens" if reply.finish_reason == "length" else "end_turn"
        thinks = bool(reply.reasoning_tokens or reply.thinking)
        model = body.get("model", "fake")
        if body.get("stream"):
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Connection", "close")
            h.end_headers()

            def event(name: str, data: dict) -> bytes:
                return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()

            start_usage = {k: v for k, v in usage.items() if k != "output_tokens"} if not reply.no_usage else {}
            h.wfile.write(
                event(
                    "message_start",
                    {
                        "message": {
                            "id": "msg_fake",
                            "type": "message",
                            "role": "assistant",
                            "model": model,
                            "content": [],
                            "usage": {**start_usage, "output_tokens": 1},
                        }
                    },
                )
            )
            if thinks:
                block = {"type": "thinking", "thinking": ""}
                h.wfile.write(event("content_block_start", {"index": 0, "content_block": block}))
                delta = {"type": "thinking_delta", "thinking": reply.thinking}
                h.wfile.write(event("content_block_delta", {"index": 0, "delta": delta}))
                h.wfile.write(
                    event("content_block_delta", {"index": 0, "delta": {"type": "signature_delta", "signature": "s"}})
                )
                h.wfile.write(event("content_block_stop", {"index": 0}))
            n = int(thinks)
            h.wfile.write(event("content_block_start", {"index": n, "content_block": {"type": "text", "text": ""}}))
            h.wfile.write(event("ping", {}))
            for i in range(0, len(reply.text), 40):
                h.wfile.write(
                    event(
                        "content_block_delta",
                        {"index": n, "delta": {"type": "text_delta", "text": reply.text[i : i + 40]}},
                    )
                )
            h.wfile.write(event("content_block_stop", {"index": n}))
            h.wfile.write(
                event(
                    "message_delta",
                    {"delta": {"stop_reason": stop}, "usage": {"output_tokens": usage["output_tokens"]}},
                )
            )
            h.wfile.write(event("message_stop", {}))
            h.wfile.flush()
            h.close_connection = True
            return
        out: dict[str, Any] = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": ([{"type": "thinking", "thinking": reply.thinking, "signature": "s"}] if thinks else [])
            + [{"type": "text", "text": reply.text}],
            "stop_reason": stop,
        }
        if not reply.no_usage:
            out["usage"] = usage
        _send_json(h, 200, out)

    # ------------------------------------------------------------ Ollama's native chat
    def _ollama(self, h: BaseHTTPRequestHandler, body: dict, raw: str, reply: Reply) -> None:
        counts = {
            "prompt_eval_count": reply.prompt_tokens if reply.prompt_tokens is not None else len(raw) // 4,
            "eval_count": reply.output_tokens(),
        }
        last = {
            "model": body.get("model", "fake"),
            "done": True,
            "done_reason": "length" if reply.finish_reason == "length" else "stop",
            **({} if reply.no_usage else counts),
        }
        thinking = {"thinking": reply.thinking} if reply.thinking else {}
        if not body.get("stream"):
            _send_json(h, 200, {**last, "message": {"role": "assistant", "content": reply.text, **thinking}})
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/x-ndjson")
        h.send_header("Connection", "close")
        h.end_headers()
        if thinking:
            chunk = {"model": body.get("model", "fake"), "message": {"role": "assistant", "content": "", **thinking}}
            h.wfile.write((json.dumps({**chunk, "done": False}) + "\n").encode())
        for i in range(0, len(reply.text), 40):
            chunk = {
                "model": body.get("model", "fake"),
                "message": {"role": "assistant", "content": reply.text[i : i + 40]},
                "done": False,
            }
            h.wfile.write((json.dumps(chunk) + "\n").encode())
        h.wfile.write((json.dumps({**last, "message": {"role": "assistant", "content": ""}}) + "\n").encode())
        h.wfile.flush()
        h.close_connection = True


def _send_json(h: BaseHTTPRequestHandler, status: int, obj: Any, headers: dict | None = None) -> None:
    payload = json.dumps(obj).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(payload)))
    for name, value in (headers or {}).items():
        h.send_header(name, str(value))
    h.end_headers()
    h.wfile.write(payload)
