"""Finding the unified diffs in a model's reply.

Models wrap diffs in ```diff / ```patch / bare fences, put prose between them, indent whole
blocks inside list items, drop the `---`/`+++` header of a second block, write `@@ @@` without
numbers and get the hunk counts wrong. This module reads all of that line by line; it never
trusts hunk counts, except to end an unfenced hunk at a blank line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FENCE = re.compile(r"^(`{3,}|~{3,})\s*([^`]*)$")
INDENTED_FENCE = re.compile(r"^( {1,8})(`{3,}|~{3,})([^`]*)$")
HUNK_NUMBERS = re.compile(r"-(\d+)(?:,(\d+))?\s+\+(\d+)(?:,(\d+))?")
DATE_SUFFIX = re.compile(r"\s+\d{4}-\d\d-\d\d[ T]\d\d:\d\d.*$")
PATH_TOKEN = re.compile(r"[\w.\-/]*[\w\-]\.[A-Za-z0-9_]+|[\w.\-]+(?:/[\w.\-]+)+")
GIT_EXTENDED = (
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "index ",
)


@dataclass
class Hunk:
    number: int  # 1-based, in the order the reply gives them for this file
    header: str
    old_start: int | None
    old_count: int | None
    new_start: int | None
    new_count: int | None
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" " | "-" | "+", text)
    old_no_eol: bool = False
    new_no_eol: bool = False
    reply_line: int = 0  # 1-based line of the header in the reply
    search_replace: bool = False  # made from a SEARCH/REPLACE block: feedback speaks of blocks, not hunks

    @property
    def old_lines(self) -> list[tuple[str, str]]:
        return [(t, s) for t, s in self.lines if t != "+"]

    @property
    def new_lines(self) -> list[str]:
        return [s for t, s in self.lines if t != "-"]

    @property
    def changes(self) -> bool:
        return any(t != " " for t, _ in self.lines)

    @property
    def name(self) -> str:
        """'hunk 2', or 'block 2' for a SEARCH/REPLACE block: how a one-line reason names it."""
        return f"{'block' if self.search_replace else 'hunk'} {self.number}"

    def label(self, total: int | None = None) -> str:
        of = f" of {total}" if total and total > 1 else ""
        if self.search_replace:
            return f"SEARCH/REPLACE block {self.number}{of}"
        return f"hunk {self.number}{of} ({self.header.strip()})"

    def quote(self, idx: int) -> tuple[str, str]:
        """Where line `idx` of `lines` stands, as the model wrote it, and the line as written: ("line 3 of
        the hunk", "-x = 1"), or for a block ("line 3 of its SEARCH section", "x = 1")."""
        tag, text = self.lines[idx]
        if not self.search_replace:
            return f"line {idx + 1} of the hunk", f"{tag}{text}"
        section, skip = ("REPLACE", "-") if tag == "+" else ("SEARCH", "+")
        number = sum(1 for t, _ in self.lines[:idx] if t != skip) + 1
        return f"line {number} of its {section} section", text


@dataclass
class FileDiff:
    old_path: str | None  # as written (a/ b/ prefixes kept), None for /dev/null
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)
    prefixed: bool = True  # paths may carry git's a/ b/ prefixes
    git: bool = False
    rename: bool = False  # explicit `rename from` / `rename to`
    new_file: bool = False  # `new file mode`
    deleted_file: bool = False  # `deleted file mode`
    binary: bool = False
    headerless: bool = False  # hunks written without a ---/+++ header
    hints: list[str] = field(default_factory=list)  # path guesses for a headerless diff
    reply_line: int = 0

    @property
    def is_new(self) -> bool:
        return self.old_path is None and not self.headerless

    @property
    def is_delete(self) -> bool:
        return self.new_path is None and not self.headerless


