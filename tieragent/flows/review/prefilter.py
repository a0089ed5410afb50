"""Hunks no model needs to see, decided without a model, each with its reason.

Skipped: binary files, pure renames, secret-looking files (never sent), lock files, generated and
vendored files (by name, by a generated-file marker, or by `linguist-generated` /
`linguist-vendored` in `.gitattributes`), whitespace-only hunks, and code moved unchanged from
one place to another (a removed block that reappears as an added block).
"""

from __future__ import annotations

from typing import Callable

from ...repo.map.files import skip_reason_by_content, skip_reason_by_name
from .model import FileChange, Hunk, Skipped

MOVED_MIN_LINES = 3  # shorter blocks match by coincidence too often


def _squeezed(lines: tuple[tuple[int, str], ...]) -> str:
    return "".join("".join(text.split()) for _, text in lines)


def whitespace_only(h: Hunk) -> bool:
    return _squeezed(h.added) == _squeezed(h.removed)


def _block(lines: tuple[tuple[int, str], ...]) -> tuple[str, ...]:
    return tuple(s for _, text in lines if (s := " ".join(text.split())))


def moved_hunks(hunks: list[Hunk]) -> dict[str, str]:
    """hunk id -> the id of its counterpart, for pure removals that reappear as pure additions."""
    removals: dict[tuple[str, ...], list[Hunk]] = {}
    for h in hunks:
        block = _block(h.removed)
        if h.removed and not h.added and len(block) >= MOVED_MIN_LINES:
            removals.setdefault(block, []).append(h)
    moved: dict[str, str] = {}
    for h in hunks:
        block = _block(h.added)
        if h.added and not h.removed and block in removals and removals[block]:
            source = removals[block].pop(0)
            moved[h.id], moved[source.id] = source.id, h.id
    return moved


def prefilter(
    files: list[FileChange],
    attributes: dict[str, set[str]],
    head_of: Callable[[str], bytes | None],
) -> tuple[list[Hunk], list[Skipped]]:
    """(hunks to assess, what was skipped and why). `head_of(path)` gives the first bytes of the
    new content when it is known (for generated-file markers); `attributes` the gitattributes set."""
    kept: list[Hunk] = []
    skipped: list[Skipped] = []
    for f in files:
        reason = _file_reason(f, attributes.get(f.path, set()), head_of)
        if reason is not None:
            skipped.append(Skipped(f.path, None, reason))
            continue
        for h in f.hunks:
            if whitespace_only(h):
                skipped.append(Skipped(f.path, h.id, "whitespace only"))
            else:
                kept.append(h)
    moved = moved_hunks(kept)
    skipped += [Skipped(h.path, h.id, f"moved (see {moved[h.id]})") for h in kept if h.id in moved]
    return [h for h in kept if h.id not in moved], skipped


def _file_reason(f: FileChange, attrs: set[str], head_of: Callable[[str], bytes | None]) -> str | None:
    if f.binary:
        return "binary"
    if f.status == "renamed" and not f.hunks:
        return f"renamed from {f.old_path}" if f.old_path else "renamed"
    by_name = skip_reason_by_name(f.path)
    if by_name is not None:
        return by_name
    if "linguist-generated" in attrs:
        return "generated (.gitattributes)"
    if "linguist-vendored" in attrs:
        return "vendored (.gitattributes)"
    head = head_of(f.path) if f.status != "removed" else None
    if head:
        by_content = skip_reason_by_content(f.path, head)
        if by_content in ("generated", "minified", "binary"):
            return by_content
    return None
