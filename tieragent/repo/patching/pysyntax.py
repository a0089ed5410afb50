"""Whether Python source still parses after a patch: the check every patch format ends with."""

from __future__ import annotations

import ast
import warnings

from .base import PatchError

PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")


def python_error(path: str, text: str) -> str | None:
    """The parse error of Python source, as 'line N: message', or None if it parses."""
    if not path.endswith(PYTHON_SUFFIXES):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename=path)
    except SyntaxError as e:
        where = f"line {e.lineno}" if e.lineno else "somewhere"
        return f"{where}: {e.msg}"
    except (ValueError, RecursionError, MemoryError) as e:
        return str(e) or type(e).__name__
    return None


def syntax_check(path: str, before: str | None, after: str) -> PatchError | None:
    """A refusal if Python source that parsed before (or a new file) does not parse after."""
    if not path.endswith(PYTHON_SUFFIXES):
        return None
    err = python_error(path, after)
    if err is None:
        return None
    if before is not None and python_error(path, before) is not None:
        return None  # it did not parse before either: not this patch's doing
    lines = after.splitlines()
    fb = [f"{path} would no longer parse as Python after the patch: {err}."]
    try:
        n = int(err.split(":")[0].split()[1])
    except (IndexError, ValueError):
        n = 0
    if n:
        width = len(str(min(len(lines), n + 2)))
        fb.append("The patched file around that line:")
        for k in range(max(1, n - 3), min(len(lines), n + 2) + 1):
            fb.append(f"{k:>{width}} | {lines[k - 1]}")
    fb.append("Fix the diff so the file stays valid Python (check indentation, brackets and colons).")
    return PatchError("syntax", f"{path}: does not parse after the patch ({err})", "\n".join(fb), path=path)
