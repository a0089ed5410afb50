"""The on-disk journal that makes every edit undoable, even after kill -9.

Before a file is first touched, its bytes, mode and existence are written under
`.git/tieragent/journal/`; `restore()` puts every touched file back byte for byte. Before each
write or delete, the manifest records what is about to be written (its sha, or "deleted"), so a
kill at any moment leaves the file either as it was or as the manifest says tieragent made it.

A run killed before it could restore leaves its journal behind: the next run refuses to start,
and `recover()` (`tieragent recover`) undoes only what that run wrote. Runs, `recover` and
`tieragent doctor` take the same lock (`journal/lock`), so none of them touches the journal of
a run that is still going. The journal is private (0700 folders, 0600 files): it holds the
user's original files, byte for byte.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import EnvironmentProblem
from ..core.private_files import open_private, private_dir, write_private

DELETED = "deleted"  # what a delete records in place of a sha


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


class RunInProgress(EnvironmentProblem):
    """Another process holds the journal lock: a run that is still going (exit 2)."""

    def __init__(self, pid: str, message: str | None = None, *, hint: str | None = None):
        self.pid = pid
        super().__init__(
            message or f"a run (pid {pid}) is in progress in this repository; wait for it to finish",
            hint=hint or "Its journal is left alone: it restores its own files when it ends.",
        )


_HELD_LOCKS: set[int] = set()  # the lock descriptors this process holds


def _drop_locks_in_child() -> None:
    """A forked child (a repository-map parser process) gets a copy of every descriptor, and a copy of the
    lock's keeps the lock held: killed with `kill -9` or by the OOM killer, a run whose parser processes live
    on would leave `recover` refusing ("a run is in progress") with no run left. Only the run holds it."""
    for fd in _HELD_LOCKS:
        with contextlib.suppress(OSError):
            os.close(fd)  # closes the child's copy; the parent's lock stands
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


ORPHAN_WAIT_S = 2.0  # how long a lock whose run has ended may stay held by that run's exiting children


def _take_lock(journals: Path) -> int:
    """The lock's descriptor, held (our pid written in it); RunInProgress when another process holds it.

    A run killed with its process group leaves the lock held for a moment by children that were being
    started (a copy of the descriptor lives until they finish exiting): when the pid in the lock is gone,
    the lock is asked for again for up to ORPHAN_WAIT_S."""
    private_dir(journals)
    lock_fd = open_private(journals / "lock")
    deadline = None
    while True:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = os.pread(lock_fd, 32, 0).decode(errors="replace").strip()
            deadline = deadline or time.monotonic() + ORPHAN_WAIT_S
            alive = holder.isdecimal() and _pid_alive(int(holder))  # "": a run that has not written its pid yet
            if alive or time.monotonic() >= deadline:
                os.close(lock_fd)
                raise _busy(holder, alive) from None
            time.sleep(0.02)
    _HELD_LOCKS.add(lock_fd)
    os.ftruncate(lock_fd, 0)
    os.pwrite(lock_fd, str(os.getpid()).encode(), 0)  # who holds it, for the message above
    return lock_fd


def _busy(holder: str, alive: bool) -> RunInProgress:
    if alive or not holder:
        return RunInProgress(holder or "unknown")
    return RunInProgress(
        holder,
        f"the run that took the journal lock (pid {holder}) has ended, but a process it started still holds it",
        hint="Find it with `fuser -v .git/tieragent/journal/lock` (or lsof) and end it, then run this again.",
    )


def _release_lock(lock_fd: int) -> None:
    _HELD_LOCKS.discard(lock_fd)
    os.close(lock_fd)


@contextmanager
def journal_lock(journals: Path) -> Iterator[None]:
    """Hold the lock a run holds (for `recover` and `doctor`); RunInProgress while a run is going."""
    lock_fd = _take_lock(journals)
    try:
        yield
    finally:
        _release_lock(lock_fd)


@dataclass
class _Original:
    existed: bool
    data: bytes | None
    mode: int | None
    written: list[str] = field(
        default_factory=list
    )  # every sha tieragent wrote (or DELETED): recover only undoes those


@dataclass
class FileJournal:
    """Keeps what is needed to undo every edit, in memory and on disk, before each edit."""

    root: Path
    dir: Path
    originals: dict[str, _Original] = field(default_factory=dict)
    created_dirs: list[Path] = field(default_factory=list)
    _lock_fd: int | None = None
    closed: bool = False

    @classmethod
    def start(cls, root: Path, journals: Path) -> FileJournal:
        try:
            lock_fd = _take_lock(journals)
        except RunInProgress as busy:
            raise EnvironmentProblem(
                f"another tieragent run (pid {busy.pid}) is editing this repository; wait for it to finish",
                hint=(
                    "Runs in one repository never interleave. For parallel work, use a separate worktree (git "
                    "worktree add)."
                ),
            ) from None
        try:
            discard_empty_journals(journals)
            stale = stale_journals(journals)
            if stale:
                raise EnvironmentProblem(
                    f"an earlier tieragent run stopped before it could restore files ({stale[0].name})",
                    hint=(
                        "Run `tieragent recover` to put those files back (or `tieragent recover --discard` to "
                        "keep them as they are)."
                    ),
                )
            d = journals / f"{os.getpid()}-{int(time.time() * 1000)}"
            d.mkdir(mode=0o700)
            private_dir(d)
        except BaseException:
            _release_lock(lock_fd)
            raise
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
                rel: {"existed": o.existed, "mode": o.mode, "sha": _sha(o.data), "written": o.written}
                for rel, o in self.originals.items()
            },
        }
        write_private(self.dir / "manifest.json", json.dumps(manifest, indent=1))

    def remember(self, rel: str) -> None:
        if rel in self.originals:
            return
        p = self._path(rel)
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            blob = private_dir(self.dir / "blobs") / _sha(data)  # type: ignore[operator]
            if not blob.exists():
                write_private(blob, data)  # the user's bytes, exact: they restore the tree
            self.originals[rel] = _Original(True, data, p.stat().st_mode & 0o7777)
        else:
            self.originals[rel] = _Original(False, None, None)
        self._save()

    def _intend(self, rel: str, what: str) -> None:
        """Record what is about to happen to `rel` before it happens: a kill between the two leaves
        the file as it was or as recorded, and `recover` knows either."""
        self.remember(rel)
        written = self.originals[rel].written
        if what not in written:
            written.append(what)
            self._save()

    def write(self, rel: str, data: bytes) -> None:
        self._intend(rel, _sha(data))  # type: ignore[arg-type]
        p = self._path(rel)
        missing = []
        parent = p.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        p.parent.mkdir(parents=True, exist_ok=True)
        self.created_dirs.extend(reversed(missing))
        _atomic_write(p, data, self.originals[rel].mode)

    def delete(self, rel: str) -> None:
        self._intend(rel, DELETED)
        p = self._path(rel)
        if p.exists():
            p.unlink()

    def touched(self) -> list[str]:
        return list(self.originals)

    def original(self, rel: str) -> bytes | None:
        o = self.originals.get(rel)
        return o.data if o else None

    def mode(self, rel: str) -> int | None:
        """The file's mode before the run (None: it did not exist, or was never touched)."""
        o = self.originals.get(rel)
        return o.mode if o else None

    def rewind(self, keep: frozenset[str] | set[str] = frozenset()) -> None:
        """Put every touched file (but those in `keep`) back as it was before the run; the journal stays open.
        After `close()` there is nothing to rewind: the tree is in its final state."""
        if self.closed:
            return
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
            with contextlib.suppress(OSError):  # not empty: something else lives there now
                d.rmdir()
        self.created_dirs.clear()

    def revert(self, rel: str) -> None:
        """Put one file back as it was before the run and stop tracking it."""
        if self.closed:
            return
        self.rewind(keep=set(self.originals) - {rel})
        self.originals.pop(rel, None)
        self._save()

    def restore(self) -> None:
        """Put every touched file back as it was, then forget the journal; harmless when done already."""
        self.rewind()
        self.close()

    def close(self) -> None:
        """Forget the journal (the tree is in its final state) and release the lock; harmless twice."""
        if self.closed:
            return
        self.closed = True
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._lock_fd is not None:
            _release_lock(self._lock_fd)
            self._lock_fd = None


