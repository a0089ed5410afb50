"""plan_search_replace: from a reply of SEARCH/REPLACE blocks to the new content of every file it changes.

A block names its file on a line before it (or in its fence's info string, or inside the fence before
the SEARCH marker), then holds the lines to change as the file has them and the lines that take their
place:

    calc/ops.py
    ```python
    <<<<<<< SEARCH
        return a - b
    =======
        return a + b
    >>>>>>> REPLACE
    ```

Each block becomes a hunk (the lines SEARCH and REPLACE share are its context) and is placed by the
lenient matcher the diffs use: exact, then whitespace-tolerant, then fuzzy, a tie refused. All or
nothing, like a diff: every problem is collected and raised as one PatchError. Reads files only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .base import FileChange, PatchError, Problems, no_veto
from .diffs import Hunk
from .feedback import BLOCKS_NOT_APPLIED, SEARCH_REPLACE_FORMAT, combine, no_diff_error, path_error
from .hunkapply import apply_hunks
from .parse import FENCE, normalize_reply, parse_reply, path_hints
from .paths import PathRefused, check_path, hint_path, strip_git_prefix
from .pysyntax import syntax_check
from .text import FileText, NotText, assemble, read_text

SEARCH_MARK = re.compile(r"^<{5,9} ?SEARCH\b.*$")
DIVIDER = re.compile(r"^={5,9}\s*$")
REPLACE_MARK = re.compile(r"^>{5,9} ?REPLACE\b.*$")
BARE_PATH = re.compile(r"^[\w.\-/]*\w[\w.\-/]*$")


def _line_hints(line: str) -> list[str]:
    """The paths a line may name: a line that is only a path (`.env`, `Makefile`, **src/x.py**:) first."""
    bare = line.strip().strip("*`#:").strip()
    return list(dict.fromkeys(([bare] if BARE_PATH.match(bare) else []) + path_hints(line)))


@dataclass
class Block:
    search: list[str]
    replace: list[str]
    hints: list[str]  # path guesses, the nearest first
    reply_line: int  # 1-based line of the SEARCH marker
    closed: bool = True
    divided: bool = True  # the ======= line was there
    path: str | None = None  # resolved


@dataclass
class _Reader:
    """Walks the reply's lines, keeping what may name the next block's file."""

    lines: list[str]
    blocks: list[Block] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)  # lines since the last block, outside fences
    fence_info: list[str] = field(default_factory=list)
    inside: list[str] = field(default_factory=list)  # lines of the open fence before a block
    in_fence: bool = False

    def run(self) -> list[Block]:
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            if SEARCH_MARK.match(line):
                i = self.block(i)
                continue
            fence = FENCE.match(line)
            if fence:
                self.in_fence = not self.in_fence
                self.fence_info = path_hints(fence.group(2)) if self.in_fence else []
                self.inside = []
            elif line.strip():
                (self.inside if self.in_fence else self.prose).append(line)
            i += 1
        return self.blocks

    def hints(self) -> list[str]:
        near = [h for ln in reversed(self.inside[-2:]) for h in _line_hints(ln)]
        before = [h for ln in reversed(self.prose[-3:]) for h in _line_hints(ln)]
        return list(dict.fromkeys(near + self.fence_info + before))

    def block(self, start: int) -> int:
        """Read the block whose SEARCH marker is at `start`; the index of the line after it."""
        blk = Block([], [], self.hints(), start + 1)
        self.prose, self.inside = [], []
        side = blk.search
        i = start + 1
        while i < len(self.lines):
            line = self.lines[i]
            if side is blk.search and DIVIDER.match(line):
                side = blk.replace
            elif REPLACE_MARK.match(line):
                blk.divided = side is blk.replace
                self.blocks.append(blk)
                return i + 1
            elif side is blk.search and SEARCH_MARK.match(line):
                break  # a new block begins: this one was never finished
            else:
                side.append(line)
            i += 1
        blk.closed, blk.divided = False, side is blk.replace
        self.blocks.append(blk)
        return i


def read_blocks(reply: str) -> list[Block]:
    """Every SEARCH/REPLACE block in the reply, in order, with the paths that may name its file."""
    return _Reader(normalize_reply(reply)).run()


def block_hunk(number: int, search: list[str], replace: list[str]) -> Hunk:
    """The block as a hunk: lines both sides share are context, the rest removed and added."""
    while search and replace and not search[-1].strip() and not replace[-1].strip():
        search, replace = search[:-1], replace[:-1]  # blank lines at the ends, on both sides: no change
    while search and replace and not search[0].strip() and not replace[0].strip():
        search, replace = search[1:], replace[1:]
    lines: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, search, replace, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [(" ", t) for t in search[i1:i2]]
        else:
            lines += [("-", t) for t in search[i1:i2]] + [("+", t) for t in replace[j1:j2]]
    return Hunk(number, "SEARCH/REPLACE", None, None, None, None, lines, search_replace=True)


# ---------------------------------------------------------------- which file each block changes


def _resolve(blk: Block, root: Path, known: tuple[str, ...], previous: str | None) -> str | None:
    """The file a block changes: a hint that is an existing file (or names one of `known` by its
    base name), else for a block that creates a file its first hint, else the previous block's file."""
    for hint in blk.hints:
        rel = hint_path(hint, root)
        if rel is None:
            continue
        if (root / rel).is_file():
            return rel
        same_name = [k for k in known if k.rsplit("/", 1)[-1] == rel]
        if len(same_name) == 1:
            return same_name[0]
    new_file = [h for h in blk.hints if "." in h or "/" in h]  # a bare word of prose is not a new file's name
    if new_file and not any(line.strip() for line in blk.search):
        return strip_git_prefix(new_file[0], root)
    return previous


