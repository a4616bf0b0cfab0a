"""Backups, the start-up integrity check and recovery (app/store/backup.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from app.composition import DB_NAME, BranchServer
from app.store import backup, migrations, open_store
from tests.clinic import Authed


def _bookings(path: Path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("select count(*) from bookings").fetchone()[0]
    finally:
        conn.close()


def _outbox_row(db, op_id: str) -> None:
    db["sync_outbox"].insert(
        {
            "id": op_id,
            "cloud": "ehjzny",
            "bookingId": "b-" + op_id,
            "action": "create",
            "payload": "{}",
            "fields": "[]",
            "createdAt": "2026-01-01T00:00:00Z",
            "attempts": 0,
        }
    )


def _filled(tmp_path: Path) -> Path:
    """A branch database with the demo clinic and one unsent outbox row, closed."""
    server = BranchServer(tmp_path, backup_interval=None)
    with server.store.transaction() as db:
        _outbox_row(db, "op-1")
    server.stop()  # never started: closes the store and frees the branch
    return tmp_path / DB_NAME


def test_backup_is_a_consistent_copy_and_only_the_last_n_stay(tmp_path):
    db_path = _filled(tmp_path)
    taken = [backup.take_backup(db_path, "manual", keep=3) for _ in range(5)]
    names = [b["name"] for b in backup.list_backups(db_path)]
    assert names == sorted((p.name for p in taken[-3:]), reverse=True)
    assert backup.quick_check(taken[-1]) is None
    assert _bookings(taken[-1]) == _bookings(db_path) > 500
    assert not list(taken[-1].parent.glob("*-wal"))  # self-contained files


def test_backup_while_the_server_writes_needs_no_lock(tmp_path):
    store = open_store(tmp_path / DB_NAME)
    store.db["settings"].insert({"key": "k", "value": "1"})
    with store.transaction():  # a write transaction stays open while the copy is taken (WAL)
        store.db.execute("insert into settings values ('x', '2')")
        copy = backup.take_backup(store.path, "scheduled")
    store.close()
    conn = sqlite3.connect(str(copy))
    assert [r[0] for r in conn.execute("select key from settings")] == ["k"]
    conn.close()


def test_a_backup_is_taken_before_pending_migrations_of_an_existing_branch(tmp_path):
    path = tmp_path / DB_NAME
    db = Database(str(path))
    migrations.migrations.apply(db, stop_before="m002_sync")
    db["settings"].insert({"key": "branch", "value": '"old"'})
    db.close()
    store = open_store(path)
    assert "sync_outbox" in store.db.table_names()
    store.close()
    [pre] = backup.list_backups(path)
    assert pre["reason"] == "pre-migration"
    old = Database(str(backup.backup_dir(path) / pre["name"]))
    assert "sync_outbox" not in old.table_names() and old["settings"].count == 1
    # a new file and an up-to-date one are not backed up on open
    open_store(tmp_path / "other" / DB_NAME).close()
    open_store(path).close()
    assert len(backup.list_backups(path)) == 1 and not backup.list_backups(tmp_path / "other" / DB_NAME)


def test_a_new_branch_file_has_the_newest_schema(tmp_path):
    store = open_store(tmp_path / DB_NAME)
    applied = [m.name for m in migrations.migrations.applied(store.db)]
    store.close()
    assert len(applied) == migrations.SCHEMA_VERSION > 0


def _corrupt_page(path: Path, index_name: str) -> None:
    """Overwrite the root page of one index with garbage (the tables stay readable)."""
    conn = sqlite3.connect(str(path))
    page_size = conn.execute("pragma page_size").fetchone()[0]
    root = conn.execute("select rootpage from sqlite_master where name = ?", [index_name]).fetchone()[0]
    conn.execute("pragma wal_checkpoint(TRUNCATE)")
    conn.close()
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def test_a_damaged_database_is_moved_aside_and_recovered_with_its_outbox(tmp_path):
    db_path = _filled(tmp_path)
    good = backup.take_backup(db_path, "scheduled")
    store = open_store(db_path)
    with store.transaction() as db:  # written after the backup: only the damaged file has it
        _outbox_row(db, "op-2")
    store.close()
    _corrupt_page(db_path, "idx_bookings_startDateTime")
    assert backup.quick_check(db_path) is not None

    server = BranchServer(tmp_path, backup_interval=None).start()
    http = Authed(server)
    try:
        report = server.store.recovery
        assert report["status"] == "recovered" and report["restored"] == good.name
        assert report["outboxCarried"] == 1 and report["outboxReadable"]
        damaged = Path(report["movedAside"])
        assert damaged.name.startswith("branch.sqlite3.damaged-") and damaged.exists()
        ops = [r["id"] for r in server.store.db.query("select id from sync_outbox order by seq")]
        assert ops == ["op-1", "op-2"]
        answer = http.get(f"{server.url}/backups/recovery").json()["result"]
        assert answer["status"] == "recovered"
        assert http.get(f"{server.url}/readyz").json()["result"]["status"] == "ok"
    finally:
        server.stop()
    assert backup.quick_check(db_path) is None


def test_an_unreadable_file_is_kept_and_the_lost_outbox_reported(tmp_path):
    db_path = _filled(tmp_path)
    backup.take_backup(db_path, "scheduled")
    db_path.write_bytes(b"this is not a database" * 100)
    store = open_store(db_path)
    try:
        report = store.recovery
        assert report["status"] == "recovered"
        assert report["outboxReadable"] is False and report["outboxInDamaged"] is None
        assert Path(report["movedAside"]).read_bytes().startswith(b"this is not")
        assert store.db["bookings"].count > 500
    finally:
        store.close()


def test_damaged_without_backup_starts_fresh_and_keeps_the_file(tmp_path):
    db_path = tmp_path / DB_NAME
    db_path.write_bytes(b"garbage" * 1000)
    store = open_store(db_path)
    store.close()
    assert store.recovery["status"] == "damaged-no-backup"
    assert Path(store.recovery["movedAside"]).exists()


def test_restore_through_the_api_happens_at_the_next_start(tmp_path):
    server = BranchServer(tmp_path, backup_interval=None).start()
    http = Authed(server)
    try:
        taken = http.post(f"{server.url}/backups").json()["result"]
        assert taken["reason"] == "manual"
        server.store.db.execute("delete from bookings where rowid % 2 = 0")
        server.store.db.conn.commit()
        with server.store.transaction() as db:
            _outbox_row(db, "op-after")
        listed = http.get(f"{server.url}/backups").json()
        assert [b["name"] for b in listed["result"]] == [taken["name"]] and listed["pendingRestore"] is None
        assert http.post(f"{server.url}/backups/restore", json={"name": "nope"}).status_code == 404
        answer = http.post(f"{server.url}/backups/restore", json={"name": taken["name"]}).json()["result"]
        assert answer["restartNeeded"] is True
        fewer = server.store.db["bookings"].count
    finally:
        server.stop()
    server = BranchServer(tmp_path, backup_interval=None)
    try:
        assert server.store.recovery["status"] == "restored"
        assert server.store.db["bookings"].count > fewer
        assert [r["id"] for r in server.store.db.query("select id from sync_outbox")] == ["op-after"]
        assert Path(server.store.recovery["movedAside"]).name.startswith("branch.sqlite3.replaced-")
    finally:
        server.stop()


def test_the_server_backs_up_on_its_schedule(tmp_path):
    server = BranchServer(tmp_path, backup_interval=0.3).start()
    try:
        import time

        deadline = time.monotonic() + 10
        while len(server.backups.taken) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.stop()
    assert len(server.backups.taken) >= 2
    assert all(backup.quick_check(p) is None for p in server.backups.taken)


@pytest.mark.parametrize("name", ["../branch.sqlite3", "branch.sqlite3", "x.sqlite3"])
def test_restore_refuses_names_outside_the_backups(tmp_path, name):
    db_path = _filled(tmp_path)
    with pytest.raises(FileNotFoundError):
        backup.schedule_restore(db_path, name)
