"""The repository map: build (or refresh from the cache) an index, then rank and render from it."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..secret_paths import looks_secret
from .cache import CachedFiles, IndexStore, TagCache, content_hash
from .files import FileInfo, git_files, outside_repository, scan_files
from .outline import OTHER_LINES_BY_RANK, line_limit, outline_symbols, pack
from .rank import RankedFile, Ranker, file_kind, request_mentions
from .tags import FileTags, Symbol, language_for, parse_source
from .terms import text_terms

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# Below this many files to parse, a process pool costs more than it saves.
PARALLEL_MIN_FILES = 400
CHUNK_FILES = 32
RELATED_DEMOTION = 0.2  # weight of a test or doc neighbour in related_signatures
RELATED_UNNAMED = 3  # per neighbour, definitions shown beyond those linked to the picked files


@dataclass
class IndexStats:
    files: int = 0  # indexed
    skipped: int = 0
    parsed: int = 0  # parsed this run
    reused: int = 0  # taken from the cache
    workers: int = 1
    seconds: float = 0.0
    cache: str = "off"  # off, cold, warm, corrupt (rebuilt), outdated (rebuilt), ...
    parsed_paths: list[str] = field(default_factory=list)


def _parse_one(root: Path, rel: str, data: bytes | None = None) -> tuple[str, str | None, FileTags | None]:
    try:
        if data is None:
            data = (root / rel).read_bytes()
    except OSError:
        return rel, None, None
    try:
        tags = parse_source(rel, data)
    except Exception:  # a file the grammar chokes on must not break the map: index its path only
        tags = FileTags(rel, None)
    return rel, content_hash(data), tags


def _parse_chunk(root: str, rels: list[str]) -> list[tuple[str, str | None, list | None]]:
    """Worker side: plain rows travel back cheaper than objects."""
    out = []
    for rel in rels:
        _, digest, tags = _parse_one(Path(root), rel)
        out.append((rel, digest, tags.to_row() if tags is not None else None))
    return out


def _worker_count(n_files: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    if n_files < PARALLEL_MIN_FILES:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _parse_parallel(
    root: Path, todo: list[FileInfo], workers: int
) -> Iterable[tuple[str, str | None, FileTags | None, list | None]]:
    """Parse with `workers - 1` helper processes plus this one.

    The chunks form one queue: helpers get the next chunk whenever they have fewer than two in
    flight, and this process parses the next one itself otherwise. So no core idles, and when
    the helpers get little CPU (a busy machine) this process simply does most of the work,
    without paying to send results between processes. Whatever a helper fails to deliver
    (no processes allowed, an unguarded __main__, a crash) is parsed here.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    ordered = sorted(todo, key=lambda f: -f.size)  # big files first: the tail is made of small chunks
    chunks = [[f.path for f in ordered[i : i + CHUNK_FILES]] for i in range(0, len(ordered), CHUNK_FILES)]
    pending: dict[Future, list[str]] = {}
    failed: list[list[str]] = []
    helpers = max(1, workers - 1)
    pool = _process_pool(helpers)
    try:
        queue = list(reversed(chunks))
        while queue or pending:
            while pool is not None and queue and len(pending) < 2 * helpers:
                chunk = queue.pop()
                try:
                    pending[pool.submit(_parse_chunk, str(root), chunk)] = chunk
                except Exception:
                    failed.append(chunk)
                    pool = None
            finished = [f for f in pending if f.done()]
            if not finished and not queue:
                finished = list(wait(pending, return_when=FIRST_COMPLETED).done)
            for fut in finished:
                chunk = pending.pop(fut)
                try:
                    rows = fut.result()
                except Exception:
                    failed.append(chunk)
                    continue
                for rel, digest, row in rows:
                    tags = FileTags.from_row(rel, row) if row is not None else None
                    yield rel, digest, tags, row
            if queue and (pool is None or len(pending) >= 2 * helpers):
                for rel in queue.pop():
                    yield (*_parse_one(root, rel), None)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    for chunk in failed:
        for rel in chunk:
            yield (*_parse_one(root, rel), None)


def _end_with_the_run(run_pid: int | None) -> None:
    """In each parser process: on Linux, die when the process that started it does (the run itself, or the
    forkserver, which ends with the run). A run killed with `kill -9` (or by the OOM killer) would otherwise
    leave its parsers waiting forever, holding its output pipes open, so a `$(tieragent ...)` or a CI step
    would hang on them. `run_pid`: the run's pid when the parsers are its own forks."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):  # no libc to ask: the parsers end when the pool does, as elsewhere
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if run_pid is not None and os.getppid() != run_pid:  # the run ended before the call above
        os._exit(1)


def _process_pool(helpers: int) -> ProcessPoolExecutor | None:
    """Parser processes, or None where processes cannot be had."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    # fork is quickest and safe while this process has a single thread; otherwise a clean server.
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    try:
        return ProcessPoolExecutor(
            max_workers=helpers,
            mp_context=multiprocessing.get_context(method),
            initializer=_end_with_the_run,
            initargs=(os.getpid() if method == "fork" else None,),
        )
    except Exception:
        return None