def unquote_path(raw: str) -> str:
    """Git's C-style quoting ("a/caf\\303\\251.py") back to text."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        body = raw[1:-1]
        out = bytearray()
        i = 0
        simple = {
            "n": b"\n",
            "t": b"\t",
            '"': b'"',
            "\\": b"\\",
            "a": b"\a",
            "b": b"\b",
            "f": b"\f",
            "r": b"\r",
            "v": b"\v",
        }
        while i < len(body):
            c = body[i]
            if c == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt in simple:
                    out += simple[nxt]
                    i += 2
                    continue
                m = re.match(r"[0-7]{1,3}", body[i + 1 :])
                if m:
                    out.append(int(m.group(0), 8) & 0xFF)
                    i += 1 + len(m.group(0))
                    continue
            out += c.encode("utf-8")
            i += 1
        return out.decode("utf-8", errors="replace")
    return raw


def clean_header_path(raw: str) -> str | None:
    """The path of a `--- x` / `+++ x` line: timestamps dropped, quotes undone, /dev/null -> None."""
    raw = raw.split("\t", 1)[0].rstrip("\r")
    raw = DATE_SUFFIX.sub("", raw).strip()
    raw = unquote_path(raw)
    if raw in ("/dev/null", "dev/null", "a/dev/null", "b/dev/null", "nul", "NUL"):
        return None
    return raw


def _split_git_paths(rest: str) -> tuple[str | None, str | None]:
    rest = rest.strip()
    if rest.startswith('"'):
        m = re.match(r'("(?:[^"\\]|\\.)*")\s+(.*)$', rest)
        if m:
            return unquote_path(m.group(1)), unquote_path(m.group(2))
    idx = rest.rfind(" b/")
    if rest.startswith("a/") and idx > 0:
        return rest[:idx], rest[idx + 1 :]
    parts = rest.split()
    if len(parts) == 2:
        return parts[0], parts[1]
    half = len(rest) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and rest[:half] == rest[half + 1 :]:
        return rest[:half], rest[half + 1 :]
    return None, None


def path_hints(text: str) -> list[str]:
    """Path-like tokens in a fence info string or a line of prose, in order."""
    out = []
    for tok in PATH_TOKEN.findall(text.replace("`", " ").replace("*", " ")):
        tok = tok.strip(".:,;()[]'\"")
        if tok and tok not in out and not tok.startswith("http"):
            out.append(tok)
    return out


def normalize_reply(reply: str) -> list[str]:
    """The reply's lines, without CRs, with fenced blocks that sit inside list items dedented."""
    lines = reply.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        m = INDENTED_FENCE.match(line)
        if not in_fence and m:
            indent, marker = m.group(1), m.group(2)
            out.append(line[len(indent) :])
            i += 1
            while i < len(lines):
                inner = lines[i]
                if inner.startswith(indent):
                    inner = inner[len(indent) :]
                elif not inner.strip():
                    inner = inner[len(indent) :] if inner.startswith(" " * len(inner)) else ""
                out.append(inner)
                i += 1
                if inner.strip() and set(inner.strip()) == {marker[0]} and len(inner.strip()) >= len(marker):
                    break
            continue
        if FENCE.match(line):
            in_fence = not in_fence
        out.append(line)
        i += 1
    return out


