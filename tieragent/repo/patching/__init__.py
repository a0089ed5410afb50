"""Applying model-written patches (part of the repository layer; imports only `tieragent.core`).

`plan_patch` turns a reply holding unified diffs into the complete new content of every file it
changes; `plan_whole_file` does the same for the whole-file fallback. Both only read: the
pipeline writes the returned FileChanges through its journal.
"""

from .apply import plan_patch, python_error
from .base import FileChange, PatchError, no_veto
from .paths import PathRefused, check_path, strip_git_prefix
from .wholefile import (
    WHOLE_FILE_MAX_LINES,
    fence_file,
    plan_whole_file,
    plan_whole_files,
    whole_file_eligible,
)

__all__ = [
    "WHOLE_FILE_MAX_LINES",
    "FileChange",
    "PatchError",
    "PathRefused",
    "check_path",
    "fence_file",
    "no_veto",
    "plan_patch",
    "plan_whole_file",
    "plan_whole_files",
    "python_error",
    "strip_git_prefix",
    "whole_file_eligible",
]
