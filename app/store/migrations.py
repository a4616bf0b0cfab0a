"""Schema migrations (sqlite-utils ``Migrations``; each runs in one transaction).

Add a new function at the end to change the schema; never edit an applied one.
Column names are the API's field names (see :mod:`app.domain.model`).
"""

from __future__ import annotations

import json

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from app.domain.phones import normalize_or_keep, region_of
from app.domain.tickets import default_prefixes, ticket_text

migrations = Migrations("istiqbal")


@migrations()
def m001_initial(db: Database) -> None:
    db["settings"].create({"key": str, "value": str}, pk="key")
    db["resources"].create(
        {
            "id": str,
            "name": str,
            "name_translations": str,
            "category": str,
            "types": str,
            "on": int,
            "activated": int,
            "timeRules": str,
            "color": str,
            "sortOrder": int,
        },
        pk="id",
    )
    db["types"].create(
        {
            "id": str,
            "name": str,
            "name_translations": str,
            "minutes": int,
            "leaveMinutesBefore": int,
            "leaveMinutesAfter": int,
            "color": str,
            "price": str,
            "autoConfirm": int,
            "on": int,
        },
        pk="id",
    )
    db["customers"].create(
        {
            "id": str,
            "firstName": str,
            "lastName": str,
            "phone": str,
            "email": str,
            "note": str,
            "customerNumber": int,
            "searchText": str,
            "createdAt": str,
        },
        pk="id",
    )
    db["customers"].create_index(["phone"])
    db["customers"].create_index(["customerNumber"], unique=True)
    db["bookings"].create(
        {
            "id": str,
            "status": str,
            "visitStatus": str,
            "startDateTime": str,
            "endDateTime": str,
            "duration": int,
            "typeId": str,
            "resourceId": str,
            "customerId": str,
            "note": str,
            "cancelReason": str,
            "queueNumber": int,
            "assignmentTimeout": int,
            "checkedInAt": str,
            "startedAt": str,
            "endedAt": str,
            "createdAt": str,
            "updatedAt": str,
            "version": int,
        },
        pk="id",
    )
    db["bookings"].create_index(["startDateTime"])
    db["bookings"].create_index(["resourceId", "startDateTime"])
    db["bookings"].create_index(["status", "createdAt"])
    db["bookings"].create_index(["customerId"])
    db["attendances"].create(
        {"id": str, "type": str, "bookingId": str, "customerId": str, "createdAt": str},
        pk="id",
    )
    db["attendances"].create_index(["bookingId"])
    # entity: "booking" or "customer"; resources and types keep the cloud's id as theirs
    db["cloud_ids"].create(
        {"entity": str, "localId": str, "cloud": str, "cloudId": str}, pk=("entity", "cloud", "cloudId")
    )
    db["cloud_ids"].create_index(["entity", "localId", "cloud"], unique=True)
    db["history"].create(
        {
            "id": int,
            "bookingId": str,
            "createdAt": str,
            "action": str,
            "actor": str,
            "deskId": str,
            "before": str,
            "after": str,
        },
        pk="id",
    )
    db["history"].create_index(["bookingId", "id"])


