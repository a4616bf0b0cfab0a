"""Files with patient data or secrets are readable by their owner only.

The branch database and its -wal/-shm, backups, moved-aside copies, the branch lock, the
local token, the server's key, secrets and logs are 0600 in 0700 folders. New ones are made
so (``os.open`` with 0600, folders with 0700), and :func:`secure_data_dir` puts right an
existing install made before (0644 files in a 0755 folder) at every start. Only the
program's own files are touched: a ``--data-dir`` pointed at a folder that holds other
things keeps those as they are. On Windows (no POSIX modes) this does nothing.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)
DIR_MODE = 0o700
FILE_MODE = 0o600
POSIX = os.name == "posix"
#: the data directory's own entries besides ``<db name>*`` (lock, restore, token, TLS)
OWN_NAMES = (
    "branch.lock",
    "restore-pending.json",
    "local-token",
    "server.json",
    "server-key.pem",
    "server-cert.pem",
)
OWN_DIRS = ("backups",)


def _fix(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        return  # never follow a link; leave other users' files alone
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)


def private_dir(path: str | Path) -> Path:
    """Make ``path`` (and missing parents) a folder only the user can enter (0700)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if POSIX:
        _fix(path, DIR_MODE)
    return path


def private_file(path: str | Path) -> Path:
    """Make an existing file ``path`` readable and writable by the user only (0600)."""
    path = Path(path)
    if POSIX:
        _fix(path, FILE_MODE)
    return path


def write_private(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` whole (a temporary file renamed into place), created 0600
    in a 0700 folder."""
    path = Path(path)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    private_file(tmp)
    os.replace(tmp, path)
    return path


def secure_data_dir(db_path: str | Path) -> None:
    """Put right the modes of a branch's files: the database's folder 0700; the database,
    its -wal/-shm and moved-aside copies, the lock, pending restore, local token and TLS
    files 0600; ``backups/`` 0700 with every file in it 0600."""
    if not POSIX:
        return
    db_path = Path(db_path)
    folder = private_dir(db_path.parent)
    stem = db_path.with_suffix("").name
    for entry in folder.iterdir():
        name = entry.name
        if entry.is_symlink():
            continue
        if entry.is_dir() and name in OWN_DIRS:
            _fix(entry, DIR_MODE)
            for inner in entry.iterdir():
                if inner.is_file() and not inner.is_symlink():
                    _fix(inner, FILE_MODE)
        elif entry.is_file() and (
            name.startswith(db_path.name)
            or name.startswith(f".{db_path.name}")
            or name in OWN_NAMES
            or name == f"{stem}.lock"
        ):
            _fix(entry, FILE_MODE)
