"""One process per branch file: an operating-system lock beside the database.

``<dir>/<db stem>.lock`` (``branch.lock`` for ``branch.sqlite3``) is held with ``flock``
(through :mod:`filelock`) for as long as a process uses the branch file: a desk, a headless
server, ``main.py sync --once`` or a restore. The operating system frees it when the process
ends, also after ``kill -9``. :func:`app.store.open_store` takes it before the start-up
check, a pending restore or migrations touch the file, so nothing else ever renames or
migrates a database another process has open.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from app import private_files as perms


class BranchInUse(RuntimeError):
    """Another process (a desk, a headless server or a sync run) holds this branch file."""

    def __init__(self, db_path: Path):
        self.db_path = Path(db_path)
        super().__init__(
            f"another Istiqbal process is using the branch database {self.db_path} "
            f"(its lock {lock_path(self.db_path).name} is held); stop it first"
        )


def lock_path(db_path: str | Path) -> Path:
    """``branch.lock`` for ``…/branch.sqlite3``."""
    return Path(db_path).with_suffix(".lock")


class BranchLock:
    """The held lock of one branch file; :meth:`release` frees it (idempotent)."""

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self._lock = FileLock(str(lock_path(self.db_path)), mode=0o600, thread_local=False)
        self._held = False

    def acquire(self) -> BranchLock:
        """Take the lock now or raise :class:`BranchInUse` (never waits)."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise BranchInUse(self.db_path) from None
        self._held = True
        return self

    @property
    def held(self) -> bool:
        return self._held

    def covers(self, db_path: str | Path) -> bool:
        """True when this held lock is the one of ``db_path``."""
        return self._held and os.path.abspath(lock_path(db_path)) == os.path.abspath(lock_path(self.db_path))

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release(force=True)


def claim_branch(db_path: str | Path) -> BranchLock:
    """Hold the lock of the branch file ``db_path`` (its folder is made private first, see
    :mod:`app.store.perms`). Raises :class:`BranchInUse` when another process (or another
    claim in this one) holds it."""
    db_path = Path(db_path)
    perms.private_dir(db_path.parent)
    return BranchLock(db_path).acquire()


def is_claimed(db_path: str | Path) -> bool:
    """True when some process holds the lock of ``db_path`` now (a probe: takes and frees it)."""
    try:
        claim_branch(db_path).release()
    except BranchInUse:
        return True
    return False