def build_repo_map(
    root: Path,
    *,
    cache_dir: Path | None = None,
    files: list[str] | None = None,
    workers: int | None = None,
) -> RepoMap:
    """Index the repository (files default to candidate_files(root)); uses/refreshes the on-disk tag cache.

    `files` may be any list of repository-relative paths (for example the workspace's shareable
    ones); the same filters apply, so secret-looking files are never opened. `workers`: parser
    processes (default: one per core when there are many files to parse).
    """
    started = time.perf_counter()
    root = Path(root).resolve()
    rels = git_files(root) if files is None else list(files)
    cache = TagCache(cache_dir, root)
    cache.load()
    infos, skipped = scan_files(root, rels, trusted=cache.recorded_stat)
    parsed: dict[str, FileTags] = {}
    cached, todo, read_already = _check_cache(cache, root, infos)
    stats = IndexStats(cache=cache.status, reused=len(cached))
    n_workers = _worker_count(len(todo), workers)
    info_of = {f.path: f for f in todo}
    if n_workers > 1 and len(todo) > 1:
        results: Iterable = _parse_parallel(root, todo, n_workers)
    else:
        results = ((*_parse_one(root, f.path, read_already.get(f.path)), None) for f in todo)
    for rel, digest, tags, row in results:
        if tags is None or digest is None:
            skipped[rel] = "unreadable"
            continue
        parsed[rel] = tags
        cache.store(info_of[rel], digest, tags, row)
        stats.parsed_paths.append(rel)
    order = [f.path for f in infos if f.path in parsed or f.path in cached]
    cache.save(set(order))
    stats.files = len(order)
    stats.skipped = len(skipped)
    stats.parsed = len(stats.parsed_paths)
    stats.workers = n_workers
    stats.seconds = time.perf_counter() - started
    ordered = CachedFiles(order, parsed, cache, functools.partial(_reparse, root, cache, order))
    return RepoMap(root, ordered, skipped, stats, cache.index_store(order))


def _check_cache(
    cache: TagCache, root: Path, infos: list[FileInfo]
) -> tuple[set[str], list[FileInfo], dict[str, bytes]]:
    """The files whose tags the cache holds, those to parse, and the bytes of those the check read."""
    cached: set[str] = set()
    todo: list[FileInfo] = []
    read_already: dict[str, bytes] = {}
    for info in infos:
        hit, data = cache.lookup(root, info)
        if hit:
            cached.add(info.path)
        else:
            todo.append(info)
            if data is not None:
                read_already[info.path] = data
    return cached, todo, read_already


def _reparse(root: Path, cache: TagCache, order: list[str], rel: str) -> FileTags:
    """A cached row found damaged when decoded: parse the file again and repair the cache."""
    try:
        st = os.stat(root / rel)  # before reading: a write after it gives another mtime next run
    except OSError:
        return FileTags(rel, None)
    _, digest, tags = _parse_one(root, rel)
    if tags is None or digest is None:
        return FileTags(rel, None)
    cache.store(FileInfo(rel, st.st_size, st.st_mtime_ns), digest, tags)
    cache.save(set(order))
    return tags


