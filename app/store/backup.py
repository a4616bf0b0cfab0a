"""Backups of the branch database, the start-up integrity check, and recovery.

* :func:`take_backup`: an online copy through SQLite's backup API (``Connection.backup``,
  a consistent snapshot read beside the writer, never a file copy) into
  ``<data-dir>/backups/branch-<UTC time>-<reason>.sqlite3``; the newest :data:`KEEP` stay.
  The branch server takes one every hour (:class:`BackupSchedule`) and :class:`~app.store.Store`
  takes one before applying pending migrations to a database that already has data.
* :func:`check_and_recover` runs before the store opens the file: a pending restore
  (:func:`schedule_restore`, asked for by a desk) is carried out, then ``PRAGMA quick_check``
  runs. A damaged file is moved aside (``branch.sqlite3.damaged-<time>``, with its -wal and
  -shm), never deleted; the newest backup that passes the check takes its place, and the
  damaged file's unsent ``sync_outbox`` rows, when still readable, are carried over. The
  returned report says what happened, for the log and the desk.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from app import private_files

log = logging.getLogger(__name__)
KEEP = 10
INTERVAL = 3600.0
DIR_NAME = "backups"
PENDING_NAME = "restore-pending.json"
NAME_RE = re.compile(r"^branch-(\d{8}T\d{6}\d*Z)-([a-z-]+)\.sqlite3$")


def backup_dir(db_path: Path) -> Path:
    return Path(db_path).parent / DIR_NAME


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def _created(name: str) -> datetime | None:
    match = NAME_RE.match(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def _copy(source: sqlite3.Connection, dest_path: Path) -> None:
    """SQLite's online backup of ``source`` into a new file, renamed into place when whole."""
    tmp = dest_path.with_name(f".{dest_path.name}.tmp")
    tmp.unlink(missing_ok=True)
    dest = sqlite3.connect(str(tmp))
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dest.close()
    private_files.private_file(tmp)  # patient data: the user's only (0600)
    os.replace(tmp, dest_path)


def take_backup(
    db_path: str | Path, reason: str = "scheduled", keep: int = KEEP, source: sqlite3.Connection | None = None
) -> Path:
    """Back up the database at ``db_path`` (through ``source`` when given, else through a
    new read connection beside the writer); returns the backup's path."""
    db_path = Path(db_path)
    folder = private_files.private_dir(backup_dir(db_path))
    path = folder / f"branch-{_stamp()}-{reason}.sqlite3"
    own = source is None
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) if own else source
    try:
        _copy(conn, path)
    finally:
        if own:
            conn.close()
    prune(db_path, keep)
    log.info("backup taken: %s (%s)", path.name, reason)
    return path


def list_backups(db_path: str | Path) -> list[dict]:
    """``[{"name", "createdAt", "reason", "size"}]``, newest first."""
    folder = backup_dir(Path(db_path))
    out = []
    for path in folder.glob("branch-*.sqlite3") if folder.is_dir() else ():
        created = _created(path.name)
        if created is None:
            continue
        out.append(
            {
                "name": path.name,
                "createdAt": created.isoformat().replace("+00:00", "Z"),
                "reason": NAME_RE.match(path.name).group(2),
                "size": path.stat().st_size,
            }
        )
    return sorted(out, key=lambda b: b["name"], reverse=True)


def prune(db_path: Path, keep: int = KEEP) -> None:
    for old in list_backups(db_path)[keep:]:
        (backup_dir(db_path) / old["name"]).unlink(missing_ok=True)


def quick_check(path: str | Path) -> str | None:
    """None when ``PRAGMA quick_check`` finds the file sound, else what it (or SQLite) said."""
    try:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    result = "; ".join(str(r[0]) for r in rows)
    return None if result == "ok" else result or "no answer"


def _sidecars(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + suffix) for suffix in ("-wal", "-shm")]


def move_aside(db_path: Path, label: str = "damaged") -> Path:
    """Rename the database (and its -wal/-shm) to ``<name>.<label>-<time>``; returns the new path."""
    target = db_path.with_name(f"{db_path.name}.{label}-{_stamp()}")
    for extra in _sidecars(db_path):
        if extra.exists():
            os.replace(extra, target.with_name(target.name + extra.name[len(db_path.name) :]))
    os.replace(db_path, target)
    return target


def outbox_rows(path: Path) -> list[dict] | None:
    """The ``sync_outbox`` rows of a (maybe damaged) file, or None when they cannot be read."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("select * from sync_outbox order by seq")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        log.warning("could not read the outbox of %s: %s", path, exc)
        return None


def carry_outbox(db_path: Path, rows: list[dict]) -> int:
    """Add to ``db_path``'s outbox the ``rows`` whose operation id it lacks; returns how many."""
    if not rows:
        return 0
    conn = sqlite3.connect(str(db_path))
    try:
        if not conn.execute("select 1 from sqlite_master where name = 'sync_outbox'").fetchone():
            return 0
        columns = [r[1] for r in conn.execute("pragma table_info(sync_outbox)")]
        have = {r[0] for r in conn.execute("select id from sync_outbox")}
        added = 0
        with conn:
            for row in rows:
                if row.get("id") in have:
                    continue
                values = {k: v for k, v in row.items() if k in columns and k != "seq"}
                names = ", ".join(f'"{k}"' for k in values)
                conn.execute(
                    f"insert into sync_outbox ({names}) values ({', '.join('?' * len(values))})",
                    list(values.values()),
                )
                added += 1
        return added
    finally:
        conn.close()