@migrations()
def m002_sync(db: Database) -> None:
    """The sync engine's tables (app.sync).

    ``sync_outbox``: one row per local change still to be sent to a cloud, written in the
    same transaction as the change. ``id`` is the operation id reused on every retry;
    ``seq`` orders one booking's operations; ``requestedAt`` is set (and committed) just
    before a create/reschedule is sent, so a retry knows it must look the booking up first.
    ``sync_attention``: refused operations the desk must look at (the cloud's message and
    what the desk had done). ``sync_cursors``: listing positions (page token, createdAt
    cursor) committed with the pages they describe; ``sync_seen``: cloud ids read so far by
    an unfinished window listing. ``sync_retired``: cloud ids replaced by a reschedule.
    """
    db["sync_outbox"].create(
        {
            "seq": int,
            "id": str,
            "cloud": str,
            "bookingId": str,
            "action": str,
            "payload": str,
            "fields": str,
            "createdAt": str,
            "attempts": int,
            "nextAttemptAt": str,
            "requestedAt": str,
            "lastError": str,
        },
        pk="seq",
    )
    db["sync_outbox"].create_index(["id"], unique=True)
    db["sync_outbox"].create_index(["bookingId", "seq"])
    db["sync_attention"].create(
        {
            "id": str,
            "cloud": str,
            "bookingId": str,
            "opId": str,
            "action": str,
            "code": str,
            "message": str,
            "desk": str,
            "cloudState": str,
            "createdAt": str,
            "resolvedAt": str,
            "resolution": str,
        },
        pk="id",
    )
    db["sync_attention"].create_index(["resolvedAt"])
    db["sync_cursors"].create({"name": str, "value": str, "updatedAt": str}, pk="name")
    db["sync_seen"].create({"window": str, "cloudId": str}, pk=("window", "cloudId"))
    db["sync_retired"].create(
        {"cloud": str, "cloudId": str, "localId": str, "retiredAt": str}, pk=("cloud", "cloudId")
    )


@migrations()
def m003_events_holds_desks(db: Database) -> None:
    """Branch server: the persisted live-event sequence (ids survive a restart, written in
    the change's own transaction), temporary holds (``heldUntil``, Ehjzny API reference, "Create
    Temporary Booking") and paired LAN desks (tokens kept only as SHA-256 hashes)."""
    db["events"].create({"id": int, "type": str, "data": str, "createdAt": str}, pk="id")
    db["bookings"].add_column("heldUntil", str)
    db["bookings"].create_index(["heldUntil"])
    db["desks"].create(
        {
            "id": str,
            "name": str,
            "role": str,
            "resourceIds": str,
            "tokenHash": str,
            "createdAt": str,
            "lastSeenAt": str,
            "revokedAt": str,
        },
        pk="id",
    )
    db["desks"].create_index(["tokenHash"], unique=True)


@migrations()
def m013_tickets(db: Database) -> None:
    """Queue tickets with a per-type prefix (:mod:`app.domain.tickets`): ``types.ticketPrefix``
    (the first free letters, in name order) and ``bookings.ticket`` (``A001``) for every
    booking that has a ``queueNumber``."""
    db["types"].add_column("ticketPrefix", str)
    db["bookings"].add_column("ticket", str)
    types = [dict(r) for r in db.query("select id, name, ticketPrefix from types")]
    prefixes = default_prefixes(types)
    for type_id, prefix in prefixes.items():
        db.execute("update types set ticketPrefix = ? where id = ?", [prefix, type_id])
    for booking_id, type_id, number in db.execute(
        "select id, typeId, queueNumber from bookings where queueNumber is not null"
    ).fetchall():
        if type_id in prefixes:
            db.execute(
                "update bookings set ticket = ? where id = ?",
                [ticket_text(prefixes[type_id], number), booking_id],
            )


@migrations()
def m014_phones(db: Database) -> None:
    """Customers' phones in E.164 (:mod:`app.domain.phones`), read in the branch's region:
    ``0551234567`` and ``+966551234567`` are then one number. A phone that cannot be read is
    kept as it was; the phone part of ``searchText`` follows."""
    row = db.execute("select value from settings where key = 'branch'").fetchone()
    region = region_of(json.loads(row[0]) if row else None)
    for customer_id, phone, search in db.execute(
        "select id, phone, searchText from customers where phone is not null and phone != ''"
    ).fetchall():
        fixed = normalize_or_keep(phone, region)
        if fixed != phone:
            search = (search or "").replace(phone, fixed) if phone in (search or "") else search
            db.execute(
                "update customers set phone = ?, searchText = ? where id = ?", [fixed, search, customer_id]
            )


