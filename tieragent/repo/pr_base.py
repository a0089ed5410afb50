"""The base of the pull or merge request a CI job runs for, where its config is the trusted one.

GitHub Actions says so with GITHUB_EVENT_NAME (pull_request, pull_request_target, ...) and
GITHUB_BASE_REF, and the event file names the base commit; GitLab merge request pipelines with
CI_MERGE_REQUEST_DIFF_BASE_SHA (the merge-base) and CI_MERGE_REQUEST_TARGET_BRANCH_NAME.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from .workspace import GitWorkspace

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment")


@dataclass(frozen=True)
class RequestBase:
    """`commit` is the base's commit here, or None when the job is for a request whose base is not in
    the checkout (`problem` says what was looked for)."""

    commit: str | None
    label: str  # how messages name it: "origin/main", "the merge request's base"
    problem: str = ""


def _commit(ws: GitWorkspace, rev: str) -> str | None:
    out = ws.git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).decode().strip()
    return out or None


def _merge_base(ws: GitWorkspace, commit: str) -> str:
    """Where the request's branch left the base, when the history is here; else the base itself."""
    out = ws.git("merge-base", commit, "HEAD", check=False).decode().strip()
    return out or commit


def _event_base_sha(environ: Mapping[str, str]) -> str | None:
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            event = json.load(fh)
        sha = event["pull_request"]["base"]["sha"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sha if isinstance(sha, str) else None


def request_base(ws: GitWorkspace, environ: Mapping[str, str]) -> RequestBase | None:
    """The base of the pull or merge request this CI job runs for; None when it runs for none."""
    if environ.get("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS and environ.get("GITHUB_BASE_REF"):
        ref = environ["GITHUB_BASE_REF"]
        candidates = [c for c in (_event_base_sha(environ), f"origin/{ref}", f"refs/remotes/origin/{ref}") if c]
        label = f"origin/{ref}"
    elif environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or environ.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"):
        target = environ.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "")
        candidates = [c for c in (environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"), target and f"origin/{target}") if c]
        label = f"origin/{target}" if target else "the merge request's base"
    else:
        return None
    for rev in candidates:
        commit = _commit(ws, rev)
        if commit:
            return RequestBase(_merge_base(ws, commit), label)
    return RequestBase(None, label, f"none of {', '.join(candidates)} is a commit in this checkout")