def restore_file(db_path: Path, name: str) -> None:
    """Put backup ``name`` in place of ``db_path`` (which must be closed and moved aside)."""
    source_path = backup_dir(db_path) / name
    if not NAME_RE.match(name) or not source_path.is_file():
        raise FileNotFoundError(f"no backup named {name!r}")
    for extra in _sidecars(db_path):
        extra.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        _copy(source, db_path)
    finally:
        source.close()


def schedule_restore(db_path: str | Path, name: str) -> dict:
    """Remember to restore backup ``name`` at the next start (the server must not swap the
    file under its own open connection). Raises FileNotFoundError for an unknown backup."""
    db_path = Path(db_path)
    if name not in {b["name"] for b in list_backups(db_path)}:
        raise FileNotFoundError(f"no backup named {name!r}")
    pending = {"name": name, "requestedAt": datetime.now(UTC).isoformat()}
    private_files.write_private(db_path.parent / PENDING_NAME, json.dumps(pending))
    return pending


def pending_restore(db_path: str | Path) -> dict | None:
    try:
        return json.loads((Path(db_path).parent / PENDING_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _restore_newest_good(db_path: Path, report: dict) -> None:
    for candidate in list_backups(db_path):
        problem = quick_check(backup_dir(db_path) / candidate["name"])
        if problem is None:
            restore_file(db_path, candidate["name"])
            report["restored"] = candidate["name"]
            return
        log.warning("backup %s is damaged too: %s", candidate["name"], problem)


def restore(db_path: str | Path, name: str, label: str = "replaced") -> dict:
    """Restore backup ``name`` now (the database must not be open): the current file is
    moved aside (kept) and its unsent outbox rows carried into the restored one."""
    db_path = Path(db_path)
    report: dict = {"status": "restored", "restored": name}
    if db_path.exists():
        aside = move_aside(db_path, label)
        report["movedAside"] = str(aside)
        rows = outbox_rows(aside)
    else:
        rows = []
    restore_file(db_path, name)
    report["outboxCarried"] = carry_outbox(db_path, rows or [])
    log.warning("backup %s restored; the previous file is kept as %s", name, report.get("movedAside"))
    return report


def check_and_recover(db_path: str | Path) -> dict:
    """Before the store opens ``db_path``: carry out a pending restore, then check the file.

    Returns ``{"status": "ok" | "new" | "restored" | "recovered" | "damaged-no-backup", ...}``
    with ``problem``, ``movedAside``, ``restored``, ``outboxCarried`` and ``outboxLost`` (None
    when the outbox could not be read: the damaged file then is the only copy of those rows).
    """
    db_path = Path(db_path)
    pending = pending_restore(db_path)
    if pending is not None:
        (db_path.parent / PENDING_NAME).unlink(missing_ok=True)
        try:
            return restore(db_path, pending["name"])
        except (OSError, sqlite3.DatabaseError, KeyError) as exc:
            log.error("could not restore the backup %s: %s", pending.get("name"), exc)
    if not db_path.exists():
        return {"status": "new"}
    problem = quick_check(db_path)
    if problem is None:
        return {"status": "ok"}
    log.error("the branch database %s is damaged: %s", db_path, problem)
    aside = move_aside(db_path, "damaged")
    report: dict = {
        "status": "damaged-no-backup",
        "problem": problem,
        "movedAside": str(aside),
        "restored": None,
        "outboxCarried": 0,
    }
    _restore_newest_good(db_path, report)
    rows = outbox_rows(aside)
    if report["restored"]:
        report["status"] = "recovered"
        report["outboxCarried"] = carry_outbox(db_path, rows or []) if rows is not None else 0
    report["outboxReadable"] = rows is not None
    report["outboxInDamaged"] = len(rows) if rows is not None else None
    log.warning("recovery: %s", report)
    return report


def before_migrations(db, migrations, db_path: Path) -> Path | None:
    """Back up ``db`` (a sqlite-utils Database) when migrations are pending and it already
    has applied ones (an existing branch, not a new file); returns the backup's path."""
    if "_sqlite_migrations" not in db.table_names() or not list(migrations.applied(db)):
        return None
    if not list(migrations.pending(db)):
        return None
    return take_backup(db_path, reason="pre-migration", source=db.conn)


class BackupSchedule:
    """Take a backup every ``interval`` seconds in a daemon thread (the first one when the
    newest backup is older than ``interval``), keeping the last ``keep``."""

    def __init__(self, db_path: str | Path, interval: float = INTERVAL, keep: int = KEEP):
        self.db_path, self.interval, self.keep = Path(db_path), interval, keep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="branch-backups", daemon=True)
        self.taken: list[Path] = []

    def _due_in(self) -> float:
        newest = list_backups(self.db_path)
        if not newest:
            return 0.0
        age = (datetime.now(UTC) - _created(newest[0]["name"])).total_seconds()
        return max(0.0, self.interval - age)

    def _run(self) -> None:
        while not self._stop.wait(self._due_in()):
            try:
                self.taken.append(take_backup(self.db_path, "scheduled", self.keep))
            except (OSError, sqlite3.Error) as exc:
                log.error("scheduled backup failed: %s", exc)
                if self._stop.wait(min(self.interval, 300)):
                    return

    def start(self) -> BackupSchedule:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
