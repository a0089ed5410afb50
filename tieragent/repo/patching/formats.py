"""The edit formats a model can write a patch in: one class each, naming its prompt and its parser.

    UnifiedDiff    `--- a/x` / `+++ b/x` / `@@` hunks     prompts/patch.md                 plan_patch
    WholeFile      the complete new content of a file     prompts/patch-whole.md           plan_whole_files
    SearchReplace  <<<<<<< SEARCH / ======= / >>>>>>> REPLACE   prompts/patch-search-replace.md   plan_search_replace

The fix flow renders `prompt` with `prompt_files(...)` for the files and reads the reply with `plan`.
Which format a tier uses is decided by routing (routing/edit_format.py), not here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ...core.vocab import EditFormat
from .apply import plan_patch
from .base import FileChange, no_veto
from .searchreplace import plan_search_replace
from .wholefile import fence_file, plan_whole_files

EMPTY: Mapping[str, str] = {}  # no read-only files

Refuse = Callable[[str], str | None]


@dataclass(frozen=True)
class UnifiedDiff:
    """Unified diffs: the shortest reply, located by content (line numbers and counts are not trusted)."""

    name: EditFormat = "diff"
    prompt: str = "patch"
    plural: str = "diffs"  # how a reason counts this format's replies

    def prompt_files(
        self, root: Path, paths: tuple[str, ...], rendered: str, read_only: Mapping[str, str] = EMPTY
    ) -> dict[str, str]:
        return {"files": rendered}

    def plan(self, reply: str, root: Path, paths: tuple[str, ...], refuse: Refuse = no_veto) -> list[FileChange]:
        return plan_patch(reply, root, refuse=refuse)

    def shorter(self, limit: int) -> str:
        """What a reply cut off at the output limit is told to do instead."""
        return (
            f"Your previous reply was cut off at the output limit ({limit} tokens), so none of it was used. "
            "Answer more briefly: only the hunks that change, with 2 or 3 lines of context."
        )


@dataclass(frozen=True)
class SearchReplace:
    """SEARCH/REPLACE blocks: the text to change copied from the file, then its replacement."""

    name: EditFormat = "search_replace"
    prompt: str = "patch-search-replace"
    plural: str = "search/replace edits"

    def prompt_files(
        self, root: Path, paths: tuple[str, ...], rendered: str, read_only: Mapping[str, str] = EMPTY
    ) -> dict[str, str]:
        return {"files": rendered}

    def plan(self, reply: str, root: Path, paths: tuple[str, ...], refuse: Refuse = no_veto) -> list[FileChange]:
        return plan_search_replace(reply, root, refuse=refuse, known=paths)

    def shorter(self, limit: int) -> str:
        return (
            f"Your previous reply was cut off at the output limit ({limit} tokens), so none of it was used. "
            "Answer more briefly: only the blocks that change something, each SEARCH section a few lines long."
        )


@dataclass(frozen=True)
class WholeFile:
    """The complete new content of each file that changes: no place to find, but every line written out."""

    name: EditFormat = "whole"
    prompt: str = "patch-whole"
    plural: str = "whole files"

    def prompt_files(
        self, root: Path, paths: tuple[str, ...], rendered: str, read_only: Mapping[str, str] = EMPTY
    ) -> dict[str, str]:
        """The files to write out, and `read_only` ones (path -> the text the context holds; the tests, say)
        shown for reference only: a model asked to write out every file it sees rewrites the tests too, and
        that edit is refused."""
        shown = "\n\n".join(fence_file(p, (root / p).read_text(errors="replace")) for p in paths)
        reference = "\n\n".join(fence_file(p, text) for p, text in read_only.items())
        if reference:
            reference = f"\nFor reference only (not yours to change; do not write these out):\n{reference}\n"
        return {"files": shown, "paths": ", ".join(paths), "reference": reference}

    def plan(self, reply: str, root: Path, paths: tuple[str, ...], refuse: Refuse = no_veto) -> list[FileChange]:
        return plan_whole_files(reply, paths, root, refuse=refuse)

    def shorter(self, limit: int) -> str:
        return (
            f"Your previous reply was cut off at the output limit ({limit} tokens), so none of it was used: "
            "the files do not fit in one reply."
        )


PatchFormat = UnifiedDiff | SearchReplace | WholeFile
PATCH_FORMATS: dict[EditFormat, PatchFormat] = {f.name: f for f in (UnifiedDiff(), SearchReplace(), WholeFile())}
