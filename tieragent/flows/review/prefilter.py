"""Hunks no model needs to see, decided without a model, each with its reason.

Skipped: binary files, pure renames, secret-looking files (never sent), lock files, generated and
vendored files, whitespace-only hunks, and code moved unchanged from one place to another (a
removed block that reappears as an added block).

The change under review must not be able to exempt itself. Generated and vendored files count as
they stand on the base: by `linguist-generated` / `linguist-vendored` in the base's
`.gitattributes`, by a generated-file marker (or minified content) the base's version already
has, or by a generated or vendored path (vendor/, node_modules/, `*_pb2.py`, ...) of a file
that is not new. What the change alone claims (an attribute its own .gitattributes sets, a marker
it adds, a new file under vendor/) is reviewed, with a note saying so.

"Whitespace only" means the program cannot have changed: Python's tokens are compared over both
whole files, so a re-indentation that moves a statement out of its block is reviewed; in other
languages only blank lines, trailing whitespace and, where indentation is not syntax, leading
indentation may differ. A space added or removed inside a line of any other language is reviewed:
it may split a shell word (`rm -rf /tmp/cache` -> `rm -rf / tmp/cache`) or change a string.
"""

from __future__ import annotations

import functools
import io
import tokenize
from collections.abc import Callable
from dataclasses import dataclass

from ...repo.map.files import skip_reason_by_content, skip_reason_by_name
from .model import FileChange, Hunk, Skipped

MOVED_MIN_LINES = 3  # shorter blocks match by coincidence too often
SNIFF_BYTES = 8192  # how much of a file a generated-file marker is looked for in
EXEMPT_BY_NAME = ("vendored", "generated", "minified")  # what a path claims, and the base must confirm
# Languages whose indentation (or tab) is syntax: re-indenting changes the program.
INDENT_SENSITIVE_SUFFIXES = (
    ".py",
    ".pyi",
    ".pyw",
    ".pyx",
    ".pxd",
    ".bzl",
    ".star",
    ".yaml",
    ".yml",
    ".mk",
    ".mak",
    ".make",
    ".hs",
    ".lhs",
    ".coffee",
    ".nim",
    ".nims",
    ".fs",
    ".fsi",
    ".fsx",
    ".sass",
    ".styl",
    ".pug",
    ".jade",
    ".haml",
    ".slim",
    ".elm",
    ".purs",
    ".idr",
    ".gd",
    ".cabal",
    ".rst",
)
INDENT_SENSITIVE_NAMES = (
    "makefile",
    "gnumakefile",
    "bsdmakefile",
    "build",
    "build.bazel",
    "workspace",
    "snakefile",
    "sconstruct",
    "sconscript",
    "tiltfile",
)
PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")
# Source and config files that git shows as binary (a NUL byte is enough) hide their change from the
# diff: such a file is listed as not reviewed, never skipped as "binary".
TEXT_SUFFIXES = (
    ".py",
    ".js",
    ".mjs",
    ".cjs",
    ".jsx",
    ".ts",
    ".tsx",
    ".go",
    ".rs",
    ".java",
    ".kt",
    ".kts",
    ".scala",
    ".rb",
    ".php",
    ".pl",
    ".lua",
    ".sh",
    ".bash",
    ".zsh",
    ".ps1",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".hpp",
    ".cs",
    ".swift",
    ".m",
    ".sql",
    ".html",
    ".htm",
    ".vue",
    ".svelte",
    ".css",
    ".scss",
    ".json",
    ".yml",
    ".yaml",
    ".toml",
    ".ini",
    ".cfg",
    ".xml",
    ".gradle",
    ".tf",
)


@dataclass(frozen=True)
class Sides:
    """Both sides of the change, as far as the pre-filter needs them."""

    old: Callable[[str], bytes | None]  # a file on the base (None: not there, or not known)
    new: Callable[[str], bytes | None]  # a file as the change leaves it (None: deleted, or not known)
    base_attributes: dict[str, set[str]]  # linguist-* set for a path by the base's .gitattributes
    change_attributes: dict[
        str, set[str]
    ]  # ... by the .gitattributes as the change leaves them (only to say what it claims)


@dataclass
class Prefiltered:
    hunks: list[Hunk]  # to assess
    skipped: list[Skipped]
    notes: dict[str, str]  # path -> why a file the change itself calls generated or vendored is reviewed anyway
    unreviewable: dict[str, str]  # path -> why no model can review it (binary content where text belongs)


