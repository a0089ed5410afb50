"""Words for lexical matching: identifiers split into subwords, lower-cased, lightly stemmed.

The same functions turn a request ("redirects drop the Authorization header") and a file's
path, symbol names and text into terms, so both sides meet in the middle: `Authorization`,
`authorization_header` and `headers` all become `authorization` / `header`.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

_WORD = re.compile(rb"[A-Za-z][A-Za-z0-9]*")
_WORD_STR = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# HTTPAdapter -> HTTP Adapter; parseHeaderLinks -> parse Header Links; urllib3 -> urllib 3
_SUBWORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

STOPWORDS = (
    frozenset(
        (
            "a about above after again against all also am an and any are aren as at be because been before being"
            " below between both but by can cannot could couldn did didn do does doesn doing don down during each"
            " either else etc even ever every few for from further had hadn has hasn have haven having he her here"
            " hers him his how however i if in into is isn it its itself just let lets like ll may me might more most"
            " must mustn my neither no nor not now of off on once one only or other our ours out over own per please"
            " quite rather re really same shall she should shouldn so some still such than that the their theirs them"
            " then there these they this those though through thus to too under until up upon us ve very via was wasn"
            " we were weren what whatever when whenever where whether which while who whom whose why will with within"
            " without won would wouldn yet you your yours"
        ).split()
    )
    | frozenset(
        # words that describe the request rather than the code
        (
            "actually anyone anything appear appears bug bugs currently exactly expect expected fine fix fixed fixes"
            " fixing happen happens hello hi instead issue issues maybe need needs noticed obviously perhaps problem"
            " problems reason reported seem seems somehow something sometimes still thank thanks thing things think"
            " tried try trying want wanted wants way ways wrong"
        ).split()
    )
    | frozenset(
        # keywords common to the indexed languages: present in every file, they say nothing
        (
            "def elif lambda pass yield async await nonlocal global assert del cls self true false none null"
            " undefined var const func fn impl pub mut struct enum trait mod crate void int bool str return import"
            " from package public private protected static final extends implements new this super interface function"
            " export default typeof instanceof"
        ).split()
    )
)

# Common programming abbreviations, mapped to one spelling on both sides.
ABBREVIATIONS = {
    # Only those a prefix match cannot find (`auth` already matches `authorization`).
    "arg": "argument",
    "args": "argument",
    "kwargs": "argument",
    "cfg": "config",
    "ctx": "context",
    "db": "database",
    "dir": "directory",
    "dirs": "directory",
    "env": "environment",
    "err": "error",
    "exc": "exception",
    "msg": "message",
    "num": "number",
    "passwd": "password",
    "pwd": "password",
    "req": "request",
    "tmp": "temporary",
}


_VOWEL = re.compile(r"[aeiouy]")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light suffix stripper: plurals and -ing/-ed forms meet their root.

    cookies/cookie -> cooki, proxies/proxy -> proxi, encoding/encoded/encode -> encod.
    """
    w = word.lower()
    w = ABBREVIATIONS.get(w, w)
    if len(w) <= 3:
        return w
    if w.endswith(("ies", "sses")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5 and _VOWEL.search(w[:-3]):
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4 and _VOWEL.search(w[:-2]):
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # chunked/chunking -> chunk, mapping -> map
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    elif w.endswith("y") and len(w) > 3 and w[-2] not in "aeiou":
        w = w[:-1] + "i"
    return w


@lru_cache(maxsize=65536)
def identifier_terms(identifier: str) -> tuple[str, ...]:
    """`get_netrc_auth` -> (get, netrc, authentication); `HTTPAdapter` -> (http, adapter)."""
    out = []
    for part in _SUBWORD.findall(identifier):
        if part.isdigit():
            continue
        t = stem(part)
        if len(t) >= 2 and t not in STOPWORDS and part.lower() not in STOPWORDS:
            out.append(t)
    return tuple(out)


def text_terms(text: str) -> list[str]:
    """Terms of free text (a request), in order, duplicates kept."""
    out: list[str] = []
    for w in _WORD_STR.findall(text):
        out.extend(identifier_terms(w))
    return out


_BODY_WORDS: dict[bytes, tuple[str, ...]] = {}  # raw word -> its terms, shared across files
_BODY_WORDS_MAX = 500_000


def body_terms(data: bytes) -> dict[str, int]:
    """Term counts of a file's whole text (identifiers, comments, strings)."""
    counts: dict[str, int] = {}
    known = _BODY_WORDS
    for word, n in Counter(_WORD.findall(data)).items():
        terms = known.get(word)
        if terms is None:
            terms = identifier_terms(word.decode("ascii")) if 2 <= len(word) <= 64 else ()
            if len(known) < _BODY_WORDS_MAX:
                known[word] = terms
        for t in terms:
            counts[t] = counts.get(t, 0) + n
    return counts


def path_terms(path: str) -> list[str]:
    """Terms of a path: directories, file stem and extension-free name parts."""
    out: list[str] = []
    parts = path.replace("\\", "/").split("/")
    for i, part in enumerate(parts):
        if i == len(parts) - 1 and "." in part.lstrip("."):
            part = part.rsplit(".", 1)[0]
        out.extend(text_terms(part))
    return out
