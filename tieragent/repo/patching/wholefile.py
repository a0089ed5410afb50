"""The whole-file fallback: the model sends the complete new content of one file.

After two failed diff attempts at a tier (or from the start, with `edit_format: whole`, or
`auto` once diffs mostly fail), the pipeline asks for the whole content of the request's files
instead (tieragent/prompts/patch-whole.md). The reply format asked for is one fence whose info string names
the path; this reader also takes ```python path, ```path, a path line before the fence, or a
single unnamed fence, but never content with lines left out ("... rest unchanged").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from .base import FileChange, PatchError, no_veto
from .feedback import path_error
from .parse import FENCE, normalize_reply, path_hints
from .paths import PathRefused, check_path
from .pysyntax import syntax_check
from .text import FileText, NotText, assemble

WHOLE_FILE_MAX_LINES = 400

_COMMENT = r"(?:#|//|/\*|<!--|--|;|%|\*)"
TRUNCATION_MARKERS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(rest|remainder) of (the )?(file|code|class|module|function|method|body|implementation|content|tests?)\b",
        (
            r"\b(unchanged|existing|remaining|other|previous|original|same) "
            r"(code|lines|content|contents|methods|functions|tests|imports|implementation|definitions|logic)\b"
            r".*(\.\.\.|…|unchanged|here|as before|omitted|remains?)"
        ),
        r"(\.\.\.|…)\s*\(?(unchanged|omitted|as before|same as before|truncated|snip|rest|remaining)",
        r"\b(rest|remainder)\b.*\b(unchanged|the same|as before|omitted|as is)\b",
        r"\b(unchanged|omitted|as before|truncated)\s*(\.\.\.|…)",
        r"^\s*" + _COMMENT + r"\s*(\.\.\.|…)+\s*(\*/|-->)?\s*$",
        r"^\s*(\[\.\.\.\]|\[…\]|<snip>|\(snip\)|\[snip\])\s*$",
        r"^\s*" + _COMMENT + r".*\b(keep|kept|leave|left)\b.*\b(as is|unchanged|the same)\b",
    )
]
DIFF_START = re.compile(r"^(--- |\+\+\+ |@@|diff --git )")


def fence_file(path: str, text: str) -> str:
    """`text` in a fence whose info string is `path`, longer than any backtick run inside it (for prompts)."""
    runs = [len(m.group(0)) for m in re.finditer(r"`{3,}", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{path}\n{body}{fence}"


def whole_file_eligible(path: str, root: Path) -> bool:
    """True if `path` is an existing text file of at most WHOLE_FILE_MAX_LINES lines."""
    p = Path(root) / path
    try:
        if not p.is_file() or p.is_symlink():
            return False
        ft = FileText.decode(p.read_bytes())
    except (OSError, NotText):
        return False
    return len(ft.lines) <= WHOLE_FILE_MAX_LINES


def _blocks(lines: list[str], original: set[str]) -> list[tuple[list[str], list[str], bool]]:
    """(hints, body lines, closed) for every fenced block."""
    out = []
    i = 0
    prose: list[str] = []
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                prose = ([*prose, lines[i]])[-2:]
            i += 1
            continue
        marker = m.group(1)
        hints = path_hints(m.group(2)) + [h for p in reversed(prose) for h in path_hints(p)]
        closers = []
        j = i + 1
        while j < len(lines):
            s = lines[j].strip()
            if s and set(s) == {marker[0]} and len(s) >= len(marker) and lines[j].startswith(marker[0]):
                closers.append(j)
                if s not in original:
                    break
            j += 1
        if closers:
            end = closers[-1]  # the first closer, unless the file itself holds fence lines
            out.append((hints, lines[i + 1 : end], True))
            i = end + 1
        else:
            out.append((hints, lines[i + 1 :], False))
            i = len(lines)
        prose = []
    return out


def _names(hints: list[str], path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return any(h in (path, base) or h.endswith("/" + path) or path.endswith("/" + h) for h in hints)


def _format_help(path: str) -> str:
    return (
        f"Answer with the complete new content of {path} in one fenced block whose first line names the file:\n"
        f"```{path}\n(every line of the file)\n```"
    )


def plan_whole_file(
    reply: str, path: str, root: Path, *, refuse: Callable[[str], str | None] = no_veto, require_name: bool = False
) -> FileChange:
    """Parse the whole-file fallback reply (the complete new content of `path`) and return the change,
    or raise PatchError(kind="no-diff") if the reply does not hold it. With `require_name`, a single
    unnamed block is not taken for this file (the reply may be about several files)."""
    root = Path(root)
    try:
        rel = check_path(path, root, refuse)
    except PathRefused as e:
        raise path_error(e.path, e.why) from None
    original = _read_original(root, rel)
    orig_set = {line.strip() for line in original.lines} if original else set()
    body = _answer_block(reply, rel, original, orig_set, require_name)
    return _whole_file_change(rel, original, _complete_content(body, rel, original, orig_set))


def _read_original(root: Path, rel: str) -> FileText | None:
    """The file as it is, or None for a file the reply creates."""
    p = root / rel
    if not p.is_file():
        return None
    try:
        return FileText.decode(p.read_bytes())
    except NotText as e:
        raise PatchError("apply", f"{rel}: {e}", f"{rel} is a {e}; it cannot be rewritten.", path=rel) from None


def _refusal(rel: str, reason: str, detail: str) -> PatchError:
    return PatchError("no-diff", f"{rel}: {reason}", f"{detail}\n{_format_help(rel)}", path=rel)


def _answer_block(reply: str, rel: str, original: FileText | None, orig_set: set[str], require_name: bool) -> list[str]:
    """The body of the one closed fenced block that holds the file's new content."""
    blocks = _blocks(normalize_reply(reply), orig_set)
    if not blocks:
        raise _refusal(
            rel, "the reply holds no fenced file content", "Your answer holds no fenced block with the file's content."
        )
    named = [b for b in blocks if _names(b[0], rel)]
    if len(named) > 1 and original is not None:
        # the model quoted the current file before its answer: the one block that differs is the answer
        differ = [b for b in named if [x.rstrip() for x in b[1]] != [x.rstrip() for x in original.lines]]
        named = differ if len(differ) == 1 else named
    if len(named) == 1:
        _, body, closed = named[0]
    elif not named and len(blocks) == 1 and not require_name:
        _, body, closed = blocks[0]
    elif len(named) > 1:
        raise _refusal(
            rel,
            "the reply holds several blocks for the file",
            f"Your answer holds {len(named)} fenced blocks for {rel}; send exactly one.",
        )
    else:
        raise _refusal(
            rel,
            "no fenced block names the file",
            f"Your answer holds {len(blocks)} fenced blocks and none names {rel}.",
        )
    if not closed:
        raise _refusal(
            rel,
            "the fence is never closed (reply cut off?)",
            "The fenced block is not closed, so the content may be cut off.",
        )
    return body