def is_python(path: str, head: bytes | None = None) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(PYTHON_SUFFIXES):
        return True
    first = (head or b"").split(b"\n", 1)[0]
    return "." not in name and first.startswith(b"#!") and b"python" in first  # a script without a suffix


def indent_sensitive(path: str, head: bytes | None = None) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(INDENT_SENSITIVE_SUFFIXES) or name in INDENT_SENSITIVE_NAMES or is_python(path, head)


def _squeezed(lines: tuple[tuple[int, str], ...]) -> str:
    return "".join("".join(text.split()) for _, text in lines)


def _lines(lines: tuple[tuple[int, str], ...], keep_indent: bool) -> list[str]:
    """The lines that matter: blank lines left out, trailing whitespace dropped, indentation kept where it is syntax."""
    return [t.rstrip() if keep_indent else t.strip() for _, t in lines if t.strip()]


def whitespace_only(
    h: Hunk, keep_indent: bool = True, same_tokens: Callable[[Hunk], bool | None] | None = None
) -> bool:
    """True when only whitespace that cannot change the program differs (see the module's docstring).
    `same_tokens` compares the hunk's tokens in the whole files (None when it cannot tell)."""
    if _squeezed(h.added) != _squeezed(h.removed):
        return False
    if same_tokens is not None:
        same = same_tokens(h)
        if same is not None:
            return same
    return _lines(h.removed, keep_indent) == _lines(h.added, keep_indent)


@functools.lru_cache(maxsize=64)
def python_tokens(source: bytes) -> tuple[tuple[int, str, int, int], ...] | None:
    """(type, text, first line, last line) of every token that matters; None when it does not tokenize.
    Line breaks inside brackets (NL) carry no meaning; an INDENT is compared by where it is, not its width."""
    try:
        found = tokenize.tokenize(io.BytesIO(source).readline)
        return tuple(
            (t.type, _token_text(t), t.start[0], t.end[0])
            for t in found
            if t.type not in (tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER)
        )
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return None


def _token_text(t: tokenize.TokenInfo) -> str:
    if t.type in (tokenize.INDENT, tokenize.NEWLINE):
        return ""  # where a block starts and a statement ends is what counts, not the width or "\r\n"
    return t.string.rstrip() if t.type == tokenize.COMMENT else t.string


def _tokens_between(tokens: tuple[tuple[int, str, int, int], ...], first: int, count: int) -> list[tuple[int, str]]:
    last = first + max(count, 1) - 1
    return [(kind, text) for kind, text, start, end in tokens if start <= last and end >= first]


def python_same_tokens(old: bytes | None, new: bytes | None) -> Callable[[Hunk], bool | None]:
    """For a Python file: whether a hunk leaves the tokens of its lines (and any string running
    through them) as they were."""

    def same(h: Hunk) -> bool | None:
        a, b = python_tokens(old) if old is not None else None, python_tokens(new) if new is not None else None
        if a is None or b is None:
            return None
        return _tokens_between(a, h.old_start, h.old_len) == _tokens_between(b, h.new_start, h.new_len)

    return same


def applied(old: bytes, hunks: tuple[Hunk, ...]) -> bytes | None:
    """`old` with the hunks applied, or None when their old lines are not exactly where they say."""
    lines = old.decode("utf-8", errors="surrogateescape").split("\n")
    for h in sorted(hunks, key=lambda h: h.old_start, reverse=True):
        before, after = [], []
        for line in h.text.split("\n")[1:]:  # after the @@ header; "\r" stays part of its line
            tag, body = line[:1], line[1:]
            if tag in (" ", "-"):
                before.append(body)
            if tag in (" ", "+"):
                after.append(body)
        start = h.old_start - 1 if h.old_len else h.old_start  # an insertion's old_start is the line before it
        if lines[start : start + len(before)] != before:
            return None
        lines[start : start + len(before)] = after
    return "\n".join(lines).encode("utf-8", errors="surrogateescape")


def _block(lines: tuple[tuple[int, str], ...], keep_indent: bool) -> tuple[str, ...]:
    return tuple(_lines(lines, keep_indent))


