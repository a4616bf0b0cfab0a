"""Applying what a cloud says to the branch store (pulled pages, replies), for any connector.

Rows come from the connector in the domain's shape with the cloud's ids
(:mod:`app.sync.connector`); here they get local ids through ``cloud_ids`` (one mapping
per cloud) and are written through the one write path of booking changes
(:func:`app.store.changes.write_changes`, bulk form). The caller holds the store's
transaction; nothing here does I/O besides SQLite.

Rules (contract "Behaviour" and "Reschedule replies" of each cloud):

* Local ids stay. A cloud booking id is mapped in ``cloud_ids``; an id replaced by a
  reschedule is retired in ``sync_retired`` and the local booking follows the new id. The
  new id is the reply to the reschedule, or — reply lost — the booking found by natural
  key; a ``replaced_by`` on the old booking is used when the cloud sends it.
* Resources and booking types have local ids of their own, mapped per cloud; a new one
  keeps the cloud's id as its local id when that id is free (readable ids), else gets a
  ULID. Customers and bookings get ULIDs.
* While a reschedule of a booking waits in the outbox, the old cloud booking (about to be,
  or already, canceled by that reschedule) is not applied to it, and a cloud booking a
  waiting operation has made (named in its step state, e.g. a move's new booking) is not
  taken for a new one.
* A pulled booking never overwrites a field with an unacknowledged local change
  (``dirty`` fields of the outbox); the desk-only fields (visit, ticket number) are never
  touched.
* An unknown cloud booking that matches the natural key of a creating operation sent
  without an answer is that write: it is mapped instead of being added twice (no
  idempotency key). The key is customer, booking type and start (a queue booking: no
  start yet, or started since it was created); the resource is not part of it, since the
  cloud may place a booking on another resource than the one asked for.
* Money (a connector that declares ``payments_down``): the cloud's price and paid and its
  own payments are kept beside the desk's (``cloud_money``, ``cloud_payments``), never in
  the desk's ``payments`` (the branch's invoices). A payment the desk pushed is mapped to
  its cloud id (``cloud_ids`` entity ``payment``) and is not counted again; one that may
  be it while its push waits unanswered (same amount, cash) is left out until the push
  settles. Re-pulling the same payments changes nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Set
from datetime import datetime, timedelta
from typing import Any, cast

from app.domain import clock
from app.domain import payments as money_rules
from app.domain.errors import BookingError
from app.domain.model import BOOKING_FIELDS, FINAL_STATUSES, QUEUED_STATUSES, Status
from app.domain.rows import OutboxOp
from app.ids import new_id
from app.store import Store
from app.store.changes import BookingChange
from app.sync.connector import CloudBooking, CloudMoney
from app.sync.outbox import Outbox

log = logging.getLogger(__name__)
#: how far before the request a created booking may carry its ``createdAt``
LOOKUP_MARGIN = timedelta(minutes=1)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits → their two characters
_head: tuple[int, str] = (-1, "")  # the last millisecond and its ten characters


_local = threading.local()


def _random80() -> int:
    """80 random bits (``os.urandom``, read 10 KiB at a time per thread)."""
    try:
        return next(_local.bits)
    except (AttributeError, StopIteration):
        block = os.urandom(10 * 1024)
        _local.bits = (int.from_bytes(block[i : i + 10], "big") for i in range(0, len(block), 10))
        return next(_local.bits)


def fast_ulid() -> str:
    """A ULID like :func:`app.ids.new_id` (48-bit ms time + 80 random bits, Crockford
    base32, most significant first), made without the ulid package's object overhead for
    bulk pulls: the time in 10 characters, the 80 random bits in 16, two at a time."""
    global _head
    ms = int(time.time() * 1000)
    if _head[0] != ms:  # a page's ids mostly share their millisecond
        _head = (ms, "".join(_CROCKFORD[(ms >> shift) & 31] for shift in range(45, -1, -5)))
    n, p = _random80(), _PAIRS
    return (
        _head[1]
        + p[n >> 70]
        + p[(n >> 60) & 1023]
        + p[(n >> 50) & 1023]
        + p[(n >> 40) & 1023]
        + p[(n >> 30) & 1023]
        + p[(n >> 20) & 1023]
        + p[(n >> 10) & 1023]
        + p[n & 1023]
    )


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Applier:
    """Cloud rows → local rows for one store and one cloud (``cloud``: the connector's
    name); ``synced_fields``: the booking fields that cloud owns."""

    def __init__(self, store: Store, outbox: Outbox, cloud: str, synced_fields: tuple[str, ...]):
        self.store, self.outbox, self.cloud, self.synced = store, outbox, cloud, frozenset(synced_fields)
        self.db = store.db

    # identity ---------------------------------------------------------------------------
    def mapped(self, entity: str, cloud_ids: list[str]) -> dict[str, str]:
        """cloud id → local id, for those of ``entity`` mapped in this cloud."""
        out: dict[str, str] = {}
        for part in _chunks(sorted({c for c in cloud_ids if c})):
            rows = self.db.execute(
                f"select cloudId, localId from cloud_ids where entity = ? and cloud = ?"
                f" and cloudId in ({','.join('?' * len(part))})",
                [entity, self.cloud, *part],
            )
            out.update(dict(rows.fetchall()))
        return out

    def booking_ids(self, cloud_ids: list[str]) -> dict[str, str]:
        return self.mapped("booking", cloud_ids)

    def reference_map(self, entity: str) -> dict[str, str]:
        """Every mapped ``resource`` or ``type`` of this cloud: cloud id → local id."""
        return dict(
            self.db.execute(
                "select cloudId, localId from cloud_ids where entity = ? and cloud = ?", [entity, self.cloud]
            ).fetchall()
        )

    def retired(self, cloud_ids: list[str]) -> set[str]:
        out: set[str] = set()
        for part in _chunks(cloud_ids):
            rows = self.db.execute(
                f"select cloudId from sync_retired where cloud = ?"
                f" and cloudId in ({','.join('?' * len(part))})",
                [self.cloud, *part],
            )
            out.update(r[0] for r in rows)
        return out

    def cloud_id(self, local_id: str, entity: str = "booking") -> str | None:
        return self.store.cloud_ids(local_id, entity).get(self.cloud)

    def remap(self, local_id: str, new_cloud_id: str, now: datetime) -> None:
        """Point ``local_id`` at ``new_cloud_id``, retiring its previous cloud id."""
        old = self.cloud_id(local_id)
        if old and old != new_cloud_id:
            self.db.table("sync_retired").upsert(
                {"cloud": self.cloud, "cloudId": old, "localId": local_id, "retiredAt": clock.to_iso(now)},
                pk=("cloud", "cloudId"),
            )
        self.store.set_cloud_id(local_id, self.cloud, new_cloud_id)

    # reference data ---------------------------------------------------------------------
    def apply_reference(
        self,
        table: str,
        entity: str,
        rows: list[dict],
        keep: Set[str] = frozenset(),
        keep_column: str | None = None,
    ) -> int:
        """Upsert resources (``table="resources"``, ``entity="resource"``) or booking types
        from cloud rows, mapping their ids (a new one keeps the cloud's id when free).
        ``keep``: cloud ids whose ``keep_column`` is left as stored (a desk edit waiting)."""
        known = self.reference_map(entity)
        types = self.reference_map("type") if table == "resources" else {}
        out = []
        for row in rows:
            cloud_id = str(row["id"])
            local = known.get(cloud_id)
            if local is None:  # new here: the cloud's id when no other thing holds it
                holder = self.db.execute(
                    "select 1 from cloud_ids where entity = ? and cloud = ? and localId = ?",
                    [entity, self.cloud, cloud_id],
                ).fetchone()
                local = fast_ulid() if holder or self._mapped_elsewhere(entity, cloud_id) else cloud_id
                self.store.set_cloud_id(local, self.cloud, cloud_id, entity=entity)
                known[cloud_id] = local
            local_row = {**row, "id": local}
            if table == "resources" and "types" in row:
                local_row["types"] = [types.get(str(t), str(t)) for t in row["types"] or []]
            if keep_column and cloud_id in keep:
                local_row.pop(keep_column, None)
            out.append(local_row)
        self.store.upsert(table, out)
        return len(out)

    def _mapped_elsewhere(self, entity: str, local_id: str) -> bool:
        """Is the local ``entity`` ``local_id`` another cloud's (then this cloud's same id is
        another thing and gets its own local id)?"""
        return (
            self.db.execute(
                "select 1 from cloud_ids where entity = ? and localId = ? and cloud != ?",
                [entity, local_id, self.cloud],
            ).fetchone()
            is not None
        )

    # customers --------------------------------------------------------------------------
    def local_customer(
        self, cloud_customer_id: str | None, obj: dict | None = None, fallback: str | None = None
    ) -> str | None:
        """The local id of a cloud customer, mapping or creating it: an already mapped id,
        else ``fallback`` (the local customer a desk create named), else the local customer
        with the same phone/email, else a new local customer made from ``obj`` (a customer
        row with the cloud's id)."""
        if not cloud_customer_id:
            return fallback
        local = self.store.local_id(self.cloud, cloud_customer_id, "customer")
        if local:
            return local
        found = None
        if fallback and self.store.customer(fallback):
            found = fallback
        elif obj:
            match = self.store.customer_by(phone=obj.get("phone")) or self.store.customer_by(
                email=obj.get("email")
            )
            found = match["id"] if match else None
        if found is None:
            if not obj:
                return None
            row = {**obj, "id": new_id(), "customerNumber": self.store.next_customer_number()}
            self.store.upsert("customers", [row])
            found = row["id"]
        self.store.set_cloud_id(found, self.cloud, cloud_customer_id, entity="customer")
        return found

    def apply_customers(self, rows: list[dict]) -> int:
        """Upsert cloud customers (rows with the cloud's ids); returns how many were written.
        Mapped ones are looked up in one query and written in a few bulk upserts (one per
        set of fields, so a field a row does not carry is left as stored); an unmapped one is
        mapped first (:meth:`local_customer`), a new one gets the next customer number."""
        ids = [str(obj.get("id") or "") for obj in rows]
        known = self.mapped("customer", ids)
        out: list[dict] = []
        for obj, cloud_id in zip(rows, ids, strict=True):
            local = known.get(cloud_id) if cloud_id else None
            if local is None:
                local = self.local_customer(cloud_id, obj)
                if local is None:
                    continue
                if cloud_id:
                    known[cloud_id] = local
            row = {**obj, "id": local}
            row.pop("customerNumber", None)
            out.append(row)
        stored: set[str] = set()
        for part in _chunks(sorted({r["id"] for r in out})):
            stored.update(
                r[0]
                for r in self.db.execute(
                    f"select id from customers where id in ({','.join('?' * len(part))})", part
                )
            )
        number = None
        for row in out:
            if row["id"] not in stored:
                number = self.store.next_customer_number() if number is None else number + 1
                row["customerNumber"] = number
                stored.add(row["id"])
        groups: dict[tuple, list[dict]] = {}
        for row in out:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for group in groups.values():
            self.store.upsert("customers", group)
        return len(out)

    # natural key ------------------------------------------------------------------------
    def local_fields(
        self,
        booking: CloudBooking,
        types: dict[str, str] | None = None,
        resources: dict[str, str] | None = None,
    ) -> dict:
        """The booking row with local type and resource ids (the customer is still the cloud's)."""
        row = dict(booking.row)
        row.pop("id", None)
        types = self.reference_map("type") if types is None else types
        resources = self.reference_map("resource") if resources is None else resources
        if row.get("typeId"):
            row["typeId"] = types.get(row["typeId"], row["typeId"])
        if row.get("resourceId"):
            row["resourceId"] = resources.get(row["resourceId"], row["resourceId"])
        return row

    def matches(
        self, booking: CloudBooking, op: OutboxOp, now: datetime | None = None, fields: dict | None = None
    ) -> bool:
        """Is cloud ``booking`` the one the creating ``op`` asked for? Booking type,
        customer, ``createdAt`` not before the request − 1 min, and the same start (timed)
        or, for a queue booking, no start or a start (accepted) between its ``createdAt``
        and ``now``. The resource is not compared: the cloud may have placed it elsewhere."""
        desk = op["payload"]["after"]
        fields = fields if fields is not None else self.local_fields(booking)
        if fields.get("typeId") != desk["typeId"] or not op.get("requestedAt"):
            return False
        since = clock.from_iso(op["requestedAt"]) - LOOKUP_MARGIN
        if fields.get("createdAt") is None or clock.from_iso(fields["createdAt"]) < since:
            return False
        if not self._same_customer(fields.get("customerId"), booking.customer, desk["customerId"]):
            return False
        start = fields.get("startDateTime")
        if desk.get("startDateTime") is None:
            if not start:
                return True
            began = clock.from_iso(start)
            return clock.from_iso(fields["createdAt"]) <= began <= (now or datetime.now(began.tzinfo))
        if start is None:
            return False
        return clock.from_iso(start) == clock.from_iso(desk["startDateTime"])

    def _same_customer(self, cloud_customer_id: str | None, obj: dict | None, local_id: str) -> bool:
        mapped = self.store.local_id(self.cloud, cloud_customer_id, "customer") if cloud_customer_id else None
        if mapped:
            return mapped == local_id
        local = self.store.customer(local_id) or {}
        if obj:
            return bool(
                (local.get("phone") and obj.get("phone") == local["phone"])
                or (local.get("email") and (obj.get("email") or "").lower() == local["email"].lower())
            )
        return False

    def find_created(
        self, candidates: list[CloudBooking], op: OutboxOp, now: datetime | None = None
    ) -> CloudBooking | None:
        """The oldest unmapped candidate matching ``op``'s natural key, or None."""
        mapped = self.booking_ids([c.cloud_id for c in candidates])
        for booking in sorted(candidates, key=lambda c: str(c.row.get("createdAt") or "")):
            if booking.cloud_id not in mapped and self.matches(booking, op, now):
                return booking
        return None

    # bookings ---------------------------------------------------------------------------
    def apply_bookings(
        self,
        bookings: list[CloudBooking],
        zone: str,
        now: datetime,
        *,
        fallback_customers: dict[str, str] | None = None,
    ) -> list[str]:
        """Write cloud bookings into the store (call inside a transaction). Returns the
        local ids whose row changed."""
        if not bookings:
            return []
        ids = [b.cloud_id for b in bookings]
        mapped = self.booking_ids(ids)
        retired = self.retired([i for i in ids if i not in mapped])
        state = _Batch(self, zone, now, mapped, fallback_customers or {})
        state.existing = self._rows(list(mapped.values()))
        state.customers = self.mapped("customer", [str(b.row.get("customerId") or "") for b in bookings])
        if any(b.history for b in bookings):
            state.copied = {local: set() for local in mapped.values()}
            state.copied.update(self.store.cloud_history_keys(list(mapped.values())))
        for booking in bookings:
            if booking.cloud_id not in retired:
                state.take(booking)
        if state.new_maps:
            self.db.conn.executemany(
                "insert or replace into cloud_ids (entity, localId, cloud, cloudId) values ('booking', ?, ?, ?)",
                [(local, self.cloud, cid) for local, cid in state.new_maps],
            )
        if state.changes or state.entries:
            self.store.write_changes(state.changes, clock.to_iso(now), state.entries)
        with_money = [b for b in bookings if b.money is not None and b.cloud_id not in retired]
        if with_money:
            local = self.booking_ids([b.cloud_id for b in with_money])
            for booking in with_money:
                local_id = local.get(booking.cloud_id)
                if (
                    local_id
                    and self.apply_money(local_id, booking.money, now)
                    and local_id not in state.changed
                ):
                    state.changed.append(local_id)
        return state.changed

    # money ------------------------------------------------------------------------------
    def _currency(self) -> str:
        """The branch currency (billing settings ``currency``, :mod:`app.server.payments`)."""
        return (self.store.setting("billing") or {}).get("currency") or money_rules.CURRENCY_DEFAULT

    def _minor(self, amount: str | None, currency: str, what: str) -> int | None:
        if amount is None:
            return None
        try:
            return money_rules.to_minor(amount, currency)
        except BookingError:
            log.warning("cloud %s: %s %r set aside (not an amount)", self.cloud, what, amount)
            return None

    def apply_money(self, local_id: str, money: CloudMoney, now: datetime) -> bool:
        """Keep what the cloud says about booking ``local_id``'s money (call inside a
        transaction). The cloud's payments replace the ones stored for this booking and
        cloud, without those the desk pushed (mapped) and those that may be a push still
        unanswered (a waiting ``payment`` operation of the same amount); ``paid`` is their
        sum, or the cloud's reported total when it lists none. Returns True when the stored
        figures changed (desks are told)."""
        currency = self._currency()
        old = self.db.execute(
            "select price, paid, fullyPaid, reference from cloud_money where cloud = ? and bookingId = ?",
            [self.cloud, local_id],
        ).fetchone()
        price = self._minor(money.price, currency, "price")
        paid = self._minor(money.paid, currency, "paid")
        changed = False
        if money.payments is not None:
            pushed = set(self.mapped("payment", [p.cloud_id for p in money.payments]).keys())
            waiting = self._waiting_pushes(local_id, currency)
            rows: list[dict[str, Any]] = []
            for p in money.payments:
                amount = self._minor(p.amount, currency, "payment")
                if amount is None or p.cloud_id in pushed:
                    continue
                if p.method == "cash" and amount in waiting:  # maybe the push whose reply was lost
                    waiting.remove(amount)
                    continue
                rows.append(
                    {
                        "cloud": self.cloud,
                        "cloudId": p.cloud_id,
                        "bookingId": local_id,
                        "amount": amount,
                        "method": p.method,
                        "kind": p.kind or p.method,
                        "vatRate": p.vat_rate,
                        "seenAt": clock.to_iso(now),
                    }
                )
            stored = {
                r[0]: r[1:]
                for r in self.db.execute(
                    "select cloudId, amount, method, kind, vatRate from cloud_payments where cloud = ? and bookingId = ?",
                    [self.cloud, local_id],
                )
            }
            fresh = {r["cloudId"]: (r["amount"], r["method"], r["kind"], r["vatRate"]) for r in rows}
            if stored != fresh:
                seen = dict(
                    self.db.execute(
                        "select cloudId, seenAt from cloud_payments where cloud = ? and bookingId = ?",
                        [self.cloud, local_id],
                    ).fetchall()
                )
                self.db.execute(
                    "delete from cloud_payments where cloud = ? and bookingId = ?", [self.cloud, local_id]
                )
                for r in rows:
                    r["seenAt"] = seen.get(r["cloudId"], r["seenAt"])
                if rows:
                    self.db.table("cloud_payments").upsert_all(rows, pk=("cloud", "cloudId"))
                changed = True
            paid = sum(r["amount"] for r in rows)
        new = (price, paid, None if money.fully_paid is None else int(money.fully_paid), money.reference)
        if old is None or tuple(old) != new:
            self.db.table("cloud_money").upsert(
                {
                    "cloud": self.cloud,
                    "bookingId": local_id,
                    "price": price,
                    "paid": paid,
                    "fullyPaid": new[2],
                    "reference": money.reference,
                    "updatedAt": clock.to_iso(now),
                },
                pk=("cloud", "bookingId"),
            )
            changed = True
        return changed

    def _waiting_pushes(self, local_id: str, currency: str) -> list[int]:
        """Amounts (minor units) of this booking's ``payment`` operations sent without an
        answer yet: the cloud may list such a payment before the push learns its id."""
        out = []
        for op in self.outbox._ops("bookingId = ? and action = 'payment'", [local_id]):
            after = cast(dict[str, Any], (op.get("payload") or {}).get("after") or {})
            payment = after.get("payment") or {}
            if op.get("requestedAt") and payment.get("amount"):
                out.append(int(payment["amount"]))
        return out

    def map_payment(
        self, local_payment_id: str, cloud_payment_id: str, local_booking_id: str, now: datetime
    ) -> bool:
        """A pushed payment's cloud id is known: map it to the desk's payment and take it out
        of the cloud's own payments if a pull counted it meanwhile. Returns True when the
        booking's cloud figures changed."""
        self.store.set_cloud_id(local_payment_id, self.cloud, cloud_payment_id, entity="payment")
        gone = self.db.execute(
            "delete from cloud_payments where cloud = ? and cloudId = ?", [self.cloud, cloud_payment_id]
        ).rowcount
        if not gone:
            return False
        total = self.db.execute(
            "select coalesce(sum(amount), 0) from cloud_payments where cloud = ? and bookingId = ?",
            [self.cloud, local_booking_id],
        ).fetchone()[0]
        self.db.execute(
            "update cloud_money set paid = ?, updatedAt = ? where cloud = ? and bookingId = ?",
            [int(total), clock.to_iso(now), self.cloud, local_booking_id],
        )
        return True

    def _rows(self, local_ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for part in _chunks(local_ids):
            for row in self.db.query(
                f"select * from bookings where id in ({','.join('?' * len(part))})", part
            ):
                out[row["id"]] = dict(row)
        return out

    def follow_reschedule(self, local_id: str, new_cloud_id: str, now: datetime) -> bool:
        """The old booking of a reschedule: move ``local_id`` to the new cloud id when that id
        is not mapped yet (and settle a reschedule of ours whose reply was lost). Returns
        True when the old payload must not be applied."""
        holder = self.store.local_id(self.cloud, new_cloud_id)
        if holder is None:
            self.remap(local_id, new_cloud_id, now)
            first = next(iter(self.outbox._ops("bookingId = ?", [local_id])), None)
            if first and first["action"] == "reschedule" and first.get("requestedAt"):
                self.outbox.remove(first["id"])
            return True
        return holder == local_id

    def cancel_deleted(self, gone: dict[str, str], zone: str, now: datetime) -> tuple[list[str], list[str]]:
        """Bookings the cloud no longer has (``gone``: cloud id → local id; listed as deleted,
        or 404 after leaving a fully read window). A booking is never removed: it keeps its
        history, attendances and payments and becomes ``CANCELED`` through the one write path,
        with a history entry whose ``cloudChange`` is ``{"type": "deleted"}``. One whose visit
        has begun at the desk (arrived, in the room, done, no-show) is left as it is: the
        patient is here, so a person decides. Returns (the local ids canceled, those kept)."""
        rows = self._rows(list(gone.values()))
        kept = [local for local in gone.values() if (rows.get(local) or {}).get("visitStatus")]
        deleted = [
            CloudBooking(
                cloud_id,
                {"id": cloud_id, "status": Status.CANCELED.value},
                change={"type": "deleted", "channel": "cloud"},
            )
            for cloud_id, local in gone.items()
            if local in rows and local not in kept and rows[local]["status"] not in FINAL_STATUSES
        ]
        return self.apply_bookings(deleted, zone, now), kept


class _Batch:
    """The state of one :meth:`Applier.apply_bookings` call: maps read once, rows to write."""

    def __init__(self, applier: Applier, zone: str, now: datetime, mapped: dict, fallbacks: dict):
        self.a, self.zone, self.now, self.mapped, self.fallbacks = applier, zone, now, mapped, fallbacks
        self.dirty = applier.outbox.dirty_map()
        self.rescheduling = applier.outbox.rescheduling()
        self.made = applier.outbox.made_ids()
        self.in_flight: list[OutboxOp] | None = None
        self.types = applier.reference_map("type")
        self.resources = applier.reference_map("resource")
        self.existing: dict[str, dict] = {}
        self.customers: dict[str, str] = {}
        self.numbers: dict = {}
        self.stamp = clock.to_iso(now)
        self.changed: list[str] = []
        self.changes: list[BookingChange] = []
        self.new_maps: list[tuple[str, str]] = []
        #: the cloud's own history entries to copy, and the keys of those copied before
        #: (:meth:`app.store.Store.cloud_history_keys`, by local booking id)
        self.entries: list[dict] = []
        self.copied: dict[str, set[str]] = {}

    def _own_write(self, booking: CloudBooking, fields: dict) -> str | None:
        """The local booking of an unanswered creating operation this booking matches."""
        if self.in_flight is None:
            self.in_flight = self.a.outbox.in_flight_creates()
        if not self.in_flight:
            return None
        found = [o for o in self.in_flight if self.a.matches(booking, o, self.now, fields)]
        if len(found) != 1:  # none, or ambiguous: the pushes settle it one by one
            return "" if found else None
        op = found[0]
        self.in_flight.remove(op)
        self.a.outbox.remove(op["id"])
        self.a.remap(op["bookingId"], booking.cloud_id, self.now)
        self.rescheduling = self.a.outbox.rescheduling()
        self.dirty = self.a.outbox.dirty_map()
        self.existing.update(self.a._rows([op["bookingId"]]))
        return op["bookingId"]

    def _customer(self, booking: CloudBooking, fields: dict, local_id: str | None) -> str | None:
        cloud_customer = fields.get("customerId")
        fallback = self.fallbacks.get(booking.cloud_id)
        if local_id and local_id in self.existing:
            fallback = fallback or self.existing[local_id]["customerId"]
        local = self.customers.get(cloud_customer or "") or self.a.local_customer(
            cloud_customer, booking.customer, fallback
        )
        if cloud_customer and local:
            self.customers[cloud_customer] = local
        return local

    def take(self, booking: CloudBooking) -> None:
        local_id = self.mapped.get(booking.cloud_id)
        if (
            booking.replaced_by
            and local_id
            and self.a.follow_reschedule(local_id, booking.replaced_by, self.now)
        ):
            return
        if local_id and local_id in self.rescheduling:  # the old booking of a reschedule in flight
            return
        fields = self.a.local_fields(booking, self.types, self.resources)
        if local_id is None:
            if booking.cloud_id in self.made:  # a waiting operation's own (e.g. a move's new booking)
                return
            local_id = self._own_write(booking, fields)
            if local_id == "":
                return
        fields["customerId"] = self._customer(booking, fields, local_id)
        if fields["customerId"] is None:
            log.warning("booking %s set aside: unknown customer (%s)", booking.cloud_id, booking.customer)
            return
        old = self.existing.get(local_id) if local_id else None
        if old is None:
            row = dict.fromkeys(BOOKING_FIELDS)
            row.update(fields, id=local_id or fast_ulid(), version=1)
            row["createdAt"] = row["createdAt"] or self.stamp
            row["updatedAt"] = row["updatedAt"] or row["createdAt"]
            if fields.get("status") in QUEUED_STATUSES and row.get("createdAt"):
                row["queueNumber"], row["ticket"] = self.a.store.new_ticket(
                    row["typeId"], row["createdAt"], self.zone, self.numbers
                )
            if local_id is None:
                self.new_maps.append((row["id"], booking.cloud_id))
                self.copied[row["id"]] = set()  # a new booking: nothing of it copied yet
            self.changes.append(BookingChange("sync", None, row, self.a.cloud, history=False))
        else:
            protect = self.dirty.get(local_id, ())
            diff = {
                k: v for k, v in fields.items() if k in self.a.synced and k not in protect and old.get(k) != v
            }
            if not diff:
                if self._copy_history(booking, local_id, None) and local_id not in self.changed:
                    self.changed.append(local_id)
                return
            row = {**old, **diff, "updatedAt": self.stamp, "version": int(old.get("version") or 0) + 1}
            self.changes.append(
                BookingChange(
                    "sync",
                    old,
                    row,
                    self.a.cloud,
                    extra={"cloudChange": booking.change} if booking.change else None,
                    fields=tuple(k for k in diff if k not in ("updatedAt", "version")),
                )
            )
        self.existing[row["id"]] = row
        self._copy_history(booking, row["id"], booking.change if old is not None else None)
        self.changed.append(row["id"])

    def _copy_history(self, booking: CloudBooking, local_id: str, carried: dict | None) -> int:
        """Queue the cloud's history entries of ``booking`` not copied before into the local
        booking's history (their own time and actor; ``carried``: the change the pull's own
        entry holds as ``cloudChange``, not copied twice). Returns how many."""
        if not booking.history:
            return 0
        if local_id not in self.copied:  # e.g. the booking of a create whose reply was lost
            self.copied[local_id] = self.a.store.cloud_history_keys([local_id]).get(local_id, set())
        copied = self.copied[local_id]
        if carried and carried.get("key"):
            copied.add(carried["key"])
        count = 0
        for entry in booking.history:
            if entry["key"] in copied:
                continue
            copied.add(entry["key"])
            self.entries.append(
                {
                    "bookingId": local_id,
                    "createdAt": entry["createdAt"],
                    "action": entry["action"],
                    "actor": entry.get("actor") or self.a.cloud,
                    "after": entry.get("after") or {},
                }
            )
            count += 1
        return count
