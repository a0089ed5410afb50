"""Files and folders only the user can read: tieragent's state under `.git/tieragent/`.

That state holds test output, model patches and the originals of edited files, so folders are
0700 and files 0600 whatever the umask. Files are created with that mode (never written first
and narrowed after), so there is no moment when another user could open them. In core, not in
the repository layer, because the model layer's history file needs it too.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def user_state_dir(state_home: Path | None = None) -> Path:
    """Where tieragent keeps what it learns per user (trusted configs, the edit-format record):
    `$XDG_STATE_HOME/tieragent` when that is set, on every system (a bench gives each policy its own
    this way, and platformdirs honours the variable only on Linux), else platformdirs' state folder.
    `state_home` stands for XDG_STATE_HOME (a bench's per-policy folder); None: this environment's."""
    if state_home is None:
        value = os.environ.get("XDG_STATE_HOME", "")
        if not os.path.isabs(value):  # unset, empty or relative: ignored, as the XDG rule says
            from platformdirs import user_state_path

            return user_state_path("tieragent")
        state_home = Path(value)
    return state_home / "tieragent"


def private_dir(path: Path) -> Path:
    """`path` (and each missing parent) created 0700; an existing `path` is narrowed to 0700."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another run made it meanwhile
            d.mkdir(mode=DIR_MODE)
    for d in {path, *missing}:
        if d.stat().st_mode & 0o777 != DIR_MODE:
            os.chmod(d, DIR_MODE)  # mkdir's mode is cut by the umask, and an older tieragent made `path` 0755
    return path


def _open_private(path: Path, flags: int) -> int:
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o777 != FILE_MODE:
            os.fchmod(fd, FILE_MODE)  # a file an older tieragent made 0644, or a umask that removed the owner's bits
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: bytes | str) -> Path:
    """Replace `path` with `data` atomically (a 0600 temporary file renamed over it)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = _open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def append_private(path: Path, data: bytes | str) -> Path:
    """Append `data` in one write (O_APPEND: lines of concurrent runs never interleave); the file is 0600."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = _open_private(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, raw)
    finally:
        os.close(fd)
    return path


def open_private(path: Path) -> int:
    """A read-write descriptor of `path`, created 0600 if missing (a lock file, say); the caller closes it."""
    return _open_private(path, os.O_RDWR)