class RepoMap:
    """An index of one repository's files: rank them for a request, render outlines and context."""

    def __init__(
        self,
        root: Path,
        files: Mapping[str, FileTags],
        skipped: dict[str, str],
        stats: IndexStats,
        index_store: IndexStore | None = None,
    ):
        self.root = root
        self.files = files  # path -> FileTags, in index order (decoded from the cache on first use)
        self.skipped = skipped
        self.stats = stats
        self.ranker = Ranker(files, index_store)
        self._rank_memo: tuple[str | None, list[RankedFile]] | None = None

    @property
    def paths(self) -> list[str]:
        return list(self.files)

    def __contains__(self, path: object) -> bool:
        return path in self.files

    # ------------------------------------------------------------ ranking and outline

    def rank(self, request: str | None) -> list[RankedFile]:
        """Every indexed file, best first, each with its score and the reasons for it."""
        if self._rank_memo is not None and self._rank_memo[0] == request:
            return self._rank_memo[1]
        ranked = self.ranker.rank(request)
        self._rank_memo = (request, ranked)
        return ranked

    def _named_and_words(self, request: str | None) -> tuple[set[str], set[str]]:
        if not request:
            return set(), set()
        mentions, _ = request_mentions(request, self.ranker.defined_names())
        return {n for m in mentions for n in m.names}, set(text_terms(request))

    def outline(self, request: str | None, token_budget: int = 1500) -> str:
        """The compact outline for the classify step: the top files with their definitions'
        signature lines, within `token_budget` tokens (ceil(chars / 4))."""
        ranked = self.rank(request)
        named, words = self._named_and_words(request)
        focused = bool(named or words)  # with a request, lines that match it come first and fill most of the room
        blocks = (
            (
                r.path,
                outline_symbols(self.files[r.path].defs),
                line_limit(n),
                "",
                line_limit(n, OTHER_LINES_BY_RANK) if focused else None,
            )
            for n, r in enumerate(ranked)
        )
        return pack(blocks, token_budget, named, words, popularity=self.ranker.ref_df())

    # ------------------------------------------------------------ neighbours and patch context

    def dependencies(self, path: str) -> list[tuple[str, float]]:
        """Files defining names that `path` uses, strongest first."""
        r = self.ranker
        i = r.index_of(path)
        if i is None:
            return []
        g = r.graph()
        return [(r.paths[v], w) for v, w in sorted(g[i].items(), key=lambda kv: (-kv[1], r.paths[kv[0]]))]

    def dependents(self, path: str) -> list[tuple[str, float]]:
        """Files using names that `path` defines, strongest first."""
        r = self.ranker
        i = r.index_of(path)
        if i is None:
            return []
        g = r.graph()
        found = [(r.paths[u], edges[i]) for u, edges in enumerate(g) if i in edges]
        return sorted(found, key=lambda kv: (-kv[1], kv[0]))

    def related_signatures(self, picked: list[str], token_budget: int) -> str:
        """Signature lines of the files the picked files depend on and of the files that depend on
        them (never the picked files themselves), strongest link first, within the budget.
        Of a dependency, the definitions the picked files use come first."""
        picked_set = {p for p in picked if p in self.files}
        weight: dict[str, float] = {}
        note: dict[str, str] = {}
        used_names: set[str] = set()
        picked_defs: set[str] = set()
        for p in picked_set:
            own = {d.name for d in self.files[p].defs}
            # identifiers include the file's own definitions' names; those are not uses
            used_names.update(n for n in self.files[p].refs if n not in own and not n.startswith("__"))
            picked_defs.update(n for n in own if not n.startswith("__"))
            for q, w in self.dependencies(p):
                if q not in picked_set:
                    weight[q] = weight.get(q, 0.0) + w
                    note.setdefault(q, "used by the picked files")
            for q, w in self.dependents(p):
                if q not in picked_set:
                    weight[q] = weight.get(q, 0.0) + w
                    if note.get(q, "").startswith("used by"):
                        note[q] = "uses and is used by the picked files"
                    else:
                        note.setdefault(q, "uses the picked files")
        # Tests and docs that use the picked files matter less to a patch than the code around it.
        picked_kinds = {file_kind(p) for p in picked_set}
        for q in weight:
            kind = file_kind(q)
            if kind in ("test", "doc") and kind not in picked_kinds:
                weight[q] *= RELATED_DEMOTION
        order = sorted(weight, key=lambda q: (-weight[q], q))
        blocks = ((q, outline_symbols(self.files[q].defs), line_limit(n), note[q]) for n, q in enumerate(order))
        return pack(
            blocks,
            token_budget,
            named=used_names | picked_defs,
            words=set(),
            max_unnamed=RELATED_UNNAMED,
            popularity=self.ranker.ref_df(),
        )

    # ------------------------------------------------------------ symbols and paths

    def defined_symbols(self, path: str) -> list[Symbol]:
        """Definitions in `path` (name, kind, line, end_line, signature, parent, local), source order.

        A path that is not indexed but exists, is not secret-looking and has a grammar is parsed now."""
        tags = self.files.get(path)
        if tags is not None:
            return list(tags.defs)
        if outside_repository(path) or looks_secret(path) or language_for(path) is None:
            return []
        full = self.root / path
        if not full.is_file() or full.is_symlink():
            return []
        return parse_source(path, full.read_bytes()).defs

    def resolve(self, name: str) -> str | None:
        """An indexed path for what a model wrote: exact, `./`-prefixed, or a unique path suffix."""
        name = name.strip().strip("`'\"").replace("\\", "/")
        while name.startswith("./"):
            name = name[2:]
        if name in self.files:
            return name
        hits = [p for p in self.files if p.endswith("/" + name)]
        return hits[0] if len(hits) == 1 else None


def symbols_for_source(path: str, data: bytes) -> list[Symbol]:
    """Definitions of arbitrary text as if it were `path` (e.g. a file before and after a patch)."""
    if language_for(path) is None:
        return []
    return parse_source(path, data).defs
