"""The reference graph between files and PageRank over it, in pure Python (no numpy).

A file that uses a name points at the files defining it, more strongly for specific names
(`rebuild_auth` says more than `get`) and for names few files use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

DAMPING = 0.85
PR_MAX_ITER = 60
PR_TOLERANCE = 1e-5
MAX_EDGES_PER_FILE = 60

_CAMEL = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2,}[a-z]")

# Each node's out-edges as (targets, weights); a dangling node has ((), ()).
Edges = list[tuple[tuple[int, ...], tuple[float, ...]]]


def name_weight(name: str) -> float:
    """How much one use of `name` says about a dependency."""
    if name.startswith("__") and name.endswith("__"):
        return 0.05
    w = 1.0
    if name.startswith("_"):
        w *= 0.3
    if len(name) < 5:
        w *= 0.5
    if "_" in name.strip("_") or _CAMEL.search(name):
        w *= 1.5  # compound names are specific
    return w


def ref_idf(n_files: int, n_users: int) -> float:
    """Names used by a large share of the files (`name`, `get`) say little about any one of them."""
    return math.log((n_files + 1) / (n_users + 1)) + 0.1


def build_graph(
    refs: Sequence[Mapping[str, int]], defines: Mapping[str, list[int]], ref_df: Mapping[str, int]
) -> list[dict[int, float]]:
    """out[u] = {v: weight}: file u (with identifier counts refs[u]) uses names that file v defines."""
    out: list[dict[int, float]] = []
    n = len(refs)
    # per used name, computed once rather than at each of its uses (ten times fewer calls on a large tree)
    specific = {
        name: (name_weight(name) * ref_idf(n, df), defines[name]) for name, df in ref_df.items() if defines.get(name)
    }
    sqrt = math.sqrt
    for i, file_refs in enumerate(refs):
        edges: dict[int, float] = {}
        for name, count in file_refs.items():
            found = specific.get(name)
            if found is None:
                continue
            owners = found[1]
            w = found[0] * sqrt(count) / len(owners)
            for v in owners:
                if v != i:
                    edges[v] = edges.get(v, 0.0) + w
        if len(edges) > MAX_EDGES_PER_FILE:
            edges = dict(sorted(edges.items(), key=lambda kv: -kv[1])[:MAX_EDGES_PER_FILE])
        out.append(edges)
    return out


def normalize(graph: Sequence[Mapping[int, float]]) -> Edges:
    """Each node's out-edges as (targets, weights summing to 1); ((), ()) for a dangling node."""
    out: Edges = []
    for edges in graph:
        total = sum(edges.values())
        if total > 0:
            out.append((tuple(edges), tuple(w / total for w in edges.values())))
        else:
            out.append(((), ()))
    return out


def pagerank(
    graph: Sequence[Mapping[int, float]],
    personalization: Mapping[int, float] | None,
    *,
    normalized: Edges | None = None,
) -> list[float]:
    """Personalized PageRank by power iteration; dangling mass returns to the personalization.

    Converges when the L1 change of an iteration drops below PR_TOLERANCE (at most PR_MAX_ITER).
    """
    return walk(normalized if normalized is not None else normalize(graph), personalization)


def walk(norm: Edges, personalization: Mapping[int, float] | None) -> list[float]:
    """pagerank() over already normalized edges."""
    n = len(norm)
    if n == 0:
        return []
    if personalization:
        total = sum(personalization.values())
        p = [0.0] * n
        for i, s in personalization.items():
            p[i] = s / total
    else:
        p = [1.0 / n] * n
    damping = DAMPING
    r = list(p)
    for _ in range(PR_MAX_ITER):
        nxt = [0.0] * n
        dangling = 0.0
        for u in range(n):
            ru = r[u]
            if ru == 0.0:
                continue
            targets, weights = norm[u]
            if not targets:
                dangling += ru
                continue
            ru *= damping
            for v, w in zip(targets, weights, strict=True):
                nxt[v] += ru * w
        restart = (1 - damping) + damping * dangling
        delta = 0.0
        for i in range(n):
            x = nxt[i] + restart * p[i]
            delta += abs(x - r[i])
            nxt[i] = x
        r = nxt
        if delta < PR_TOLERANCE:
            break
    return r