@migrations()
def m015_payments(db: Database) -> None:
    """Money at the desk (:mod:`app.server.payments`; amounts integer minor units, VAT rates
    basis points, times UTC). ``payments``: payments and refunds (negative), never updated
    or deleted; ``invoiceNumber`` is the branch's gap-free simplified-invoice sequence.
    ``booking_prices``: a booking's own price instead of its booking type's, with the
    reason. ``drawer_counts``: a desk's and user's counted cash drawer for a branch-local
    ``date`` (``expected``/``counted``: JSON ``{method: amount}``)."""
    db["payments"].create(
        {
            "id": str,
            "invoiceNumber": int,
            "bookingId": str,
            "customerId": str,
            "amount": int,
            "currency": str,
            "method": str,
            "reference": str,
            "reason": str,
            "vatRate": int,
            "vatAmount": int,
            "actor": str,
            "deskId": str,
            "createdAt": str,
        },
        pk="id",
        not_null={
            "invoiceNumber",
            "bookingId",
            "amount",
            "currency",
            "method",
            "vatRate",
            "vatAmount",
            "createdAt",
        },
    )
    db["payments"].create_index(["invoiceNumber"], unique=True)
    db["payments"].create_index(["bookingId"])
    db["payments"].create_index(["createdAt"])
    for event in ("update", "delete"):  # a refund is a new row; a payment is never changed or removed
        db.execute(
            f"create trigger payments_no_{event} before {event} on payments"
            " begin select raise(abort, 'payments are never changed or deleted'); end"
        )
    db["booking_prices"].create(
        {"bookingId": str, "price": int, "reason": str, "actor": str, "deskId": str, "updatedAt": str},
        pk="bookingId",
        not_null={"price"},
    )
    db["drawer_counts"].create(
        {
            "id": str,
            "date": str,
            "deskId": str,
            "user": str,
            "expected": str,
            "counted": str,
            "difference": int,
            "note": str,
            "currency": str,
            "actor": str,
            "createdAt": str,
        },
        pk="id",
    )
    db["drawer_counts"].create_index(["date"])


@migrations()
def m016_clouds(db: Database) -> None:
    """Sync scoped by cloud (:mod:`app.sync.connector`): ``sync_cursors`` and ``sync_seen``
    keyed by ``cloud``; ``sync_outbox.steps`` (JSON step state of a multi-step operation);
    ``cloud_ids`` also maps resources and booking types (entities ``resource``, ``type``:
    local ids of their own); ``sync.connections`` keeps each cloud's connection settings.

    Today's data was Ehjzny's: its cursors (``window.<name>``, ``created.since``) become the
    Ehjzny connector's one cursor ``pull`` = ``{"createdSince", "windows": {name: state}}``,
    its seen-lists and outbox stay as they are under ``ehjzny``, and when the branch was
    connected to Ehjzny (a mapped booking or customer, or the stored connection) every
    resource and booking type is mapped to itself there (their ids were Ehjzny's)."""
    cloud = "ehjzny"
    db["sync_outbox"].add_column("steps", str)
    old = {name: value for name, value, _ in db.execute("select name, value, updatedAt from sync_cursors")}
    stamps = [r[0] for r in db.execute("select max(updatedAt) from sync_cursors")]
    db["sync_cursors"].drop()
    db["sync_cursors"].create(
        {"cloud": str, "name": str, "value": str, "updatedAt": str}, pk=("cloud", "name")
    )
    if old:
        windows = {k.split(".", 1)[1]: json.loads(v) for k, v in old.items() if k.startswith("window.")}
        since = json.loads(old["created.since"]) if "created.since" in old else None
        db["sync_cursors"].insert(
            {
                "cloud": cloud,
                "name": "pull",
                "updatedAt": stamps[0],
                "value": json.dumps({"createdSince": since, "windows": windows}),
            }
        )
    seen = db.execute("select window, cloudId from sync_seen").fetchall()
    db["sync_seen"].drop()
    db["sync_seen"].create({"cloud": str, "window": str, "cloudId": str}, pk=("cloud", "window", "cloudId"))
    db.conn.executemany(
        "insert into sync_seen (cloud, window, cloudId) values (?, ?, ?)", [(cloud, w, c) for w, c in seen]
    )
    row = db.execute("select value from settings where key = 'sync.cloud'").fetchone()
    setting = json.loads(row[0]) if row and row[0] else None
    connected = bool(
        db.execute("select 1 from cloud_ids where cloud = ? limit 1", [cloud]).fetchone()
    ) or bool(setting and (setting.get("cloud") or cloud) == cloud)
    if connected:
        for table, entity in (("resources", "resource"), ("types", "type")):
            db.execute(
                f"insert or ignore into cloud_ids (entity, localId, cloud, cloudId)"
                f" select '{entity}', id, '{cloud}', id from {table}"
            )
    if setting:
        setting = {**setting, "cloud": setting.get("cloud") or cloud, "account": setting.get("appId")}
        db.execute("update settings set value = ? where key = 'sync.cloud'", [json.dumps(setting)])
        db["settings"].upsert(
            {"key": "sync.connections", "value": json.dumps({setting["cloud"]: setting})}, pk="key"
        )


