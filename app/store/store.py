"""Reading and writing the branch's SQLite file.

One ``Store`` per process owns the file's only writer connection; WAL lets readers run
beside it. :attr:`Store.db` is that writer connection for the thread holding the writer
lock (:attr:`Store.lock`, taken by :meth:`Store.transaction`) and, for every other thread,
a read connection of its own (autocommit, so each statement sees what is committed): a
long write never makes a reader wait. :meth:`Store.read` and :meth:`Store.write` run a
function off the caller's event loop — reads on a small pool of threads, writes on the
one writer thread, in short transactions — so the server's loop never waits on SQLite.
JSON columns (``name_translations``, ``types``, ``timeRules``) are decoded on read. All
times are UTC ISO strings (app.domain.clock).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from app import private_files
from app.domain.clock import from_iso, local_date, local_day_bounds, to_iso
from app.domain.model import BOOKING_FIELDS, Status
from app.domain.phones import normalize_or_keep, region_of
from app.domain.rows import BookingRow, BookingTypeRow, CustomerRow, ResourceRow
from app.domain.tickets import default_prefixes, next_number, ticket_text
from app.store import backup, migrations
from app.store import changes as changes_module
from app.store.lock import BranchLock, claim_branch

#: threads that serve reads (:meth:`Store.read`); WAL lets them all read beside the writer
READERS = 4
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
        self._writer = Database(conn)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._local = threading.local()  # each thread's read connection
        self._readers: list[Database] = []
        self._readers_lock = threading.Lock()
        self._read_pool: ThreadPoolExecutor | None = None
        self._write_pool: ThreadPoolExecutor | None = None
        self._closed = False
        #: the connection for the calling thread, chosen at each use (:meth:`_current`)
        self.db: Database = _PerThread(self)  # type: ignore[assignment]
        self._after: list[list] = []  # after-commit callbacks, one list per open block
        #: +1 after every committed write through this Store (read caches key on it)
        self.generation = 0
        #: what the start-up check did (:func:`app.store.backup.check_and_recover`), if it ran
        self.recovery: dict | None = None
        #: the branch lock :func:`open_store` took for this store (freed by :meth:`close`)
        self.branch_lock: BranchLock | None = None
        with self._lock:
            backup.before_migrations(self.db, migrations.migrations, self.path)
            migrations.apply(self.db)

    def _current(self) -> Database:
        """The writer connection while this thread holds :attr:`lock` (inside
        :meth:`transaction`), else this thread's own read connection."""
        if self._lock._is_owned():  # type: ignore[attr-defined]  # CPython's RLock has it
            return self._writer
        reader = getattr(self._local, "db", None)
        if reader is None:
            reader = self._open_reader()
        return reader

    def _open_reader(self) -> Database:
        if self._closed:
            raise sqlite3.ProgrammingError("the store is closed")
        # autocommit: a read never holds a snapshot open, and a stray write outside
        # transaction() commits at once instead of keeping the file locked
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        reader = Database(conn)
        self._local.db = reader
        with self._readers_lock:
            self._readers.append(reader)
        return reader

    async def read(self, fn, *args):
        """``fn(*args)`` on one of the store's reader threads (each with its read
        connection); the caller's loop goes on meanwhile. Returns what ``fn`` returns."""
        if self._read_pool is None:
            with self._readers_lock:
                if self._read_pool is None:
                    self._read_pool = ThreadPoolExecutor(READERS, thread_name_prefix="store-read")
        return await asyncio.get_running_loop().run_in_executor(self._read_pool, fn, *args)

    async def write(self, fn, *args):
        """``fn(*args)`` on the store's one writer thread, under the writer lock: the way to
        run a write (e.g. a sync page's apply, one :meth:`transaction` per bounded batch)
        without the caller's event loop waiting on SQLite. Writes queue in order; reads go
        on beside them. Returns what ``fn`` returns, raises what it raises."""
        if self._write_pool is None:
            with self._readers_lock:
                if self._write_pool is None:
                    self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="store-write")

        def locked():
            with self._lock:
                return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(self._write_pool, locked)

    def close(self) -> None:
        """Close the connections, then free the branch lock this store took (if any)."""
        self._closed = True
        for pool in (self._read_pool, self._write_pool):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()
        self._writer.close()
        if self.branch_lock is not None:
            self.branch_lock.release()

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
        """Run ``callback()`` after this thread's open transaction commits (at once when none
        is open; another thread's transaction is not this caller's)."""
        if self._after and self._lock._is_owned():  # type: ignore[attr-defined]
            self._after[-1].append(callback)
        else:
            callback()

    def _rows(self, sql: str, params: Iterable = ()) -> list[Any]:
        return [_decode(dict(r)) for r in self.db.query(sql, list(params))]

    # settings -----------------------------------------------------------------
    def setting(self, key: str, default=None):
        row = self.db.execute("select value from settings where key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value) -> None:
        with self.transaction():
            self.db["settings"].upsert({"key": key, "value": json.dumps(value, ensure_ascii=False)}, pk="key")

    def branch(self) -> dict:
        """``{"name", "name_translations", "timeZone"}``; the zone defaults to Asia/Riyadh."""
        return self.setting("branch", None) or {
            "name": "Branch",
            "name_translations": {"en": "Branch", "ar": "الفرع"},
            "timeZone": "Asia/Riyadh",
        }

    @property
    def zone(self) -> str:
        return self.branch()["timeZone"]

    @property
    def phone_region(self) -> str:
        """The region phone numbers without a country code are read in (branch ``region``, default SA)."""
        return region_of(self.branch())

    def is_empty(self) -> bool:
        return self.db["resources"].count == 0 and self.db["bookings"].count == 0

    # reference data -----------------------------------------------------------
    def with_cloud_ids(self, rows: list[Any], entity: str) -> list[Any]:
        """Add ``cloudIds`` (``{cloud: cloud id}``, ``{}`` when none) to rows of ``entity``
        (``resource``, ``type``, ``customer``) in place; returns ``rows``. :meth:`upsert`
        leaves the key out again."""
        ids = [r["id"] for r in rows]
        found: dict[str, dict[str, str]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            for local, cloud, cloud_id in self.db.execute(
                f"select localId, cloud, cloudId from cloud_ids where entity = ? and localId in"
                f" ({','.join('?' * len(part))})",
                [entity, *part],
            ).fetchall():
                found.setdefault(local, {})[cloud] = cloud_id
        for row in rows:
            row["cloudIds"] = found.get(row["id"], {})
        return rows

    def resources(self) -> list[ResourceRow]:
        return self.with_cloud_ids(self._rows("select * from resources order by sortOrder, name"), "resource")

    def resource(self, resource_id: str) -> ResourceRow | None:
        rows = self.with_cloud_ids(
            self._rows("select * from resources where id = ?", [resource_id]), "resource"
        )
        return rows[0] if rows else None

    def types(self) -> list[BookingTypeRow]:
        return self.with_cloud_ids(self._rows("select * from types order by name"), "type")

    def booking_type(self, type_id: str) -> BookingTypeRow | None:
        rows = self.with_cloud_ids(self._rows("select * from types where id = ?", [type_id]), "type")
        return rows[0] if rows else None

    def upsert(self, table: str, rows: Iterable[dict]) -> None:
        """Insert or replace whole reference rows (resources, types, customers)."""
        if table == "customers":  # phones in E.164, read in the branch's region (app.domain.phones)
            region = self.phone_region
            rows = [
                {**r, "phone": normalize_or_keep(r["phone"], region)} if r.get("phone") else r for r in rows
            ]
        rows = [_encode({k: v for k, v in r.items() if k != "cloudIds"}) for r in rows]
        if rows:
            self.db[table].upsert_all(rows, pk="id", alter=True)
            self.generation += 1
            if table == "types":
                self.fill_ticket_prefixes()

    # customers ----------------------------------------------------------------
    def customer(self, customer_id: str) -> CustomerRow | None:
        rows = self.with_cloud_ids(
            self._rows("select * from customers where id = ?", [customer_id]), "customer"
        )
        return rows[0] if rows else None

    def customer_by(self, *, phone: str | None = None, email: str | None = None) -> CustomerRow | None:
        if phone:
            rows = self._rows(
                "select * from customers where phone = ?", [normalize_or_keep(phone, self.phone_region)]
            )
        elif email:
            rows = self._rows("select * from customers where lower(email) = lower(?)", [email])
        else:
            return None
        return self.with_cloud_ids(rows[:1], "customer")[0] if rows else None

    def customers(
        self,
        search_key: str | None = None,
        phone_digits: str | list[str] | None = None,
        number: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[CustomerRow]:
        """Customers whose normalised name contains ``search_key``, phone contains one of
        ``phone_digits`` (digit strings, see :func:`app.domain.phones.search_forms`) or
        customer number equals ``number`` (any that is given)."""
        where: list[str] = []
        params: list = []
        if search_key:
            where.append("searchText like ?")
            params.append(f"%{search_key}%")
        for digits in [phone_digits] if isinstance(phone_digits, str) else (phone_digits or []):
            where.append("replace(phone, '+', '') like ?")
            params.append(f"%{digits}%")
        if number is not None:
            where.append("customerNumber = ?")
            params.append(number)
        sql = "select * from customers"
        if where:
            sql += " where " + " or ".join(where)
        sql += " order by firstName, lastName limit ? offset ?"
        return self.with_cloud_ids(self._rows(sql, [*params, limit, offset]), "customer")

    def next_customer_number(self) -> int:
        row = self.db.execute("select coalesce(max(customerNumber), 1000) + 1 from customers").fetchone()
        return int(row[0])

    # bookings -----------------------------------------------------------------
    def booking(self, booking_id: str) -> BookingRow | None:
        rows = self._rows("select * from bookings where id = ?", [booking_id])
        return rows[0] if rows else None

    def bookings_between(
        self, start: str, end: str, resource_ids: list[str] | None = None, statuses: list[str] | None = None
    ) -> list[BookingRow]:
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

    def resource_bookings(self, resource_id: str, start: str, end: str) -> list[BookingRow]:
        """Active bookings of one resource overlapping ``[start, end)``."""
        return self._rows(
            "select * from bookings where resourceId = ? and startDateTime < ? and endDateTime > ?"
            " and status in (?, ?, ?) and coalesce(visitStatus, '') != 'NO_SHOW'"
            " order by startDateTime",
            [resource_id, end, start, Status.CONFIRMED, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT],
        )

    def active_bookings(self, resource_ids: list[str], start: str, end: str) -> list[BookingRow]:
        """Active bookings (occupying time) of several resources overlapping ``[start, end)``."""
        if not resource_ids:
            return []
        marks = ",".join("?" * len(resource_ids))
        return self._rows(
            f"select * from bookings where resourceId in ({marks}) and startDateTime < ? and endDateTime > ?"
            " and status in (?, ?, ?) and coalesce(visitStatus, '') != 'NO_SHOW' order by startDateTime",
            [*resource_ids, end, start, Status.CONFIRMED, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT],
        )

    def expired_holds(self, now: str) -> list[BookingRow]:
        """Temporary holds whose ``heldUntil`` has passed and that still occupy their slot."""
        return self._rows(
            "select * from bookings where heldUntil is not null and heldUntil <= ?"
            " and status in (?, ?, ?) order by heldUntil",
            [now, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT, Status.CONFIRMED],
        )

    def customer_bookings(self, customer_id: str, limit: int = 500) -> list[BookingRow]:
        """Every booking of one customer (any status), newest start first, waiting ones
        (no start yet) first of all; at most ``limit``."""
        return self._rows(
            "select * from bookings where customerId = ?"
            " order by startDateTime is not null, startDateTime desc, createdAt desc limit ?",
            [customer_id, limit],
        )

    def queued_bookings(self) -> list[BookingRow]:
        """Every booking waiting for a resource, oldest ``createdAt`` first."""
        return self._rows(
            "select * from bookings where status = ? order by createdAt, id", [Status.PENDING_ASSIGNMENT]
        )

    def bookings_created_between(self, start: str, end: str) -> list[BookingRow]:
        return self._rows(
            "select * from bookings where createdAt >= ? and createdAt < ? order by createdAt", [start, end]
        )

    def ticket_prefix(self, type_id: str) -> str:
        """The booking type's ticket prefix, giving every type without one its default first
        (:func:`app.domain.tickets.default_prefixes`; call under the writer lock)."""
        row = self.db.execute("select ticketPrefix from types where id = ?", [type_id]).fetchone()
        if row is None or not row[0]:
            self.fill_ticket_prefixes()
            row = self.db.execute("select ticketPrefix from types where id = ?", [type_id]).fetchone()
        return row[0] if row and row[0] else "Q"

    def fill_ticket_prefixes(self) -> None:
        """Give each booking type without a ``ticketPrefix`` the first free letter (name order)."""
        missing = default_prefixes(
            [dict(r) for r in self.db.query("select id, name, ticketPrefix from types")]
        )
        for type_id, prefix in missing.items():
            self.db.execute("update types set ticketPrefix = ? where id = ?", [prefix, type_id])
        if missing:
            self.generation += 1

    def next_ticket_number(self, prefix: str, day_start: str, day_end: str, also: Iterable[int] = ()) -> int:
        """The next number of ``prefix`` (:mod:`app.domain.tickets`): after the prefix's
        tickets created in ``[day_start, day_end)`` (UTC ISO, the branch-local day) and those
        still waiting from earlier; ``also``: numbers given out but not yet written."""
        rows = self.db.execute(
            "select queueNumber from bookings where ticket glob ? and queueNumber is not null"
            " and ((createdAt >= ? and createdAt < ?) or status = ?)",
            [f"{prefix}[0-9]*", day_start, day_end, Status.PENDING_ASSIGNMENT],
        ).fetchall()
        return next_number([r[0] for r in rows] + list(also))

    def new_ticket(
        self, type_id: str, created_at: str, zone: str, given: dict | None = None
    ) -> tuple[int, str]:
        """``(queueNumber, ticket)`` for a walk-in of ``type_id`` created at ``created_at``
        (UTC ISO) in a branch of ``zone``: its type's prefix and the next number of that
        prefix on the branch-local day. Call under the writer lock, in the transaction that
        writes the booking. ``given``: a dict that remembers numbers handed out for rows not
        written yet (a batch)."""
        prefix = self.ticket_prefix(type_id)
        day = local_date(from_iso(created_at), zone)
        start, end = local_day_bounds(day, zone)
        key = (day, prefix)
        also = given.get(key, []) if given is not None else []
        number = self.next_ticket_number(prefix, to_iso(start), to_iso(end), also)
        if given is not None:
            given.setdefault(key, []).append(number)
        return number, ticket_text(prefix, number)

    def insert_booking(self, row: dict) -> None:
        """Insert a new booking; its ``source`` (``desk``/``walk-in``; ``cloud`` when not
        given, migration ``m017``) is kept only on insert."""
        extra = {"source": row["source"]} if row.get("source") else {}
        self.db["bookings"].insert({**{k: row.get(k) for k in BOOKING_FIELDS}, **extra})
        self.generation += 1  # also when written outside transaction()

    def write_changes(self, changes, now: str, entries=()) -> int:
        """Write booking changes and their history (:func:`app.store.changes.write_changes`,
        the one write path of the booking service and the sync engine; ``entries``: a
        cloud's own history entries); call inside :meth:`transaction`. Raises
        :class:`~app.store.changes.StaleWrite`."""
        written = changes_module.write_changes(self.db, changes, now, entries)
        self.generation += 1
        return written

    def replace_booking(self, row: dict) -> None:
        self.db["bookings"].upsert({k: row.get(k) for k in BOOKING_FIELDS}, pk="id")
        self.generation += 1  # also when written outside transaction()

    def replace_bookings(self, rows: list[dict]) -> None:
        """:meth:`replace_booking` for many rows at once (one statement per chunk)."""
        if rows:
            self.db["bookings"].upsert_all([{k: row.get(k) for k in BOOKING_FIELDS} for row in rows], pk="id")
            self.generation += 1  # also when written outside transaction()

    def delete_booking(self, booking_id: str) -> None:
        self.db["bookings"].delete_where("id = ?", [booking_id])
        self.db["cloud_ids"].delete_where("entity = 'booking' and localId = ?", [booking_id])
        self.db["cloud_money"].delete_where("bookingId = ?", [booking_id])
        self.db["cloud_payments"].delete_where("bookingId = ?", [booking_id])
        self.generation += 1  # also when written outside transaction()

    # attendances and history --------------------------------------------------
    def add_attendance(self, row: dict) -> None:
        self.db["attendances"].insert(row)

    def remove_last_attendance(self, booking_id: str, kind: str) -> None:
        """Delete the newest ``kind`` (CheckIn/CheckOut) attendance of a booking (an undo)."""
        self.db.execute(
            "delete from attendances where id = (select id from attendances where bookingId = ?"
            " and type = ? order by createdAt desc, id desc limit 1)",
            [booking_id, kind],
        )

    def attendances(self, start: str, end: str) -> list[dict]:
        return self._rows(
            "select * from attendances where createdAt >= ? and createdAt < ? order by createdAt",
            [start, end],
        )

    def add_history(self, row: dict) -> None:
        self.db["history"].insert(_encode(row))

    def history(self, booking_id: str) -> list[dict]:
        return self._rows("select * from history where bookingId = ? order by id", [booking_id])

    def cloud_history_keys(self, booking_ids: list[str]) -> dict[str, set[str]]:
        """``{local booking id: {key, ...}}``: the cloud history entries already copied for
        these bookings (``after.cloudKey`` of a copied entry, ``after.cloudChange.key`` of the
        pull's change that carried one), so a re-pull copies each entry once."""
        out: dict[str, set[str]] = {}
        ids = list(dict.fromkeys(booking_ids))
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows = self.db.execute(
                "select bookingId, coalesce(json_extract(after, '$.cloudKey'), json_extract(after, '$.cloudChange.key'))"
                f" from history where bookingId in ({', '.join('?' * len(part))})"
                " and (action = 'sync' or action like 'cloud.%')",
                part,
            ).fetchall()
            for booking_id, key in rows:
                if key:
                    out.setdefault(booking_id, set()).add(key)
        return out

    # cloud identity -----------------------------------------------------------
    def cloud_ids(self, local_id: str, entity: str = "booking") -> dict[str, str]:
        """``{"<cloud name>": "<cloud id>", ...}`` for a local booking (or customer, resource, type)."""
        rows = self.db.execute(
            "select cloud, cloudId from cloud_ids where entity = ? and localId = ?", [entity, local_id]
        ).fetchall()
        return {cloud: cloud_id for cloud, cloud_id in rows}

    def cloud_ids_many(self, local_ids: list[str], entity: str = "booking") -> dict[str, dict[str, str]]:
        """``{localId: {cloud: cloudId}}`` for many local ids in few queries."""
        out: dict[str, dict[str, str]] = {}
        for chunk in range(0, len(local_ids), 500):
            part = local_ids[chunk : chunk + 500]
            rows = self.db.execute(
                f"select localId, cloud, cloudId from cloud_ids where entity = ? and localId in"
                f" ({','.join('?' * len(part))})",
                [entity, *part],
            ).fetchall()
            for local, cloud, cloud_id in rows:
                out.setdefault(local, {})[cloud] = cloud_id
        return out

    def customers_many(self, ids: list[str]) -> dict[str, CustomerRow]:
        """``{id: customer}`` for many customer ids in few queries."""
        out: dict[str, CustomerRow] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            for row in self._rows(f"select * from customers where id in ({','.join('?' * len(part))})", part):
                out[row["id"]] = row
        self.with_cloud_ids(list(out.values()), "customer")
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
            cur = self.db.execute(
                "update desks set revokedAt = ? where id = ? and revokedAt is null", [when, desk_id]
            )
            return cur.rowcount > 0

    def set_cloud_id(self, local_id: str, cloud: str, cloud_id: str, entity: str = "booking") -> None:
        """Map a local booking (or customer) to its id in ``cloud``, replacing an older mapping
        (a cloud reschedule gives the booking a new cloud id, contract "Behaviour")."""
        self.db["cloud_ids"].delete_where(
            "entity = ? and localId = ? and cloud = ?", [entity, local_id, cloud]
        )
        self.db["cloud_ids"].upsert(
            {"entity": entity, "localId": local_id, "cloud": cloud, "cloudId": cloud_id},
            pk=("entity", "cloud", "cloudId"),
        )
        self.generation += 1  # also when written outside transaction()

    def set_cloud_ids(self, pairs: list[tuple[str, str]], cloud: str, entity: str = "booking") -> None:
        """:meth:`set_cloud_id` for many ``(local id, cloud id)`` pairs of one cloud at once."""
        if not pairs:
            return
        self.db.conn.executemany(
            "delete from cloud_ids where entity = ? and localId = ? and cloud = ?",
            [(entity, local, cloud) for local, _cloud_id in pairs],
        )
        self.db["cloud_ids"].upsert_all(
            [
                {"entity": entity, "localId": local, "cloud": cloud, "cloudId": cloud_id}
                for local, cloud_id in pairs
            ],
            pk=("entity", "cloud", "cloudId"),
        )
        self.generation += 1  # also when written outside transaction()

    def local_id(self, cloud: str, cloud_id: str, entity: str = "booking") -> str | None:
        row = self.db.execute(
            "select localId from cloud_ids where entity = ? and cloud = ? and cloudId = ?",
            [entity, cloud, cloud_id],
        ).fetchone()
        return row[0] if row else None


class _PerThread:
    """``store.db``: each attribute and table lookup goes to the connection of the calling
    thread (:meth:`Store._current`), so a reference kept to it stays right on any thread."""

    __slots__ = ("_store",)

    def __init__(self, store: Store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store._current(), name)

    def __getitem__(self, table: str):
        return self._store._current()[table]


def _encode_desk(row: dict) -> dict:
    return {**row, "resourceIds": json.dumps(row.get("resourceIds") or [])}


def _decode_desk(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k != "tokenHash"}
    out["resourceIds"] = json.loads(row.get("resourceIds") or "[]")
    return out


def open_store(path: str | Path, *, check: bool = True, claim: BranchLock | None = None) -> Store:
    """Open (and migrate) the branch database at ``path``, creating it if needed.

    First the branch lock (:mod:`app.store.lock`) is taken — or ``claim``, the caller's held
    lock of this file, is used (and stays the caller's to release) — so nothing below ever
    runs on a file another process has open; then the files' modes are put right
    (:func:`app.private_files.secure_data_dir`). With ``check``, a pending restore is done
    and a damaged file replaced by its newest good backup (:func:`app.store.backup.
    check_and_recover`; the report is ``.recovery``) before migrations run. The store's
    own lock is freed by :meth:`Store.close`. Raises :class:`app.store.lock.BranchInUse`
    when another process holds the branch, ``ValueError`` for a ``claim`` of another file."""
    path = Path(path)
    own = None
    if claim is None:
        own = claim_branch(path)
    elif not claim.covers(path):
        raise ValueError(f"the branch lock given is not held for {path}")
    try:
        private_files.secure_data_dir(path)
        report = backup.check_and_recover(path) if check else None
        store = Store(path)
        private_files.secure_data_dir(path)  # a new file and its -wal/-shm
    except BaseException:
        if own is not None:
            own.release()
        raise
    store.recovery = report
    store.branch_lock = own
    return store
