"""`tieragent chat`: an interactive session where every message is sized to its task.
`run_chat(ChatDeps, ChatOptions) -> ChatResult`.

Requests go to the fix flow, handed in as `ChatDeps.fix` (flows never import each other; the CLI
wires `run_fix` in) with a `FollowUp`: the session so far (`context`), pinned files, the /tier start,
the message's budget, and the keep-or-discard question. Commands: `ask` (/ask), `undo` (/undo,
through the journal), `commands` (the rest). `store` keeps sessions under `.git/tieragent/sessions/`.
The terminal is a port (`session.ChatIO`); the flow hands it values (`views`) and prints nothing.

May import: what `tieragent.flows` may import, and the shared `tieragent.flows.skeleton`.
"""

from .commands import COMMANDS
from .deps import ChatDeps, ChatIO
from .result import ChatResult, session_ledger
from .run import run_chat
from .session import ChatOptions, FixOutcome, FollowUp, Kind, Message, SessionRecord
from .state import CHAT_POLICIES

__all__ = [
    "CHAT_POLICIES",
    "COMMANDS",
    "ChatDeps",
    "ChatIO",
    "ChatOptions",
    "ChatResult",
    "FixOutcome",
    "FollowUp",
    "Kind",
    "Message",
    "SessionRecord",
    "run_chat",
    "session_ledger",
]