def _atomic_write(p: Path, data: bytes, mode: int | None) -> None:
    """Replace a file of the user's tree; its mode is set before the rename, and a file that had
    none (a new one) gets the umask's usual mode."""
    tmp = p.with_name(f".{p.name}.tieragent-tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if mode is not None else 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if mode is not None:
                os.fchmod(f.fileno(), mode)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _manifest(d: Path) -> dict | None:
    try:
        manifest = json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _live(manifest: dict) -> bool:
    """A journal another live process may own (never ours: the caller holds the lock, so a journal
    with our pid is one this process abandoned)."""
    try:
        pid = int(manifest.get("pid", 0))
    except (TypeError, ValueError):
        return False
    return pid > 0 and pid != os.getpid() and _pid_alive(pid)


def discard_empty_journals(journals: Path) -> None:
    """Remove journals that never got as far as touching a file. Call it holding the lock; a journal
    whose process is alive is left alone all the same."""
    for d in sorted(journals.glob("*-*")):
        manifest = _manifest(d)
        if manifest is None and (d / "manifest.json").exists():
            continue  # unreadable for now: never remove what might hold an original
        if manifest is None or (not manifest.get("files") and not _live(manifest)):
            shutil.rmtree(d, ignore_errors=True)


def stale_journals(journals: Path) -> list[Path]:
    """Journals left by runs that died with files touched. Reads only: removes nothing."""
    return [d for d in sorted(journals.glob("*-*")) if (m := _manifest(d)) and m.get("files") and not _live(m)]


@dataclass
class RecoveryReport:
    restored: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # path -> why it was left alone


def _written(entry: dict) -> set[str]:
    """What tieragent wrote to a file (journals of older versions kept only the last write)."""
    written = set(entry.get("written") or [])
    if entry.get("written_sha"):
        written.add(entry["written_sha"])
    return written


def recover(root: Path, state_dir: Path, *, discard: bool = False) -> RecoveryReport:
    """Undo what an interrupted run wrote, where the file still holds what that run wrote.

    A file holding its original is done; one holding what the run wrote (or recorded it was about
    to write) is restored; anything else was changed since: it is left alone, and its original is
    saved under `.git/tieragent/recovered/`. RunInProgress while a run holds the lock.
    """
    journals = state_dir / "journal"
    report = RecoveryReport()
    if not journals.is_dir():
        return report
    with journal_lock(journals):
        discard_empty_journals(journals)
        for d in stale_journals(journals):
            manifest = _manifest(d) or {}
            for rel, entry in manifest.get("files", {}).items():
                if discard:
                    report.kept[rel] = "kept as it is (--discard)"
                else:
                    _recover_file(root, state_dir, d, rel, entry, report)
            shutil.rmtree(d, ignore_errors=True)
    return report


def _recover_file(root: Path, state_dir: Path, journal: Path, rel: str, entry: dict, report: RecoveryReport) -> None:
    p = root / rel
    current = p.read_bytes() if p.is_file() else None
    if _sha(current) == entry["sha"]:
        return  # as it was before the run (or never written)
    written = _written(entry)
    if not written:
        return  # the run never wrote it: whatever it holds is the user's
    ours = (current is None and DELETED in written) or (current is not None and _sha(current) in written)
    if not ours:
        saved = state_dir / "recovered" / rel
        if entry["existed"]:
            private_dir(saved.parent)
            write_private(saved, (journal / "blobs" / entry["sha"]).read_bytes())
        report.kept[rel] = "changed since the interrupted run" + (
            f"; original saved to {saved}" if entry["existed"] else ""
        )
        return
    if entry["existed"]:
        p.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(p, (journal / "blobs" / entry["sha"]).read_bytes(), entry["mode"])
    elif p.exists():
        p.unlink()
    report.restored.append(rel)
