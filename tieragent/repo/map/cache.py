"""The on-disk tag cache: one marshal file per work tree, replaced atomically.

An entry is reused when the file's size and mtime_ns match what was recorded; when they do
not (a checkout that touched the file, say) the content hash decides, so an unchanged file
is never parsed again. A file modified within `RACY_NS` of being recorded is always checked
by hash, because a second write in the same clock tick keeps its mtime (git's "racy clean").

Each file's tags are kept as their own marshal blob inside the cache and decoded only when
that file is used: a warm `tieragent map` reads the whole cache but decodes the few files it
shows (decoding every entry was a third of its time). marshal, not JSON: it loads the table
of blobs in a millisecond; its format is tied to the Python version, which is part of the key.

Two runs may share the cache: each writes a complete new file under a temporary name and
renames it over the old one, so a reader sees one whole version or the other, never a mix;
the last writer wins and the other run's new entries are simply parsed again later.
A cache that cannot be read, is corrupt or was written by a different version of the tag
queries is discarded and rebuilt. Failing to write it only costs time.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ...core.private_files import private_dir
from .files import FileInfo, files_version
from .tags import FileTags, tags_version

CACHE_FORMAT = 2
RACY_NS = 2_000_000_000
STALE_TMP_SECONDS = 3600
# marshal's format may change with the interpreter: another Python rebuilds the cache.
_RUNTIME = f"py{sys.version_info[0]}.{sys.version_info[1]}-m{marshal.version}"
# Files of the JSON format (CACHE_FORMAT 1), removed when the new one is written.
_LEGACY = ("tags-{}.json", "graph-{}.json")


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def cache_file_for(cache_dir: Path, root: Path) -> Path:
    # One file per work tree: linked worktrees share .git/ but not their files.
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"tags-{key}.bin"


def read_marshal(path: Path) -> Any:
    """The object in a file written by write_marshal (ValueError when it is not one)."""
    try:
        return marshal.loads(path.read_bytes())
    except (EOFError, TypeError) as e:  # what marshal raises for a cut or garbled file, besides ValueError
        raise ValueError(str(e)) from None


def write_marshal(path: Path, obj: Any, prefix: str) -> None:
    """Replace `path` with `obj` atomically (a temporary file renamed over it)."""
    payload = marshal.dumps(obj)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)  # whatever the umask took away
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class TagCache:
    def __init__(self, cache_dir: Path | None, root: Path):
        self.path = cache_file_for(cache_dir, root) if cache_dir is not None else None
        self.version = f"{CACHE_FORMAT}:{_RUNTIME}:{tags_version()}:{files_version()}"
        # path -> (size, mtime_ns, hash, recorded_ns, marshal blob of the tags row)
        self.entries: dict[str, tuple[int, int, str, int, bytes]] = {}
        self.status = "off" if self.path is None else "empty"
        self.dirty = False

    def load(self) -> None:
        if self.path is None:
            return
        try:
            data = read_marshal(self.path)
        except FileNotFoundError:
            self.status = "cold"
            return
        except OSError:
            self.status = "unreadable (rebuilt)"
            return
        except ValueError:
            self.status = "corrupt (rebuilt)"
            self.dirty = True
            return
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            self.status = "corrupt (rebuilt)"
            self.dirty = True
            return
        if data.get("version") != self.version:
            self.status = "outdated (rebuilt)"
            self.dirty = True
            return
        self.entries = data["files"]
        self.status = "warm"

    def recorded_stat(self, path: str) -> tuple[int, int] | None:
        """(size, mtime_ns) at which `path` was last indexed, if it was."""
        entry = self.entries.get(path)
        if entry is None:
            return None
        try:
            size, mtime_ns = entry[0], entry[1]
            if int(mtime_ns) >= int(entry[3]) - RACY_NS:
                return None  # recorded too soon after a write: let the full checks run
            return int(size), int(mtime_ns)
        except (TypeError, ValueError, IndexError):
            return None

    def lookup(self, root: Path, info: FileInfo) -> tuple[bool, bytes | None]:
        """(True, None) when the cached tags are this file's; else (False, its bytes if read)."""
        entry = self.entries.get(info.path)
        if entry is None:
            return False, None
        try:
            size, mtime_ns, digest, recorded_ns, blob = entry
            if size != info.size or not isinstance(blob, bytes):
                return False, None
            if mtime_ns == info.mtime_ns and info.mtime_ns < recorded_ns - RACY_NS:
                return True, None
            data = (root / info.path).read_bytes()
            if len(data) != size or content_hash(data) != digest:
                return False, data
        except (ValueError, TypeError):
            self.entries.pop(info.path, None)  # a damaged entry: parse again
            self.dirty = True
            return False, None
        except OSError:
            return False, None
        self.entries[info.path] = (info.size, info.mtime_ns, digest, time.time_ns(), blob)
        self.dirty = True
        return True, None

    def row(self, path: str) -> list[Any]:
        """The stored tags row of `path` (ValueError when damaged)."""
        try:
            row = marshal.loads(self.entries[path][4])
        except (EOFError, TypeError, KeyError, IndexError) as e:
            raise ValueError(f"no usable tags for {path}: {e}") from None
        if not isinstance(row, list) or len(row) != 4:
            raise ValueError(f"bad tags row for {path}")
        return row

    def store(self, info: FileInfo, digest: str, tags: FileTags, row: list[Any] | None = None) -> None:
        """Record `tags` (`row`: their to_row(), when the caller has it already)."""
        blob = marshal.dumps(row or tags.to_row())
        self.entries[info.path] = (info.size, info.mtime_ns, digest, time.time_ns(), blob)
        self.dirty = True

    def fingerprint(self, paths: list[str]) -> str:
        """Changes when any of these files' content, the set of files or the tag rules change."""
        h = hashlib.sha256(self.version.encode())
        for p in paths:
            entry = self.entries.get(p)
            h.update(p.encode() + b"\0" + (str(entry[2]).encode() if entry else b"?") + b"\0")
        return h.hexdigest()

    def index_store(self, paths: list[str]) -> IndexStore | None:
        """Where the ranking index (the reference graph, global PageRank, postings...) is kept
        for exactly these files."""
        if self.path is None:
            return None
        return IndexStore(self.path.with_name(self.path.name.replace("tags-", "index-")), self.fingerprint(paths))

    def save(self, keep: set[str]) -> None:
        """Write the cache (only the entries in `keep`) if anything changed."""
        if self.path is None:
            return
        stale = [p for p in self.entries if p not in keep]
        for p in stale:
            del self.entries[p]
        if not (self.dirty or stale):
            return
        try:
            private_dir(
                self.path.parent
            )  # the tags name the code's symbols: the user's only, like the rest of .git/tieragent
            self._remove_stale_files()
            write_marshal(self.path, {"version": self.version, "files": self.entries}, ".tags-")
        except OSError:
            return  # a read-only or full disk costs time next run, nothing else
        self.dirty = False

    def _remove_stale_files(self) -> None:
        assert self.path is not None
        key = self.path.stem.removeprefix("tags-")
        for name in _LEGACY:
            with contextlib.suppress(OSError):
                (self.path.parent / name.format(key)).unlink()
        cutoff = time.time() - STALE_TMP_SECONDS
        for p in self.path.parent.glob(".*.tmp"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
            except OSError:
                pass


class IndexStore:
    """The ranking index of one exact set of file contents, as marshal blobs by section.

    Building it is most of a warm `tieragent map` on a large tree; with no file changed it is
    read back instead, and each section decoded only when the run needs it. Any change to any
    file gives another key, and the stored index is unused (then overwritten).
    """

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key

    def load(self, version: str) -> dict[str, bytes] | None:
        """The stored sections, if they are for these files and this `version` of the index code."""
        try:
            data = read_marshal(self.path)
            if not isinstance(data, dict) or data.get("key") != f"{self.key}:{version}":
                return None
            sections = data["sections"]
        except (OSError, ValueError, KeyError):
            return None
        if not isinstance(sections, dict) or not all(isinstance(b, bytes) for b in sections.values()):
            return None
        return sections

    def save(self, sections: dict[str, Any], version: str) -> None:
        try:
            blobs = {name: marshal.dumps(value) for name, value in sections.items()}
            write_marshal(self.path, {"key": f"{self.key}:{version}", "sections": blobs}, ".index-")
        except (OSError, ValueError):
            pass  # only costs time next run


class CachedFiles(Mapping[str, FileTags]):
    """path -> FileTags for the indexed files, in order; those from the cache are decoded on
    first use. A stored row that turns out damaged is replaced by `reparse(path)`."""

    def __init__(
        self, order: list[str], fresh: dict[str, FileTags], cache: TagCache, reparse: Callable[[str], FileTags]
    ):
        self._order = order
        self._index = dict.fromkeys(order)  # membership, in order
        self._tags = fresh
        self._cache = cache
        self._reparse = reparse

    def __getitem__(self, path: str) -> FileTags:
        tags = self._tags.get(path)
        if tags is not None:
            return tags
        if path not in self._index:
            raise KeyError(path)
        try:
            tags = FileTags.from_row(path, self._cache.row(path))
        except (ValueError, TypeError, KeyError, IndexError):
            tags = self._reparse(path)
        self._tags[path] = tags
        return tags

    def __contains__(self, path: object) -> bool:
        return path in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def index_row(self, path: str) -> tuple[list[str], dict[str, int], dict[str, int]]:
        """(names of the non-local definitions, refs, terms) without building Symbols."""
        tags = self._tags.get(path)
        if tags is None:
            try:
                _, defs, refs, terms = self._cache.row(path)
                names = [d[0] for d in defs if not d[6]]
                if isinstance(refs, dict) and isinstance(terms, dict) and all(isinstance(n, str) for n in names):
                    return names, refs, terms
            except (ValueError, TypeError, KeyError, IndexError):
                pass
            tags = self[path]
        return [d.name for d in tags.defs if not d.local], tags.refs, tags.terms
