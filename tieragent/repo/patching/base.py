"""What the patching package returns and raises.

Everything in `tieragent.patching` is read-only on disk: it works out the complete new content
of every file a reply changes, and the pipeline writes it through its journal.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("no-diff", "apply", "path", "syntax")


class PatchError(Exception):
    """A reply that cannot be applied, with a one-line reason for the ledger and feedback for the model.

    ``kind`` is one of: "no-diff" (the reply holds no usable diff), "apply" (a hunk does not match,
    or matches in more than one place), "path" (a path is refused), "syntax" (a Python file that
    parsed before does not parse after).
    """

    def __init__(self, kind: str, reason: str, feedback: str | None = None, *, path: str | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown PatchError kind {kind!r}")
        super().__init__(reason)
        self.kind = kind
        self.reason = reason.splitlines()[0] if reason else kind
        self.feedback = feedback if feedback else reason
        self.path = path

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"PatchError({self.kind!r}, {self.reason!r}, path={self.path!r})"


@dataclass(frozen=True)
class FileChange:
    path: str  # repo-relative POSIX path after the change
    old_path: str | None  # == path for a modification, the source for a rename, None for a new file
    new_content: bytes | None  # complete new bytes; None deletes the file

    @property
    def is_new(self) -> bool:
        return self.old_path is None

    @property
    def is_delete(self) -> bool:
        return self.new_content is None

    @property
    def is_rename(self) -> bool:
        return self.old_path is not None and self.old_path != self.path


def no_veto(_path: str) -> str | None:
    """The default `refuse` callback of the planners: no path is vetoed."""
    return None


class Problems:
    """Every refusal found while planning one reply (the planners are all or nothing)."""

    def __init__(self) -> None:
        self.problems: list[PatchError] = []

    def add(self, err: PatchError) -> None:
        self.problems.append(err)
