"""The diff a review works on, and both sides of each file it changes.

`working_tree`, `staged` and `since_base` ask git for the diff; `from_text` takes one the user
hands in (a file or stdin). Each comes with a way to read a file's content on either side, so
that rules can compare whole files (changed public signatures) and prompts can show the code
around a hunk. Nothing here writes to the work tree or the index (the base's `.gitattributes` are
read through a throwaway index under .git/tieragent/).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import EnvironmentProblem, UsageError
from .workspace import GitWorkspace

# Stable output whatever the user's git config says (noprefix, colour, external diff tools, quoting).
DIFF_ARGS = (
    "-c",
    "core.quotepath=off",
    "diff",
    "--no-color",
    "--no-ext-diff",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


@dataclass(frozen=True)
class DiffSource:
    text: str
    description: str  # said in the output: what was reviewed
    old_rev: str | None  # the commit the old side comes from; None when unknown (a handed-in diff)
    new_side: str | None  # "worktree" | "index" | a commit; None when unknown
    base_rev: str | None = None  # the commit to run a baseline on (--run-tests)


def _has_head(ws: GitWorkspace) -> bool:
    return bool(ws.git("rev-parse", "--verify", "-q", "HEAD", check=False).strip())


def working_tree(ws: GitWorkspace) -> DiffSource:
    """Uncommitted changes, staged or not, and untracked files git does not ignore, against HEAD."""
    if _has_head(ws):
        text = ws.git(*DIFF_ARGS, "HEAD").decode("utf-8", errors="replace")
        old = "HEAD"
    else:  # no commit yet: everything staged is new
        text = ws.git(*DIFF_ARGS, "--cached").decode("utf-8", errors="replace")
        old = None
    untracked = ws.git("ls-files", "-z", "--others", "--exclude-standard").split(b"\0")
    for raw in sorted(u for u in untracked if u):
        rel = raw.decode("utf-8", errors="surrogateescape")
        # `git diff --no-index` exits 1 when the files differ, which they always do here
        text += ws.git(
            "-c",
            "core.quotepath=off",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-index",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "--",
            "/dev/null",
            rel,
            check=False,
        ).decode("utf-8", errors="replace")
    return DiffSource(text, "the working tree and the index against HEAD", old, "worktree", base_rev=old)


def staged(ws: GitWorkspace) -> DiffSource:
    """What the next commit would hold: the index against HEAD."""
    old = "HEAD" if _has_head(ws) else None
    text = ws.git(*DIFF_ARGS, "--cached").decode("utf-8", errors="replace")
    return DiffSource(text, "the index against HEAD", old, "index", base_rev=old)


def since_base(ws: GitWorkspace, ref: str) -> DiffSource:
    """What a pull request from HEAD into `ref` holds: merge-base(ref, HEAD)..HEAD."""
    if not _has_head(ws):
        raise EnvironmentProblem("--base needs a commit to compare: this repository has none yet")
    if not ws.git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).strip():
        raise UsageError(f"--base {ref}: no such branch, tag or commit here", hint=_missing_base_hint(ws, ref))
    base = ws.git("merge-base", ref, "HEAD", check=False).decode().strip()
    if not base:
        shallow = ws.is_shallow()
        raise EnvironmentProblem(
            f"--base {ref}: {ref} and HEAD share no history here" + (" (this is a shallow clone)" if shallow else ""),
            hint="The merge-base needs both histories: fetch more (`git fetch --unshallow`, or fetch-depth: 0 in CI)."
            if shallow
            else "Is it the right base branch?",
        )
    text = ws.git(*DIFF_ARGS, base, "HEAD").decode("utf-8", errors="replace")
    return DiffSource(text, f"{ref}...HEAD (merge-base {base[:12]})", base, "HEAD", base_rev=base)


def _missing_base_hint(ws: GitWorkspace, ref: str) -> str:
    """What to fetch for a base that is not here: a name is fetched by name; an ancestor such as
    HEAD~1 is history this clone lacks (a shallow clone), which only a deeper fetch brings."""
    steps = re.fullmatch(r".*?((?:[~^]\d*)+)", ref)
    if steps is None:
        return f"Fetch it first, e.g. `git fetch origin {ref.split('/')[-1]}` (in CI, check out with fetch-depth: 0)."
    if not ws.is_shallow():
        return "The history here is shorter than that: name an older commit, or a branch, as the base."
    depth = sum(int(n or 1) for n in re.findall(r"[~^](\d*)", steps.group(1)))
    return (
        f"This is a shallow clone without the commits {ref} names: fetch them "
        f"(`git fetch --deepen={depth}`, or `git fetch --unshallow`; in CI, fetch-depth: 0)."
    )


def from_text(text: str, name: str) -> DiffSource:
    """A diff handed in by the user; its sides are not known to be in this repository."""
    return DiffSource(text, f"the diff in {name}", None, None, base_rev=None)


def old_content(ws: GitWorkspace, source: DiffSource, path: str) -> bytes | None:
    """The file as it was before the change (None: new, unknown or unreadable); for a handed-in
    diff, as HEAD has it (the base it is reviewed against)."""
    rev = source.old_rev if source.old_rev is not None or source.new_side is not None else "HEAD"
    return ws.blob(rev, path) if rev is not None else None


def new_content(ws: GitWorkspace, source: DiffSource, path: str) -> bytes | None:
    """The file as the change leaves it (None: deleted, unknown or unreadable)."""
    if source.new_side == "worktree":
        p = ws.root / path
        return p.read_bytes() if p.is_file() and not p.is_symlink() else None
    if source.new_side == "index":
        return ws.blob("", path)
    return ws.blob(source.new_side, path) if source.new_side else None


LINGUIST = ("linguist-generated", "linguist-vendored")


def attributes(
    ws: GitWorkspace,
    paths: list[str],
    names: tuple[str, ...] = LINGUIST,
    *,
    rev: str | None = None,
    index: bool = False,
) -> dict[str, set[str]]:
    """Which of the gitattributes `names` are set (true) for each path: as the `.gitattributes`
    files of commit `rev` say, or of the index (`index`), or else of the work tree."""
    if not paths:
        return {}
    stdin = "\0".join(paths).encode() + b"\0"
    if rev is None:
        out = ws.git("check-attr", *(["--cached"] if index else []), "-z", "--stdin", *names, input=stdin, check=False)
    else:
        out = _attributes_at(ws, rev, names, stdin)
    fields = out.split(b"\0")
    found: dict[str, set[str]] = {}
    for i in range(0, len(fields) - 2, 3):
        path, attr, value = (f.decode("utf-8", errors="surrogateescape") for f in fields[i : i + 3])
        if value in ("set", "true"):
            found.setdefault(path, set()).add(attr)
    return found


def _attributes_at(ws: GitWorkspace, rev: str, names: tuple[str, ...], stdin: bytes) -> bytes:
    """`git check-attr` output as the `.gitattributes` of `rev` say: its tree is read into a throwaway
    index (`check-attr --source` would do it, but needs git 2.40). The user's index is not touched."""
    with tempfile.TemporaryDirectory(prefix="attributes-", dir=ws.state_dir) as tmp:
        env = {**os.environ, "LC_ALL": "C", "GIT_INDEX_FILE": str(Path(tmp) / "index")}

        def git(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(["git", *args], cwd=ws.root, env=env, input=input, capture_output=True, check=False)

        if git("read-tree", rev).returncode != 0:
            return b""  # no such commit here: no attribute can be taken from it
        return git("check-attr", "--cached", "-z", "--stdin", *names, input=stdin).stdout


def base_attributes(ws: GitWorkspace, source: DiffSource, paths: list[str]) -> dict[str, set[str]]:
    """The linguist attributes as the base of the change has them (the base's `.gitattributes`):
    the commit the old side comes from, HEAD for a handed-in diff, none in a repository without commits."""
    rev = source.old_rev or ("HEAD" if _has_head(ws) else None)
    return attributes(ws, paths, rev=rev) if rev else {}


def change_attributes(ws: GitWorkspace, source: DiffSource, paths: list[str]) -> dict[str, set[str]]:
    """The linguist attributes as the change leaves them: what it claims, never what decides."""
    if source.new_side == "index":
        return attributes(ws, paths, index=True)
    if source.new_side not in (None, "worktree"):
        return attributes(ws, paths, rev=source.new_side)
    return attributes(ws, paths)


def read_diff_file(name: str, stdin_text: str | None = None) -> str:
    """`--diff FILE` or `--diff -` (stdin)."""
    if name == "-":
        return stdin_text or ""
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise UsageError(f"--diff {name}: cannot read it ({err.strerror})") from None
