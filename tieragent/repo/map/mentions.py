"""What a request mentions: code-shaped identifiers and path-shaped words, and how strongly each
points at where the change belongs (the mention signal of rank.py)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from .tags import LANGUAGE_BY_EXT, OTHER_SOURCE_EXTS
from .terms import STOPWORDS

# mentions of names that rarely say where the fix goes (see mention_weight)
MENTION_RAISED = 0.35
MENTION_CONSTANT = 0.5
MENTION_PLAIN = 0.35

_CODE_TOKEN = re.compile(r"`([^`\n]{1,200})`|([A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::|#)[A-Za-z_][A-Za-z0-9_]*)*)(\s*\()?")
_PATH_TOKEN = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.([A-Za-z][A-Za-z0-9]{0,9}))(?![\w/])")
_FILE_EXTS = frozenset(e.lstrip(".") for e in (*LANGUAGE_BY_EXT, *OTHER_SOURCE_EXTS)) | frozenset(
    (
        "md rst txt json yaml yml toml cfg ini conf html htm css scss less xml proto graphql gql tf mk cmake in lock"
        " csv tsv sql j2 jinja tpl mako po pot svg"
    ).split()
)
_CAMEL = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2,}[a-z]")


@dataclass
class Mention:
    text: str  # as written in the request
    names: list[str]  # identifiers it names, last part first
    call: bool = False
    plain: bool = False  # an ordinary capitalised word that happens to name a definition ("the Origin header")


def request_mentions(request: str, defined: Collection[str] | None = None) -> tuple[list[Mention], list[str]]:
    """Code-shaped identifiers and path-shaped words in a request.

    An identifier is code-shaped when it is backticked, dotted (`Session.send`), has an
    underscore or an inner capital, is followed by `(`, or is a capitalised word naming a
    definition (`Session` when the repository defines one). Plain words are left to BM25.
    """
    mentions: list[Mention] = []
    paths = [m.group(1) for m in _PATH_TOKEN.finditer(request) if "/" in m.group(1) or m.group(2).lower() in _FILE_EXTS]
    path_set = set(paths)
    for m in _CODE_TOKEN.finditer(request):
        quoted, token, paren = m.group(1), m.group(2), m.group(3)
        if quoted is not None:
            inner = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", quoted)
            if inner:
                mentions.append(Mention(quoted, list(reversed(inner)), "(" in quoted))
            continue
        if token in path_set or not token:
            continue
        parts = re.split(r"\.|::|#", token)
        shaped = (
            len(parts) > 1
            or "_" in token.strip("_")
            or token.startswith("__")
            or bool(_CAMEL.search(token))
            or bool(paren)
        )
        if len(parts) > 1 and all(p.islower() and len(p) <= 3 for p in parts):
            shaped = False  # "e.g", "i.e"
        plain = (
            not shaped
            and token[0].isupper()
            and defined is not None
            and token in defined
            and token.lower() not in STOPWORDS
        )
        if shaped or plain:
            mentions.append(Mention(token, [p for p in reversed(parts) if p], bool(paren), plain))
    return mentions, paths


_RAISED = re.compile(r"(Error|Exception|Warning|Exit|Interrupt)$")
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def mention_weight(name: str, plain: bool = False) -> float:
    """How strongly a name in a request points at where the change belongs.

    Bug reports quote what was raised (`FieldError`) and settings (`STATIC_ROOT`) far more often
    than they name the code to change; an ordinary capitalised word ("the Origin header") that
    happens to name a class is weaker still.
    """
    w = 1.0
    if _RAISED.search(name):
        w *= MENTION_RAISED
    elif _CONSTANT.match(name) and len(name) > 1:
        w *= MENTION_CONSTANT
    if plain:
        w *= MENTION_PLAIN
    return w
