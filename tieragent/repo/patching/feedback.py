"""The words of a refusal: a one-line reason for the ledger, and feedback the model can act on."""

from __future__ import annotations

from .align import Index
from .base import PatchError
from .diffs import Hunk
from .locate import Miss
from .near import first_mismatch, nearest

EXCERPT_MARGIN = 2
EXCERPT_MAX = 24

DIFF_FORMAT = (
    "Answer with one unified diff per file inside a ```diff fence: a `--- a/path` line, a `+++ b/path` line, "
    "then hunks that start with `@@ @@`, where unchanged lines start with a space, removed lines with `-` "
    "and added lines with `+`."
)

SEARCH_REPLACE_FORMAT = (
    "Answer with one SEARCH/REPLACE block per change: the file's path on a line of its own, then a fence holding "
    "a `<<<<<<< SEARCH` line, the lines to change copied exactly from the file, a `=======` line, the lines that "
    "take their place, and a `>>>>>>> REPLACE` line."
)

NOT_APPLIED = (
    "No file was changed. Send the corrected diff for every file again (all of them, not only the failing ones)."
)
BLOCKS_NOT_APPLIED = (
    "No file was changed. Send every SEARCH/REPLACE block again (all of them, not only the failing ones)."
)

DIFF_ADVICE = (
    "Copy the context (' ') and removed ('-') lines exactly as they are in the file shown above, "
    "with their indentation, and send the diff again."
)
SEARCH_ADVICE = (
    "Copy the SEARCH lines exactly as they are in the file shown above, with their indentation, and send the "
    "blocks again."
)


def excerpt(
    lines: list[str], start: int, end: int, *, margin: int = EXCERPT_MARGIN, limit: int = EXCERPT_MAX
) -> list[str]:
    """File lines [start, end) with a margin, numbered from 1, cut in the middle when long."""
    lo, hi = max(0, start - margin), min(len(lines), end + margin)
    nums = list(range(lo, hi))
    if len(nums) > limit:
        half = limit // 2
        nums = [*nums[:half], -1, *nums[-half:]]
    width = len(str(hi))
    out = []
    for k in nums:
        out.append(f"{'':>{width}} | ..." if k < 0 else f"{k + 1:>{width}} | {lines[k]}")
    return out


def whitespace_note(hunk_text: str, file_text: str) -> str | None:
    if hunk_text == file_text:
        return None
    if hunk_text.rstrip() == file_text.rstrip():
        return "they differ only in trailing whitespace"
    if hunk_text.strip() == file_text.strip():
        return "they differ only in indentation"
    if hunk_text.split() == file_text.split():
        return "they differ only in spacing"
    return None


def hunk_error(path: str, hunk: Hunk, total: int, miss: Miss, ix: Index) -> PatchError:
    """A refusal for one hunk that cannot be placed, naming the file, the hunk, the first line that
    does not match and the nearest actual lines with their numbers."""
    lines = ix.lines
    out = [f"{path}, {hunk.label(total)}: {miss.reason}."]
    whose = "the SEARCH section's" if hunk.search_replace else "the hunk's"
    window = miss.window
    bad = miss.bad
    if miss.places:
        out.append("The places it matches:")
        m = len(hunk.old_lines)
        for s in miss.places[:4]:
            out.extend(excerpt(lines, s, s + m, margin=1, limit=10))
            out.append("")
    else:
        if window is None or bad is None:
            near = nearest(ix, hunk.old_lines) if window is None else None
            if near is not None:
                window = (near[0], near[1])
                bad = bad or first_mismatch(ix, hunk, near[2])
        if bad is not None:
            idx, fline = bad
            text = hunk.lines[idx][1]
            where, shown = hunk.quote(idx)
            out.append(f"The first line that does not match is {where}:")
            out.append(f"    {shown}")
            if fline is not None and fline < len(lines):
                out.append(f"The file has at line {fline + 1}:")
                out.append(f"     {lines[fline]}")
                note = whitespace_note(text, lines[fline])
                if note:
                    out.append(f"({note}.)")
        if window is not None:
            out.append(f"The nearest lines in {path} are {window[0] + 1}-{window[1]}:")
            out.extend(excerpt(lines, window[0], window[1]))
        elif not lines:
            out.append(f"{path} is empty.")
        elif hunk.old_lines:
            out.append(f"None of {whose} lines appear in {path} ({len(lines)} lines).")
    out.append(miss.advice or (SEARCH_ADVICE if hunk.search_replace else DIFF_ADVICE))
    return PatchError("apply", f"{path} {hunk.name}: {miss.reason}", "\n".join(out), path=path)


def path_error(raw: str, why: str) -> PatchError:
    return PatchError(
        "path",
        f"{raw}: {why}",
        f"The path {raw} is refused: {why}.\n"
        "Change only files inside the repository, named by paths relative to its root (for example src/module.py), "
        "and leave this one alone.",
        path=raw,
    )


def no_diff_error(reason: str, detail: str = "", *, path: str | None = None, how: str = DIFF_FORMAT) -> PatchError:
    """A reply with no usable edit; `how` is the format it should have used."""
    fb = (detail + "\n" if detail else "") + how
    return PatchError("no-diff", reason, fb, path=path)


_PRIORITY = {"path": 0, "no-diff": 1, "apply": 2, "syntax": 3}


def combine(problems: list[PatchError], again: str = NOT_APPLIED) -> PatchError:
    """One error for a reply with several refusals: every feedback, and the kind, reason and path
    of the gravest (a refused path first, then a missing diff, a hunk that fails, a parse error).
    `again` closes the feedback: nothing was changed, send it all again."""
    problems = sorted(problems, key=lambda p: _PRIORITY[p.kind])
    if len(problems) == 1:
        p = problems[0]
        return PatchError(p.kind, p.reason, p.feedback + "\n" + again, path=p.path)
    first = problems[0]
    reason = f"{first.reason} (and {len(problems) - 1} more)"
    body = "\n\n".join(p.feedback for p in problems)
    return PatchError(first.kind, reason, f"{len(problems)} problems:\n\n{body}\n\n{again}", path=first.path)