def moved_hunks(hunks: list[Hunk], keep_indent: Callable[[str], bool] = lambda path: True) -> dict[str, str]:
    """hunk id -> the id of its counterpart, for pure removals that reappear as pure additions, line for
    line (indentation too, in a file whose indentation is syntax: code moved out of a block is not "moved")."""
    removals: dict[tuple[str, ...], list[Hunk]] = {}
    for h in hunks:
        block = _block(h.removed, keep_indent(h.path))
        if h.removed and not h.added and len(block) >= MOVED_MIN_LINES:
            removals.setdefault(block, []).append(h)
    moved: dict[str, str] = {}
    for h in hunks:
        block = _block(h.added, keep_indent(h.path))
        if h.added and not h.removed and block in removals and removals[block]:
            source = removals[block].pop(0)
            moved[h.id], moved[source.id] = source.id, h.id
    return moved


def prefilter(files: list[FileChange], sides: Sides) -> Prefiltered:
    """The hunks to assess, what was skipped and why, and the files whose exemption only the change claims."""
    kept: list[Hunk] = []
    skipped: list[Skipped] = []
    notes: dict[str, str] = {}
    unreviewable: dict[str, str] = {}
    indented: dict[str, bool] = {}  # path -> whether its indentation is syntax
    for f in files:
        if f.binary and _text_on_base_or_by_name(f, sides):
            unreviewable[f.path] = "binary content in a text file: git shows no diff of it to review"
            continue
        reason, note = _file_reason(f, sides)
        if reason is not None:
            skipped.append(Skipped(f.path, None, reason))
            continue
        if note:
            notes[f.path] = note
        old, new = sides.old(f.old_path or f.path), sides.new(f.path)
        head = new[:SNIFF_BYTES] if new else None
        if is_python(f.path, head):
            new = (
                new if new is not None or old is None else applied(old, f.hunks)
            )  # a handed-in diff: its new side rebuilt
            same_tokens = python_same_tokens(old, new)
        else:
            same_tokens = None
        keep_indent = indented[f.path] = indent_sensitive(f.path, head)
        for h in f.hunks:
            if whitespace_only(h, keep_indent, same_tokens):
                skipped.append(Skipped(f.path, h.id, "whitespace only"))
            else:
                kept.append(h)
    moved = moved_hunks(kept, lambda path: indented.get(path, True))
    skipped += [Skipped(h.path, h.id, f"moved (see {moved[h.id]})") for h in kept if h.id in moved]
    return Prefiltered([h for h in kept if h.id not in moved], skipped, notes, unreviewable)


def _text_on_base_or_by_name(f: FileChange, sides: Sides) -> bool:
    if f.status == "removed":
        return False
    if f.path.lower().endswith(TEXT_SUFFIXES):
        return True
    old = sides.old(f.old_path or f.path) if f.status != "added" else None
    return old is not None and skip_reason_by_content(f.path, old[:SNIFF_BYTES]) != "binary"


def _file_reason(f: FileChange, sides: Sides) -> tuple[str | None, str | None]:
    """(why the whole file is skipped, or None; why it is reviewed although the change calls it
    generated or vendored)."""
    if f.binary:
        return "binary", None
    if f.status == "renamed" and not f.hunks:
        return (f"renamed from {f.old_path}" if f.old_path else "renamed"), None
    on_base = f.status != "added"
    base_path = f.old_path or f.path
    by_name = skip_reason_by_name(f.path)
    notes = []
    if by_name in EXEMPT_BY_NAME:
        if on_base and skip_reason_by_name(base_path) == by_name:
            return by_name, None
        notes.append(
            f"{by_name} by its path, but {'new in this change' if not on_base else 'moved there by this change'}"
        )
    elif by_name is not None:
        return by_name, None
    attrs = sides.base_attributes.get(f.path, set())
    if "linguist-generated" in attrs:
        return "generated (.gitattributes)", None
    if "linguist-vendored" in attrs:
        return "vendored (.gitattributes)", None
    claimed = sorted(sides.change_attributes.get(f.path, set()) & {"linguist-generated", "linguist-vendored"})
    if claimed:
        notes.append(f"{', '.join(claimed)} only in the .gitattributes this change writes, not on the base")
    new = sides.new(f.path) if f.status != "removed" else None
    by_content = skip_reason_by_content(f.path, new[:SNIFF_BYTES]) if new else None
    if by_content == "binary":
        return "binary", None
    if by_content in ("generated", "minified"):
        old = sides.old(base_path) if on_base else None
        if old is not None and skip_reason_by_content(base_path, old[:SNIFF_BYTES]) == by_content:
            return by_content, None
        notes.append(f"looks {by_content} only as this change leaves it" + ("" if on_base else " (a new file)"))
    return None, ("reviewed although " + "; ".join(notes)) if notes else None