@migrations()
def m017_reports_payment_links(db: Database) -> None:
    """Reports and payment links (:mod:`app.server.reports`). ``bookings.source``: where a
    booking was made, ``desk``, ``walk-in`` (a desk's queue) or ``cloud`` (the default: rows
    the sync engine writes); existing rows made at a desk are found by their ``create`` or
    ``hold`` history entry. ``bookings.paymentLink``: the link a cloud booking awaiting
    payment carries (Ehjzny ``PENDING_PAYMENT``, the Ehjzny reference, "Online Payments"). Indexes for
    the reports: the day a report counts a booking in (its start, or when it joined the
    queue), and indexes in the order of the reports' ``group by`` so SQLite aggregates a
    year without sorting it (the expressions are those of :mod:`app.server.reports`, which
    must stay the same to use them)."""
    db.execute("alter table bookings add column source text not null default 'cloud'")
    db.execute("alter table bookings add column paymentLink text")
    db.execute(
        "update bookings set source = case when queueNumber is not null then 'walk-in' else 'desk' end"
        " where exists (select 1 from history h where h.bookingId = bookings.id"
        " and h.action in ('create', 'hold'))"
    )
    day = "coalesce(startDateTime, createdAt)"
    wait = (
        "max(0, case when source = 'walk-in' then unixepoch(startedAt) - unixepoch(createdAt)"
        " else unixepoch(startedAt) - unixepoch(checkedInAt) end)"
    )
    db.execute(f"create index bookings_report_day on bookings ({day})")
    db.execute(f"create index bookings_report_states on bookings (source, status, visitStatus, {day})")
    db.execute(
        f"create index bookings_report_waits on bookings (source = 'walk-in', {wait}, {day})"
        " where startedAt is not null and checkedInAt is not null"
    )
    db.execute(
        f"create index bookings_report_visits on bookings (unixepoch(endedAt) - unixepoch(startedAt), typeId,"
        f" {day}) where visitStatus = 'COMPLETED' and startedAt is not null and endedAt is not null"
    )
    db.execute("create index payments_report_methods on payments (method, createdAt, amount, vatAmount)")


