"""The outbox: local changes waiting to reach the cloud, and the needs-attention list.

Tables of migration ``m002_sync`` (:mod:`app.store.migrations`). An outbox row is written
by :meth:`Outbox.listener`, which :class:`~app.server.service.BookingService` calls INSIDE
the transaction of the change: the change and its row commit together or not at all
(issue #3, "Outbox"; a crash can lose neither alone).

Outbox row: ``seq`` (order), ``id`` (operation id, a ULID reused on every retry),
``bookingId`` (local), ``action`` (``create`` | ``hold`` | ``confirm`` | ``reschedule`` |
``assign`` | ``cancel`` | ``end`` | ``restore`` | ``time_rules``; ``restore`` is a cancel
taken back, booked in the cloud again since it has no un-cancel; a ``time_rules`` row's
``bookingId`` is ``resource:<id>``), ``payload`` (``{"before", "after", "actor"}``: what the desk did), ``fields``
(cloud-owned fields the change touched: a pull leaves them alone while the row waits),
``attempts``, ``nextAttemptAt`` (UTC), ``requestedAt`` (UTC, set just before a create or
reschedule is sent), ``lastError``.

Attention case: ``id``, ``bookingId``, ``opId``, ``action``, ``code`` and ``message`` (the
cloud's), ``desk`` (the refused operation and any later ones of that booking that were
dropped with it), ``cloudState`` (the cloud's booking then, or None), ``createdAt``,
``resolvedAt``, ``resolution`` (``accept-cloud`` | ``reapply``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.clock import to_iso, utc_now
from app.ids import new_id
from app.store import Store
from app.sync.ehjzny.mapping import CLOUD_BOOKING_FIELDS

#: local service action → cloud operation; other actions (check-in, start, no-show,
#: expire) are the desk's own or happen in the cloud by itself.
CLOUD_ACTIONS = {"create": "create", "reschedule": "reschedule", "accept": "assign",
                 "cancel": "cancel", "end": "end", "hold": "hold", "confirm": "confirm",
                 "restore": "restore"}
#: operations that make a new cloud booking (looked up by natural key after a lost reply)
CREATING = ("create", "hold", "reschedule", "restore")
#: the fields a pull may write (cloud-owned), minus bookkeeping
SYNCED_FIELDS = tuple(f for f in CLOUD_BOOKING_FIELDS if f != "updatedAt")


def stamp_ms(moment: datetime) -> str:
    """UTC with milliseconds, ``2026-11-21T09:30:00.250Z`` (retry times; sorts as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def precise_now() -> datetime:
    return datetime.now(UTC)


def _loads(row: dict, *keys: str) -> dict:
    for key in keys:
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


class Outbox:
    """Queries over the sync tables of one store for one ``cloud`` (e.g. ``"ehjzny"``).

    ``now`` is the clock (aware UTC); ``on_change()`` is called (from any thread) after a
    row is queued, to wake the engine.
    """

    def __init__(self, store: Store, cloud: str = "ehjzny", now: Callable[[], datetime] = utc_now,
                 on_change: Callable[[], None] | None = None):
        self.store, self.cloud, self.now = store, cloud, now
        self.on_change = on_change

    # writing (inside the caller's transaction) ---------------------------------------
    def listener(self, action: str, before: dict | None, after: dict, actor: dict) -> None:
        """The BookingService change listener: queue the cloud operation of ``action``."""
        kind = CLOUD_ACTIONS.get(action)
        if kind is None:
            return
        fields = [f for f in SYNCED_FIELDS if before is None or (before.get(f) != after.get(f))]
        self.add(after["id"], kind, {"before": before, "after": after, "actor": actor}, fields)
        if self.on_change:
            self.on_change()

    def time_rules_listener(self, resource_id: str, time_rules: dict) -> None:
        """The BookingService time-rule listener: queue the cloud's ``PUT .../timeRules``
        (the latest edit of a resource replaces an earlier one still waiting)."""
        key = f"resource:{resource_id}"
        self.store.db.execute("delete from sync_outbox where cloud = ? and bookingId = ? and action = 'time_rules'"
                              " and requestedAt is null", [self.cloud, key])
        self.add(key, "time_rules", {"before": None, "after": time_rules, "resourceId": resource_id}, [])
        if self.on_change:
            self.on_change()

    def time_rules_waiting(self) -> set[str]:
        """Resource ids whose edited time rules have not reached the cloud yet."""
        return {r[0].split(":", 1)[1] for r in self.store.db.execute(
            "select bookingId from sync_outbox where cloud = ? and action = 'time_rules'", [self.cloud])}

    def add(self, booking_id: str, action: str, payload: dict, fields: list[str]) -> str:
        """Append one operation (call inside a transaction); returns its id."""
        op_id = new_id()
        self.store.db["sync_outbox"].insert({
            "id": op_id, "cloud": self.cloud, "bookingId": booking_id, "action": action,
            "payload": json.dumps(payload, ensure_ascii=False, default=str),
            "fields": json.dumps(fields), "createdAt": to_iso(self.now()), "attempts": 0,
            "nextAttemptAt": None, "requestedAt": None, "lastError": None})
        return op_id

    # reading --------------------------------------------------------------------------
    def _ops(self, where: str = "1", params: list | None = None) -> list[dict]:
        rows = self.store.db.query(f"select * from sync_outbox where cloud = ? and {where} order by seq",
                                   [self.cloud, *(params or [])])
        return [_loads(dict(r), "payload", "fields") for r in rows]

    def op(self, op_id: str) -> dict | None:
        found = self._ops("id = ?", [op_id])
        return found[0] if found else None

    def pending(self) -> list[dict]:
        return self._ops()

    def pending_count(self) -> int:
        return self.store.db.execute("select count(*) from sync_outbox where cloud = ?", [self.cloud]).fetchone()[0]

    def ready(self, now: datetime, busy: set[str] = frozenset()) -> list[dict]:
        """The first waiting operation of each booking not in ``busy``, whose retry time has
        come (one booking's operations go out in order; others keep flowing)."""
        rows = self.store.db.query(
            "select o.* from sync_outbox o join (select bookingId, min(seq) seq from sync_outbox"
            " where cloud = ? group by bookingId) f on o.seq = f.seq order by o.seq", [self.cloud])
        stamp = stamp_ms(now)
        out = []
        for row in rows:
            if row["bookingId"] in busy or (row["nextAttemptAt"] and row["nextAttemptAt"] > stamp):
                continue
            out.append(_loads(dict(row), "payload", "fields"))
        return out

    def next_attempt_at(self) -> str | None:
        row = self.store.db.execute("select min(nextAttemptAt) from sync_outbox where cloud = ?",
                                    [self.cloud]).fetchone()
        return row[0] if row else None

    def dirty_fields(self, booking_id: str) -> set[str]:
        """Cloud-owned fields with local changes not yet acknowledged by the cloud."""
        out: set[str] = set()
        for (fields,) in self.store.db.execute(
                "select fields from sync_outbox where cloud = ? and bookingId = ?", [self.cloud, booking_id]):
            out.update(json.loads(fields or "[]"))
        return out

    def dirty_map(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for booking_id, fields in self.store.db.execute(
                "select bookingId, fields from sync_outbox where cloud = ?", [self.cloud]):
            out.setdefault(booking_id, set()).update(json.loads(fields or "[]"))
        return out

    def in_flight_creates(self) -> list[dict]:
        """Creates and reschedules sent at least once without an answer (candidates for
        natural-key matching: both make a new cloud booking)."""
        return self._ops("action in ('create', 'hold', 'reschedule') and requestedAt is not null")

    def rescheduling(self) -> set[str]:
        """Local booking ids with a reschedule waiting in the outbox."""
        return {r[0] for r in self.store.db.execute(
            "select distinct bookingId from sync_outbox where cloud = ? and action = 'reschedule'", [self.cloud])}

    def retry_all_now(self) -> None:
        """Make every waiting operation due now (``POST /sync/now``, ``sync --once``)."""
        with self.store.transaction():
            self.store.db.execute("update sync_outbox set nextAttemptAt = null where cloud = ?", [self.cloud])

    # attention ------------------------------------------------------------------------
    def attention(self, include_resolved: bool = False) -> list[dict]:
        sql = "select * from sync_attention where cloud = ?"
        if not include_resolved:
            sql += " and resolvedAt is null"
        rows = self.store.db.query(sql + " order by createdAt, id", [self.cloud])
        return [_loads(dict(r), "desk", "cloudState") for r in rows]

    def attention_case(self, case_id: str) -> dict | None:
        rows = self.store.db.query("select * from sync_attention where id = ?", [case_id])
        found = [_loads(dict(r), "desk", "cloudState") for r in rows]
        return found[0] if found else None

    def attention_count(self) -> int:
        return self.store.db.execute("select count(*) from sync_attention where cloud = ? and resolvedAt is null",
                                     [self.cloud]).fetchone()[0]

    def add_attention(self, op: dict, code: str, message: str, cloud_state: dict | None,
                      dropped: list[dict]) -> str:
        """Record a refused operation (call inside a transaction); returns the case id."""
        case_id = new_id()
        desk = {"action": op["action"], "opId": op["id"], "payload": op["payload"],
                "dropped": [{"action": d["action"], "opId": d["id"], "payload": d["payload"]} for d in dropped]}
        self.store.db["sync_attention"].insert({
            "id": case_id, "cloud": self.cloud, "bookingId": op["bookingId"], "opId": op["id"],
            "action": op["action"], "code": code, "message": message,
            "desk": json.dumps(desk, ensure_ascii=False, default=str),
            "cloudState": json.dumps(cloud_state, ensure_ascii=False, default=str) if cloud_state else None,
            "createdAt": to_iso(self.now()), "resolvedAt": None, "resolution": None})
        return case_id

    def remove(self, op_id: str) -> None:
        self.store.db.execute("delete from sync_outbox where id = ?", [op_id])

    def later_ops(self, op: dict) -> list[dict]:
        return self._ops("bookingId = ? and seq > ?", [op["bookingId"], op["seq"]])
