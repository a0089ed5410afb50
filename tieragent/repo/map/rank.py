"""Ranking files for a request: mentions, a reference graph with personalized PageRank, BM25F.

Three signals, each on a [0, 1] scale and kept with a human-readable reason:

* **mentions**: identifiers the request names (`parse_header_links`, `Session.send`, backticked
  or code-shaped words) point at the files defining them; paths and file names (`sessions.py`)
  at those files. A name defined nowhere still points, more weakly, at the files using it.
* **lexical**: BM25F over three fields of each file: its path, the names it defines, and the
  words of its text (source files only), with light stemming and prefix matches, so
  "redirects drop the Authorization header" meets `rebuild_auth` and `should_strip_auth`.
* **graph**: a file that uses a name points at the files defining it; PageRank personalized
  with the mentioned and lexically matching files spreads their weight to their neighbours.

Tests and documentation are demoted unless the request talks about them: a fix lives in the
code they describe. The index-wide structures (the graph, postings...) live in index.py;
PageRank in graph.py; reading the request's mentions in mentions.py.
"""

from __future__ import annotations

import builtins
import math
import re
from bisect import bisect_left
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from .cache import IndexStore
from .graph import name_weight, normalize, pagerank, ref_idf, walk
from .index import FIELDS, RankIndex
from .mentions import Mention, mention_weight, request_mentions
from .tags import FileTags, is_source
from .terms import stem, text_terms

__all__ = ["Mention", "RankedFile", "Ranker", "file_kind", "mention_weight", "pagerank", "request_mentions"]

# Weights of the combined score (each signal is normalised to [0, 1] first).
W_MENTION = 1.0  # lowered from 1.6 after the same ablation (recall@1 no worse on either set)
W_LEXICAL = 1.0
W_GRAPH = 0.25  # lowered from 0.45 after the ablation in benchmarks/recall.py: same recall@5, better @1
# BM25F
K1 = 1.2
FIELD_WEIGHT = {"path": 3.0, "names": 2.0, "body": 1.0}
FIELD_B = {"path": 0.3, "names": 0.5, "body": 0.6}
PREFIX_MATCH_WEIGHT = 0.6
MIN_PREFIX = 4
# demotions
TEST_FACTOR = 0.6
DOC_FACTOR = 0.6
OTHER_FACTOR = 0.8

_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|__tests__|spec|specs|e2e)(/|$)|(^|/)(test_[^/]*|[^/]*_test\.[a-z]+|[^/]*\.(test|spec)\.[a-z]+|[^/]*Tests?\.java|conftest\.py)$"
)
_DOC_PATH = re.compile(
    r"(^|/)(docs?|documentation)(/|$)|\.(md|markdown|rst|txt|adoc)$|(^|/)(README|CHANGELOG|CHANGES|HISTORY|NEWS|AUTHORS|LICENSE|NOTICE)[^/]*$",
    re.IGNORECASE,
)
_TEST_WORDS = frozenset(
    stem(w) for w in ("test tests testing spec specs pytest unittest flaky fixture fixtures conftest").split()
)
_DOC_WORDS = frozenset(
    stem(w)
    for w in ("doc docs documentation documented readme changelog history typo docstring guide tutorial").split()
)


@dataclass
class RankedFile:
    path: str
    score: float
    reasons: list[str] = field(default_factory=list)


def file_kind(path: str) -> str:
    """'test', 'doc', 'source' or 'other' (config, data, templates...)."""
    if _TEST_PATH.search(path):
        return "test"
    if _DOC_PATH.search(path):
        return "doc"
    return "source" if is_source(path) else "other"


@dataclass
class _Scores:
    """A score per file and the reasons that add up to it."""

    scores: dict[int, float] = field(default_factory=dict)
    reasons: dict[int, list[str]] = field(default_factory=dict)

    def add(self, i: int, score: float, why: str) -> None:
        self.scores[i] = self.scores.get(i, 0.0) + score
        if why not in self.reasons.setdefault(i, []):
            self.reasons[i].append(why)


