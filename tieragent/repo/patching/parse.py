"""Finding the unified diffs in a model's reply.

Models wrap diffs in ```diff / ```patch / bare fences, put prose between them, indent whole
blocks inside list items, drop the `---`/`+++` header of a second block, write `@@ @@` without
numbers and get the hunk counts wrong. This module reads all of that line by line; it never
trusts hunk counts, except to end an unfenced hunk at a blank line.
"""

from __future__ import annotations

import re

from .diffs import FileDiff, Hunk

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


def hunk_numbers(header: str) -> tuple[int | None, int | None, int | None, int | None]:
    """(old start, old count, new start, new count) of an `@@ -a,b +c,d @@` header; all None for `@@ @@`."""
    m = HUNK_NUMBERS.search(header)
    if not m:
        return None, None, None, None
    old_start, old_count, new_start, new_count = m.groups()
    return (
        int(old_start),
        int(old_count) if old_count is not None else 1,
        int(new_start),
        int(new_count) if new_count is not None else 1,
    )


def _mark_no_newline(h: Hunk) -> None:
    """`\\ No newline at end of file`: the side(s) of the line before it end without one."""
    if h.lines:
        last = h.lines[-1][0]
        if last in " -":
            h.old_no_eol = True
        if last in " +":
            h.new_no_eol = True


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
        fd = self.file_for_hunk()
        h = Hunk(len(fd.hunks) + 1, header, *hunk_numbers(header), reply_line=self.i + 1)
        fd.hunks.append(h)
        if not synthetic:
            self.i += 1
        self.hunk_body(h)
        self.recent_prose = []

    def file_for_hunk(self) -> FileDiff:
        """The current file diff, or a new headerless one for a hunk in a fence of its own that names a path."""
        fd = self.cur
        fresh_fence = self.in_fence and self.fence_opened_at != self.cur_fence_at
        if fd is None or (fresh_fence and self.fence_hints and fd.hunks):
            fd = self.new_file(None, None, headerless=True)
            fd.hints = list(self.fence_hints) + [h for p in reversed(self.recent_prose[-2:]) for h in path_hints(p)]
        elif fresh_fence:
            self.cur_fence_at = self.fence_opened_at
        return fd

    def hunk_body(self, h: Hunk) -> None:
        """The hunk's lines, up to the first line that cannot be one of them."""
        n_old = n_new = 0
        pending_blank = 0  # unprefixed empty lines not yet known to be part of the hunk
        lines = self.lines
        while self.i < len(lines):
            line = lines[self.i]
            if line == "":
                if self.blank_ends_hunk(h, n_old, n_new):
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
            elif line[0] == "\\":
                _mark_no_newline(h)
            else:
                tag = line[0]
                h.lines.append((tag, line[1:]))
                n_old += tag != "+"
                n_new += tag != "-"
            self.i += 1

    def blank_ends_hunk(self, h: Hunk, n_old: int, n_new: int) -> bool:
        """Outside a fence, an empty line ends the hunk once its counts are met, or when no hunk line follows."""
        if self.in_fence:
            return False
        if h.old_count is not None and n_old >= h.old_count and n_new >= (h.new_count or 0):
            return True
        j = self.i
        while j < len(self.lines) and self.lines[j] == "":
            j += 1
        return j >= len(self.lines) or not self._is_body_line(j)

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
