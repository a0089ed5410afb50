"""What a cached baseline depends on besides the tree: the environment the test command runs in.

A baseline taken where `python` had no pytest, or before `npm install`, says nothing about the tests
once that is fixed, and a good one says nothing once the environment breaks. So the key names the
programs the command runs (path, target, size, mtime), the packages beside an interpreter (its
site-packages folders' mtimes, which change when a package is added or removed), the dependency
manifests and lock files, the dependency folders in the repository, and the variables the command
gets (hashed: their values may be private).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MANIFESTS = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-test.txt",
    "constraints.txt",
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "pdm.lock",
    "tox.ini",
    "noxfile.py",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "Cargo.lock",
    "Gemfile",
    "Gemfile.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Makefile",
)
DEPENDENCY_DIRS = ("node_modules", "node_modules/.package-lock.json", ".venv", "venv", "vendor", ".tox", ".nox")
ASSIGNMENT_WORDS = ("env", "exec", "command", "time", "nice")


def _stat(path: Path) -> list[Any] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _programs(command: str) -> list[str]:
    """The programs a command line starts: the first word of each `&&`/`;`/`|` part, past `VAR=x` and `env`."""
    try:
        words = shlex.split(command.replace("&&", " ; ").replace("||", " ; ").replace("|", " ; "))
    except ValueError:
        return []
    programs, expect = [], True
    for w in words:
        if w == ";":
            expect = True
        elif expect and not ("=" in w and w.split("=", 1)[0].isidentifier()) and w not in ASSIGNMENT_WORDS:
            programs.append(w)
            expect = False
    return programs


def _site_packages(executable: Path) -> list[Path]:
    """The site-packages folders beside an interpreter or a console script
    (bin/python -> lib/python3.x/site-packages)."""
    prefix = executable.parent.parent
    return sorted(prefix.glob("lib/python*/site-packages")) + sorted(prefix.glob("Lib/site-packages"))


def _program_key(program: str, root: Path, path_var: str | None) -> dict[str, Any]:
    found = (root / program) if "/" in program and not Path(program).is_absolute() else None
    located = str(found) if found is not None else shutil.which(program, path=path_var)
    if located is None:
        return {"program": program, "found": None}
    real = Path(os.path.realpath(located))
    sites = {str(p): _stat(p) for p in dict.fromkeys(_site_packages(Path(located)) + _site_packages(real))}
    return {"program": program, "found": located, "real": str(real), "stat": _stat(real), "site_packages": sites}


def _digest(items: Iterable[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for name, value in items:
        h.update(f"{name}={value}\0".encode("utf-8", errors="surrogateescape"))
    return h.hexdigest()


def environment_key(commands: Iterable[str | None], root: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The environment's part of the baseline's key (see the module docstring). `env` is exactly what
    the commands run with (already an allowlist: PATH, the virtualenv, validate.env, the passthrough)."""
    programs = dict.fromkeys(p for c in commands if c for p in _programs(c))
    manifests = {}
    for name in MANIFESTS:
        p = root / name
        if p.is_file():
            manifests[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return {
        "programs": [_program_key(p, root, env.get("PATH")) for p in programs],
        "manifests": manifests,
        "dependency_dirs": {d: _stat(root / d) for d in DEPENDENCY_DIRS if (root / d).exists()},
        "variables": _digest(sorted(env.items())),
    }
