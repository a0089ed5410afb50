"""The on-disk tag cache: one JSON file per work tree, replaced atomically.

An entry is reused when the file's size and mtime_ns match what was recorded; when they do
not (a checkout that touched the file, say) the content hash decides, so an unchanged file
is never parsed again. A file modified within `RACY_NS` of being recorded is always checked
by hash, because a second write in the same clock tick keeps its mtime (git's "racy clean").

Two runs may share the cache: each writes a complete new file under a temporary name and
renames it over the old one, so a reader sees one whole version or the other, never a mix;
the last writer wins and the other run's new entries are simply parsed again later.
A cache that cannot be read, is corrupt or was written by a different version of the tag
queries is discarded and rebuilt. Failing to write it only costs time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .files import FileInfo, files_version
from .tags import FileTags, tags_version

CACHE_FORMAT = 1
RACY_NS = 2_000_000_000
STALE_TMP_SECONDS = 3600


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def cache_file_for(cache_dir: Path, root: Path) -> Path:
    # One file per work tree: linked worktrees share .git/ but not their files.
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"tags-{key}.json"


class TagCache:
    def __init__(self, cache_dir: Path | None, root: Path):
        self.path = cache_file_for(cache_dir, root) if cache_dir is not None else None
        self.version = f"{CACHE_FORMAT}:{tags_version()}:{files_version()}"
        # path -> [size, mtime_ns, hash, recorded_ns, tags row]
        self.entries: dict[str, list[Any]] = {}
        self.status = "off" if self.path is None else "empty"
        self.dirty = False

    def load(self) -> None:
        if self.path is None:
            return
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.status = "cold"
            return
        except OSError:
            self.status = "unreadable (rebuilt)"
            return
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
                raise ValueError("not a tag cache")
        except (ValueError, UnicodeDecodeError, RecursionError):
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

    def lookup(self, root: Path, info: FileInfo) -> tuple[FileTags | None, bytes | None]:
        """(cached tags, None) on a hit; (None, the file's bytes if read) on a miss."""
        entry = self.entries.get(info.path)
        if entry is None:
            return None, None
        try:
            size, mtime_ns, digest, recorded_ns, row = entry
            if size != info.size:
                return None, None
            if mtime_ns == info.mtime_ns and info.mtime_ns < recorded_ns - RACY_NS:
                return FileTags.from_row(info.path, row), None
            data = (root / info.path).read_bytes()
            if len(data) != size or content_hash(data) != digest:
                return None, data
            tags = FileTags.from_row(info.path, row)
        except (ValueError, TypeError, KeyError, IndexError):
            self.entries.pop(info.path, None)  # a damaged entry: parse again
            self.dirty = True
            return None, None
        except OSError:
            return None, None
        self.entries[info.path] = [info.size, info.mtime_ns, digest, time.time_ns(), row]
        self.dirty = True
        return tags, None

    def store(self, info: FileInfo, digest: str, tags: FileTags, row: list[Any] | None = None) -> None:
        """Record `tags` (`row`: their to_row(), when the caller has it already)."""
        self.entries[info.path] = [info.size, info.mtime_ns, digest, time.time_ns(), row or tags.to_row()]
        self.dirty = True

    def fingerprint(self, paths: list[str]) -> str:
        """Changes when any of these files' content, the set of files or the tag rules change."""
        h = hashlib.sha256(self.version.encode())
        for p in paths:
            entry = self.entries.get(p)
            h.update(p.encode() + b"\0" + (str(entry[2]).encode() if entry else b"?") + b"\0")
        return h.hexdigest()

    def graph_store(self, paths: list[str]) -> GraphStore | None:
        """Where the ranking's reference graph and global PageRank are kept for exactly these files."""
        if self.path is None:
            return None
        return GraphStore(self.path.with_name(self.path.name.replace("tags-", "graph-")), self.fingerprint(paths))

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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._remove_stale_tmp()
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tags-", suffix=".tmp")
            try:
                # dumps, not dump: json.dump streams through the pure-Python encoder (10x slower)
                payload = json.dumps({"version": self.version, "files": self.entries}, separators=(",", ":"))
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(payload)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            return  # a read-only or full disk costs time next run, nothing else
        self.dirty = False

    def _remove_stale_tmp(self) -> None:
        assert self.path is not None
        cutoff = time.time() - STALE_TMP_SECONDS
        for p in self.path.parent.glob(".tags-*.tmp"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
            except OSError:
                pass


class GraphStore:
    """The reference graph and the global PageRank of one exact set of file contents.

    Building the graph is most of a warm `tieragent map` on a large tree; with no file changed it
    is read back instead. Any change to any file gives another key, and the stored graph is unused.
    """

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key

    def load(self) -> tuple[list[dict[int, float]], list[float]] | None:
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("key") != self.key:
                return None
            graph = [{int(v): float(w) for v, w in row} for row in data["graph"]]
            pagerank = [float(x) for x in data["pagerank"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (graph, pagerank) if len(graph) == len(pagerank) else None

    def save(self, graph: list[dict[int, float]], pagerank: list[float]) -> None:
        payload = json.dumps({"key": self.key, "graph": [[[v, round(w, 6)] for v, w in row.items()] for row in graph],
                              "pagerank": pagerank}, separators=(",", ":"))
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".graph-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(payload)
            os.replace(tmp, self.path)
        except OSError:
            pass  # only costs time next run