class _Parser:
    def __init__(self, lines: list[str]):
        self.lines = lines
        self.i = 0
        self.files: list[FileDiff] = []
        self.cur: FileDiff | None = None
        self.in_fence = False
        self.fence_hints: list[str] = []
        self.fence_opened_at = -1
        self.cur_fence_at = -2  # the fence where the current file diff started
        self.recent_prose: list[str] = []

    def peek(self, k: int = 1) -> str | None:
        j = self.i + k
        return self.lines[j] if j < len(self.lines) else None

    def run(self) -> list[FileDiff]:
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.startswith("diff --git "):
                self.git_header()
            elif line.startswith("--- ") or line == "---":
                nxt = self.peek()
                if nxt is not None and (nxt.startswith("+++ ") or nxt == "+++"):
                    self.file_header()
                else:
                    self.prose(line)
            elif line.startswith("@@"):
                self.hunk()
            elif (line.startswith("Binary files ") and line.rstrip().endswith(" differ") and self.cur is not None) or (
                line.startswith("GIT binary patch") and self.cur is not None
            ):
                self.cur.binary = True
                self.i += 1
            else:
                m = FENCE.match(line)
                if m:
                    self.in_fence = not self.in_fence
                    if self.in_fence:
                        self.fence_opened_at = self.i
                        self.fence_hints = path_hints(m.group(2)) + [
                            h for p in reversed(self.recent_prose[-2:]) for h in path_hints(p)
                        ]
                    self.recent_prose = []
                else:
                    self.prose(line)
                self.i += 1
                continue
        return self.files

    def prose(self, line: str) -> None:
        if line.strip():
            self.recent_prose.append(line)
            self.recent_prose = self.recent_prose[-3:]
        if line.startswith("--- ") or line == "---":
            self.i += 1

    def new_file(self, old: str | None, new: str | None, **kw: object) -> FileDiff:
        fd = FileDiff(old, new, reply_line=self.i + 1, **kw)  # type: ignore[arg-type]
        self.files.append(fd)
        self.cur = fd
        self.cur_fence_at = self.fence_opened_at if self.in_fence else -2
        self.recent_prose = []
        return fd

    def git_header(self) -> None:
        old, new = _split_git_paths(self.lines[self.i][len("diff --git ") :])
        fd = self.new_file(old, new, git=True)
        self.i += 1
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.startswith(("rename from ", "copy from ")):
                fd.old_path = unquote_path(line.split(" from ", 1)[1])
                fd.rename = True
                fd.prefixed = False
            elif line.startswith(("rename to ", "copy to ")):
                fd.new_path = unquote_path(line.split(" to ", 1)[1])
                fd.rename = True
                fd.prefixed = False
            elif line.startswith("deleted file mode "):
                fd.deleted_file = True
            elif line.startswith("new file mode "):
                fd.new_file = True
            elif not line.startswith(GIT_EXTENDED):
                break
            self.i += 1
        if fd.deleted_file:
            fd.new_path = None
        if fd.new_file:
            fd.old_path = None
        if self.i < len(self.lines) and self.lines[self.i].startswith("--- "):
            nxt = self.peek()
            if nxt is not None and nxt.startswith("+++ "):
                old = clean_header_path(self.lines[self.i][4:])
                new = clean_header_path(nxt[4:])
                if not fd.rename:
                    fd.old_path, fd.new_path = old, new
                else:
                    fd.old_path = None if old is None else fd.old_path
                    fd.new_path = None if new is None else fd.new_path
                self.i += 2
                self.implicit_hunk()

    def file_header(self) -> None:
        old = clean_header_path(self.lines[self.i][4:])
        new = clean_header_path(self.lines[self.i + 1][4:])
        self.new_file(old, new)
        self.i += 2
        self.implicit_hunk()

    def implicit_hunk(self) -> None:
        """Hunk lines straight after a file header, with no @@ line: one hunk without numbers."""
        if self.i < len(self.lines) and self.lines[self.i][:1] in (" ", "+", "-") and self._is_body_line(self.i):
            self.hunk(synthetic=True)

    def hunk(self, synthetic: bool = False) -> None:
        header = "@@ @@" if synthetic else self.lines[self.i]
        fd = self.cur
        fresh_fence = self.in_fence and self.fence_opened_at != self.cur_fence_at
        if fd is None or (fresh_fence and self.fence_hints and fd.hunks):
            fd = self.new_file(None, None, headerless=True)
            fd.hints = list(self.fence_hints) + [h for p in reversed(self.recent_prose[-2:]) for h in path_hints(p)]
        elif fresh_fence:
            self.cur_fence_at = self.fence_opened_at
        m = HUNK_NUMBERS.search(header)
        old_start: int | None
        old_count: int | None
        new_start: int | None
        new_count: int | None
        if m:
            os_, oc, ns, nc = m.groups()
            old_start, new_start = int(os_), int(ns)
            old_count = int(oc) if oc is not None else 1
            new_count = int(nc) if nc is not None else 1
        else:
            old_start = old_count = new_start = new_count = None
        h = Hunk(len(fd.hunks) + 1, header, old_start, old_count, new_start, new_count, reply_line=self.i + 1)
        fd.hunks.append(h)
        if not synthetic:
            self.i += 1
        n_old = n_new = 0
        pending_blank = 0  # unprefixed empty lines not yet known to be part of the hunk
        lines = self.lines
        while self.i < len(lines):
            line = lines[self.i]
            if line == "":
                if not self.in_fence:
                    if old_count is not None and n_old >= old_count and n_new >= (new_count or 0):
                        break
                    j = self.i
                    while j < len(lines) and lines[j] == "":
                        j += 1
                    if j >= len(lines) or not self._is_body_line(j):
                        break
                pending_blank += 1
                self.i += 1
                continue
            unprefixed = False
            if not self._is_body_line(self.i):
                if not self._lost_space(self.i):
                    break
                unprefixed = True
            for _ in range(pending_blank):
                h.lines.append((" ", ""))
                n_old += 1
                n_new += 1
            pending_blank = 0
            if unprefixed:  # a context line written without its leading space
                h.lines.append((" ", line))
                n_old += 1
                n_new += 1
                self.i += 1
                continue
            tag = line[0]
            if tag == "\\":
                if h.lines:
                    last = h.lines[-1][0]
                    if last in " -":
                        h.old_no_eol = True
                    if last in " +":
                        h.new_no_eol = True
            else:
                h.lines.append((tag, line[1:]))
                if tag != "+":
                    n_old += 1
                if tag != "-":
                    n_new += 1
            self.i += 1
        self.recent_prose = []

    def _ends_hunk(self, j: int) -> bool:
        line = self.lines[j]
        return line.startswith(("@@", "diff --git ", "```", "~~~")) or (
            line.startswith("--- ") and j + 1 < len(self.lines) and self.lines[j + 1].startswith("+++ ")
        )

    def _lost_space(self, j: int) -> bool:
        """Inside a fence, an unprefixed line with more hunk lines after it (before the fence closes)
        is a context line whose leading space was dropped; the match against the file checks it."""
        if not self.in_fence or self._ends_hunk(j):
            return False
        for k in range(j + 1, len(self.lines)):
            if self._ends_hunk(k):
                return False
            if self.lines[k] and self._is_body_line(k) and self.lines[k][0] in "+-":
                return True
        return False

    def _is_body_line(self, j: int) -> bool:
        line = self.lines[j]
        if not line:
            return False
        tag = line[0]
        if tag == "\\":
            return True
        if tag not in " +-":
            return False
        return not (line.startswith("--- ") and j + 1 < len(self.lines) and self.lines[j + 1].startswith("+++ "))


def parse_reply(reply: str) -> list[FileDiff]:
    """Every file diff in the reply, in order. Prose, fences and blank lines between them are skipped."""
    return _Parser(normalize_reply(reply)).run()
