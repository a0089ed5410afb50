"""Tags with tree-sitter: the definitions a file makes and the identifiers it uses.

Grammars come from the per-language wheels (tree-sitter-python, ...); the queries are the
`queries/<language>-defs.scm` and `queries/<language>-refs.scm` files of this package.
Definitions keep their signature line (the header up to the body, on one line), so the
outline can show `def rebuild_auth(self, prepared_request, response):` without the body.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any, NamedTuple

from .terms import body_terms

# extension -> language (the grammar and query set used)
LANGUAGE_BY_EXT = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}
# TSX is TypeScript's grammar with JSX; both use the typescript queries.
QUERY_SET = {"tsx": "typescript"}
LANGUAGES = ("python", "javascript", "typescript", "tsx", "go", "rust", "java")

# Source files without a grammar here still get their words indexed (for the lexical score).
OTHER_SOURCE_EXTS = frozenset(
    (
        ".c .h .cc .cpp .cxx .hh .hpp .cs .rb .php .swift .kt .kts .scala .sh .bash .zsh .lua .pl .pm .r .m .mm .sql"
        " .ex .exs .erl .hs .ml .clj .dart .vue .svelte .groovy .gradle .ps1 .jl .zig .nim .f90 .pyx .pxd"
    ).split()
)

# Kinds a definition can have. Functions inside classes become methods; definitions inside a
# function are local (kept for defined_symbols, left out of outlines).
CONTAINER_KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "impl", "module", "type"})
MAX_SIGNATURE_CHARS = 200
MIN_REF_LEN = 3


class Symbol(NamedTuple):
    """One definition: `class Session(SessionRedirectMixin):` in sessions.py, line 356.

    A NamedTuple (immutable, hashable, cheap to create: a large repository has tens of thousands)."""

    name: str
    kind: (
        str  # class, function, method, variable, interface, struct, enum, trait, impl, type, module, macro, constructor
    )
    line: int  # 1-based
    end_line: int
    signature: str  # the header on one line, without the body
    parent: str | None = None  # the enclosing definition's name
    local: bool = False  # defined inside a function: not part of the file's interface

    def to_row(self) -> list[Any]:
        return list(self)

    @classmethod
    def from_row(cls, row: list[Any]) -> Symbol:
        name, kind, line, end_line, signature, parent, local = row
        if not (isinstance(name, str) and isinstance(signature, str) and isinstance(line, int)):
            raise ValueError("bad symbol row")
        return cls(name, kind, line, end_line, signature, parent, bool(local))


@dataclass
class FileTags:
    """What the map knows about one file."""

    path: str
    language: str | None  # None: not parsed (no grammar here)
    defs: list[Symbol] = field(default_factory=list)
    refs: dict[str, int] = field(default_factory=dict)  # identifier -> times used
    terms: dict[str, int] = field(default_factory=dict)  # word counts of the text (source files only)

    def to_row(self) -> list[Any]:
        return [self.language, [d.to_row() for d in self.defs], self.refs, self.terms]

    @classmethod
    def from_row(cls, path: str, row: list[Any]) -> FileTags:
        language, defs, refs, terms = row
        if not isinstance(refs, dict) or not isinstance(terms, dict):
            raise ValueError("bad tags row")
        return cls(path, language, [Symbol.from_row(d) for d in defs], refs, terms)


def language_for(path: str) -> str | None:
    dot = path.rfind(".")
    if dot <= path.rfind("/"):
        return None
    return LANGUAGE_BY_EXT.get(path[dot:].lower())


def is_source(path: str) -> bool:
    dot = path.rfind(".")
    if dot <= path.rfind("/"):
        return False
    ext = path[dot:].lower()
    return ext in LANGUAGE_BY_EXT or ext in OTHER_SOURCE_EXTS


def _grammar(language: str) -> object:
    if language == "python":
        import tree_sitter_python

        return tree_sitter_python.language()
    if language == "javascript":
        import tree_sitter_javascript

        return tree_sitter_javascript.language()
    if language in ("typescript", "tsx"):
        import tree_sitter_typescript

        if language == "tsx":
            return tree_sitter_typescript.language_tsx()
        return tree_sitter_typescript.language_typescript()
    if language == "go":
        import tree_sitter_go

        return tree_sitter_go.language()
    if language == "rust":
        import tree_sitter_rust

        return tree_sitter_rust.language()
    if language == "java":
        import tree_sitter_java

        return tree_sitter_java.language()
    raise ValueError(f"no grammar for {language}")


def query_text(language: str, what: str) -> str:
    name = f"{QUERY_SET.get(language, language)}-{what}.scm"
    return resources.files(__package__).joinpath("queries").joinpath(name).read_text(encoding="utf-8")


@cache
def _tools(language: str) -> tuple[Any, Any, Any]:
    from tree_sitter import Language, Parser, Query

    lang = Language(_grammar(language))
    return Parser(lang), Query(lang, query_text(language, "defs")), Query(lang, query_text(language, "refs"))


@lru_cache(maxsize=1)
def tags_version() -> str:
    """Changes whenever what a parse produces could change: queries, this code, the grammars."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256(b"tags-v1")
    for lang in LANGUAGES:
        for what in ("defs", "refs"):
            h.update(query_text(lang, what).encode())
    pkg = resources.files(__package__)
    for module in ("tags.py", "terms.py"):
        h.update(pkg.joinpath(module).read_bytes())
    for dist in (
        "tree-sitter",
        "tree-sitter-python",
        "tree-sitter-javascript",
        "tree-sitter-typescript",
        "tree-sitter-go",
        "tree-sitter-rust",
        "tree-sitter-java",
    ):
        try:
            h.update(f"{dist}={version(dist)}".encode())
        except PackageNotFoundError:
            h.update(f"{dist}=?".encode())
    return h.hexdigest()[:16]


