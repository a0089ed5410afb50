"""The on-disk journal that makes every edit undoable, even after kill -9.

Before a file is first touched, its bytes, mode and existence are written under
`.git/tieragent/journal/`; `restore()` puts every touched file back byte for byte. A run killed
before it could restore leaves its journal behind: the next run refuses to start, and
`recover()` (`tieragent recover`) undoes only what that run wrote.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import EnvironmentProblem


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


@dataclass
class _Original:
    existed: bool
    data: bytes | None
    mode: int | None
    written_sha: str | None = None  # what tieragent last wrote: recover only undoes its own writes


@dataclass
class FileJournal:
    """Keeps what is needed to undo every edit, in memory and on disk, before each edit."""

    root: Path
    dir: Path
    originals: dict[str, _Original] = field(default_factory=dict)
    created_dirs: list[Path] = field(default_factory=list)
    _lock_fd: int | None = None

    @classmethod
    def start(cls, root: Path, journals: Path) -> FileJournal:
        journals.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(journals / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(lock_fd, 32, 0).decode(errors="replace").strip()
            os.close(lock_fd)
            raise EnvironmentProblem(
                f"another tieragent run (pid {holder or 'unknown'}) is editing this repository; wait for it to finish",
                hint="Runs in one repository never interleave. For parallel work, use a separate worktree (git worktree add).",
            ) from None
        os.ftruncate(lock_fd, 0)
        os.pwrite(lock_fd, str(os.getpid()).encode(), 0)  # who holds it, for the message above
        stale = stale_journals(journals)
        if stale:
            os.close(lock_fd)
            raise EnvironmentProblem(
                f"an earlier tieragent run stopped before it could restore files ({stale[0].name})",
                hint="Run `tieragent recover` to put those files back (or `tieragent recover --discard` to keep them as they are).",
            )
        d = journals / f"{os.getpid()}-{int(time.time() * 1000)}"
        d.mkdir()
        j = cls(root, d, _lock_fd=lock_fd)
        j._save()
        return j

    def _path(self, rel: str) -> Path:
        return self.root / rel

    def _save(self) -> None:
        manifest = {
            "pid": os.getpid(),
            "root": str(self.root),
            "files": {
                rel: {"existed": o.existed, "mode": o.mode, "sha": _sha(o.data), "written_sha": o.written_sha}
                for rel, o in self.originals.items()
            },
        }
        tmp = self.dir / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, self.dir / "manifest.json")

    def remember(self, rel: str) -> None:
        if rel in self.originals:
            return
        p = self._path(rel)
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            (self.dir / "blobs").mkdir(exist_ok=True)
            blob = self.dir / "blobs" / _sha(data)  # type: ignore[operator]
            if not blob.exists():
                blob.write_bytes(data)
            self.originals[rel] = _Original(True, data, p.stat().st_mode & 0o7777)
        else:
            self.originals[rel] = _Original(False, None, None)
        self._save()

    def write(self, rel: str, data: bytes) -> None:
        self.remember(rel)
        p = self._path(rel)
        missing = []
        parent = p.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        p.parent.mkdir(parents=True, exist_ok=True)
        self.created_dirs.extend(reversed(missing))
        mode = self.originals[rel].mode
        _atomic_write(p, data, mode)
        self.originals[rel].written_sha = _sha(data)
        self._save()

    def delete(self, rel: str) -> None:
        self.remember(rel)
        p = self._path(rel)
        if p.exists():
            p.unlink()
        self.originals[rel].written_sha = "deleted"
        self._save()

    def touched(self) -> list[str]:
        return list(self.originals)

    def original(self, rel: str) -> bytes | None:
        o = self.originals.get(rel)
        return o.data if o else None

    def rewind(self, keep: frozenset[str] | set[str] = frozenset()) -> None:
        """Put every touched file (but those in `keep`) back as it was before the run; the journal stays open."""
        for rel, o in self.originals.items():
            if rel in keep:
                continue
            p = self._path(rel)
            if o.existed:
                # Compare rather than trust bookkeeping: an interrupt may land between a write and its record.
                if not (p.is_file() and p.read_bytes() == o.data and p.stat().st_mode & 0o7777 == o.mode):
                    _atomic_write(p, o.data or b"", o.mode)
            elif p.exists() or p.is_symlink():
                p.unlink()
        for d in sorted(self.created_dirs, key=lambda x: len(x.parts), reverse=True):
            try:
                d.rmdir()
            except OSError:
                pass  # not empty: something else lives there now
        self.created_dirs.clear()
        for rel, o in self.originals.items():
            if rel not in keep:
                o.written_sha = None
        self._save()

    def revert(self, rel: str) -> None:
        """Put one file back as it was before the run and stop tracking it."""
        self.rewind(keep=set(self.originals) - {rel})
        self.originals.pop(rel, None)
        self._save()

    def restore(self) -> None:
        """Put every touched file back as it was, then forget the journal."""
        self.rewind()
        self.close()

    def close(self) -> None:
        """Forget the journal (the tree is in its final state) and release the lock."""
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _atomic_write(p: Path, data: bytes, mode: int | None) -> None:
    tmp = p.with_name(f".{p.name}.tieragent-tmp")
    tmp.write_bytes(data)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, p)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_journals(journals: Path) -> list[Path]:
    out = []
    for d in sorted(journals.glob("*-*")):
        try:
            manifest = json.loads((d / "manifest.json").read_text())
        except (OSError, ValueError):
            shutil.rmtree(d, ignore_errors=True)  # never got as far as touching a file
            continue
        if not manifest.get("files"):
            shutil.rmtree(d, ignore_errors=True)
            continue
        if not _pid_alive(int(manifest.get("pid", 0))):
            out.append(d)
    return out


@dataclass
class RecoveryReport:
    restored: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # path -> why it was left alone


def recover(root: Path, state_dir: Path, *, discard: bool = False) -> RecoveryReport:
    """Undo what an interrupted run wrote, where the file still holds what that run wrote.

    A file the user has changed since is left alone, and its original is saved beside the journal.
    """
    journals = state_dir / "journal"
    report = RecoveryReport()
    for d in stale_journals(journals):
        manifest = json.loads((d / "manifest.json").read_text())
        for rel, f in manifest["files"].items():
            p = root / rel
            if discard:
                report.kept[rel] = "kept as it is (--discard)"
                continue
            current = p.read_bytes() if p.is_file() else None
            if f["written_sha"] is None or _sha(current) == f["sha"]:
                continue  # never written, or already original
            if f["written_sha"] == "deleted" and current is not None or (
                f["written_sha"] != "deleted" and _sha(current) != f["written_sha"]
            ):
                saved = state_dir / "recovered" / rel
                if f["existed"]:
                    saved.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(d / "blobs" / f["sha"], saved)
                report.kept[rel] = "changed since the interrupted run" + (f"; original saved to {saved}" if f["existed"] else "")
                continue
            if f["existed"]:
                p.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(p, (d / "blobs" / f["sha"]).read_bytes(), f["mode"])
            elif p.exists():
                p.unlink()
            report.restored.append(rel)
        shutil.rmtree(d, ignore_errors=True)
    return report
