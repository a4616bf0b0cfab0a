"""The outbox: local changes waiting to reach the cloud, and the needs-attention list.

Tables of migration ``m002_sync`` (:mod:`app.store.migrations`). An outbox row is written
by :meth:`Outbox.listener`, which :class:`~app.server.service.BookingService` calls INSIDE
the transaction of the change: the change and its row commit together or not at all
(a crash can lose neither alone).

Outbox row: ``seq`` (order), ``id`` (operation id, a ULID reused on every retry),
``bookingId`` (local), ``action`` (``create`` | ``hold`` | ``confirm`` | ``reschedule`` |
``assign`` | ``cancel`` | ``end`` | ``restore`` | ``time_rules``; ``restore`` is a cancel
taken back, booked in the cloud again since it has no un-cancel; a ``time_rules`` row's
``bookingId`` is ``resource:<id>``), ``payload`` (``{"before", "after", "actor"}``: what the desk did), ``fields``
(cloud-owned fields the change touched: a pull leaves them alone while the row waits),
``attempts``, ``nextAttemptAt`` (UTC), ``requestedAt`` (UTC, set just before a write that
may commit in the cloud without a reply is sent), ``lastError``, ``steps`` (JSON: the step
state of a multi-step operation, :meth:`app.sync.connector.ConnectorContext.save_steps`).
Which operations a desk change needs is the connector's :meth:`~app.sync.connector.Connector.plan`.

Attention case: ``id``, ``bookingId``, ``opId``, ``action``, ``code`` and ``message`` (the
cloud's), ``desk`` (the refused operation and any later ones of that booking that were
dropped with it), ``cloudState`` (the cloud's booking then, or None), ``createdAt``,
``resolvedAt``, ``resolution`` (:class:`~app.domain.model.Resolution`: ``accept-cloud`` |
``reapply``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence, Set
from datetime import UTC, datetime
from typing import Any, cast

from app.domain.clock import to_iso, utc_now
from app.domain.model import Action
from app.domain.rows import OutboxOp
from app.ids import new_id
from app.store import Store
from app.sync.connector import PlannedOp

#: operations that make a new cloud booking (looked up by natural key after a lost reply)
#: besides those the connector's plan marked ``creates``
CREATING = ("create", "hold", "reschedule", "restore")
#: the booking fields most clouds own (a connector declares its own ``synced_fields``)
SYNCED_FIELDS = (
    "status",
    "startDateTime",
    "endDateTime",
    "duration",
    "typeId",
    "resourceId",
    "customerId",
    "note",
    "cancelReason",
    "assignmentTimeout",
    "createdAt",
)
Plan = Callable[[Action, dict | None, dict], list[PlannedOp]]


def _default_plan(action: Action, before: dict | None, after: dict) -> list[PlannedOp]:
    return []


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
    """Queries over the sync tables of one store for one ``cloud`` (a connector's name).

    ``plan(action, before, after)`` is the connector's :meth:`~app.sync.connector.Connector.plan`;
    ``synced_fields`` the booking fields that cloud owns; ``now`` is the clock (aware UTC);
    ``on_change()`` is called (from any thread) after a row is queued, to wake the engine.
    """

    def __init__(
        self,
        store: Store,
        cloud: str,
        now: Callable[[], datetime] = utc_now,
        on_change: Callable[[], None] | None = None,
        *,
        plan: Plan = _default_plan,
        synced_fields: tuple[str, ...] = SYNCED_FIELDS,
    ):
        self.store, self.cloud, self.now = store, cloud, now
        self.on_change = on_change
        self.plan, self.synced_fields = plan, tuple(synced_fields)

    # writing (inside the caller's transaction) ---------------------------------------
    def listener(self, action: Action, before: dict | None, after: dict, actor: dict) -> None:
        """The BookingService change listener: queue the cloud operations of ``action``
        (the connector's plan; none for the desk's own actions)."""
        planned = self.plan(action, before, after)
        for op in planned:
            fields = (
                list(op.fields)
                if op.fields is not None
                else [f for f in self.synced_fields if before is None or (before.get(f) != after.get(f))]
            )
            payload: dict[str, object] = {"before": before, "after": after, "actor": actor}
            if op.creates:
                payload["creates"] = True
            self.add(after["id"], op.action, payload, fields)
        if planned and self.on_change:
            self.store.after_commit(self.on_change)  # the pusher must find the rows when it wakes

    def time_rules_listener(self, resource_id: str, time_rules: dict) -> None:
        """The BookingService time-rule listener: queue the cloud's ``PUT .../timeRules``
        (the latest edit of a resource replaces an earlier one still waiting)."""
        planned = self.plan(Action.TIME_RULES, None, {"id": resource_id, "resourceId": resource_id})
        if not planned:
            return
        key = f"resource:{resource_id}"
        self.store.db.execute(
            "delete from sync_outbox where cloud = ? and bookingId = ? and bookingId like 'resource:%'"
            " and requestedAt is null",
            [self.cloud, key],
        )
        self.add(key, planned[0].action, {"before": None, "after": time_rules, "resourceId": resource_id}, [])
        if self.on_change:
            self.store.after_commit(self.on_change)

    def time_rules_waiting(self) -> set[str]:
        """Resource ids whose edited time rules have not reached the cloud yet."""
        return {
            r[0].split(":", 1)[1]
            for r in self.store.db.execute(
                "select bookingId from sync_outbox where cloud = ? and bookingId like 'resource:%'",
                [self.cloud],
            )
        }

    def add(self, booking_id: str, action: str, payload: dict, fields: list[str]) -> str:
        """Append one operation (call inside a transaction); returns its id."""
        op_id = new_id()
        self.store.db.table("sync_outbox").insert(
            {
                "id": op_id,
                "cloud": self.cloud,
                "bookingId": booking_id,
                "action": action,
                "payload": json.dumps(payload, ensure_ascii=False, default=str),
                "fields": json.dumps(fields),
                "createdAt": to_iso(self.now()),
                "attempts": 0,
                "nextAttemptAt": None,
                "requestedAt": None,
                "lastError": None,
                "steps": None,
            }
        )
        return op_id

    # reading --------------------------------------------------------------------------
    def _ops(self, where: str = "1", params: list | None = None) -> list[OutboxOp]:
        rows = self.store.db.query(
            f"select * from sync_outbox where cloud = ? and {where} order by seq",
            [self.cloud, *(params or [])],
        )
        return [cast(OutboxOp, _loads(dict(r), "payload", "fields", "steps")) for r in rows]

    def op(self, op_id: str) -> OutboxOp | None:
        found = self._ops("id = ?", [op_id])
        return found[0] if found else None

    def pending(self) -> list[OutboxOp]:
        return self._ops()

    def pending_count(self) -> int:
        return self.store.db.execute(
            "select count(*) from sync_outbox where cloud = ?", [self.cloud]
        ).fetchone()[0]

    def ready(self, now: datetime, busy: Set[str] = frozenset()) -> list[OutboxOp]:
        """The first waiting operation of each booking not in ``busy``, whose retry time has
        come (one booking's operations go out in order; others keep flowing)."""
        rows = self.store.db.query(
            "select o.* from sync_outbox o join (select bookingId, min(seq) seq from sync_outbox"
            " where cloud = ? group by bookingId) f on o.seq = f.seq order by o.seq",
            [self.cloud],
        )
        stamp = stamp_ms(now)
        out: list[OutboxOp] = []
        for row in rows:
            if row["bookingId"] in busy or (row["nextAttemptAt"] and row["nextAttemptAt"] > stamp):
                continue
            out.append(cast(OutboxOp, _loads(dict(row), "payload", "fields", "steps")))
        return out

    def next_attempt_at(self) -> str | None:
        row = self.store.db.execute(
            "select min(nextAttemptAt) from sync_outbox where cloud = ?", [self.cloud]
        ).fetchone()
        return row[0] if row else None

    def dirty_fields(self, booking_id: str) -> set[str]:
        """Cloud-owned fields with local changes not yet acknowledged by the cloud."""
        out: set[str] = set()
        for (fields,) in self.store.db.execute(
            "select fields from sync_outbox where cloud = ? and bookingId = ?", [self.cloud, booking_id]
        ):
            out.update(json.loads(fields or "[]"))
        return out

    def dirty_map(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for booking_id, fields in self.store.db.execute(
            "select bookingId, fields from sync_outbox where cloud = ?", [self.cloud]
        ):
            out.setdefault(booking_id, set()).update(json.loads(fields or "[]"))
        return out

    def in_flight_creates(self) -> list[OutboxOp]:
        """Creating operations sent at least once without an answer (candidates for
        natural-key matching: each makes a new cloud booking)."""
        return [
            op
            for op in self._ops("requestedAt is not null")
            if op["action"] in CREATING or (op["payload"] or {}).get("creates")
        ]

    def rescheduling(self) -> set[str]:
        """Local booking ids with a reschedule waiting in the outbox."""
        return {
            r[0]
            for r in self.store.db.execute(
                "select distinct bookingId from sync_outbox where cloud = ? and action = 'reschedule'",
                [self.cloud],
            )
        }

    def made_ids(self) -> set[str]:
        """Cloud booking ids named in the step state of waiting operations (step keys ending
        in ``Id``, :class:`app.sync.connector.Operation`): bookings those operations made."""
        out: set[str] = set()
        for (raw,) in self.store.db.execute(
            "select steps from sync_outbox where cloud = ? and steps is not null", [self.cloud]
        ):
            try:
                steps = json.loads(raw)
            except ValueError:
                continue
            if isinstance(steps, dict):
                out.update(
                    str(v) for k, v in steps.items() if k.endswith("Id") and isinstance(v, (str, int)) and v
                )
        return out

    def save_steps(self, op_id: str, steps: dict) -> None:
        """Keep the step state of a multi-step operation (call inside a transaction)."""
        self.store.db.execute(
            "update sync_outbox set steps = ? where id = ?",
            [json.dumps(steps, ensure_ascii=False, default=str), op_id],
        )

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
        return self.store.db.execute(
            "select count(*) from sync_attention where cloud = ? and resolvedAt is null", [self.cloud]
        ).fetchone()[0]

    def add_attention(
        self,
        op: Mapping[str, Any],
        code: str,
        message: str,
        cloud_state: dict | None,
        dropped: Sequence[Mapping[str, Any]],
    ) -> str:
        """Record a refused operation (call inside a transaction; ``op`` an :class:`OutboxOp`, or a
        pull's problem in that shape); returns the case id."""
        case_id = new_id()
        desk = {
            "action": op["action"],
            "opId": op["id"],
            "payload": op["payload"],
            "dropped": [{"action": d["action"], "opId": d["id"], "payload": d["payload"]} for d in dropped],
        }
        self.store.db.table("sync_attention").insert(
            {
                "id": case_id,
                "cloud": self.cloud,
                "bookingId": op["bookingId"],
                "opId": op["id"],
                "action": op["action"],
                "code": code,
                "message": message,
                "desk": json.dumps(desk, ensure_ascii=False, default=str),
                "cloudState": json.dumps(cloud_state, ensure_ascii=False, default=str)
                if cloud_state
                else None,
                "createdAt": to_iso(self.now()),
                "resolvedAt": None,
                "resolution": None,
            }
        )
        return case_id

    def remove(self, op_id: str) -> None:
        self.store.db.execute("delete from sync_outbox where id = ?", [op_id])

    def later_ops(self, op: Mapping[str, Any]) -> list[OutboxOp]:
        return self._ops("bookingId = ? and seq > ?", [op["bookingId"], op["seq"]])