def _by_file(blocks: list[Block], root: Path, known: tuple[str, ...], out: Problems) -> dict[str, list[Block]]:
    grouped: dict[str, list[Block]] = {}
    previous: str | None = None
    for n, blk in enumerate(blocks, 1):
        if not blk.closed or not blk.divided:
            lacks = "a `=======` line" if not blk.divided else "a `>>>>>>> REPLACE` line"
            out.add(
                no_diff_error(
                    f"block {n} (reply line {blk.reply_line}) has no {lacks.split('`')[1]} line",
                    f"The block that starts at line {blk.reply_line} of your answer lacks {lacks}"
                    + ("." if not blk.divided else " (was the reply cut off?)."),
                    how=SEARCH_REPLACE_FORMAT,
                )
            )
            continue
        path = _resolve(blk, root, known, previous)
        if path is None:
            out.add(
                no_diff_error(
                    f"block {n} (reply line {blk.reply_line}) names no file",
                    f"The block that starts at line {blk.reply_line} of your answer does not say which file it "
                    "changes: put the file's path on the line before its fence.",
                    how=SEARCH_REPLACE_FORMAT,
                )
            )
            continue
        previous = blk.path = path
        same = grouped.setdefault(path, [])
        if not any(b.search == blk.search and b.replace == blk.replace for b in same):
            same.append(blk)  # a block repeated word for word is one change
    return grouped


# ---------------------------------------------------------------- planning one file


def _new_file(path: str, blocks: list[Block], out: Problems) -> FileText | None:
    if any(line.strip() for b in blocks for line in b.search):
        out.add(
            PatchError(
                "apply",
                f"{path}: no such file",
                f"{path} does not exist in the repository. To create it, send one block with an empty SEARCH "
                "section and the whole file in its REPLACE section; otherwise check the path.",
                path=path,
            )
        )
        return None
    body = [line for b in blocks for line in b.replace]
    return assemble(FileText([], [], "\n"), [(line, "") for line in body], True)


