"""The diff a review works on, and both sides of each file it changes.

`working_tree`, `staged` and `since_base` ask git for the diff; `from_text` takes one the user
hands in (a file or stdin). Each comes with a way to read a file's content on either side, so
that rules can compare whole files (changed public signatures) and prompts can show the code
around a hunk. Nothing here writes to the work tree or the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import EnvironmentProblem, UsageError
from .workspace import GitWorkspace

# Stable output whatever the user's git config says (noprefix, colour, external diff tools, quoting).
DIFF_ARGS = ("-c", "core.quotepath=off", "diff", "--no-color", "--no-ext-diff", "-M", "--src-prefix=a/", "--dst-prefix=b/")


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
        text += ws.git("-c", "core.quotepath=off", "diff", "--no-color", "--no-ext-diff", "--no-index",
                       "--src-prefix=a/", "--dst-prefix=b/", "--", "/dev/null", rel, check=False).decode("utf-8", errors="replace")
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
        raise UsageError(
            f"--base {ref}: no such branch, tag or commit here",
            hint=f"Fetch it first, e.g. `git fetch origin {ref.split('/')[-1]}` (in CI, check out with fetch-depth: 0).",
        )
    base = ws.git("merge-base", ref, "HEAD", check=False).decode().strip()
    if not base:
        shallow = ws.git("rev-parse", "--is-shallow-repository", check=False).decode().strip() == "true"
        raise EnvironmentProblem(
            f"--base {ref}: {ref} and HEAD share no history here" + (" (this is a shallow clone)" if shallow else ""),
            hint="The merge-base needs both histories: fetch more (`git fetch --unshallow`, or fetch-depth: 0 in CI)."
            if shallow else "Is it the right base branch?",
        )
    text = ws.git(*DIFF_ARGS, base, "HEAD").decode("utf-8", errors="replace")
    return DiffSource(text, f"{ref}...HEAD (merge-base {base[:12]})", base, "HEAD", base_rev=base)


def from_text(text: str, name: str) -> DiffSource:
    """A diff handed in by the user; its sides are not known to be in this repository."""
    return DiffSource(text, f"the diff in {name}", None, None, base_rev=None)


def old_content(ws: GitWorkspace, source: DiffSource, path: str) -> bytes | None:
    """The file as it was before the change (None: new, unknown or unreadable)."""
    return ws.blob(source.old_rev, path) if source.old_rev is not None else None


def new_content(ws: GitWorkspace, source: DiffSource, path: str) -> bytes | None:
    """The file as the change leaves it (None: deleted, unknown or unreadable)."""
    if source.new_side == "worktree":
        p = ws.root / path
        return p.read_bytes() if p.is_file() and not p.is_symlink() else None
    if source.new_side == "index":
        return ws.blob("", path)
    return ws.blob(source.new_side, path) if source.new_side else None


def attributes(ws: GitWorkspace, paths: list[str], names: tuple[str, ...] = ("linguist-generated", "linguist-vendored")) -> dict[str, set[str]]:
    """Which of the gitattributes `names` are set (true) for each path, from `.gitattributes`."""
    if not paths:
        return {}
    out = ws.git("check-attr", "-z", "--stdin", *names, input="\0".join(paths).encode() + b"\0", check=False)
    fields = out.split(b"\0")
    found: dict[str, set[str]] = {}
    for i in range(0, len(fields) - 2, 3):
        path, attr, value = (f.decode("utf-8", errors="surrogateescape") for f in fields[i : i + 3])
        if value in ("set", "true"):
            found.setdefault(path, set()).add(attr)
    return found


def read_diff_file(name: str, stdin_text: str | None = None) -> str:
    """`--diff FILE` or `--diff -` (stdin)."""
    if name == "-":
        return stdin_text or ""
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise UsageError(f"--diff {name}: cannot read it ({err.strerror})") from None
