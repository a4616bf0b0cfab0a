"""The store scoped by cloud (migration m016_clouds) and the one write path of booking changes.

The "old" database is made the way the code before m016 made it: every migration up to
m015, then the rows the Ehjzny-only engine wrote (cursors keyed by name alone, seen-lists
keyed by window, resources and booking types whose id was Ehjzny's, no mapping for them).
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlite_utils import Database

from app.store import migrations as store_migrations
from app.store import open_store
from app.store.changes import BookingChange, StaleWrite


def _old_branch(path, *, connected: bool = True) -> None:
    db = Database(sqlite3.connect(str(path)))
    store_migrations.migrations.apply(db, stop_before="m016_clouds")
    db["resources"].insert(
        {
            "id": "resAhmed",
            "name": "Dr. Ahmed",
            "types": json.dumps(["typeGeneral"]),
            "on": 1,
            "activated": 1,
            "timeRules": None,
            "sortOrder": 0,
        }
    )
    db["types"].insert({"id": "typeGeneral", "name": "General", "minutes": 20, "on": 1, "autoConfirm": 1})
    db["customers"].insert(
        {"id": "01CUST", "firstName": "Huda", "phone": "+966551234567", "customerNumber": 1}
    )
    db["bookings"].insert(
        {
            "id": "01BOOK",
            "status": "CONFIRMED",
            "typeId": "typeGeneral",
            "resourceId": "resAhmed",
            "customerId": "01CUST",
            "startDateTime": "2026-12-08T06:00:00Z",
            "endDateTime": "2026-12-08T06:20:00Z",
            "duration": 20,
            "version": 3,
            "createdAt": "2026-12-01T06:00:00Z",
            "updatedAt": "2026-12-01T06:00:00Z",
        }
    )
    if connected:
        db["cloud_ids"].insert_all(
            [
                {"entity": "booking", "localId": "01BOOK", "cloud": "ehjzny", "cloudId": "bk1"},
                {"entity": "customer", "localId": "01CUST", "cloud": "ehjzny", "cloudId": "cusHuda"},
            ]
        )
        db["sync_cursors"].insert_all(
            [
                {
                    "name": "created.since",
                    "value": json.dumps("2026-12-07T09:00:00Z"),
                    "updatedAt": "2026-12-07T09:02:00Z",
                },
                {
                    "name": "window.day",
                    "value": json.dumps({"done": True}),
                    "updatedAt": "2026-12-07T09:01:00Z",
                },
                {
                    "name": "window.horizon",
                    "value": json.dumps({"params": {"dateType": "dateTime"}, "token": "t2"}),
                    "updatedAt": "2026-12-07T09:01:30Z",
                },
            ]
        )
        db["sync_seen"].insert_all(
            [{"window": "horizon", "cloudId": "bk1"}, {"window": "horizon", "cloudId": "bk2"}]
        )
        db["sync_outbox"].insert(
            {
                "id": "op1",
                "cloud": "ehjzny",
                "bookingId": "01BOOK",
                "action": "cancel",
                "payload": json.dumps({"before": None, "after": {}}),
                "fields": "[]",
                "createdAt": "2026-12-07T09:00:00Z",
                "attempts": 2,
            }
        )
        db["settings"].insert(
            {
                "key": "sync.cloud",
                "value": json.dumps(
                    {
                        "cloud": "ehjzny",
                        "baseUrl": "https://cloud.example/api",
                        "appId": "app-1",
                        "auth": "apiKey",
                    }
                ),
            }
        )
    db.conn.commit()
    db.close()


def test_the_migration_moves_an_ehjzny_branch_without_loss(tmp_path):
    path = tmp_path / "branch.sqlite3"
    _old_branch(path)
    store = open_store(path)
    try:
        db = store.db
        # the booking, its customer and their cloud ids are untouched
        assert store.booking("01BOOK")["version"] == 3
        assert store.cloud_ids("01BOOK") == {"ehjzny": "bk1"}
        assert store.local_id("ehjzny", "cusHuda", "customer") == "01CUST"
        # resources and booking types now have a mapping of their own
        assert store.local_id("ehjzny", "resAhmed", "resource") == "resAhmed"
        assert store.local_id("ehjzny", "typeGeneral", "type") == "typeGeneral"
        # the cursors became the Ehjzny connector's one cursor, keyed by cloud
        (value,) = db.execute(
            "select value from sync_cursors where cloud = 'ehjzny' and name = 'pull'"
        ).fetchone()
        assert json.loads(value) == {
            "createdSince": "2026-12-07T09:00:00Z",
            "windows": {
                "day": {"done": True},
                "horizon": {"params": {"dateType": "dateTime"}, "token": "t2"},
            },
        }
        assert sorted(db.execute("select cloud, window, cloudId from sync_seen").fetchall()) == [
            ("ehjzny", "horizon", "bk1"),
            ("ehjzny", "horizon", "bk2"),
        ]
        # the waiting operation is kept, with room for its step state
        (op,) = db.query("select * from sync_outbox")
        assert op["id"] == "op1" and op["attempts"] == 2 and op["steps"] is None
        # the connection is kept, and remembered per cloud
        assert store.setting("sync.cloud")["account"] == "app-1"
        assert store.setting("sync.connections")["ehjzny"]["baseUrl"] == "https://cloud.example/api"
    finally:
        store.close()


def test_a_branch_never_connected_maps_nothing_to_a_cloud(tmp_path):
    path = tmp_path / "branch.sqlite3"
    _old_branch(path, connected=False)
    store = open_store(path)
    try:
        assert store.db.execute("select count(*) from cloud_ids").fetchone()[0] == 0
        assert store.setting("sync.connections") is None
    finally:
        store.close()


def test_one_write_path_writes_the_rows_and_their_history_or_nothing(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    try:
        row = {
            "id": "b1",
            "status": "CONFIRMED",
            "typeId": "t",
            "resourceId": "r",
            "customerId": "c",
            "startDateTime": "2026-12-08T06:00:00Z",
            "version": 1,
            "updatedAt": "2026-12-07T09:00:00Z",
        }
        with store.transaction():
            store.write_changes(
                [BookingChange("create", None, row, "reception", "desk1")], "2026-12-07T09:00:00Z"
            )
        moved = {**row, "startDateTime": "2026-12-08T07:00:00Z", "version": 2}
        with store.transaction():
            store.write_changes(
                [BookingChange("sync", row, moved, "ehjzny", extra={"message": "moved"})],
                "2026-12-07T09:05:00Z",
            )
        history = store.history("b1")
        assert [h["action"] for h in history] == ["create", "sync"]
        assert history[1]["before"] == {"startDateTime": "2026-12-08T06:00:00Z"}
        assert history[1]["after"] == {"startDateTime": "2026-12-08T07:00:00Z", "message": "moved"}
        assert history[0]["actor"] == "reception" and history[0]["deskId"] == "desk1"
        # a stale version: nothing of the batch is kept
        other = {**row, "id": "b2"}
        with pytest.raises(StaleWrite), store.transaction():
            store.write_changes(
                [
                    BookingChange("create", None, other),
                    BookingChange("cancel", row, {**row, "status": "CANCELED", "version": 2}, check=True),
                ],
                "2026-12-07T09:10:00Z",
            )
        assert store.booking("b2") is None and store.booking("b1")["startDateTime"] == "2026-12-08T07:00:00Z"
        assert len(store.history("b1")) == 2
    finally:
        store.close()


def test_the_step_state_of_an_operation_survives_a_restart(tmp_path):
    """A multi-step operation's progress (``ctx.save_steps``) is committed in its outbox row
    and comes back to the connector as ``op.steps`` in the next process."""
    import asyncio

    from app.server.service import BookingService
    from app.sync.connector import CloudConfig
    from app.sync.engine import SyncEngine, _operation

    path = tmp_path / "branch.sqlite3"
    store = open_store(path)
    engine = SyncEngine(
        BookingService(store), CloudConfig("http://127.0.0.1:9", "app", "key", cloud="ehjzny")
    )
    with store.transaction():
        op_id = engine.outbox.add("b1", "create", {"before": None, "after": {"id": "b1"}}, [])
    (row,) = engine.outbox.ready(engine.now())
    op = _operation(row)
    assert op.steps == {}
    asyncio.run(engine.ctx.save_steps(op, {"reserved": "r-17"}))
    asyncio.run(engine.ctx.mark_requested(op))
    store.close()

    store = open_store(path)  # the next process
    try:
        again = SyncEngine(
            BookingService(store), CloudConfig("http://127.0.0.1:9", "app", "key", cloud="ehjzny")
        )
        (row,) = again.outbox.ready(again.now())
        op = _operation(row)
        assert (op.id, op.steps, op.attempts) == (op_id, {"reserved": "r-17"}, 1)
        assert op.requested_at is not None
    finally:
        store.close()