@migrations()
def m018_cloud_money(db: Database) -> None:
    """What a cloud says about a booking's money (:mod:`app.sync.apply`, connector
    ``CloudMoney``; amounts integer minor units of the branch currency, times UTC).
    ``cloud_money``: per cloud and local booking, the cloud's ``price`` and ``paid`` (the
    cloud's payments that are not the desk's own, or the paid total it reports), its
    ``fullyPaid`` flag and invoice ``reference``. ``cloud_payments``: the payments a cloud
    lists on a booking (``method`` the desk's word, ``kind`` the cloud's), replaced as a whole
    on each pull of that booking; a payment the desk pushed is not here (``cloud_ids`` entity
    ``payment`` maps it to the desk's payment). The desk's own ``payments`` stay as they are."""
    db["cloud_money"].create(
        {
            "cloud": str,
            "bookingId": str,
            "price": int,
            "paid": int,
            "fullyPaid": int,
            "reference": str,
            "updatedAt": str,
        },
        pk=("cloud", "bookingId"),
        not_null={"cloud", "bookingId"},
    )
    db["cloud_money"].create_index(["bookingId"])
    db["cloud_payments"].create(
        {
            "cloud": str,
            "cloudId": str,
            "bookingId": str,
            "amount": int,
            "method": str,
            "kind": str,
            "vatRate": int,
            "seenAt": str,
        },
        pk=("cloud", "cloudId"),
        not_null={"cloud", "cloudId", "bookingId", "amount"},
    )
    db["cloud_payments"].create_index(["bookingId"])


#: the action spellings before :class:`app.domain.model.Action` (history and events), and now
_ACTION_SPELLINGS = {"checkin": "check_in", "noshow": "no_show", "undo-checkin": "undo_check_in"}


@migrations()
def m019_action_spellings(db: Database) -> None:
    """One spelling per action (:class:`app.domain.model.Action`): the ``action`` of history
    entries and of stored ``booking.changed`` events (and a ``queue.changed`` event's
    ``reason``) written ``checkin``, ``noshow`` or ``undo-checkin`` become ``check_in``,
    ``no_show`` and ``undo_check_in``. The literal spellings stay here: a migration never
    changes with the code."""
    for old, new in _ACTION_SPELLINGS.items():
        db.execute("update history set action = ? where action = ?", [new, old])
        for key in ("$.action", "$.reason"):
            db.execute(
                f"update events set data = json_set(data, '{key}', ?)"
                f" where json_valid(data) and json_extract(data, '{key}') = ?",
                [new, old],
            )


@migrations()
def m020_report_covering_indexes(db: Database) -> None:
    """Two more indexes for the reports (:mod:`app.server.reports`), each holding every column
    its report reads, so a year is aggregated from the index alone: utilisation (per resource
    in start order: status, length, visit and its times, booking type) and the bookings behind the money a
    cloud reports (looked up by id: the day a booking counts in, its resource and type); and
    the day index of ``m017`` again with the columns a short range's reports read; the waits
    index of ``m017`` again with a walk-in told by its queue number."""
    db.execute(
        "create index bookings_report_utilisation on bookings (resourceId, startDateTime, status, duration,"
        " visitStatus, startedAt, endedAt, typeId) where resourceId is not null"
    )
    db.execute(
        "create index bookings_report_money on bookings (id, startDateTime, createdAt, resourceId, typeId)"
    )
    # the day index made wide enough for a short range's reports to read nothing else
    db.execute("drop index bookings_report_day")
    db.execute(
        "create index bookings_report_day on bookings (coalesce(startDateTime, createdAt), source, status,"
        " visitStatus, resourceId, typeId, queueNumber, startDateTime, createdAt, checkedInAt, startedAt,"
        " endedAt, id)"
    )
    # a walk-in is a booking that came through a queue (a queue number), also from a cloud's queue
    wait = (
        "max(0, case when queueNumber is not null then unixepoch(startedAt) - unixepoch(createdAt)"
        " else unixepoch(startedAt) - unixepoch(checkedInAt) end)"
    )
    db.execute("drop index bookings_report_waits")
    db.execute(
        f"create index bookings_report_waits on bookings (queueNumber is not null, {wait},"
        " coalesce(startDateTime, createdAt)) where startedAt is not null and checkedInAt is not null"
    )


#: How many migrations make the newest schema (those a new, empty database still lacks).
SCHEMA_VERSION = len(migrations.pending(Database(memory=True)))


def apply(db: Database) -> None:
    """Bring ``db`` to the newest schema; each step is atomic with its record."""
    migrations.apply(db)
