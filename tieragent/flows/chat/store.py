"""Sessions kept between processes, under `.git/tieragent/sessions/<id>/`.

`session.json` holds the requests, the kept patches and the ledger rows, every string masked as the
history line is (`Redactor.at_rest`). `blobs/` holds the files a kept patch changed, before and
after, byte for byte, as the journal does: `/undo` after `--resume` puts back the user's exact bytes,
which a masked copy could not. Folders are 0700 and files 0600; the newest `KEEP_SESSIONS` are kept.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from ...core.errors import EnvironmentProblem
from ...core.private_files import private_dir, write_private
from ...core.vocab import Outcome, Step
from ...model.ledger import LedgerRow, read_history
from ..skeleton import KeptEdit, new_run_id
from .session import Kind, Message, SessionRecord

SESSIONS = "sessions"
KEEP_SESSIONS = 20
VERSION = 1
ROW_FIELDS = {f.name for f in fields(LedgerRow)}


def sessions_dir(state_dir: Path) -> Path:
    return state_dir / SESSIONS


def new_record() -> SessionRecord:
    return SessionRecord(id=new_run_id(), started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))


def save(state_dir: Path, record: SessionRecord, mask: Callable[[str], str]) -> Path:
    """Write the session (after every message, so a crash loses at most the one under way)."""
    folder = private_dir(sessions_dir(state_dir) / record.id)
    blobs = private_dir(folder / "blobs")
    document = _masked(_document(record, blobs), mask)
    path = write_private(folder / "session.json", json.dumps(document, indent=1))
    _prune(state_dir, keep=record.id)
    return path


def _document(record: SessionRecord, blobs: Path) -> dict[str, Any]:
    return {
        "version": VERSION,
        "id": record.id,
        "started": record.started,
        "pinned": record.pinned,
        "start_tier": record.start_tier,
        "summary": record.summary,
        "summarized": record.summarized,
        "messages": [_message(m, blobs) for m in record.messages],
    }


def _message(m: Message, blobs: Path) -> dict[str, Any]:
    return {
        "n": m.n,
        "kind": str(m.kind),
        "text": m.text,
        "status": m.status,
        "rows": [r.to_json() for r in m.rows],
        "diff": m.diff,
        "files": m.files,
        "edits": [
            {"path": e.path, "before": _blob(blobs, e.before), "after": _blob(blobs, e.after), "mode": e.mode}
            for e in m.edits
        ],
        "answer": m.answer,
        "run_id": m.run_id,
        "undone": m.undone,
        "commit": m.commit,
        "mixed": m.mixed,
    }


def _blob(blobs: Path, data: bytes | None) -> str | None:
    if data is None:
        return None
    sha = hashlib.sha256(data).hexdigest()
    if not (blobs / sha).exists():
        write_private(blobs / sha, data)
    return sha


def _masked(obj: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return mask(obj)
    if isinstance(obj, dict):
        return {k: _masked(v, mask) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_masked(v, mask) for v in obj]
    return obj


def _prune(state_dir: Path, keep: str) -> None:
    folders = sorted(_session_files(state_dir), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in folders[KEEP_SESSIONS:]:
        if path.parent.name != keep:
            shutil.rmtree(path.parent, ignore_errors=True)


def _session_files(state_dir: Path) -> list[Path]:
    root = sessions_dir(state_dir)
    return [p for p in root.glob("*/session.json") if p.is_file()] if root.is_dir() else []


def latest(state_dir: Path) -> Path | None:
    """The folder of the session written last, or None."""
    files = _session_files(state_dir)
    return max(files, key=lambda p: p.stat().st_mtime).parent if files else None


def load(folder: Path) -> SessionRecord:
    """A saved session; a clear error (exit 2) when its file cannot be read."""
    try:
        data = json.loads((folder / "session.json").read_text(encoding="utf-8"))
        blobs = folder / "blobs"
        return SessionRecord(
            id=str(data["id"]),
            started=str(data.get("started", "")),
            messages=[_load_message(m, blobs) for m in data.get("messages", [])],
            pinned=[str(p) for p in data.get("pinned", [])],
            start_tier=data.get("start_tier"),
            summary=str(data.get("summary", "")),
            summarized=int(data.get("summarized", 0)),
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise EnvironmentProblem(
            f"the saved session {folder.name} cannot be read ({err})",
            hint=f"Start a new session with `tieragent chat`, or remove {folder}.",
        ) from None


def _load_message(m: dict[str, Any], blobs: Path) -> Message:
    return Message(
        n=int(m["n"]),
        kind=Kind(m["kind"]),
        text=str(m["text"]),
        status=str(m["status"]),
        rows=[_load_row(r) for r in m.get("rows", [])],
        diff=str(m.get("diff", "")),
        files=[str(p) for p in m.get("files", [])],
        edits=[
            KeptEdit(str(e["path"]), _read_blob(blobs, e["before"]), _read_blob(blobs, e["after"]), e.get("mode"))
            for e in m.get("edits", [])
        ],
        answer=str(m.get("answer", "")),
        run_id=m.get("run_id"),
        undone=bool(m.get("undone", False)),
        commit=m.get("commit"),
        mixed=[str(p) for p in m.get("mixed", [])],
    )


def _load_row(r: dict[str, Any]) -> LedgerRow:
    values = {k: v for k, v in r.items() if k in ROW_FIELDS}
    values["step"], values["outcome"] = Step(values["step"]), Outcome(values["outcome"])
    return LedgerRow(**values)


def _read_blob(blobs: Path, sha: str | None) -> bytes | None:
    return None if sha is None else (blobs / sha).read_bytes()


def load_latest(state_dir: Path) -> SessionRecord | None:
    folder = latest(state_dir)
    return load(folder) if folder is not None else None


def continue_target(state_dir: Path) -> SessionRecord | None:
    """What `fix --continue` follows up: the last session, or a session seeded from the last `fix` run
    when that run is newer (and not one of the session's own messages). None when there is neither."""
    folder = latest(state_dir)
    session = load(folder) if folder is not None else None
    runs = [r for r in read_history(state_dir) if r.get("flow", "fix") == "fix"]
    if not runs:
        return session
    last = runs[-1]
    if session is not None and folder is not None:
        ours = last.get("run_id") in {m.run_id for m in session.messages}
        if ours or _when(last) <= (folder / "session.json").stat().st_mtime:
            return session
    return seeded(last)


def _when(run: dict[str, Any]) -> float:
    try:
        return datetime.strptime(str(run["time"]), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except (KeyError, ValueError):
        return 0.0


def seeded(run: dict[str, Any]) -> SessionRecord:
    """A session whose one message is a `fix` run from the history (its kept files pinned; no /undo for it:
    the history line has no copy of the files)."""
    record = new_record()
    kept = [str(p) for p in run.get("kept_files") or []]
    record.messages.append(
        Message(
            1,
            Kind.FIX,
            str(run.get("request", "")),
            str(run.get("status", "")),
            rows=[_load_row(r) for r in run.get("steps") or []],
            files=kept,
            run_id=run.get("run_id"),
        )
    )
    record.pinned = kept
    return record
