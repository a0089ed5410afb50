"""`/undo`: the last kept patch reverted through the journal, or a refusal that says why.

It refuses when the user changed one of the patch's files since it was kept (undoing would lose
that edit), when the patch was committed (git revert is the way then), and when the session has no
copy of the files (a message seeded from a `fix` run). The revert itself is journaled like any run:
a kill halfway leaves files `tieragent recover` puts back.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...core.errors import TieragentError
from ...repo.journal import FileJournal
from ..skeleton import KeptEdit, signals_held
from .session import Message
from .state import Chat
from .views import Level


def _current(root: Path, rel: str) -> bytes | None:
    p = root / rel
    return p.read_bytes() if p.is_file() and not p.is_symlink() else None


def refusal(root: Path, m: Message) -> str | None:
    """Why message `m`'s patch cannot be undone now, or None."""
    if m.commit:
        return f"message {m.n}'s patch was committed ({m.commit[:12]}); use `git revert {m.commit[:12]}`"
    if not m.edits:
        return f"message {m.n}'s patch was kept by `tieragent fix`, and the session has no copy of its files"
    changed = [e.path for e in m.edits if _current(root, e.path) != e.after]
    if changed:
        return (
            f"{', '.join(changed)} changed since message {m.n}'s patch was kept; undoing it would lose that edit "
            "(see `git diff`, and undo by hand)"
        )
    return None


def handle_undo(chat: Chat) -> None:
    target = next((m for m in reversed(chat.record.messages) if m.kept), None)
    if target is None:
        chat.say("nothing to undo: no patch of this session is in the tree")
        return
    why = refusal(chat.deps.ws.root, target)
    if why is not None:
        chat.say(f"not undone: {why}", Level.WARNING)
        return
    try:
        revert(chat.deps.ws.journal(), target.edits)
    except TieragentError as err:  # another run holds the journal, or one left files to recover
        chat.say(f"not undone: {err}", Level.ERROR)
        return
    target.undone = True
    chat.save()
    chat.say(f"undone: message {target.n} ({', '.join(target.files)} as they were before it)")


def revert(journal: FileJournal, edits: list[KeptEdit]) -> None:
    """Put each file back as it was before the patch; every write goes through `journal`."""
    try:
        for e in edits:
            if e.before is None:
                journal.delete(e.path)
            else:
                journal.write(e.path, e.before)
                if e.mode is not None:  # a file the patch deleted comes back with its mode
                    os.chmod(journal.root / e.path, e.mode)
    except BaseException:
        with signals_held():
            journal.restore()
        raise
    journal.close()
