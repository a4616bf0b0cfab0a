"""Natural-key scans after a lost reply (contract "Behaviour the desk relies on").

Rekaz has no idempotency key, so a write whose reply never came is looked for before it
is sent again:

* a create (``POST /reservations/bulk``): ``GET /reservations?customerId=&branchId=&dateMin=
  <from>&dateMax=<from>`` (the dates bound ``startAt``), matched on ``startAt``, ``endAt``,
  product and price (by their names, resolved through :class:`~.mapping.NameIndex`) and the
  providers;
* a customer create (``POST /customers``): every page of ``GET /customers`` (it has no
  filter), matched on the mobile number normalised to ``9665…`` (:func:`~.mapping.mobile_key`);
* an attendance (``POST /attendances``): ``GET /attendances?customerId=``, an item with
  ``actionId`` = the reservation and the same kind.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from app.domain import clock
from app.sync.rekaz import mapping
from app.sync.rekaz.client import RekazClient


async def find_reservations(
    client: RekazClient,
    names: mapping.NameIndex,
    *,
    customer_id: str,
    branch_id: str,
    start: datetime | str,
    end: datetime | str,
    price_id: str,
    provider_id: str | None,
    exclude: Set[str] = frozenset(),
) -> list[dict]:
    """The reservations that match one create item (oldest ``reservationNumber`` first),
    leaving out cancelled ones and the ids in ``exclude`` (already mapped)."""
    start = clock.from_iso(start) if isinstance(start, str) else start
    end = clock.from_iso(end) if isinstance(end, str) else end
    rows = await client.all(
        "reservations",
        {
            "customerId": customer_id,
            "branchId": branch_id,
            "dateMin": mapping.cloud_time(start),
            "dateMax": mapping.cloud_time(start),
        },
    )
    found = []
    for row in rows:
        if str(row.get("id")) in exclude or mapping.is_cancelled(row):
            continue
        try:
            row_start, row_end = clock.from_iso(row.get("startAt")), clock.from_iso(row.get("endAt"))
        except (TypeError, ValueError):
            continue
        if row_start != start or row_end != end or str(row.get("customerId")) != customer_id:
            continue
        got, _ = names.price(row.get("productName"), row.get("priceName"))
        if got != price_id:
            continue
        providers = [p for p in row.get("providers") or [] if str(p).strip()]
        resolved = [names.provider(p)[0] for p in providers]
        if resolved != ([provider_id] if provider_id else []):
            continue
        found.append(row)
    return sorted(found, key=lambda r: r.get("reservationNumber") or 0)


async def find_customer(client: RekazClient, mobile: str | None) -> dict | None:
    """The customer with this mobile number (the newest, by ``customerNumber``, when there
    are several), or None. Pages through every customer."""
    wanted = mapping.mobile_key(mobile)
    if not wanted:
        return None
    best = None
    async for items, _ in client.pages("customers"):
        for item in items:
            if mapping.mobile_key(item.get("mobileNumber")) == wanted:
                if best is None or (item.get("customerNumber") or 0) >= (best.get("customerNumber") or 0):
                    best = item
    return best


async def attendance_state(client: RekazClient, customer_id: str, reservation_id: str) -> list[str]:
    """The kinds (``CheckIn``/``CheckOut``) recorded for one reservation, oldest first
    (``GET /attendances?customerId=`` lists newest first)."""
    kinds = []
    async for items, _ in client.pages("attendances", {"customerId": customer_id}):
        for item in items:
            kind, target = mapping.attendance_kind(item)
            if str(item.get("actionId")) == reservation_id and kind and target != mapping.SUBSCRIPTION:
                kinds.append(kind)
    return list(reversed(kinds))