def _edit_file(path: str, ft: FileText, blocks: list[Block], out: Problems) -> FileText | None:
    if not any(line.strip() for b in blocks for line in b.search) and not any(ln.strip() for ln in ft.lines):
        return _new_file(path, blocks, out)  # an empty file filled in
    if any(not any(line.strip() for line in b.search) for b in blocks):
        out.add(
            PatchError(
                "apply",
                f"{path}: a block with an empty SEARCH section",
                f"A block for {path} has an empty SEARCH section, but {path} already exists ({len(ft.lines)} lines). "
                "An empty SEARCH only creates a new file; to add lines, quote the lines they go after in SEARCH "
                "and repeat them in REPLACE with the new lines.",
                path=path,
            )
        )
        return None
    hunks = [block_hunk(n, b.search, b.replace) for n, b in enumerate(blocks, 1)]
    if not any(h.changes for h in hunks):
        out.add(
            no_diff_error(
                f"{path}: the blocks change nothing",
                f"Every block for {path} has the same lines in SEARCH and REPLACE.",
                path=path,
                how=SEARCH_REPLACE_FORMAT,
            )
        )
        return None
    return apply_hunks(path, ft, hunks, out)


def _plan_file(
    path: str, blocks: list[Block], root: Path, refuse: Callable[[str], str | None], out: Problems
) -> FileChange | None:
    try:
        rel = check_path(path, root, refuse)
    except PathRefused as e:
        out.add(path_error(e.path, e.why))
        return None
    before: FileText | None = None
    if (root / rel).is_file():
        try:
            before = read_text(root, rel)
        except NotText as e:
            out.add(PatchError("apply", f"{rel}: {e}", f"{rel} is a {e}; it cannot be patched.", path=rel))
            return None
        after = _edit_file(rel, before, blocks, out)
    else:
        after = _new_file(rel, blocks, out)
    if after is None or (before is not None and after.text() == before.text()):
        return None
    err = syntax_check(rel, before.text() if before is not None else None, after.text())
    if err is not None:
        out.add(err)
        return None
    try:
        data = after.encode()
    except UnicodeEncodeError:
        out.add(
            PatchError(
                "apply",
                f"{rel}: new text cannot be written as {after.encoding}",
                f"{rel} is a {after.encoding} file; the new lines hold characters it cannot store.",
                path=rel,
            )
        )
        return None
    return FileChange(rel, rel if before is not None else None, data)


# ---------------------------------------------------------------- the entry point


def plan_search_replace(
    reply: str, root: Path, *, refuse: Callable[[str], str | None] = no_veto, known: tuple[str, ...] = ()
) -> list[FileChange]:
    """Every SEARCH/REPLACE block of the reply placed in its file under `root`; the complete new content
    of every file they change. All or nothing: raises PatchError if any block fails. `known`: the files
    the request is about, so a block naming one by its base name alone still finds it."""
    root = Path(root)
    blocks = read_blocks(reply)
    if not blocks:
        if parse_reply(reply):
            raise no_diff_error(
                "the reply holds a unified diff, not SEARCH/REPLACE blocks",
                "Your answer holds a unified diff; this time write SEARCH/REPLACE blocks instead.",
                how=SEARCH_REPLACE_FORMAT,
            )
        raise no_diff_error(
            "the reply holds no SEARCH/REPLACE block",
            "Your answer holds no SEARCH/REPLACE block I could read.",
            how=SEARCH_REPLACE_FORMAT,
        )
    out = Problems()
    changes = []
    for path, file_blocks in _by_file(blocks, root, known, out).items():
        change = _plan_file(path, file_blocks, root, refuse, out)
        if change is not None:
            changes.append(change)
    if out.problems:
        raise combine(out.problems, BLOCKS_NOT_APPLIED)
    if not changes:
        raise no_diff_error(
            "the blocks change nothing",
            "Your blocks apply but leave every file as it is.",
            how=SEARCH_REPLACE_FORMAT,
        )
    return changes
