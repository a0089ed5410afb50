"""What a chat session returns: the skeleton's common fields (its own model calls: /ask, compaction,
/commit's message) and its messages, with the session's totals over every message's calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...model.ledger import Ledger
from ..skeleton import RunResult
from .session import Message


def session_ledger(messages: list[Message]) -> Ledger:
    """Every call of the session, fix runs' included, in order: what /cost sums."""
    return Ledger(prices={}, models={}, rows=[r for m in messages for r in m.rows])


@dataclass
class ChatResult(RunResult):
    session_id: str = ""
    messages: list[Message] = field(default_factory=list)

    def _document(self) -> dict[str, Any]:
        return {
            **self.common_document(),  # steps and totals: the session's own calls (fix runs record their own lines)
            "session_id": self.session_id,
            "session_totals": session_ledger(self.messages).totals(),
            "messages": [
                {
                    "n": m.n,
                    "kind": str(m.kind),
                    "text": m.text,
                    "status": m.status,
                    "files": m.files,
                    "undone": m.undone,
                    "commit": m.commit,
                    "run_id": m.run_id,
                    "cost_usd": m.cost_usd,
                }
                for m in self.messages
            ],
            "timings": self.timings,
        }
