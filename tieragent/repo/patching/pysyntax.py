"""Whether Python source still parses after a patch: the check every patch format ends with."""

from __future__ import annotations

import ast
import warnings

from .base import PatchError

PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")


def python_error(path: str, text: str) -> str | None:
    """The parse error of Python source, as 'line N: message', or None if it parses."""
    found = _parse_error(path, text)
    return found[1] if found is not None else None


def _parse_error(path: str, text: str) -> tuple[int, str] | None:
    """(the line, 0 when unknown; the error as `python_error` gives it), or None if it parses."""
    if not path.endswith(PYTHON_SUFFIXES):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename=path)
    except SyntaxError as e:
        where = f"line {e.lineno}" if e.lineno else "somewhere"
        return e.lineno or 0, f"{where}: {e.msg}"
    except (ValueError, RecursionError, MemoryError) as e:
        return 0, str(e) or type(e).__name__
    return None


def syntax_check(path: str, before: str | None, after: str) -> PatchError | None:
    """A refusal if Python source that parsed before (or a new file) does not parse after."""
    found = _parse_error(path, after)
    if found is None:
        return None
    if before is not None and python_error(path, before) is not None:
        return None  # it did not parse before either: not this patch's doing
    n, err = found
    lines = after.splitlines()
    fb = [f"{path} would no longer parse as Python after the patch: {err}."]
    if n:
        width = len(str(min(len(lines), n + 2)))
        fb.append("The patched file around that line:")
        for k in range(max(1, n - 3), min(len(lines), n + 2) + 1):
            fb.append(f"{k:>{width}} | {lines[k - 1]}")
    fb.append("Fix the diff so the file stays valid Python (check indentation, brackets and colons).")
    return PatchError("syntax", f"{path}: does not parse after the patch ({err})", "\n".join(fb), path=path)