_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_OPEN_SPACE = re.compile(r"([(\[{<]) ")
_CLOSE_SPACE = re.compile(r" ([)\]}>])")
_TRAILING_COMMA = re.compile(r",([)\]])")


def _signature(node: Any, data: bytes, kind: str) -> str:
    start = node.start_byte
    body = node.child_by_field_name("body") if kind != "variable" else None
    if body is not None and body.start_byte > start:
        end = body.start_byte
        for child in node.children:  # stop after the header's last token, before any comment
            if child.start_byte >= body.start_byte:
                break
            if "comment" not in child.type:
                end = child.end_byte
    else:
        nl = data.find(b"\n", start, node.end_byte)
        end = node.end_byte if nl == -1 else nl
    raw = data[start : min(end, start + 2000)]
    if b"\n" in raw or b"  " in raw or b"\t" in raw:  # a header over several lines: join it
        text = " ".join(raw.decode("utf-8", "replace").split())
        text = _TRAILING_COMMA.sub(r"\1", _CLOSE_SPACE.sub(r"\1", _OPEN_SPACE.sub(r"\1", text)))
    else:
        text = raw.decode("utf-8", "replace").strip()
    if kind == "variable":
        if end < node.end_byte and text.endswith(("(", "[", "{")):
            text += "…" + {"(": ")", "[": "]", "{": "}"}[text[-1]]  # TIMEOUTS = {…}
    elif text.endswith("{"):
        text = text[:-1].rstrip()
    if node.type == "type_spec":
        text = "type " + text
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1] + "…"
    return text


def extract_symbols(language: str, data: bytes, tree: Any = None) -> list[Symbol]:
    """The definitions in `data`, in source order, with kinds resolved by nesting."""
    parser, defs_q, _ = _tools(language)
    from tree_sitter import QueryCursor

    if tree is None:
        tree = parser.parse(data)
    found: dict[int, tuple[Any, Any, str]] = {}
    for _, caps in QueryCursor(defs_q).matches(tree.root_node):
        name_nodes = caps.get("name")
        if not name_nodes:
            continue
        for cap, nodes in caps.items():
            if cap.startswith("def."):
                node = nodes[0]
                key = node.start_byte * 1_000_003 + node.end_byte
                if key not in found:
                    found[key] = (node, name_nodes[0], cap[4:])
    items = sorted(found.values(), key=lambda t: (t[0].start_byte, -t[0].end_byte))
    out: list[Symbol] = []
    stack: list[tuple[int, str, str, bool]] = []  # (end_byte, name, kind, local)
    for node, name_node, kind in items:
        start, end = node.start_byte, node.end_byte
        while stack and stack[-1][0] <= start:
            stack.pop()
        parent = stack[-1] if stack else None
        local = False
        if parent is not None:
            local = parent[3] or parent[2] in ("function", "method", "constructor")
            if kind == "function" and parent[2] in CONTAINER_KINDS:
                kind = "method"
        name = data[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
        out.append(
            Symbol(
                name=name,
                kind=kind,
                line=node.start_point[0] + 1,
                end_line=node.end_point[0] + 1,
                signature=_signature(node, data, kind),
                parent=parent[1] if parent else None,
                local=local,
            )
        )
        stack.append((end, name, kind, local))
    return out


def extract_refs(language: str, tree: Any, data: bytes) -> dict[str, int]:
    from tree_sitter import QueryCursor

    _, _, refs_q = _tools(language)
    caps = QueryCursor(refs_q).captures(tree.root_node)
    raw: dict[bytes, int] = {}
    for node in caps.get("ref", ()):
        s, e = node.start_byte, node.end_byte
        if e - s >= MIN_REF_LEN:
            name = data[s:e]
            raw[name] = raw.get(name, 0) + 1
    for node in caps.get("ref.skip", ()):  # e.g. an import's module path: its identifiers are not uses
        for name in _IDENT.findall(data, node.start_byte, node.end_byte):
            if raw.get(name, 0) > 1:
                raw[name] -= 1
            else:
                raw.pop(name, None)
    return {k.decode("utf-8", "replace"): n for k, n in raw.items()}


def parse_source(path: str, data: bytes, language: str | None = None) -> FileTags:
    """Tags for one file's bytes. Files without a grammar get words only (or nothing)."""
    language = language or language_for(path)
    terms = body_terms(data) if (language or is_source(path)) else {}
    if language is None:
        return FileTags(path, None, [], {}, terms)
    parser = _tools(language)[0]
    tree = parser.parse(data)
    return FileTags(path, language, extract_symbols(language, data, tree), extract_refs(language, tree, data), terms)
