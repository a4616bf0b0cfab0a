"""A small, hand-written clinic for tests of the rules and the API (the demo clinic is
tested on its own). Two doctors serve general consultations; one also serves dental."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.domain.clock import Clock, from_local, to_iso
from app.i18n.text import normalize_arabic
from app.store import Store

ZONE = "Asia/Riyadh"
#: a Sunday in the branch's zone, a working day; 10:00 local = 07:00 UTC
DAY = date(2026, 11, 22)
WEEK = {
    "rules": [
        {"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 900, "to": 1300},
        {"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 1600, "to": 2100},
    ]
}


def at(military: int, day: date = DAY, zone: str = ZONE) -> datetime:
    return from_local(day, military, zone)


def clock_at(military: int, day: date = DAY) -> Clock:
    return Clock(lambda: at(military, day))


def fill(store: Store, zone: str = ZONE) -> None:
    store.set_setting(
        "branch",
        {"name": "Test clinic", "name_translations": {"en": "Test clinic", "ar": "عيادة"}, "timeZone": zone},
    )
    store.upsert(
        "types",
        [
            {
                "id": "gen",
                "name": "General consultation",
                "name_translations": {"en": "General consultation", "ar": "استشارة عامة"},
                "minutes": 20,
                "leaveMinutesBefore": 0,
                "leaveMinutesAfter": 0,
                "color": "#4f9dde",
                "price": "150.00",
                "autoConfirm": True,
                "on": True,
            },
            {
                "id": "dental",
                "name": "Dental cleaning",
                "name_translations": {"en": "Dental cleaning", "ar": "تنظيف أسنان"},
                "minutes": 30,
                "leaveMinutesBefore": 0,
                "leaveMinutesAfter": 10,
                "color": "#e59a3c",
                "price": "250.00",
                "autoConfirm": True,
                "on": True,
            },
        ],
    )
    store.upsert(
        "resources",
        [
            {
                "id": "dr-sara",
                "name": "Dr. Sara",
                "name_translations": {"en": "Dr. Sara", "ar": "د. سارة"},
                "category": "doctors",
                "types": ["gen", "dental"],
                "on": True,
                "activated": True,
                "timeRules": WEEK,
                "sortOrder": 1,
            },
            {
                "id": "dr-omar",
                "name": "Dr. Omar",
                "name_translations": {"en": "Dr. Omar", "ar": "د. عمر"},
                "category": "doctors",
                "types": ["gen"],
                "on": True,
                "activated": True,
                "timeRules": WEEK,
                "sortOrder": 2,
            },
        ],
    )
    store.upsert(
        "customers",
        [
            {
                "id": f"c{i}",
                "firstName": first,
                "lastName": last,
                "phone": f"+96650000000{i}",
                "email": None,
                "customerNumber": 1000 + i,
                "searchText": normalize_arabic(f"{first} {last}"),
                "createdAt": to_iso(at(800)),
            }
            for i, (first, last) in enumerate(
                [
                    ("أحمد", "الغامدي"),
                    ("Fatima", "Zahra"),
                    ("Noura", "Saleh"),
                    ("Khalid", "Otaibi"),
                    ("ريم", "العتيبي"),
                ],
                start=1,
            )
        ],
    )


def queued_at(minutes_ago: int, now: datetime) -> str:
    return to_iso(now - timedelta(minutes=minutes_ago))


def bearer(token: str) -> dict:
    """The ``Authorization`` header that carries a desk token."""
    return {"Authorization": f"Bearer {token}"}


def serve(service, host: str = "127.0.0.1", port: int = 0, **app_options):
    """A real server over ``service`` on ``host:port`` (started): a
    :class:`~app.server.runner.ServerThread` with ``.app``, ``.token`` (the server's own
    desk's, a manager) and ``.auth`` (its header)."""
    from app.server.api import create_app
    from app.server.runner import ServerThread

    api = create_app(service, **app_options)
    thread = ServerThread(api, host, port).start()
    thread.app, thread.token = api, api.state.desks.local_token
    thread.auth = bearer(thread.token)
    return thread


class Authed:
    """``httpx.get/post/put/delete`` carrying ``server``'s own token (anything with ``.token``)."""

    def __init__(self, server):
        self.headers = bearer(server.token)

    def request(self, method: str, url: str, **kwargs):
        import httpx

        kwargs["headers"] = {**self.headers, **(kwargs.get("headers") or {})}
        return httpx.request(method, url, **kwargs)

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs):
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self.request("DELETE", url, **kwargs)
