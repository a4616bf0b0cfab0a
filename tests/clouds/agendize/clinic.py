"""A generated Agendize clinic: two companies (branches) in different zones, each with
working hours, a closed holiday, staff with their own hours, custom hours and a vacation,
services (priced and free, with buffers), rooms as resources, clients (some with an
``externalId``), appointments around ``today`` in all seven statuses with their
``history[]``, and personal appointments (lunch blocks). Deterministic for a ``seed``.

``appointments`` sets how many normal appointments are made in all (the benchmark of
the issue asks for 50,000); they are inserted with ``force`` so large clinics load fast,
but never double-book a staff member (each one's day is filled slot after slot).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .model import STATUS_HISTORY, AgendizeCloud, _client_user

WEEK = [
    {"day": d, "hours": [{"start": "08:00", "end": "20:00"}]}
    for d in ("sunday", "monday", "tuesday", "wednesday", "thursday")
] + [{"day": "saturday", "hours": [{"start": "09:00", "end": "14:00"}]}]
MORNING = [{"day": d["day"], "hours": [{"start": "08:00", "end": "14:00"}]} for d in WEEK]
EVENING = [{"day": d["day"], "hours": [{"start": "13:00", "end": "20:00"}]} for d in WEEK[:5]]
PEOPLE = [
    ("Huda", "Saleh"),
    ("Omar", "Nasser"),
    ("Lina", "Fahad"),
    ("Yousef", "Kareem"),
    ("Maha", "Ali"),
    ("Faisal", "Otaibi"),
    ("Sara", "Haddad"),
    ("Nasser", "Qahtani"),
    ("Reem", "Shehri"),
    ("Tariq", "Zahrani"),
    ("Dana", "Mutairi"),
    ("Majed", "Harbi"),
]


def generate_clinic(
    cloud: AgendizeCloud,
    today: date | None = None,
    *,
    seed: int = 7,
    clients: int = 24,
    appointments: int = 120,
    days: tuple[int, int] = (-7, 14),
) -> dict:
    """Fill ``cloud``; returns ``{"companies": [ids], "staff": {company: [ids]},
    "services": {company: [ids]}, "clients": [ids]}``."""
    rng = random.Random(seed)
    now = cloud.clock.now()
    today = today or now.date()
    holiday = (today + timedelta(days=10)).isoformat()
    out = {"companies": [], "staff": {}, "services": {}, "clients": []}
    for n in range(clients):
        first, last = PEOPLE[n % len(PEOPLE)]
        body = {
            "firstName": first,
            "lastName": last if n < len(PEOPLE) else f"{last} {n}",
            "email": f"{first.lower()}.{n}@example.com",
            "mobilePhone": f"+96650{rng.randrange(10**6, 10**7)}",
        }
        if n % 3 == 0:
            body["externalId"] = f"desk-{n:04d}"
        out["clients"].append(cloud.create_client(body)["id"])
    for name, zone in (("Istiqbal Clinic Riyadh", "Asia/Riyadh"), ("Istiqbal Clinic Dubai", "Asia/Dubai")):
        company = cloud.add_company(
            name,
            zone,
            working_hours=WEEK,
            address="King Fahd Road",
            vacations=[{"startDate": holiday, "endDate": holiday}],
        )
        off = (today + timedelta(days=3)).isoformat()
        staff = [
            cloud.add_staff(company.id, "Sara", "Qahtani", working_hours=MORNING, email="sara@example.com"),
            cloud.add_staff(
                company.id,
                "Omar",
                "Haddad",
                working_hours=EVENING,
                custom_hours=[
                    {
                        "date": (today + timedelta(days=((4 - today.weekday()) % 7) or 7)).isoformat(),
                        "hours": [{"start": "10:00", "end": "13:00"}],
                    }
                ],
            ),
            cloud.add_staff(
                company.id,
                "Lina",
                "Farouk",
                working_hours=WEEK,
                vacations=[{"startDate": off, "endDate": off}],
            ),
        ]
        ids = [s["id"] for s in staff]
        room = cloud.add_resource(company.id, "Room 1", "room-1")
        cloud.add_resource(company.id, "X-ray room", "xray")
        services = [
            cloud.add_service(
                company.id, "Consultation", 30, ids, price=200, i18n={"fr": {"name": "Consultation"}}
            ),
            cloud.add_service(company.id, "Follow-up", 15, ids[:2]),
            cloud.add_service(
                company.id,
                "Dental cleaning",
                45,
                ids[2:],
                price=350,
                buffer=15,
                resources=[{"id": room["id"], "quantity": 1}],
            ),
        ]
        out["companies"].append(company.id)
        out["staff"][company.id] = ids
        out["services"][company.id] = [s["id"] for s in services]
        _fill(cloud, company, staff, services, out["clients"], rng, today, days, appointments // 2, now)
    return out


def _fill(cloud, company, staff, services, clients, rng, today, days, count, now) -> None:
    span = days[1] - days[0] + 1
    per_staff_day = max(1, -(-count // (span * len(staff))))
    made = 0
    for offset in range(days[0], days[1] + 1):
        day = today + timedelta(days=offset)
        for member in staff:
            cursor = datetime.combine(day, time(8, 0), company.zone)
            if offset % 3 == 0:  # a lunch block now and then
                start = datetime.combine(day, time(13, 0), company.zone)
                cloud.add_personal(company.id, member["id"], start, start + timedelta(minutes=45), "lunch")
            for _ in range(per_staff_day if made < count else 0):
                service = rng.choice([s for s in services if {"id": member["id"]} in s["staff"]])
                cursor += timedelta(minutes=rng.choice((0, 15, 30)))
                start = cursor
                cursor += timedelta(minutes=service["duration"] + service["bufferDuration"] + 45)
                body = {
                    "client": {"id": rng.choice(clients)},
                    "service": {"id": service["id"]},
                    "staff": {"id": member["id"]},
                    "start": cloud.zoned_view(start, company),
                    "status": _status(rng, start, now, service["duration"]),
                    "extendedProperties": {"private": {}, "public": {}},
                }
                source = rng.choice(("widget", "dashboard", "api"))
                user = _client_user(cloud.clients[body["client"]["id"]]) if source == "widget" else None
                ident = cloud.insert(
                    company.id, body, force=True, silent=True, source=source, user=user, reply=False
                )["id"]
                _backdate(cloud, company, company.appointments[ident], rng, now)
                made += 1
    _in_progress(cloud, company, staff, services, clients, now)


def _backdate(cloud, company, record, rng, now) -> None:
    """Booked some days before the start (never after now), then moved to its status."""
    created = min(now, record["_start"] - timedelta(days=rng.randrange(1, 20), minutes=rng.randrange(0, 600)))
    record["_created"] = created
    record["history"][0]["date"] = cloud.zoned_view(created, company)
    if record["status"] not in ("accepted", "pending"):
        kind = STATUS_HISTORY.get(record["status"]) or "user_deleted"
        moment = min(now, max(created, record["_start"]))
        record["history"].append(
            {
                **record["history"][0],
                "type": kind,
                "text": record["status"],
                "date": cloud.zoned_view(moment, company),
                "source": "dashboard",
            }
        )


def _in_progress(cloud, company, staff, services, clients, now) -> None:
    """One visit under way right now (``inProgress``), on a staff member free now."""
    for member in staff:
        service = next(s for s in services if {"id": member["id"]} in s["staff"])
        start = now - timedelta(minutes=5)
        probe = {
            "id": "",
            "_start": start,
            "_end": start + timedelta(minutes=service["duration"]),
            "_staff": member["id"],
            "_resource": None,
            "_service": service["id"],
        }
        if cloud.clash(company, probe) is None:
            body = {
                "client": {"id": clients[0]},
                "service": {"id": service["id"]},
                "staff": {"id": member["id"]},
                "start": cloud.zoned_view(start, company),
                "status": "inProgress",
            }
            cloud.insert(company.id, body, force=True, silent=True, source="dashboard")
            return


def _status(rng: random.Random, start: datetime, now: datetime, minutes: int) -> str:
    end = start + timedelta(minutes=minutes)
    if end <= now:
        return rng.choices(("completed", "noShow", "cancelled", "declined"), (7, 1, 1, 1))[0]
    if start <= now:
        return "inProgress"
    return rng.choices(("accepted", "pending", "cancelled", "declined"), (7, 2, 1, 1))[0]
