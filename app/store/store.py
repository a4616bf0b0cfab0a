"""Reading and writing the branch's SQLite file.

One ``Store`` per process owns the file's only writer connection (the branch server's
thread); WAL lets readers run beside it. JSON columns (``name_translations``, ``types``,
``timeRules``) are decoded on read. All times are UTC ISO strings (app.domain.clock).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from app.domain.model import BOOKING_FIELDS, Status
from app.store import backup, migrations

JSON_COLUMNS = ("name_translations", "types", "timeRules", "before", "after")
BOOL_COLUMNS = ("on", "activated", "autoConfirm")


def _decode(row: dict | None) -> dict | None:
    if row is None:
        return None
    out = dict(row)
    for key in JSON_COLUMNS:
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    for key in BOOL_COLUMNS:
        if key in out and out[key] is not None:
            out[key] = bool(out[key])
    return out


def _encode(row: dict) -> dict:
    out = dict(row)
    for key in JSON_COLUMNS:
        if key in out and out[key] is not None and not isinstance(out[key], str):
            out[key] = json.dumps(out[key], ensure_ascii=False)
    return out


class Store:
    """The branch database. Raises ``sqlite3.DatabaseError`` for an unreadable file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        self.db = Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._after: list[list] = []  # after-commit callbacks, one list per open block
        #: +1 after every committed write through this Store (read caches key on it)
        self.generation = 0
        #: what the start-up check did (:func:`app.store.backup.check_and_recover`), if it ran
        self.recovery: dict | None = None
        with self._lock:
            backup.before_migrations(self.db, migrations.migrations, self.path)
            migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    @property
    def lock(self) -> threading.RLock:
        """The writer lock: hold it to check and then write with nothing in between."""
        return self._lock

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One atomic write: everything inside commits together or not at all. Nested blocks
        are savepoints. Callbacks registered with :meth:`after_commit` run (under the writer
        lock, in order) once the outermost block has committed, and never if theirs rolled back."""
        with self._lock:
            self._after.append([])
            try:
                with self.db.atomic():
                    yield self.db
            except BaseException:
                self._after.pop()
                raise
            done = self._after.pop()
            if self._after:
                self._after[-1].extend(done)
            else:
                self.generation += 1
                for callback in done:
                    callback()

    def after_commit(self, callback) -> None:
        """Run ``callback()`` after the open transaction commits (at once when none is open)."""
        if self._after:
            self._after[-1].append(callback)
        else:
            callback()

    def _rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        return [_decode(dict(r)) for r in self.db.query(sql, list(params))]

    # settings -----------------------------------------------------------------
    def setting(self, key: str, default=None):
        row = self.db.execute("select value from settings where key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value) -> None:
        with self.transaction():
            self.db["settings"].upsert({"key": key, "value": json.dumps(value, ensure_ascii=False)},
                                       pk="key")

    def branch(self) -> dict:
        """``{"name", "name_translations", "timeZone"}``; the zone defaults to Asia/Riyadh."""
        return self.setting("branch", None) or {
            "name": "Branch", "name_translations": {"en": "Branch", "ar": "الفرع"},
            "timeZone": "Asia/Riyadh",
        }

    @property
    def zone(self) -> str:
        return self.branch()["timeZone"]

    def is_empty(self) -> bool:
        return self.db["resources"].count == 0 and self.db["bookings"].count == 0

    # reference data -----------------------------------------------------------
    def resources(self) -> list[dict]:
        return self._rows('select * from resources order by sortOrder, name')

    def resource(self, resource_id: str) -> dict | None:
        rows = self._rows("select * from resources where id = ?", [resource_id])
        return rows[0] if rows else None

    def types(self) -> list[dict]:
        return self._rows("select * from types order by name")

    def booking_type(self, type_id: str) -> dict | None:
        rows = self._rows("select * from types where id = ?", [type_id])
        return rows[0] if rows else None

    def upsert(self, table: str, rows: Iterable[dict]) -> None:
        """Insert or replace whole reference rows (resources, types, customers)."""
        rows = [_encode(r) for r in rows]
        if rows:
            self.db[table].upsert_all(rows, pk="id", alter=True)
            self.generation += 1

    # customers ----------------------------------------------------------------
    def customer(self, customer_id: str) -> dict | None:
        rows = self._rows("select * from customers where id = ?", [customer_id])
        return rows[0] if rows else None

    def customer_by(self, *, phone: str | None = None, email: str | None = None) -> dict | None:
        if phone:
            rows = self._rows("select * from customers where phone = ?", [phone])
        elif email:
            rows = self._rows("select * from customers where lower(email) = lower(?)", [email])
        else:
            return None
        return rows[0] if rows else None

    def customers(self, search_key: str | None = None, phone_digits: str | None = None,
                  number: int | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
        """Customers whose normalised name contains ``search_key``, phone contains
        ``phone_digits`` or customer number equals ``number`` (any that is given)."""
        where, params = [], []
        if search_key:
            where.append("searchText like ?")
            params.append(f"%{search_key}%")
        if phone_digits:
            where.append("replace(phone, '+', '') like ?")
            params.append(f"%{phone_digits}%")
        if number is not None:
            where.append("customerNumber = ?")
            params.append(number)
        sql = "select * from customers"
        if where:
            sql += " where " + " or ".join(where)
        sql += " order by firstName, lastName limit ? offset ?"
        return self._rows(sql, [*params, limit, offset])

    def next_customer_number(self) -> int:
        row = self.db.execute("select coalesce(max(customerNumber), 1000) + 1 from customers").fetchone()
        return int(row[0])

    # bookings -----------------------------------------------------------------
    def booking(self, booking_id: str) -> dict | None:
        rows = self._rows("select * from bookings where id = ?", [booking_id])
        return rows[0] if rows else None

    def bookings_between(self, start: str, end: str, resource_ids: list[str] | None = None,
                         statuses: list[str] | None = None) -> list[dict]:
        """Bookings that overlap ``[start, end)`` (UTC ISO), ordered by start."""
        sql = "select * from bookings where startDateTime < ? and endDateTime > ?"
        params: list = [end, start]
        if resource_ids:
            sql += f" and resourceId in ({','.join('?' * len(resource_ids))})"
            params += resource_ids
        if statuses:
            sql += f" and status in ({','.join('?' * len(statuses))})"
            params += statuses
        return self._rows(sql + " order by startDateTime, resourceId", params)

    def resource_bookings(self, resource_id: str, start: str, end: str) -> list[dict]:
        """Active bookings of one resource overlapping ``[start, end)``."""
        return self._rows(
            "select * from bookings where resourceId = ? and startDateTime < ? and endDateTime > ?"
            " and status in (?, ?, ?) and coalesce(visitStatus, '') != 'NO_SHOW'"
            " order by startDateTime",
            [resource_id, end, start, Status.CONFIRMED, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT],
        )

    def active_bookings(self, resource_ids: list[str], start: str, end: str) -> list[dict]:
        """Active bookings (occupying time) of several resources overlapping ``[start, end)``."""
        if not resource_ids:
            return []
        marks = ",".join("?" * len(resource_ids))
        return self._rows(
            f"select * from bookings where resourceId in ({marks}) and startDateTime < ? and endDateTime > ?"
            " and status in (?, ?, ?) and coalesce(visitStatus, '') != 'NO_SHOW' order by startDateTime",
            [*resource_ids, end, start, Status.CONFIRMED, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT],
        )

    def expired_holds(self, now: str) -> list[dict]:
        """Temporary holds whose ``heldUntil`` has passed and that still occupy their slot."""
        return self._rows("select * from bookings where heldUntil is not null and heldUntil <= ?"
                          " and status in (?, ?, ?) order by heldUntil",
                          [now, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT, Status.CONFIRMED])

    def customer_bookings(self, customer_id: str, limit: int = 500) -> list[dict]:
        """Every booking of one customer (any status), newest start first, waiting ones
        (no start yet) first of all; at most ``limit``."""
        return self._rows("select * from bookings where customerId = ?"
                          " order by startDateTime is not null, startDateTime desc, createdAt desc limit ?",
                          [customer_id, limit])

    def queued_bookings(self) -> list[dict]:
        """Every booking waiting for a resource, oldest ``createdAt`` first."""
        return self._rows("select * from bookings where status = ? order by createdAt, id",
                          [Status.PENDING_ASSIGNMENT])

    def bookings_created_between(self, start: str, end: str) -> list[dict]:
        return self._rows("select * from bookings where createdAt >= ? and createdAt < ?"
                          " order by createdAt", [start, end])

    def next_queue_number(self, day_start: str, day_end: str) -> int:
        row = self.db.execute(
            "select coalesce(max(queueNumber), 0) + 1 from bookings where createdAt >= ? and createdAt < ?",
            [day_start, day_end]).fetchone()
        return int(row[0])

    def insert_booking(self, row: dict) -> None:
        self.db["bookings"].insert({k: row.get(k) for k in BOOKING_FIELDS})
        self.generation += 1  # also when written outside transaction()

    def replace_booking(self, row: dict) -> None:
        self.db["bookings"].upsert({k: row.get(k) for k in BOOKING_FIELDS}, pk="id")
        self.generation += 1  # also when written outside transaction()

    def delete_booking(self, booking_id: str) -> None:
        self.db["bookings"].delete_where("id = ?", [booking_id])
        self.db["cloud_ids"].delete_where("entity = 'booking' and localId = ?", [booking_id])
        self.generation += 1  # also when written outside transaction()

    # attendances and history --------------------------------------------------
    def add_attendance(self, row: dict) -> None:
        self.db["attendances"].insert(row)

    def remove_last_attendance(self, booking_id: str, kind: str) -> None:
        """Delete the newest ``kind`` (CheckIn/CheckOut) attendance of a booking (an undo)."""
        self.db.execute("delete from attendances where id = (select id from attendances where bookingId = ?"
                        " and type = ? order by createdAt desc, id desc limit 1)", [booking_id, kind])

    def attendances(self, start: str, end: str) -> list[dict]:
        return self._rows("select * from attendances where createdAt >= ? and createdAt < ?"
                          " order by createdAt", [start, end])

    def add_history(self, row: dict) -> None:
        self.db["history"].insert(_encode(row))

    def history(self, booking_id: str) -> list[dict]:
        return self._rows("select * from history where bookingId = ? order by id", [booking_id])

    # cloud identity -----------------------------------------------------------
    def cloud_ids(self, local_id: str, entity: str = "booking") -> dict[str, str]:
        """``{"ehjzny": "<cloud id>", ...}`` for a local booking (or customer)."""
        rows = self.db.execute("select cloud, cloudId from cloud_ids where entity = ? and localId = ?",
                               [entity, local_id]).fetchall()
        return {cloud: cloud_id for cloud, cloud_id in rows}

    def cloud_ids_many(self, local_ids: list[str], entity: str = "booking") -> dict[str, dict[str, str]]:
        """``{localId: {cloud: cloudId}}`` for many local ids in few queries."""
        out: dict[str, dict[str, str]] = {}
        for chunk in range(0, len(local_ids), 500):
            part = local_ids[chunk:chunk + 500]
            rows = self.db.execute(
                f"select localId, cloud, cloudId from cloud_ids where entity = ? and localId in"
                f" ({','.join('?' * len(part))})", [entity, *part]).fetchall()
            for local, cloud, cloud_id in rows:
                out.setdefault(local, {})[cloud] = cloud_id
        return out

    def customers_many(self, ids: list[str]) -> dict[str, dict]:
        """``{id: customer}`` for many customer ids in few queries."""
        out: dict[str, dict] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            for row in self._rows(f"select * from customers where id in ({','.join('?' * len(part))})", part):
                out[row["id"]] = row
        return out

    # paired desks (LAN) ------------------------------------------------------------
    def add_desk(self, row: dict) -> None:
        with self.transaction():
            self.db["desks"].insert(_encode_desk(row))

    def desk_by_token_hash(self, token_hash: str) -> dict | None:
        rows = self._rows("select * from desks where tokenHash = ? and revokedAt is null", [token_hash])
        return _decode_desk(rows[0]) if rows else None

    def desks(self) -> list[dict]:
        return [_decode_desk(r) for r in self._rows("select * from desks order by createdAt")]

    def revoke_desk(self, desk_id: str, when: str) -> bool:
        with self.transaction():
            cur = self.db.execute("update desks set revokedAt = ? where id = ? and revokedAt is null",
                                  [when, desk_id])
            return cur.rowcount > 0

    def set_cloud_id(self, local_id: str, cloud: str, cloud_id: str, entity: str = "booking") -> None:
        """Map a local booking (or customer) to its id in ``cloud``, replacing an older mapping
        (a cloud reschedule gives the booking a new cloud id, contract "Behaviour")."""
        self.db["cloud_ids"].delete_where("entity = ? and localId = ? and cloud = ?",
                                          [entity, local_id, cloud])
        self.db["cloud_ids"].upsert({"entity": entity, "localId": local_id, "cloud": cloud,
                                     "cloudId": cloud_id}, pk=("entity", "cloud", "cloudId"))
        self.generation += 1  # also when written outside transaction()

    def local_id(self, cloud: str, cloud_id: str, entity: str = "booking") -> str | None:
        row = self.db.execute("select localId from cloud_ids where entity = ? and cloud = ? and cloudId = ?",
                              [entity, cloud, cloud_id]).fetchone()
        return row[0] if row else None


def _encode_desk(row: dict) -> dict:
    return {**row, "resourceIds": json.dumps(row.get("resourceIds") or [])}


def _decode_desk(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k != "tokenHash"}
    out["resourceIds"] = json.loads(row.get("resourceIds") or "[]")
    return out


def open_store(path: str | Path, *, check: bool = True) -> Store:
    """Open (and migrate) the branch database at ``path``, creating it if needed. With
    ``check``, a pending restore is done and a damaged file replaced by its newest good
    backup first (:func:`app.store.backup.check_and_recover`; the report is ``.recovery``)."""
    report = backup.check_and_recover(path) if check else None
    store = Store(path)
    store.recovery = report
    return store
