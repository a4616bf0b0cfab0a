"""Applying what the Ehjzny cloud says to the branch store (pulled pages, replies).

Every cloud payload goes through :mod:`app.sync.ehjzny.mapping`. The caller holds the
store's transaction; nothing here does I/O besides SQLite.

Rules (issue #3, "Pull" and "Identity"):

* Local ids stay. A cloud booking id is mapped in ``cloud_ids``; an id replaced by a
  reschedule is retired in ``sync_retired`` and the local booking follows the new id
  (contract "Behaviour": "A sync client must map the old id to the new"). The new id is
  the reply to the reschedule, or — reply lost — the booking found by natural key
  (contract "Reschedule replies"); a ``rescheduledTo`` on the old booking is used only
  when a deployment sends it (not a seed field).
* While a reschedule of a booking waits in the outbox, the old cloud booking (about to be,
  or already, ``CANCELED`` by that reschedule) is not applied to it.
* A pulled booking never overwrites a field with an unacknowledged local change
  (``dirty`` fields of the outbox); the desk-only fields (visit, ticket number) are never
  touched.
* An unknown cloud booking that matches the natural key of a create or reschedule sent
  without an answer is that write: it is mapped instead of being added twice (contract
  "Behaviour", no idempotency key). The key is customer, type and start (a queue booking:
  no start yet, or started since it was created); the resource is not part of it, since
  the cloud may place a booking on another resource than the one asked for.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from operator import itemgetter

from app.domain import clock
from app.domain.model import BOOKING_FIELDS, QUEUED_STATUSES
from app.ids import new_id
from app.store import Store
from app.sync.ehjzny import mapping
from app.sync.ehjzny.importer import _queue_number
from app.sync.outbox import SYNCED_FIELDS, Outbox

log = logging.getLogger(__name__)
#: how far before the request a created booking may carry its ``createdAt`` (contract:
#: "from=<request time - 1 min>")
LOOKUP_MARGIN = timedelta(minutes=1)
_COLUMNS = ", ".join(f'"{f}"' for f in BOOKING_FIELDS)
_UPSERT = (f"insert into bookings ({_COLUMNS}) values ({', '.join('?' * len(BOOKING_FIELDS))})"
           " on conflict(id) do update set "
           + ", ".join(f'"{f}" = excluded."{f}"' for f in BOOKING_FIELDS if f != "id"))


_ROW = itemgetter(*BOOKING_FIELDS)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def fast_ulid() -> str:
    """A ULID like :func:`app.ids.new_id` (48-bit ms time + 80 random bits, Crockford
    base32), made without the ulid package's object overhead for bulk pulls."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Applier:
    """Cloud objects → local rows for one store, cloud name ``cloud`` (``"ehjzny"``)."""

    def __init__(self, store: Store, outbox: Outbox, cloud: str = "ehjzny"):
        self.store, self.outbox, self.cloud = store, outbox, cloud
        self.db = store.db

    # identity ---------------------------------------------------------------------------
    def booking_ids(self, cloud_ids: list[str]) -> dict[str, str]:
        """cloud booking id → local id, for those mapped."""
        out: dict[str, str] = {}
        for part in _chunks(cloud_ids):
            rows = self.db.execute(
                f"select cloudId, localId from cloud_ids where entity = 'booking' and cloud = ?"
                f" and cloudId in ({','.join('?' * len(part))})", [self.cloud, *part])
            out.update(dict(rows.fetchall()))
        return out

    def retired(self, cloud_ids: list[str]) -> set[str]:
        out: set[str] = set()
        for part in _chunks(cloud_ids):
            rows = self.db.execute(f"select cloudId from sync_retired where cloud = ?"
                                   f" and cloudId in ({','.join('?' * len(part))})", [self.cloud, *part])
            out.update(r[0] for r in rows)
        return out

    def cloud_id(self, local_id: str) -> str | None:
        return self.store.cloud_ids(local_id).get(self.cloud)

    def remap(self, local_id: str, new_cloud_id: str, now: datetime) -> None:
        """Point ``local_id`` at ``new_cloud_id``, retiring its previous cloud id."""
        old = self.cloud_id(local_id)
        if old and old != new_cloud_id:
            self.db["sync_retired"].upsert({"cloud": self.cloud, "cloudId": old, "localId": local_id,
                                            "retiredAt": clock.to_iso(now)}, pk=("cloud", "cloudId"))
        self.store.set_cloud_id(local_id, self.cloud, new_cloud_id)

    # customers --------------------------------------------------------------------------
    def local_customer(self, cloud_customer_id: str | None, obj: dict | None = None,
                       fallback: str | None = None) -> str | None:
        """The local id of a cloud customer, mapping or creating it: an already mapped id,
        else ``fallback`` (the local customer a desk create named), else the local customer
        with the same phone/email, else a new local customer made from ``obj``."""
        if not cloud_customer_id:
            return fallback
        local = self.store.local_id(self.cloud, cloud_customer_id, "customer")
        if local:
            return local
        found = None
        if fallback and self.store.customer(fallback):
            found = fallback
        elif obj:
            match = self.store.customer_by(phone=obj.get("phone")) or self.store.customer_by(email=obj.get("email"))
            found = match["id"] if match else None
        if found is None:
            if not obj:
                return None
            try:
                row = mapping.customer_from_cloud(obj, new_id(), self.store.next_customer_number())
            except mapping.MappingError as exc:
                log.warning("customer set aside: %s", exc)
                return None
            self.store.upsert("customers", [row])
            found = row["id"]
        self.store.set_cloud_id(found, self.cloud, cloud_customer_id, entity="customer")
        return found

    def apply_customers(self, objs: list[dict]) -> int:
        """Upsert cloud customers (reference data); returns how many were written."""
        done = 0
        for obj in objs:
            cloud_id = str(obj.get("id") or "")
            local = self.store.local_id(self.cloud, cloud_id, "customer") if cloud_id else None
            if local is None:
                local = self.local_customer(cloud_id, obj)
                if local is None:
                    continue
            try:
                row = mapping.customer_from_cloud(obj, local)
            except mapping.MappingError as exc:
                log.warning("customer set aside: %s", exc)
                continue
            if self.store.customer(local) is None:
                row["customerNumber"] = self.store.next_customer_number()
            self.store.upsert("customers", [row])
            done += 1
        return done

    # natural key ------------------------------------------------------------------------
    def matches(self, obj: dict, op: dict, zone: str, now: datetime | None = None) -> bool:
        """Is cloud booking ``obj`` the one the create/reschedule ``op`` asked for? Type,
        customer, ``createdAt`` not before the request − 1 min, and the same start (timed)
        or, for a queue booking, no start or a start (accepted) between its ``createdAt``
        and ``now`` (contract "Behaviour", no idempotency key). The resource is not
        compared: the cloud may have placed the booking elsewhere."""
        desk = op["payload"]["after"]
        try:
            fields = mapping.booking_from_cloud(obj, zone)
        except mapping.MappingError:
            return False
        if fields["typeId"] != desk["typeId"] or not op.get("requestedAt"):
            return False
        since = clock.from_iso(op["requestedAt"]) - LOOKUP_MARGIN
        if fields["createdAt"] is None or clock.from_iso(fields["createdAt"]) < since:
            return False
        if not self._same_customer(fields["customerId"], obj.get("customer"), desk["customerId"]):
            return False
        if desk.get("startDateTime") is None:
            start = obj.get("startDateTime")
            if not start:
                return True
            began = mapping._utc(start, "booking")
            return clock.from_iso(fields["createdAt"]) <= began <= (now or datetime.now(began.tzinfo))
        if fields["startDateTime"] is None:
            return False
        return clock.from_iso(fields["startDateTime"]) == clock.from_iso(desk["startDateTime"])

    def _same_customer(self, cloud_customer_id: str | None, obj: dict | None, local_id: str) -> bool:
        mapped = self.store.local_id(self.cloud, cloud_customer_id, "customer") if cloud_customer_id else None
        if mapped:
            return mapped == local_id
        local = self.store.customer(local_id) or {}
        if obj:
            return bool((local.get("phone") and obj.get("phone") == local["phone"])
                        or (local.get("email") and (obj.get("email") or "").lower() == local["email"].lower()))
        return False

    def find_created(self, candidates: list[dict], op: dict, zone: str, now: datetime | None = None) -> dict | None:
        """The oldest unmapped candidate matching ``op``'s natural key, or None."""
        mapped = self.booking_ids([str(c["id"]) for c in candidates])
        for obj in sorted(candidates, key=lambda c: str(c.get("createdAt") or "")):
            if str(obj["id"]) not in mapped and self.matches(obj, op, zone, now):
                return obj
        return None

    # bookings ---------------------------------------------------------------------------
    def apply_bookings(self, objs: list[dict], zone: str, now: datetime, *,
                       fallback_customers: dict[str, str] | None = None) -> list[str]:
        """Write cloud bookings into the store (call inside a transaction). Returns the
        local ids whose row changed. Malformed payloads are logged and skipped."""
        if not objs:
            return []
        ids = [str(o["id"]) for o in objs if o.get("id")]
        mapped = self.booking_ids(ids)
        retired = self.retired([i for i in ids if i not in mapped])
        dirty = self.outbox.dirty_map()
        rescheduling = self.outbox.rescheduling()
        in_flight = None
        existing = self._rows(list(mapped.values()))
        numbers: dict = {}
        customers = self._customer_ids([str(o.get("customerId") or (o.get("customer") or {}).get("id") or "")
                                        for o in objs])
        changed, rows, new_maps, history = [], [], [], []
        stamp = clock.to_iso(now)
        for obj in objs:
            cloud_id = str(obj.get("id") or "")
            if not cloud_id or cloud_id in retired:
                continue
            local_id = mapped.get(cloud_id)
            if obj.get("rescheduledTo") and local_id and self._follow_reschedule(local_id, obj, now):
                continue
            if local_id and local_id in rescheduling:  # the old booking of a reschedule in flight
                continue
            try:
                fields = mapping.booking_from_cloud(obj, zone)
            except mapping.MappingError as exc:
                log.warning("booking set aside: %s", exc)
                continue
            if local_id is None:
                if in_flight is None:
                    in_flight = self.outbox.in_flight_creates()
                found = [o for o in in_flight if self.matches(obj, o, zone, now)]
                if len(found) > 1:  # ambiguous: the pushes settle it one by one
                    continue
                op = found[0] if found else None
                if op is not None:  # our own write whose reply has not arrived (or was lost)
                    in_flight.remove(op)
                    self.outbox.remove(op["id"])
                    local_id = op["bookingId"]
                    self.remap(local_id, cloud_id, now)
                    rescheduling = self.outbox.rescheduling()
                    dirty = self.outbox.dirty_map()
                    existing.update(self._rows([local_id]))
            fallback = (fallback_customers or {}).get(cloud_id)
            if local_id and local_id in existing:
                fallback = fallback or existing[local_id]["customerId"]
            known = customers.get(fields["customerId"])
            fields["customerId"] = known or self.local_customer(fields["customerId"], obj.get("customer"), fallback)
            customers[str(obj.get("customerId") or "")] = fields["customerId"]
            if fields["customerId"] is None:
                fetched = obj.get("customer")
                log.warning("booking %s set aside: unknown customer (%s)", cloud_id, fetched)
                continue
            old = existing.get(local_id) if local_id else None
            if old is None:
                row = {key: None for key in BOOKING_FIELDS}
                row.update(fields, id=local_id or fast_ulid(), version=1)
                row["createdAt"] = row["createdAt"] or stamp
                row["updatedAt"] = row["updatedAt"] or row["createdAt"]
                if fields["status"] in QUEUED_STATUSES:
                    _queue_number(self.store, row, zone, numbers)
                if local_id is None:
                    new_maps.append((row["id"], cloud_id))
            else:
                protect = dirty.get(local_id, set())
                update = {k: v for k, v in fields.items() if k not in protect and k in SYNCED_FIELDS}
                diff = {k: v for k, v in update.items() if old.get(k) != v}
                if not diff:
                    continue
                row = {**old, **diff, "updatedAt": stamp, "version": int(old.get("version") or 0) + 1}
                history.append({"bookingId": local_id, "createdAt": stamp, "action": "sync", "actor": self.cloud,
                                "deskId": None, "before": json.dumps({k: old.get(k) for k in diff}, default=str),
                                "after": json.dumps(diff, default=str)})
            rows.append(_ROW(row))
            existing[row["id"]] = row
            changed.append(row["id"])
        if rows:
            self.db.conn.executemany(_UPSERT, rows)
        if new_maps:
            self.db.conn.executemany(
                "insert or replace into cloud_ids (entity, localId, cloud, cloudId) values ('booking', ?, ?, ?)",
                [(local, self.cloud, cid) for local, cid in new_maps])
        if history:
            self.db["history"].insert_all(history)
        return changed

    def _customer_ids(self, cloud_ids: list[str]) -> dict[str, str]:
        """cloud customer id → local id, for those mapped."""
        out: dict[str, str] = {}
        for part in _chunks(sorted({c for c in cloud_ids if c})):
            rows = self.db.execute(
                f"select cloudId, localId from cloud_ids where entity = 'customer' and cloud = ?"
                f" and cloudId in ({','.join('?' * len(part))})", [self.cloud, *part])
            out.update(dict(rows.fetchall()))
        return out

    def _rows(self, local_ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for part in _chunks(local_ids):
            for row in self.db.query(f"select * from bookings where id in ({','.join('?' * len(part))})", part):
                out[row["id"]] = dict(row)
        return out

    def _follow_reschedule(self, local_id: str, obj: dict, now: datetime) -> bool:
        """The old booking of a reschedule: move ``local_id`` to the new cloud id when that id
        is not mapped yet (and settle a reschedule of ours whose reply was lost). Returns
        True when the old payload must not be applied."""
        new_id_ = str(obj["rescheduledTo"])
        holder = self.store.local_id(self.cloud, new_id_)
        if holder is None:
            self.remap(local_id, new_id_, now)
            first = next(iter(self.outbox._ops("bookingId = ?", [local_id])), None)
            if first and first["action"] == "reschedule" and first.get("requestedAt"):
                self.outbox.remove(first["id"])
            return True
        return holder == local_id

    def delete_booking(self, local_id: str) -> None:
        """The cloud no longer has this booking (404 after it left a fully read window)."""
        self.db.execute("delete from attendances where bookingId = ?", [local_id])
        self.store.delete_booking(local_id)
