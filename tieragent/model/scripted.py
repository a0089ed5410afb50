"""`ScriptedProvider`: canned replies per (step, tier), for `tieragent demo` and for tests."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.config import Price, TierConfig
from ..core.tokens import estimate_tokens
from ..core.vocab import Tier
from .protocol import Carrier, KeyStatus, ModelReply, ModelRequest, Usage

Responder = Callable[[ModelRequest], str]


@dataclass
class ScriptedProvider:
    """A `Provider` that answers each (step, tier) from a queue of canned replies, or from a function.

    A queue's last reply repeats. A scripted exception (a `ProviderError`, a `KeyboardInterrupt`)
    is raised instead of answering, so tests can drive every fault without a server. Usage is
    estimated from text length and marked as such. Every request is kept in `requests`, so tests
    can assert on what would have been sent.
    """

    tiers: dict[Tier, TierConfig]
    script: dict[tuple[str, Tier], list[str | BaseException]] = field(default_factory=dict)
    responder: Responder | None = None
    requests: list[ModelRequest] = field(default_factory=list)
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        self._queues = {k: deque(v) for k, v in self.script.items()}

    def enqueue(self, step: str, tier: Tier, *replies: str | BaseException) -> None:
        self._queues.setdefault((step, tier), deque()).extend(replies)

    def calls(self) -> list[tuple[str, str]]:
        return [(str(r.step), r.tier) for r in self.requests]

    def complete(self, request: ModelRequest) -> ModelReply:
        self.requests.append(request)
        started = time.monotonic()
        if self.delay_s:
            time.sleep(self.delay_s)
        queue = self._queues.get((str(request.step), request.tier))
        if queue:
            answer = queue.popleft() if len(queue) > 1 else queue[0]
        elif self.responder is not None:
            answer = self.responder(request)
        else:
            answer = ""
        if isinstance(answer, BaseException):  # a scripted fault: ProviderError, KeyboardInterrupt, ...
            raise answer
        usage = Usage(estimate_tokens(request.prompt_text()), 0, estimate_tokens(answer), estimated=True)
        return ModelReply(answer, usage, self.tiers[request.tier].model, time.monotonic() - started)

    def known_price(self, tier: Tier) -> Price | None:
        return None

    def context_window(self, tier: Tier) -> int | None:
        return None

    def key_status(self, tier: Tier) -> KeyStatus:
        return KeyStatus((), (), needs_key=False)

    def carriers(self) -> dict[Tier, Carrier]:
        return dict.fromkeys(self.tiers, Carrier.SCRIPTED)

    def preflight(self, *, check_keys: bool = True) -> None:
        """Nothing to check: a script needs no endpoint and no key."""

    def warm_up(self) -> None:
        """Nothing to prepare."""
