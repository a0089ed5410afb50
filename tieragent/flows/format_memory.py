"""What each model's patch attempts taught, kept per model across repositories (the user-level record).

`edit_format: auto` reads it when a repository's own ledger knows too little about a model (a fresh
clone, a CI checkout), so a model whose diffs failed elsewhere starts with whole files here too.
The file is `edit-formats.json` in the user state directory (core/private_files.py `user_state_dir`),
0600 in a 0700 folder, and holds no text from any repository: model names, formats and outcome words only.

    {"version": 1,
     "models": {"ollama_chat/qwen2.5-coder:1.5b": {"updated": "2026-11-28T10:00:00+0000",
                                                   "diff": {"recent": ["failed", "failed", "applied"]}}}}

`recent` keeps a model's last 20 outcomes per format, oldest first: "applied" (the edit parsed and
applied, whatever the tests then said), "failed" (it did not apply or could not be read) or
"cut-off" (the reply was cut off at the output limit).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.private_files import open_private, private_dir, user_state_dir, write_private
from ..core.vocab import EDIT_FORMATS, EditFormat, Step
from ..model.ledger import LedgerRow
from ..routing.edit_format import FormatStats
from .ledger_summary import NO_REPLY, RECENT_ATTEMPTS, UNUSABLE

VERSION = 1
MAX_MODELS = 200  # the least recently updated models are forgotten beyond this
APPLIED, FAILED, CUT_OFF = "applied", "failed", "cut-off"


def memory_file(state_home: Path | None = None) -> Path:
    """The record's file in the user state directory; `state_home` stands for XDG_STATE_HOME (a bench
    gives each policy its own), None: this environment's."""
    return user_state_dir(state_home) / "edit-formats.json"


def _load(path: Path) -> dict[str, Any]:
    """The models' records; an unreadable or foreign file counts as empty (it only holds what can be relearned)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    models = data.get("models") if isinstance(data, dict) and data.get("version") == VERSION else None
    return {k: v for k, v in models.items() if isinstance(v, dict)} if isinstance(models, dict) else {}


def _stats(recent: Any) -> FormatStats:
    words = [w for w in recent if w in (APPLIED, FAILED, CUT_OFF)] if isinstance(recent, list) else []
    words = words[-RECENT_ATTEMPTS:]
    return FormatStats(len(words), sum(w != APPLIED for w in words), words.count(CUT_OFF))


def read_memory(path: Path, model: str) -> dict[EditFormat, FormatStats]:
    """`model`'s recent outcomes per edit format, across repositories."""
    entry = _load(path).get(model) or {}
    out: dict[EditFormat, FormatStats] = {}
    for fmt in EDIT_FORMATS:
        record = entry.get(fmt)
        if isinstance(record, dict):
            out[fmt] = _stats(record.get("recent"))
    return out


def _word(row: LedgerRow) -> str | None:
    if row.step != Step.PATCH or row.outcome in NO_REPLY or row.edit_format not in EDIT_FORMATS:
        return None
    if row.truncated:
        return CUT_OFF
    return FAILED if row.outcome in UNUSABLE else APPLIED


def remember(path: Path, rows: Iterable[LedgerRow]) -> int:
    """Add the run's patch outcomes to the record; how many were added. Runs in several repositories
    may end at once: the update holds a lock, and the file is replaced atomically."""
    outcomes = [(r.model, str(r.edit_format), w) for r in rows if (w := _word(r)) is not None]
    if not outcomes:
        return 0
    private_dir(path.parent)
    lock = open_private(path.with_name(path.name + ".lock"))
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        models = _load(path)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        for model, fmt, word in outcomes:
            record = models.setdefault(model, {}).setdefault(fmt, {})
            recent = record.get("recent") if isinstance(record.get("recent"), list) else []
            record["recent"] = [*recent, word][-RECENT_ATTEMPTS:]
            models[model]["updated"] = stamp
        kept = sorted(models, key=lambda m: str(models[m].get("updated", "")), reverse=True)[:MAX_MODELS]
        write_private(path, json.dumps({"version": VERSION, "models": {m: models[m] for m in kept}}, indent=1))
    finally:
        os.close(lock)  # closing releases the lock
    return len(outcomes)