def _complete_content(body: list[str], rel: str, original: FileText | None, orig_set: set[str]) -> list[str]:
    """The block's lines as the file's content: refused if it is a diff, empty, or leaves lines out."""
    first = next((line for line in body if line.strip()), "")
    if DIFF_START.match(first):
        raise _refusal(
            rel,
            "the reply holds a diff, not the whole file",
            "Your answer holds a diff; this time send the complete file instead.",
        )
    names_file = bool(body) and _names(path_hints(body[0]), rel) and re.match(r"^\s*(#|//|/\*|<!--|--|;)", body[0])
    if names_file and original is not None and body[0].strip() not in orig_set:
        body = body[1:]  # a comment naming the file, which the file itself does not start with
    for k, line in enumerate(body):
        if line.strip() in orig_set:
            continue
        if any(rx.search(line) for rx in TRUNCATION_MARKERS):
            raise _refusal(
                rel,
                f"line {k + 1} stands for left-out lines ({line.strip()[:60]})",
                f"Line {k + 1} of your content stands for lines you left out:\n    {line.strip()}\n"
                "Write out every line of the file, including the ones you do not change.",
            )
    if not any(line.strip() for line in body):
        raise _refusal(rel, "the fenced block is empty", "The fenced block holds no content.")
    return body


def _whole_file_change(rel: str, original: FileText | None, body: list[str]) -> FileChange:
    """The new content with the file's line endings and encoding, refused if it changes nothing or breaks Python."""
    base = original or FileText([], [], "\n")
    final_newline = original.final_newline if original is not None and original.lines else True
    after = assemble(base, [(line, "") for line in body], final_newline)
    if original is not None and after.text() == original.text():
        raise _refusal(
            rel, "the content is unchanged", "The content you sent is the file as it already is; it changes nothing."
        )
    err = syntax_check(rel, original.text() if original is not None else None, after.text())
    if err is not None:
        raise err
    try:
        data = after.encode()
    except UnicodeEncodeError:
        raise PatchError(
            "apply",
            f"{rel}: new text cannot be written as {base.encoding}",
            f"{rel} is a {base.encoding} file; the new content holds characters it cannot store.",
            path=rel,
        ) from None
    return FileChange(rel, rel if original is not None else None, data)


def plan_whole_files(
    reply: str, paths: tuple[str, ...], root: Path, *, refuse: Callable[[str], str | None] = no_veto
) -> list[FileChange]:
    """Whole-file output for several files: one fenced block per file the model changed, each naming
    its file. A file with no block is left as it is; a reply that changes none of them is refused."""
    if len(paths) == 1:
        return [plan_whole_file(reply, paths[0], root, refuse=refuse)]
    changes, problems, unchanged = [], [], []
    for path in paths:
        try:
            changes.append(plan_whole_file(reply, path, root, refuse=refuse, require_name=True))
        except PatchError as err:
            if err.reason.endswith("the content is unchanged"):
                unchanged.append(path)  # sent back as it is: not among the files the model changed
            elif not err.reason.endswith("no fenced block names the file"):
                problems.append(err)
    if problems:
        raise problems[0]
    if not changes and unchanged:
        # small models often copy the files back as they are: say so, so the next attempt knows
        listing = ", ".join(unchanged)
        raise PatchError(
            "no-diff",
            f"the reply repeats {listing} unchanged",
            f"Your answer repeats {listing} exactly as {'it is' if len(unchanged) == 1 else 'they are'}: it "
            "changes nothing. Change the code so that it does what the request asks, and send the complete new "
            "content of each file you change.",
        )
    if not changes:
        listing = ", ".join(paths)
        raise PatchError(
            "no-diff",
            "the reply holds no fenced block naming a file to change",
            f"Your answer holds no fenced block whose first line names one of {listing}. For each file you change, "
            f"send one block:\n```{paths[0]}\n(every line of the file)\n```",
        )
    return changes
