"""A generated Qmatic clinic: two branches in different zones (Sunday to Thursday
08:00-20:00, Saturday 09:00-14:00, Friday closed, a holiday ten days ahead), doctors and a
dental chair as resources, four services (one with a required resource choice and a
required question, one where the cloud picks the doctor, a virtual pool for vaccinations,
a staff-only dental cleaning with its own morning hours at one branch), two service groups
and one ungrouped service, names in English, French and German, known customers (each
with a ``personalIdentifier``), and confirmed appointments on the services' time slots
from yesterday to 30 days ahead, today included, a few of them cancelled since.

Deterministic for a ``seed`` (reference ids included; appointment ids are fresh GUIDs).
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from .model import CANCELLED, QmaticCloud

SUN_TO_THU = {day: [("08:00", "20:00")] for day in (6, 0, 1, 2, 3)}
WEEK = {**SUN_TO_THU, 5: [("09:00", "14:00")]}  # Monday 0 ... Sunday 6; Friday (4) closed
MORNINGS = {day: [("08:00", "14:00")] for day in WEEK}
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
BRANCHES = [
    (
        "Istiqbal Clinic Riyadh",
        "Asia/Riyadh",
        {"streetName": "King Fahd Road 12", "zipCode": "12271", "city": "Riyadh", "country": "Saudi Arabia"},
        {"longitude": 46.6753, "latitude": 24.7136},
        ("Dr. Sara Qahtani", "Dr. Omar Haddad"),
    ),
    (
        "Istiqbal Clinic Dubai",
        "Asia/Dubai",
        {
            "streetName": "Sheikh Zayed Road 8",
            "zipCode": "00000",
            "city": "Dubai",
            "country": "United Arab Emirates",
        },
        {"longitude": 55.2708, "latitude": 25.2048},
        ("Dr. Lina Farouk", "Dr. Yousef Kareem"),
    ),
]
REASON = {
    "required": True,
    "questionText": "Reason for the visit",
    "clarificationText": "A few words for the doctor",
}
ALLERGIES = {"required": False, "questionText": "Known allergies", "clarificationText": "Leave empty if none"}
VACCINE = {"required": True, "questionText": "Which vaccine?", "clarificationText": "e.g. influenza"}
SCREENING = {
    "yesRequiredAnswer": True,
    "questionText": "Are you free of fever today?",
    "clarificationText": "Please reschedule if you have a fever",
    "answerDeniedMessage": "Please book again once you are well",
}


def generate_clinic(
    cloud: QmaticCloud,
    today: date | None = None,
    *,
    seed: int = 7,
    customers: int | list = 24,
    appointments: int = 80,
    days: tuple[int, int] = (-1, 30),
) -> dict:
    """Fill ``cloud``; returns ``{"tenant", "branches": [ids], "resources": {branch: [ids]},
    "services": {branch: [ids]}, "groups": [ids], "customers": [customer as in confirm],
    "appointments": [ids]}``. ``today`` is branch-local (default: the cloud clock's date);
    ``appointments`` confirmed ones are made (as many as find a free slot), at least one today.
    ``customers``: how many known customers to invent, or the customers themselves (dicts as a
    confirm sends them, e.g. the desk's own with its ``personalIdentifier``)."""
    rng = random.Random(seed)

    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    now = cloud.clock.now()
    out = {
        "tenant": cloud.tenant,
        "branches": [],
        "resources": {},
        "services": {},
        "groups": [],
        "customers": [],
        "appointments": [],
    }
    branches = []
    for name, zone, address, location, doctors in BRANCHES:
        local_today = today or now.astimezone(ZoneInfo(zone)).date()
        branch = cloud.add_branch(
            name,
            zone,
            hours=WEEK,
            address=address,
            location=location,
            closed={local_today + timedelta(days=10)},
            ident=guid(),
        )
        people = [cloud.add_resource(branch.id, d, ident=guid()).id for d in doctors]
        chair = cloud.add_resource(branch.id, "Dental chair 1", ident=guid()).id if not branches else None
        branches.append((branch, people, chair))
        out["branches"].append(branch.id)
        out["resources"][branch.id] = people + ([chair] if chair else [])
    consult = cloud.add_service(
        {
            "en_US": "General consultation",
            "en_UK": "General consultation",
            "fr_FR": "Consultation générale",
            "de_DE": "Allgemeine Sprechstunde",
        },
        30,
        descriptions={"en_US": "A visit with the doctor of your choice"},
        questions=[REASON, ALLERGIES],
        screening=[SCREENING],
        ident=guid(),
    )
    follow = cloud.add_service(
        {"en_US": "Follow-up", "fr_FR": "Suivi", "de_DE": "Nachkontrolle"},
        15,
        descriptions={"en_US": "A short follow-up visit"},
        ident=guid(),
    )
    vaccine = cloud.add_service(
        {"en_US": "Vaccination", "fr_FR": "Vaccination", "de_DE": "Impfung"},
        20,
        max_reservations=4,
        questions=[VACCINE],
        ident=guid(),
    )
    dental = cloud.add_service(
        {"en_US": "Dental cleaning", "fr_FR": "Détartrage", "de_DE": "Zahnreinigung"},
        45,
        online_bookable=False,
        ident=guid(),
    )
    for branch, people, chair in branches:
        cloud.offer(consult.id, branch.id, resources=people, selection_required=True)
        cloud.offer(follow.id, branch.id, resources=people)
        cloud.offer(vaccine.id, branch.id, pool=2)
        offered = [consult.id, follow.id, vaccine.id]
        if chair:
            cloud.offer(dental.id, branch.id, resources=[chair], hours=MORNINGS)
            offered.append(dental.id)
        out["services"][branch.id] = offered
    out["groups"] = [
        cloud.add_group(
            {"en_US": "General medicine", "fr_FR": "Médecine générale", "de_DE": "Allgemeinmedizin"},
            [consult.id, follow.id],
            ident=guid(),
        ).id,
        cloud.add_group(
            {"en_US": "Dental care", "fr_FR": "Soins dentaires", "de_DE": "Zahnpflege"},
            [dental.id],
            ident=guid(),
        ).id,
    ]
    for n in range(customers if isinstance(customers, int) else 0):
        first, last = PEOPLE[n % len(PEOPLE)]
        customer = {
            "personalIdentifier": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
            "firstName": first,
            "lastName": last if n < len(PEOPLE) else f"{last} {n}",
            "email": f"{first.lower()}.{n}@example.com",
            "phoneNumber": f"9665{rng.randrange(10**7, 10**8)}",
        }
        if n % 4 == 0:
            customer["dateOfBirth"] = date(
                1960 + rng.randrange(50), rng.randrange(1, 13), rng.randrange(1, 29)
            ).isoformat()
        out["customers"].append(customer)
    if not isinstance(customers, int):
        out["customers"] = [dict(c) for c in customers]
    services = [consult, follow, vaccine, dental]
    made, attempts = 0, 0
    while made < appointments and attempts < appointments * 20:
        attempts += 1
        service = rng.choice(services)
        branch, people, chair = rng.choice([b for b in branches if b[0].id in service.offers])
        offset = 0 if made < max(1, appointments // 10) else rng.randint(days[0], days[1])
        day = (today or now.astimezone(branch.zone).date()) + timedelta(days=offset)
        grid = cloud._grid(service, service.offers[branch.id], branch, day)
        if not grid:
            continue
        start, _ = rng.choice(grid)
        offer = service.offers[branch.id]
        resource = rng.choice(offer.resources) if offer.resources else None
        customer = rng.choice(out["customers"])
        answers = [
            {"questionText": q["questionText"], "answer": [rng.choice(("Check-up", "Back pain", "Fever"))]}
            for q in service.questions
            if q["required"]
        ]
        try:
            record = cloud.online_booking(
                service.id,
                branch.id,
                start,
                customer,
                resource_id=resource,
                answers=answers,
                check_grid=True,
                notes=rng.choice((None, None, "First visit", "Needs an interpreter")),
                source="staff" if not service.online_bookable or rng.random() < 0.3 else "online",
            )
        except ValueError:
            continue  # that slot is taken
        record.created = min(now, record.start) - timedelta(
            days=rng.randrange(1, 20), minutes=rng.randrange(600)
        )
        if record.start > now and rng.random() < 0.08:
            record.state = CANCELLED
        out["appointments"].append(record.id)
        made += 1
    return out


def customer_of(clinic: dict, n: int = 0) -> dict:
    """The ``n``-th known customer of a generated clinic (a copy, as a confirm sends it)."""
    return dict(clinic["customers"][n % len(clinic["customers"])])


__all__ = ["customer_of", "generate_clinic"]
