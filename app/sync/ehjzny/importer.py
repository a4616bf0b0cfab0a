"""Writing a whole Ehjzny-shaped clinic into the branch store (demo data and first sync).

Every payload goes through :mod:`app.sync.ehjzny.mapping`, so the demo import and the cloud
sync share one translation. Malformed bookings and customers are logged and set aside.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from app.domain import clock
from app.domain.model import BOOKING_FIELDS, QUEUED_STATUSES
from app.ids import new_id
from app.store.store import Store
from app.sync.ehjzny import mapping

log = logging.getLogger(__name__)


def _import_customers(store: Store, customers: list[dict], cloud: str) -> tuple[int, int]:
    """Map and write ``customers`` in one batch (one upsert, one cloud-id write): a new one
    gets the next ``customerNumber``; a cloud id seen twice is one customer."""
    skipped, rows, links = 0, {}, {}
    number = None
    for obj in customers:
        cloud_id = str(obj.get("id") or "")
        local_id = links.get(cloud_id) or (store.local_id(cloud, cloud_id, "customer") if cloud_id else None)
        if local_id is None:
            number = store.next_customer_number() if number is None else number + 1
        try:
            row = mapping.customer_from_cloud(obj, local_id or new_id(), None if local_id else number)
        except mapping.MappingError as exc:
            log.warning("customer set aside: %s", exc)
            skipped += 1
            if local_id is None:
                number -= 1  # the number was not used
            continue
        if local_id in rows:  # the same cloud customer again: its number stays
            row["customerNumber"] = rows[local_id].get("customerNumber")
        rows[row["id"]] = row
        if cloud_id:
            links[cloud_id] = row["id"]
    store.upsert("customers", list(rows.values()))
    store.set_cloud_ids([(local, cloud_id) for cloud_id, local in links.items()], cloud, entity="customer")
    return len(rows), skipped


def _queue_number(store: Store, row: dict, zone: str, given: dict) -> None:
    """Give a walk-in its ticket (``queueNumber`` and ``ticket``) for its branch-local day
    (:meth:`app.store.Store.new_ticket`)."""
    if row.get("createdAt"):
        row["queueNumber"], row["ticket"] = store.new_ticket(row["typeId"], row["createdAt"], zone, given)


def _import_bookings(
    store: Store, bookings: list[dict], zone: str, cloud: str, now: datetime
) -> tuple[int, int, int]:
    done = queued = skipped = 0
    numbers: dict = {}
    mapped = []
    for obj in bookings:
        try:
            fields = mapping.booking_from_cloud(obj, zone)
        except mapping.MappingError as exc:
            log.warning("booking set aside: %s", exc)
            skipped += 1
            continue
        customer = store.local_id(cloud, fields["customerId"], "customer") if fields["customerId"] else None
        if customer is None:
            log.warning("booking set aside: booking %s: unknown customer %s", obj["id"], fields["customerId"])
            skipped += 1
            continue
        mapped.append((str(obj["id"]), {**fields, "customerId": customer}))
    mapped.sort(key=lambda pair: pair[1]["createdAt"] or "")  # queue tickets in arrival order
    rows: dict[str, dict] = {}  # written in one batch at the end
    links: dict[str, str] = {}  # cloud id → local id
    for cloud_id, fields in mapped:
        local_id = links.get(cloud_id) or store.local_id(cloud, cloud_id, "booking")
        old = (rows.get(local_id) or store.booking(local_id)) if local_id else None
        row: dict[str, Any] = {key: None for key in BOOKING_FIELDS}
        row.update(old or {"id": new_id(), "version": 0})
        row.update(fields)
        row["createdAt"] = row["createdAt"] or clock.to_iso(now)
        row["updatedAt"] = row["updatedAt"] or row["createdAt"]
        row["version"] = int(row["version"] or 0) + 1
        if fields["status"] in QUEUED_STATUSES:
            queued += 1
        if fields["status"] in QUEUED_STATUSES and row["queueNumber"] is None:
            _queue_number(store, row, zone, numbers)
        rows[row["id"]] = row
        links[cloud_id] = row["id"]
        done += 1
    store.replace_bookings(list(rows.values()))
    store.set_cloud_ids([(local, cloud_id) for cloud_id, local in links.items()], cloud, entity="booking")
    return done, queued, skipped


def import_clinic(store: Store, clinic: dict, cloud: str = "demo", now: datetime | None = None) -> dict:
    """Write a whole clinic into ``store`` in ONE transaction and return counts.

    ``clinic`` is the shape of :func:`app.demo.generate_clinic` (Ehjzny payloads)::

        {"organization": {"name", "name_translations", "timeZone"}, "resources": [...],
         "types": [...], "customers": [...], "bookings": [...],
         "timeRules": {resourceId: {"depthOfDays", "rules", "scheduleAfterHoursFromNow", "offRules"}}}

    Resources and types keep their cloud ids; customers and bookings get local ULIDs
    recorded with ``Store.set_cloud_id(local, cloud, cloud_id, entity=...)`` (an already
    mapped id is updated in place, so importing twice does not duplicate). Customers get
    the next ``customerNumber``; walk-ins (``PENDING_ASSIGNMENT``) a ``queueNumber`` per
    branch-local day in ``createdAt`` order. The organization becomes the ``branch`` setting
    and its ``timeZone`` (default: the store's) reads the bookings' local fields.
    Returns ``{"resources", "types", "customers", "bookings", "queued", "skipped"}``.
    Raises MappingError (nothing written) for a malformed resource or booking type.
    """
    org = clinic.get("organization") or {}
    zone = org.get("timeZone") or store.zone
    time_rules = clinic.get("timeRules") or {}
    resources = [
        mapping.resource_from_cloud(obj, time_rules=time_rules.get(str(obj.get("id"))), sort_order=index)
        for index, obj in enumerate(clinic.get("resources") or [])
    ]
    types = [mapping.type_from_cloud(obj) for obj in clinic.get("types") or []]
    now = now or clock.utc_now()
    with store.transaction():
        if org:
            store.set_setting(
                "branch",
                {
                    "name": org.get("name"),
                    "name_translations": org.get("name_translations"),
                    "timeZone": zone,
                },
            )
        store.upsert("resources", resources)
        store.upsert("types", types)
        customers, bad_customers = _import_customers(store, clinic.get("customers") or [], cloud)
        bookings, queued, bad_bookings = _import_bookings(
            store, clinic.get("bookings") or [], zone, cloud, now
        )
    return {
        "resources": len(resources),
        "types": len(types),
        "customers": customers,
        "bookings": bookings,
        "queued": queued,
        "skipped": bad_customers + bad_bookings,
    }
