"""Export the visible day: CSV for Excel (UTF-8 with BOM) and iCalendar (``.ics``).

Both take the raw booking dicts the desk shows. CSV writes the branch-local date and times
(what a person reads) with translated headers and states. The ``.ics`` file has one
VEVENT per booking, its times converted from the stored UTC to the branch zone with
``TZID`` (and the matching VTIMEZONE), so calendar programs anywhere show clinic time."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from app.domain.clock import from_iso, utc_now
from app.domain.model import Status
from app.i18n import _
from app.i18n.labels import status_label
from app.i18n.text import display_name, strip_bidi_controls
from ui.core import formatting as f

if TYPE_CHECKING:
    from icalendar import Calendar

PRODID = "-//Istiqbal//Clinic front desk//EN"


def _local(iso: str | None, zone: ZoneInfo) -> datetime | None:
    moment = from_iso(iso) if iso else None
    return moment.astimezone(zone) if moment else None


def _rows(bookings: list[dict], include_canceled: bool) -> list[dict]:
    shown = [
        b
        for b in bookings
        if b.get("startDateTime") and (include_canceled or b.get("status") != Status.CANCELED)
    ]
    return sorted(shown, key=lambda b: (b["startDateTime"], b.get("resourceId") or ""))


def csv_header() -> list[str]:
    return [
        _("Date"),
        _("Start"),
        _("End"),
        _("With"),
        _("Customer"),
        _("Phone"),
        _("Customer number"),
        _("Type"),
        _("State"),
        _("Ticket"),
        _("Note"),
    ]


def write_csv(
    path: str | Path,
    bookings: list[dict],
    zone: str,
    types: dict[str, dict],
    resources: list[dict],
    include_canceled: bool = False,
) -> Path:
    """The day's bookings as CSV (UTF-8 with BOM, so Excel reads Arabic names)."""
    tz, by_id = ZoneInfo(zone), {r["id"]: r for r in resources}
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(csv_header())
        for b in _rows(bookings, include_canceled):
            start, end = _local(b["startDateTime"], tz), _local(b.get("endDateTime"), tz)
            customer = b.get("customer") or {}
            resource = by_id.get(b.get("resourceId") or "")
            writer.writerow(
                [
                    start.date().isoformat(),
                    start.strftime("%H:%M"),
                    end.strftime("%H:%M") if end else "",
                    display_name(resource) if resource else "",
                    strip_bidi_controls(f.customer_name(b)),
                    customer.get("phone") or "",
                    customer.get("customerNumber") or "",
                    f.type_name(b, types),
                    status_label(b.get("status"), b.get("visitStatus")),
                    f.ticket_text(b),
                    b.get("note") or "",
                ]
            )
    return Path(path)


def calendar(
    bookings: list[dict],
    zone: str,
    types: dict[str, dict],
    resources: list[dict],
    branch: dict | None = None,
    include_canceled: bool = False,
) -> Calendar:
    from icalendar import Calendar, Event  # here, not on the desk's start-up path

    tz, by_id = ZoneInfo(zone), {r["id"]: r for r in resources}
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-timezone", zone)
    if branch:
        cal.add("x-wr-calname", display_name(branch))
    stamp = utc_now()
    for b in _rows(bookings, include_canceled):
        resource = by_id.get(b.get("resourceId") or "")
        event = Event()
        event.add("uid", f"{b['id']}@istiqbal")
        event.add("dtstamp", stamp)
        event.add("dtstart", _local(b["startDateTime"], tz))
        if b.get("endDateTime"):
            event.add("dtend", _local(b["endDateTime"], tz))
        # Translators: an exported calendar event's title: customer and booking type.
        event.add(
            "summary",
            _("{customer} — {type}").format(
                customer=strip_bidi_controls(f.customer_name(b)), type=f.type_name(b, types)
            ),
        )
        if resource:
            event.add("location", display_name(resource))
        details = [status_label(b.get("status"), b.get("visitStatus"))]
        phone = (b.get("customer") or {}).get("phone")
        if phone:
            details.append(phone)
        if b.get("note"):
            details.append(b["note"])
        event.add("description", "\n".join(details))
        event.add("status", "CANCELLED" if b.get("status") == Status.CANCELED else "CONFIRMED")
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal


def write_ics(
    path: str | Path,
    bookings: list[dict],
    zone: str,
    types: dict[str, dict],
    resources: list[dict],
    branch: dict | None = None,
    include_canceled: bool = False,
) -> Path:
    Path(path).write_bytes(calendar(bookings, zone, types, resources, branch, include_canceled).to_ical())
    return Path(path)
