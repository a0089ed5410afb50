"""The git workspace: which files exist, which may be shown to a model, what is dirty, commits.

Every edit goes through a `journal.FileJournal` (see `journal()`), so every edit can be undone.
tieragent's own state lives under the git directory (`state_dir`), never in the work tree.
Validation runs in the user's own tree, so editable installs import the patched code.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..core.errors import EnvironmentProblem
from ..core.private_files import private_dir
from .journal import FileJournal
from .secret_paths import looks_secret

STATE_DIR_NAME = "tieragent"


def _git(root: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, input=input, capture_output=True, check=False, env={**os.environ, "LC_ALL": "C"}
        )
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        raise EnvironmentProblem(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def find_repo_root(start: Path) -> Path:
    """The work tree root containing `start`, or a clear error (exit 2).

    git names the top level in one call; only when it cannot (not a repository, a bare one, inside .git)
    does GitPython look, for which error to give: its import and its two `git version` calls cost more
    than the rest of opening a workspace."""
    if start.is_dir():  # else GitPython says there is no such path
        top = _git(start, "rev-parse", "--show-toplevel", check=False).removesuffix(b"\n")  # b"" when it fails
        if top and os.path.isdir(top):
            return Path(os.fsdecode(top)).resolve()
    return _find_repo_root_slowly(start)


def _find_repo_root_slowly(start: Path) -> Path:
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    try:
        with Repo(start, search_parent_directories=True) as repo:
            if repo.bare or repo.working_tree_dir is None:
                raise EnvironmentProblem(f"{start} is inside a bare git repository; run tieragent in a work tree")
            return Path(repo.working_tree_dir).resolve()
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise EnvironmentProblem(
            f"{start} is not inside a git repository",
            hint="tieragent needs git to keep your changes safe: run `git init` first, or cd into a repository.",
        ) from None


@dataclass
class GitWorkspace:
    root: Path

    @classmethod
    def open(cls, start: Path) -> GitWorkspace:
        return cls(find_repo_root(start))

    def git(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        """Run git in the work tree (C locale); a failure is an EnvironmentProblem unless `check` is off."""
        return _git(self.root, *args, input=input, check=check)

    def is_shallow(self) -> bool:
        """A clone with part of its history (`git clone --depth`): merge-bases and old commits may be missing."""
        return self.git("rev-parse", "--is-shallow-repository", check=False).decode().strip() == "true"

    def blob(self, rev: str, path: str) -> bytes | None:
        """The content of `path` at `rev` ("" for the index), or None when it is not there."""
        proc = subprocess.run(
            ["git", "cat-file", "blob", f"{rev}:{path}"], cwd=self.root, capture_output=True, check=False
        )
        return proc.stdout if proc.returncode == 0 else None

    @cached_property
    def git_dir(self) -> Path:
        """The common git dir (shared by worktrees): tieragent's state lives under it, never in the tree."""
        out = _git(self.root, "rev-parse", "--git-common-dir").decode().strip()
        return (self.root / out).resolve()

    @cached_property
    def state_dir(self) -> Path:
        """`.git/tieragent/`, 0700: it holds test output, patches and the originals of edited files."""
        return private_dir(self.git_dir / STATE_DIR_NAME)

    def list_files(self) -> list[str]:
        """Tracked files plus untracked ones git does not ignore, that exist on disk."""
        out = _git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        seen: dict[str, None] = {}
        for raw in out.split(b"\0"):
            if raw:
                rel = raw.decode("utf-8", errors="surrogateescape")
                if (self.root / rel).is_file():
                    seen[rel] = None
        return list(seen)

    def ignored(self, rel_paths: list[str]) -> set[str]:
        if not rel_paths:
            return set()
        out = _git(self.root, "check-ignore", "-z", "--stdin", input="\0".join(rel_paths).encode() + b"\0", check=False)
        return {p.decode() for p in out.split(b"\0") if p}

    def shareable(self, rel_paths: list[str]) -> tuple[list[str], dict[str, str]]:
        """Split paths into those a model may see and those it may not (with the reason)."""
        refused: dict[str, str] = {}
        ignored = self.ignored([p for p in rel_paths if not looks_secret(p)])
        ok = []
        for p in rel_paths:
            if looks_secret(p):
                refused[p] = "looks like a secret"
            elif p in ignored:
                refused[p] = "ignored by git"
            else:
                ok.append(p)
        return ok, refused

    def operation_in_progress(self) -> str | None:
        """ "a merge", "a rebase", ... when git is in the middle of one (the tree is not the user's to edit)."""
        markers = {
            "MERGE_HEAD": "a merge",
            "rebase-merge": "a rebase",
            "rebase-apply": "a rebase or git am",
            "CHERRY_PICK_HEAD": "a cherry-pick",
            "REVERT_HEAD": "a revert",
        }
        here = Path(_git(self.root, "rev-parse", "--absolute-git-dir").decode().strip())  # this worktree's own git dir
        for name, what in markers.items():
            if (here / name).exists():
                return what
        return None

    @cached_property
    def submodules(self) -> tuple[str, ...]:
        """Paths of the submodules (gitlinks) of this repository."""
        out = _git(self.root, "ls-files", "-z", "--stage")
        found = []
        for entry in out.split(b"\0"):
            if entry.startswith(b"160000 "):
                found.append(entry.split(b"\t", 1)[1].decode("utf-8", errors="surrogateescape"))
        return tuple(found)

    def unpatchable(self, rel: str) -> str | None:
        """Why tieragent must not write `rel` though a model may read it, or None."""
        for sub in self.submodules:
            if rel == sub or rel.startswith(sub + "/"):
                return f"inside the submodule {sub} (a repository of its own)"
        p = self.root / rel
        if p.is_file() and not p.stat().st_mode & 0o222:
            return "read-only (no write permission is set); make it writable first if it should change"
        return None

    def dirty_paths(self) -> set[str]:
        """Paths that differ from HEAD (staged, unstaged or untracked)."""
        out = _git(self.root, "status", "--porcelain=v1", "-z", "--untracked-files=all")
        paths: set[str] = set()
        entries = out.split(b"\0")
        i = 0
        while i < len(entries):
            e = entries[i]
            if len(e) > 3:
                paths.add(e[3:].decode("utf-8", errors="surrogateescape"))
                if e[:1] in (b"R", b"C"):
                    i += 1  # the rename's source follows
            i += 1
        return paths

    def tree_fingerprint(self) -> str:
        """Changes whenever the content of a tracked or untracked (not ignored) file changes."""
        h = hashlib.sha256()
        head = _git(self.root, "rev-parse", "--verify", "-q", "HEAD", check=False)
        h.update(head)
        if head.strip():
            h.update(_git(self.root, "diff", "HEAD", "--binary", "--no-ext-diff", "--no-color"))
            others = _git(self.root, "ls-files", "-z", "--others", "--exclude-standard").split(b"\0")
        else:  # no commit yet: every file counts
            others = _git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split(b"\0")
        for raw in sorted(o for o in others if o):
            p = self.root / raw.decode("utf-8", errors="surrogateescape")
            h.update(raw + b"\0")
            if p.is_file():
                h.update(hashlib.sha256(p.read_bytes()).digest())
        return h.hexdigest()

    def commit(self, rel_paths: list[str], message: str) -> str:
        """Commit exactly these paths (nothing else the user staged) and return the new sha."""
        existing = [p for p in rel_paths if (self.root / p).exists()]
        if existing:
            _git(self.root, "add", "--", *existing)
        _git(self.root, "commit", "--quiet", "--no-verify", "-m", message, "--only", "--", *rel_paths)
        return _git(self.root, "rev-parse", "HEAD").decode().strip()

    def create_branch(self, name: str) -> None:
        """Switch to a new branch `name` at HEAD; the work tree and the index carry over unchanged."""
        if _git(self.root, "check-ref-format", "--branch", name, check=False).strip() == b"":
            raise EnvironmentProblem(f"--branch {name!r} is not a valid branch name")
        if _git(self.root, "rev-parse", "--verify", "-q", f"refs/heads/{name}", check=False).strip():
            raise EnvironmentProblem(f"a branch named {name} exists already")
        _git(self.root, "switch", "-q", "-c", name)

    def journal(self) -> FileJournal:
        return FileJournal.start(self.root, self.state_dir / "journal")
