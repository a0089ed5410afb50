"""Which paths a reply may touch: relative, inside the repository, not under .git, not vetoed."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

Refuse = Callable[[str], "str | None"]

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PathRefused(Exception):
    def __init__(self, path: str, why: str):
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


def strip_git_prefix(raw: str, root: Path) -> str:
    """`a/src/x.py` -> `src/x.py`, unless the repository really has a top-level `a/` holding that path."""
    if raw.startswith(("a/", "b/")) and len(raw) > 2:
        if os.path.lexists(root / raw) and not os.path.lexists(root / raw[2:]):
            return raw
        return raw[2:]
    return raw


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def check_path(raw: str, root: Path, refuse: Refuse | None = None) -> str:
    """The repo-relative POSIX form of `raw`, or PathRefused saying why it may not be touched.

    Reads nothing but the file system's metadata (lstat) along the path.
    """
    shown = raw if raw else "(empty path)"
    if not raw or not raw.strip():
        raise PathRefused(shown, "empty path")
    if _CONTROL.search(raw):
        raise PathRefused(shown.encode("unicode_escape").decode(), "the path holds control characters")
    if "\\" in raw:
        raise PathRefused(raw, "the path holds a backslash; write paths with forward slashes")
    if raw.startswith(("/", "~")) or _DRIVE.match(raw):
        raise PathRefused(raw, "absolute paths are refused; write the path relative to the repository root")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if not parts:
        raise PathRefused(raw, "not a file path")
    if ".." in parts:
        raise PathRefused(raw, "paths with '..' are refused; write the path relative to the repository root")
    if any(p.lower() == ".git" for p in parts):
        raise PathRefused(raw, "files under .git/ are never patched")
    rel = "/".join(parts)
    real_root = root.resolve()
    cur = root
    for k, part in enumerate(parts):
        cur = cur / part
        if cur.is_symlink():
            target = cur.resolve()
            if not _inside(target, real_root):
                raise PathRefused(rel, "the path goes through a symbolic link that leads outside the repository")
            if k == len(parts) - 1:
                shown_target = target.relative_to(real_root).as_posix()
                raise PathRefused(rel, f"this is a symbolic link; patch the file it points to ({shown_target}) instead")
            if _inside(target, real_root / ".git") or ".git" in target.relative_to(real_root).parts:
                raise PathRefused(rel, "the path leads into .git/ through a symbolic link")
        elif not cur.exists():
            break
        elif k < len(parts) - 1 and not cur.is_dir():
            raise PathRefused(rel, f"{'/'.join(parts[: k + 1])} is a file, not a directory")
    if (root / rel).is_dir():
        raise PathRefused(rel, "this is a directory, not a file")
    if refuse is not None:
        why = refuse(rel)
        if why:
            raise PathRefused(rel, why)
    return rel


def real_key(rel: str, root: Path) -> str:
    """The path with symbolic links inside the repository resolved, to catch two names for one file."""
    try:
        return (root / rel).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return rel


def hint_path(hint: str, root: Path) -> str | None:
    """The repo-relative path a path-like hint in a reply names (git's a/ b/ dropped), or None if it names none."""
    try:
        return check_path(strip_git_prefix(hint, root), root, None)
    except PathRefused:
        return None