class Ranker:
    """Ranks the files of one index; the index-wide structures come from a RankIndex (stored
    between runs, or built once, lazily)."""

    def __init__(self, files: Mapping[str, FileTags], store: IndexStore | None = None):
        self.files = files
        self.paths = list(files)
        self._index = {p: i for i, p in enumerate(self.paths)}
        self.index = RankIndex(self.paths, files, store)
        self._graph: list[dict[int, float]] | None = None
        self._defined_lower: dict[str, set[str]] | None = None
        self._kinds: list[str] | None = None

    # ------------------------------------------------------------ index-wide structures

    @property
    def defines(self) -> dict[str, list[int]]:
        """name -> the files defining it (not counting local definitions)."""
        return self.index.section("defines")

    def defined_names(self) -> Collection[str]:
        """Every name some indexed file defines (not counting local definitions)."""
        return self.defines.keys()

    @property
    def defined_lower(self) -> dict[str, set[str]]:
        if self._defined_lower is None:
            lower: dict[str, set[str]] = {}
            for name in self.defines:
                lower.setdefault(name.lower(), set()).add(name)
            self._defined_lower = lower
        return self._defined_lower

    @property
    def kinds(self) -> list[str]:
        if self._kinds is None:
            self._kinds = [file_kind(p) for p in self.paths]
        return self._kinds

    def graph(self) -> list[dict[int, float]]:
        """out[u] = {v: weight}: file u uses names that file v defines."""
        if self._graph is None:
            self._graph = [dict(zip(targets, weights, strict=True)) for targets, weights in self.index.section("graph")]
        return self._graph

    def ref_df(self) -> dict[str, int]:
        """For each defined name, how many files use it."""
        return self.index.section("ref_df")

    def global_pagerank(self) -> list[float]:
        return self.index.section("pagerank")

    # ------------------------------------------------------------ signals

    def _mention_scores(self, request: str) -> tuple[dict[int, float], dict[int, list[str]], set[str]]:
        """Files the request names: by path, by dotted module, by a name they define, else by a name
        they use; and the names found defined here."""
        found = _Scores()
        named: set[str] = set()
        mentions, paths = request_mentions(request, self.defines.keys())
        for token in paths:
            t = token.lstrip("./")
            hits = [i for i, p in enumerate(self.paths) if p == t or p.endswith("/" + t)]
            for i in hits:
                found.add(i, 1.0 / math.sqrt(len(hits)), f"path mentioned in request: {token!r}")
        for m in mentions:
            by_module = self._module_mentioned(m, found)
            if not self._definition_mentioned(m, by_module, found, named) and not by_module:
                self._use_mentioned(m, found)
        return found.scores, found.reasons, named

    def _module_mentioned(self, m: Mention, found: _Scores) -> bool:
        """A dotted module path names a file: requests.utils -> requests/utils.py."""
        parts = m.names  # last part first: Session.send -> [send, Session]
        if len(parts) < 2:
            return False
        chain = "/".join(reversed(parts))
        for cut in range(len(parts), 1, -1):
            sub = "/".join(chain.split("/")[:cut])
            hits = [i for i, p in enumerate(self.paths) if _module_match(p, sub)]
            if hits:
                for i in hits:
                    found.add(i, 1.0 / math.sqrt(len(hits)), f"module mentioned in request: {m.text!r}")
                return True
        return False

    def _definition_mentioned(self, m: Mention, by_module: bool, found: _Scores, named: set[str]) -> bool:
        """The files that define the mention's last part (or, failing that, a part before it)."""
        parts, defines = m.names, self.defines
        for k, name in enumerate(parts):
            owners = defines.get(name)
            if owners is None and len(name) >= 4:
                variants = self.defined_lower.get(name.lower(), set())
                owners = [o for v in variants for o in defines[v]] or None
            if not owners:
                continue
            named.add(name)
            if k > 0 and by_module:
                continue  # the module part of a dotted path already found its file
            weight = (1.0 if k == 0 else 0.6) * mention_weight(name, m.plain) / math.sqrt(len(owners))
            if k == 0 and len(parts) > 1:
                owner_parent = parts[1]
                exact = [
                    i
                    for i in owners
                    if any(d.name == name and d.parent == owner_parent for d in self.files[self.paths[i]].defs)
                ]
                if exact:
                    owners, weight = exact, mention_weight(name, m.plain) / math.sqrt(len(exact))
            for i in owners:
                found.add(i, weight, f"defines {name!r}, mentioned in request")
            return True
        return False

    def _use_mentioned(self, m: Mention, found: _Scores) -> None:
        """Not defined here (a library's name, a config key): the few files that use it."""
        name = m.names[0]
        if len(name) < 4 or name in _BUILTIN_NAMES:
            return
        users = self.index.ref_postings(name)[::2]
        if users and len(users) <= max(10, len(self.paths) // 20):
            for i in users:
                weight = 0.35 * mention_weight(name, m.plain) / math.sqrt(len(users))
                found.add(i, weight, f"uses {name!r}, mentioned in request")

    def _expand(self, term: str) -> list[tuple[str, float]]:
        _, _, df, vocab = self.index.section("lexical")
        out = [(term, 1.0)] if term in df else []
        if len(term) >= MIN_PREFIX:
            j = bisect_left(vocab, term)
            while j < len(vocab) and vocab[j].startswith(term):
                if vocab[j] != term:
                    out.append((vocab[j], PREFIX_MATCH_WEIGHT))
                j += 1
                if len(out) > 40:
                    break
            for k in range(MIN_PREFIX, len(term)):
                if term[:k] in df:
                    out.append((term[:k], PREFIX_MATCH_WEIGHT))
        return out

    def _lexical_scores(self, request: str) -> tuple[dict[int, float], dict[int, list[str]]]:
        words = text_terms(request)
        if not words:
            return {}, {}
        lengths, avg, df, _ = self.index.section("lexical")
        n = len(self.paths)
        query = list(dict.fromkeys(words))
        expanded = {q: self._expand(q) for q in query}
        idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for ts in expanded.values() for t, _ in ts}
        owners: dict[str, list[tuple[str, float]]] = {}  # candidate term -> [(query term, weight)]
        for q, cands in expanded.items():
            for t, w in cands:
                owners.setdefault(t, []).append((q, w))
        # file -> [(term, count in path, in names, in body)], from the terms' postings
        hits: dict[int, list[tuple[str, int, int, int]]] = {}
        for t in owners:
            post = self.index.postings(t)
            for k in range(0, len(post), 4):
                hits.setdefault(post[k], []).append((t, post[k + 1], post[k + 2], post[k + 3]))
        weights = [FIELD_WEIGHT[f] for f in FIELDS]
        bs = [FIELD_B[f] for f in FIELDS]
        avgs = [avg[f] for f in FIELDS]
        scores: dict[int, float] = {}
        matched: dict[int, list[tuple[float, str]]] = {}
        for i in sorted(hits):
            lens = lengths[i]
            norms = [weights[k] / (1 - bs[k] + bs[k] * (lens[k] / avgs[k] if avgs[k] else 1.0)) for k in range(3)]
            best: dict[str, float] = {}
            for t, *counts in hits[i]:
                tf = 0.0
                for k in range(3):
                    if counts[k]:
                        tf += counts[k] * norms[k]
                s_t = idf[t] * tf / (K1 + tf)
                for q, w in owners[t]:
                    if w * s_t > best.get(q, 0.0):
                        best[q] = w * s_t
            scores[i] = sum(best.values())
            matched[i] = [(v, q) for q, v in best.items()]
        reasons = {}
        for i, s in scores.items():
            top = [q for _, q in sorted(matched[i], reverse=True)[:4]]
            reasons[i] = [f"bm25 {s:.1f} (terms: {', '.join(top)})"]
        return scores, reasons

    # ------------------------------------------------------------ ranking

    def rank(self, request: str | None) -> list[RankedFile]:
        n = len(self.paths)
        if n == 0:
            return []
        if not request or not request.strip():  # needs only the global PageRank
            pr = self.global_pagerank()
            top = max(pr) or 1.0
            out = [RankedFile(p, pr[i] / top, [f"pagerank {pr[i]:.4f}"]) for i, p in enumerate(self.paths)]
            out.sort(key=lambda r: (-r.score, r.path))
            return out
        mention, m_reasons, named = self._mention_scores(request)
        lexical, l_reasons = self._lexical_scores(request)
        m_top = max(mention.values(), default=0.0)
        l_top = max(lexical.values(), default=0.0)
        # Personalize the walk with what the request points at; boost edges through named symbols.
        seeds: dict[int, float] = {}
        for i, s in mention.items():
            seeds[i] = seeds.get(i, 0.0) + s / m_top
        if l_top:
            for i, s in sorted(lexical.items(), key=lambda kv: -kv[1])[:20]:
                seeds[i] = seeds.get(i, 0.0) + (s / l_top) ** 2
        normalized = self.index.section("normalized")
        if named:
            boosted = self._boosted(named)
            if boosted:
                normalized = list(normalized)
                for u, row in zip(boosted, normalize(list(boosted.values())), strict=True):
                    normalized[u] = row
        pr = walk(normalized, seeds or None)
        pr_top = max(pr) or 1.0
        words = set(text_terms(request))
        wants_tests = bool(words & _TEST_WORDS)
        wants_docs = bool(words & _DOC_WORDS)
        kinds = self.kinds
        out = []
        for i, p in enumerate(self.paths):
            m = min(mention.get(i, 0.0), 1.0)  # absolute: a weak mention (an exception's name) stays weak
            lex = lexical.get(i, 0.0) / l_top if l_top else 0.0
            g = pr[i] / pr_top
            score = W_MENTION * m + W_LEXICAL * lex + W_GRAPH * g
            reasons = list(m_reasons.get(i, ())) + list(l_reasons.get(i, ()))
            reasons.append(f"pagerank {pr[i]:.4f}")
            kind = kinds[i]
            factor = 1.0
            if kind == "test" and not wants_tests:
                factor = TEST_FACTOR
            elif kind == "doc" and not wants_docs:
                factor = DOC_FACTOR
            elif kind == "other":
                factor = OTHER_FACTOR
            if factor != 1.0:
                score *= factor
                reasons.append(f"{kind} file (x{factor})")
            out.append(RankedFile(p, round(score, 6), reasons))
        out.sort(key=lambda r: (-r.score, r.path))
        return out

    def _boosted(self, named: set[str]) -> dict[int, dict[int, float]]:
        """Edges through a name the request mentions count ten times more: the new out-edges
        of the nodes that use one."""
        graph = self.index.section("graph")
        ref_df = self.ref_df()
        n = len(self.paths)
        boosted: dict[int, dict[int, float]] = {}
        for name in named:
            owners = self.defines.get(name, [])
            if not owners:
                continue
            base = 10 * name_weight(name) * ref_idf(n, ref_df.get(name, 0)) / len(owners)
            post = self.index.ref_postings(name)
            for k in range(0, len(post), 2):
                i, count = post[k], post[k + 1]
                edges = boosted.get(i)
                if edges is None:
                    edges = boosted[i] = dict(zip(*graph[i], strict=True))
                w = base * math.sqrt(count)
                for v in owners:
                    if v != i:
                        edges[v] = edges.get(v, 0.0) + w
        return boosted

    def index_of(self, path: str) -> int | None:
        return self._index.get(path)


_BUILTIN_NAMES = frozenset(dir(builtins))


def _module_match(path: str, dotted_as_path: str) -> bool:
    stem_ = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    stem_ = stem_.removesuffix("/__init__")
    return stem_ == dotted_as_path or stem_.endswith("/" + dotted_as_path)
