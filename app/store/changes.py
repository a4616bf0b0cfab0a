"""The one write path of a booking change and its history entry.

The booking service (one change of a desk) and the sync engine (a page of a pull, a
cloud's reply) both write through :func:`write_changes`: the booking rows in one
``executemany``, their history entries in another, inside the caller's transaction. A
history entry holds who (``actor``, ``deskId``), when (``createdAt``, UTC), the action and
the fields that changed (``before``: their old values, ``after``: the new ones plus
``extra``, e.g. a sync note or an overbook reason). A new booking written by a pull gets
no entry of its own (``history=False``): its history starts with its first change, or with
the cloud's own account of it (``entries``: a cloud's history entries, each with its own time
and actor, written by the same statement).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from app.domain.model import BOOKING_FIELDS
from app.domain.rows import BookingRow

#: ``source`` (where a booking was made: ``desk``, ``walk-in``, ``cloud``) is written on insert
#: only: a later change, from a desk or a pull, never moves it
_COLUMNS = ", ".join(f'"{f}"' for f in (*BOOKING_FIELDS, "source"))
UPSERT = (
    f"insert into bookings ({_COLUMNS}) values ({', '.join('?' * (len(BOOKING_FIELDS) + 1))})"
    " on conflict(id) do update set "
    + ", ".join(f'"{f}" = excluded."{f}"' for f in BOOKING_FIELDS if f != "id")
)
_HISTORY = (
    'insert into history ("bookingId", "createdAt", "action", "actor", "deskId", "before", "after")'
    " values (?, ?, ?, ?, ?, ?, ?)"
)
_ROW = itemgetter(*BOOKING_FIELDS)
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
_dumps = _ENCODER.encode
#: bookkeeping fields that change with every write and are not part of a history entry
_BOOKKEEPING = ("updatedAt", "version")


class StaleWrite(Exception):
    """The booking changed since ``before`` was read (its ``version`` moved on)."""

    def __init__(self, booking_id: str):
        super().__init__(booking_id)
        self.booking_id = booking_id


@dataclass(slots=True)
class BookingChange:
    """One booking change. ``after``: the whole new row (``updatedAt`` and ``version``
    already set by the caller); ``before``: the row it replaces (None: a new booking);
    ``actor``: the user (a cloud's name for a cloud's change), ``desk_id``; ``extra``: more for the
    history entry's ``after``; ``history``: write an entry; ``check``: raise
    :class:`StaleWrite` when the stored version is no longer ``before``'s; ``fields``: the
    fields that changed, when the caller knows them (a pull's diff), else found by comparing."""

    action: str
    before: BookingRow | dict | None
    after: dict
    actor: str | None = None
    desk_id: str | None = None
    extra: dict | None = None
    history: bool = True
    check: bool = False
    fields: tuple[str, ...] | None = None


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any], old: bool = False) -> dict:
    """The fields that differ between two versions (``old``: their previous values),
    bookkeeping left out."""
    keys = [k for k in after if k not in _BOOKKEEPING and (before or {}).get(k) != after.get(k)]
    source = (before or {}) if old else after
    return {k: source.get(k) for k in keys}


def write_changes(db, changes: Iterable[BookingChange], now: str, entries: Iterable[dict] = ()) -> int:
    """Write ``changes`` (inside the caller's transaction; ``db``: the store's sqlite-utils
    Database) with their history entries stamped ``now`` (UTC ISO). ``entries``: more
    history entries written as they are, ``{"bookingId", "createdAt" (UTC ISO), "action",
    "actor", "deskId"?, "before"?, "after"}`` (a cloud's account of changes made there, at
    the cloud's time). Returns how many booking rows were written. Raises
    :class:`StaleWrite` (nothing of the batch kept when the caller's transaction rolls
    back)."""
    rows, history = [], []
    conn = db.conn
    for change in changes:
        after = change.after
        if change.check and change.before is not None:
            current = conn.execute("select version from bookings where id = ?", [after["id"]]).fetchone()
            if current is None or current[0] != change.before.get("version"):
                raise StaleWrite(after["id"])
        try:
            rows.append((*_ROW(after), after.get("source") or "cloud"))
        except KeyError:  # a row without some (empty) columns
            rows.append((*_ROW({**dict.fromkeys(BOOKING_FIELDS), **after}), after.get("source") or "cloud"))
        if change.history:
            before = change.before or {}
            if change.fields is not None:
                diff_before = {k: before.get(k) for k in change.fields}
                diff_after = {k: after.get(k) for k in change.fields}
            else:
                diff_before = changed_fields(change.before, after, old=True)
                diff_after = changed_fields(change.before, after)
            if change.extra:
                diff_after.update(change.extra)
            history.append(
                (
                    after["id"],
                    now,
                    change.action,
                    change.actor,
                    change.desk_id,
                    _dumps(diff_before),
                    _dumps(diff_after),
                )
            )
    for entry in entries:
        history.append(
            (
                entry["bookingId"],
                entry["createdAt"],
                entry["action"],
                entry.get("actor"),
                entry.get("deskId"),
                _dumps(entry.get("before") or {}),
                _dumps(entry.get("after") or {}),
            )
        )
    if rows:
        conn.executemany(UPSERT, rows)
    if history:
        conn.executemany(_HISTORY, history)
    return len(rows)
