"""Applying model-written patches (part of the repository layer; imports only `tieragent.core`).

`plan_patch` turns a reply holding unified diffs into the complete new content of every file it
changes; `plan_search_replace` does the same for SEARCH/REPLACE blocks and `plan_whole_file` for
whole files. All three only read: the pipeline writes the returned FileChanges through its journal.
`PATCH_FORMATS` holds one class per format, each naming its prompt and its parser.
"""

from .apply import plan_patch
from .base import FileChange, PatchError, no_veto
from .formats import PATCH_FORMATS, PatchFormat, SearchReplace, UnifiedDiff, WholeFile
from .paths import PathRefused, check_path, strip_git_prefix
from .pysyntax import python_error
from .searchreplace import plan_search_replace
from .wholefile import (
    WHOLE_FILE_MAX_LINES,
    fence_file,
    plan_whole_file,
    plan_whole_files,
    whole_file_eligible,
)

__all__ = [
    "PATCH_FORMATS",
    "WHOLE_FILE_MAX_LINES",
    "FileChange",
    "PatchError",
    "PatchFormat",
    "PathRefused",
    "SearchReplace",
    "UnifiedDiff",
    "WholeFile",
    "check_path",
    "fence_file",
    "no_veto",
    "plan_patch",
    "plan_search_replace",
    "plan_whole_file",
    "plan_whole_files",
    "python_error",
    "strip_git_prefix",
    "whole_file_eligible",
]
