"""Repository map: tags, ranking and context selection.

    rmap = build_repo_map(root, cache_dir=GitWorkspace(root).state_dir / "tags")
    rmap.rank("redirects drop the Authorization header")   # [RankedFile(path, score, reasons)]
    rmap.outline(request, token_budget=1500)                # for the classify step
    rmap.related_signatures(picked, token_budget)           # for the patch step
    rmap.defined_symbols("src/app.py")                      # [Symbol(name, kind, line, signature, ...)]

Importing this package never imports litellm (nor any model code).
"""

from .files import candidate_files, classify_files
from .mapper import IndexStats, RepoMap, build_repo_map, symbols_for_source
from .rank import RankedFile
from .tags import FileTags, Symbol

__all__ = [
    "FileTags",
    "IndexStats",
    "RankedFile",
    "RepoMap",
    "Symbol",
    "build_repo_map",
    "candidate_files",
    "classify_files",
    "symbols_for_source",
]
