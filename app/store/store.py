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
from app.store import migrations

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
        with self._lock:
            migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One atomic write: everything inside commits together or not at all."""
        with self._lock, self.db.atomic():
            yield self.db

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

    def replace_booking(self, row: dict) -> None:
        self.db["bookings"].upsert({k: row.get(k) for k in BOOKING_FIELDS}, pk="id")

    def delete_booking(self, booking_id: str) -> None:
        self.db["bookings"].delete_where("id = ?", [booking_id])
        self.db["cloud_ids"].delete_where("entity = 'booking' and localId = ?", [booking_id])

    # attendances and history --------------------------------------------------
    def add_attendance(self, row: dict) -> None:
        self.db["attendances"].insert(row)

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

    def set_cloud_id(self, local_id: str, cloud: str, cloud_id: str, entity: str = "booking") -> None:
        """Map a local booking (or customer) to its id in ``cloud``, replacing an older mapping
        (a cloud reschedule gives the booking a new cloud id, contract "Behaviour")."""
        self.db["cloud_ids"].delete_where("entity = ? and localId = ? and cloud = ?",
                                          [entity, local_id, cloud])
        self.db["cloud_ids"].upsert({"entity": entity, "localId": local_id, "cloud": cloud,
                                     "cloudId": cloud_id}, pk=("entity", "cloud", "cloudId"))

    def local_id(self, cloud: str, cloud_id: str, entity: str = "booking") -> str | None:
        row = self.db.execute("select localId from cloud_ids where entity = ? and cloud = ? and cloudId = ?",
                              [entity, cloud, cloud_id]).fetchone()
        return row[0] if row else None


def open_store(path: str | Path) -> Store:
    """Open (and migrate) the branch database at ``path``, creating it if needed."""
    return Store(path)
