"""The ranking index: what ranking needs from every file, built once per set of file contents.

Building it means reading every file's tags (most of a warm `tieragent map` on a large tree),
so it is stored (cache.IndexStore) and read back while no file changes. Each section is its
own marshal blob, decoded the first time a run asks for it: a map without a request needs
only `pagerank` and `ref_df`; a request adds the lexical sections and the postings of its
few words, never the whole text of every file.

  pagerank    the global PageRank, per file
  ref_df      defined name -> how many files use it
  graph       per file, out-edges (targets, weights): the file uses names the targets define
  normalized  the same with weights summing to 1, what PageRank walks
  defines     name -> files defining it (local definitions left out)
  lexical     (per-file field lengths (path, names, body), their averages, document frequencies,
              the sorted vocabulary)
  postings    term -> packed int32 (file, path count, names count, body count) quadruples
  refs        defined name -> packed int32 (file, uses) pairs: the files using it
  other_refs  the same for the identifiers defined nowhere (most of them: library names...),
              apart because only a request naming one of those needs them
"""

from __future__ import annotations

import hashlib
import marshal
from array import array
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from .cache import IndexStore
from .graph import build_graph, normalize, walk
from .tags import FileTags
from .terms import identifier_terms, path_terms

SECTIONS = ("pagerank", "ref_df", "graph", "normalized", "defines", "lexical", "postings", "refs", "other_refs")
FIELDS = ("path", "names", "body")


def _index_row(files: Mapping[str, FileTags], path: str) -> tuple[list[str], Mapping[str, int], Mapping[str, int]]:
    """(non-local definition names, refs, terms); cache.CachedFiles gives them without decoding Symbols."""
    quick = getattr(files, "index_row", None)
    if quick is not None:
        return quick(path)
    t = files[path]
    return [d.name for d in t.defs if not d.local], t.refs, t.terms


def _avg(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def build_sections(paths: list[str], files: Mapping[str, FileTags]) -> dict[str, Any]:
    """Every section, from the files' tags."""
    defines: dict[str, list[int]] = {}
    refs: list[Mapping[str, int]] = []
    postings: dict[str, list[int]] = {}
    ref_posts: dict[str, list[int]] = {}
    lengths: list[tuple[int, int, int]] = []
    for i, p in enumerate(paths):
        names, file_refs, terms = _index_row(files, p)
        nf: Counter[str] = Counter()
        for name in names:
            owners = defines.setdefault(name, [])
            if not owners or owners[-1] != i:
                owners.append(i)
            nf.update(identifier_terms(name))
        pf = Counter(path_terms(p))
        named = pf.keys() | nf.keys()
        # (the hot loop of a rebuild: dict.get and +=, not setdefault, which builds a list per call)
        for t, c in terms.items():
            if t not in named:
                post = postings.get(t)
                if post is None:
                    postings[t] = [i, 0, 0, c]
                else:
                    post += (i, 0, 0, c)
        for t in named:
            post = postings.get(t)
            if post is None:
                postings[t] = post = []
            post += (i, pf.get(t, 0), nf.get(t, 0), terms.get(t, 0))
        for name, count in file_refs.items():
            post = ref_posts.get(name)
            if post is None:
                ref_posts[name] = [i, count]
            else:
                post += (i, count)
        refs.append(file_refs)
        lengths.append((sum(pf.values()), sum(nf.values()), sum(terms.values())))
    ref_df = {name: len(ref_posts[name]) // 2 for name in defines if name in ref_posts}
    df = {t: len(v) // 4 for t, v in postings.items()}
    avg = {
        "path": _avg([x[0] for x in lengths]),
        "names": _avg([x[1] for x in lengths]),
        "body": _avg([x[2] for x in lengths if x[2]]),
    }
    graph = build_graph(refs, defines, ref_df)
    normalized = normalize(graph)
    return {
        "pagerank": walk(normalized, None),
        "ref_df": ref_df,
        "graph": [(tuple(e), tuple(e.values())) for e in graph],
        "normalized": normalized,
        "defines": defines,
        "lexical": (lengths, avg, df, sorted(df)),
        "postings": {t: array("i", v).tobytes() for t, v in postings.items()},
        "refs": {name: array("i", v).tobytes() for name, v in ref_posts.items() if name in defines},
        "other_refs": {name: array("i", v).tobytes() for name, v in ref_posts.items() if name not in defines},
    }


def _valid(name: str, value: Any, n: int) -> bool:
    """A light shape check of a decoded section (the store is keyed by content, so damage is rare)."""
    if name in ("pagerank", "graph", "normalized"):
        return isinstance(value, list) and len(value) == n
    if name == "lexical":
        return isinstance(value, tuple) and len(value) == 4 and len(value[0]) == n
    return isinstance(value, dict)


@lru_cache(maxsize=1)
def index_version() -> str:
    """Changes with the code that builds the sections (the tags' own version is in the store's key)."""
    h = hashlib.sha256(b"index-v1")
    pkg = resources.files(__package__)
    for module in ("index.py", "graph.py"):
        h.update(pkg.joinpath(module).read_bytes())
    return h.hexdigest()[:16]


class RankIndex:
    """The sections for `paths`, read from `store` when it has them, else built from `files`
    (and then stored). Nothing is read before a section is asked for."""

    def __init__(self, paths: list[str], files: Mapping[str, FileTags], store: IndexStore | None = None):
        self.paths = paths
        self._files = files
        self._store = store
        self._values: dict[str, Any] = {}
        self._blobs: dict[str, bytes] | None = None
        self._loaded = store is None

    def section(self, name: str) -> Any:
        value = self._values.get(name)
        if value is not None:
            return value
        if not self._loaded:
            assert self._store is not None
            self._loaded = True
            blobs = self._store.load(index_version())
            self._blobs = blobs if blobs is not None and all(s in blobs for s in SECTIONS) else None
        if self._blobs is not None:
            try:
                value = marshal.loads(self._blobs[name])
            except (ValueError, EOFError, TypeError):
                value = None
            if value is not None and _valid(name, value, len(self.paths)):
                self._values[name] = value
                return value
        self._blobs = None
        self._values = build_sections(self.paths, self._files)
        if self._store is not None:
            self._store.save(self._values, index_version())
        return self._values[name]

    # ------------------------------------------------------------ decoded views

    def postings(self, term: str) -> array:
        """Flat (file, path count, names count, body count, ...) for `term`; empty when unknown."""
        out = array("i")
        blob = self.section("postings").get(term)
        if blob:
            out.frombytes(blob)
        return out

    def ref_postings(self, name: str) -> array:
        """Flat (file, uses, ...) of the files using identifier `name`, in file order."""
        out = array("i")
        blob = self.section("refs" if name in self.section("defines") else "other_refs").get(name)
        if blob:
            out.frombytes(blob)
        return out
