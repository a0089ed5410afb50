"""The patch corpus: one directory per case, shared by test_corpus.py and benchmarks/patch_apply.py.

A case directory holds:
  before/        the repository before (absent: empty)
  reply.md       the model's reply, byte for byte
  after/         the whole repository after applying the reply      } exactly one
  refusal.txt    `kind: ...`, `reason: ...` and any `feedback: ...` } of these two
  whole-file.txt (optional) the path: the reply answers the whole-file fallback for it
  search-replace.txt (optional) the reply is SEARCH/REPLACE blocks; its lines: the files the request is about
  symlinks.txt   (optional) `link -> target` lines; `{outside}` is a directory outside the repository
  veto.txt       (optional) `path: reason` lines the caller's refuse() vetoes
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tieragent.repo.patching import FileChange, PatchError, plan_patch, plan_search_replace, plan_whole_file

CORPUS = Path(__file__).parent / "corpus"


def cases() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir() and (p / "reply.md").exists())


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file under root (symlinks as their target text), keyed by relative POSIX path."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        for name in list(dirnames):
            if (d / name).is_symlink():
                out[(d / name).relative_to(root).as_posix()] = "-> " + os.readlink(d / name)
                dirnames.remove(name)
        for name in filenames:
            p = d / name
            rel = p.relative_to(root).as_posix()
            out[rel] = ("-> " + os.readlink(p)) if p.is_symlink() else p.read_bytes()
    return out


def apply_changes(root: Path, changes: list[FileChange]) -> None:
    """What the pipeline does with the result (without its journal)."""
    for ch in changes:
        if ch.old_path and ch.old_path != ch.path and ch.new_content is not None:
            (root / ch.old_path).unlink()
    for ch in changes:
        p = root / ch.path
        if ch.new_content is None:
            p.unlink()
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(ch.new_content)


@dataclass
class Expected:
    kind: str
    reason: str
    feedback: list[str] = field(default_factory=list)
    path: str | None = None


def read_refusal(case: Path) -> Expected | None:
    f = case / "refusal.txt"
    if not f.exists():
        return None
    fields: dict[str, list[str]] = {}
    for line in f.read_text(encoding="utf-8").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields.setdefault(k.strip(), []).append(v.strip())
    return Expected(
        fields["kind"][0], fields["reason"][0], fields.get("feedback", []), (fields.get("path") or [None])[0]
    )


def prepare(case: Path, workdir: Path) -> tuple[Path, dict[str, str]]:
    """A fresh copy of the case's repository under workdir, and its veto table."""
    root = workdir / "repo"
    if root.exists():
        shutil.rmtree(root)
    if (case / "before").exists():
        shutil.copytree(case / "before", root, symlinks=True)
    else:
        root.mkdir(parents=True)
    outside = workdir / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "target.py").write_text("SECRET = 1\n")
    links = case / "symlinks.txt"
    if links.exists():
        for line in links.read_text().splitlines():
            if "->" in line:
                name, target = (s.strip() for s in line.split("->", 1))
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target.replace("{outside}", str(outside)), root / name)
    veto: dict[str, str] = {}
    vf = case / "veto.txt"
    if vf.exists():
        for line in vf.read_text().splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                veto[k.strip()] = v.strip()
    return root, veto


def run(case: Path, workdir: Path) -> tuple[list[FileChange] | PatchError, Path]:
    """Plan the case's reply against a fresh copy of its repository; the repository is left untouched."""
    root, veto = prepare(case, workdir)
    reply = (case / "reply.md").read_bytes().decode("utf-8")
    whole = case / "whole-file.txt"
    blocks = case / "search-replace.txt"
    try:
        if whole.exists():
            changes: list[FileChange] | PatchError = [
                plan_whole_file(reply, whole.read_text().strip(), root, refuse=veto.get)
            ]
        elif blocks.exists():
            known = tuple(line.strip() for line in blocks.read_text().splitlines() if line.strip())
            changes = plan_search_replace(reply, root, refuse=veto.get, known=known)
        else:
            changes = plan_patch(reply, root, refuse=veto.get)
    except PatchError as e:
        changes = e
    return changes, root


def check(case: Path, workdir: Path) -> str | None:
    """None if the case passes, else what went wrong."""
    expected = read_refusal(case)
    root0, _ = prepare(case, workdir)
    before = snapshot(root0)
    result, root = run(case, workdir)
    if snapshot(root) != before:
        return "planning changed the repository"
    if expected is not None:
        if not isinstance(result, PatchError):
            return f"expected a refusal ({expected.kind}: {expected.reason}), got {len(result)} change(s)"
        if result.kind != expected.kind:
            return f"expected kind {expected.kind}, got {result.kind}: {result.reason}"
        if expected.reason.lower() not in result.reason.lower():
            return f"expected reason containing {expected.reason!r}, got {result.reason!r}"
        for want in expected.feedback:
            if want not in result.feedback:
                return f"feedback lacks {want!r}:\n{result.feedback}"
        if expected.path is not None and result.path != expected.path:
            return f"expected path {expected.path!r}, got {result.path!r}"
        return None
    if isinstance(result, PatchError):
        return f"unexpected refusal ({result.kind}): {result.reason}\n{result.feedback}"
    apply_changes(root, result)
    got = snapshot(root)
    want = snapshot(case / "after") if (case / "after").exists() else {}
    if got != want:
        lines = []
        for k in sorted(set(got) | set(want)):
            if got.get(k) != want.get(k):
                lines.append(f"{k}: expected {want.get(k)!r}\n{' ' * len(k)}  got      {got.get(k)!r}")
        return "wrong result:\n" + "\n".join(lines)
    return None
