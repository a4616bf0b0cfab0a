"""A generated Rekaz clinic: two branches with Arabic and English names, providers, priced
and free products (each with pricing), customers with mobile numbers written the ways
the API reference's samples write them, reservations around ``today`` in every status, queue
reservations with no provider, and attendances (check-ins and check-outs) for the
visits already under way or over. Deterministic for a given ``seed``.

Everything is made through :class:`~.model.RekazCloud`'s own rules, so the clinic obeys
them (no provider double-booked, statuses as a create gives them).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .model import CHECK_OUT, PENDING, RekazCloud, RekazError

PROVIDERS = ["د. سارة القحطاني", "Dr. Omar Haddad", "د. خالد العتيبي", "Dr. Lina Farouk", "أخصائية نورة"]
FIRST = [
    ("محمد", "Mohammed"),
    ("فاطمة", "Fatimah"),
    ("عبدالله", "Abdullah"),
    ("نورة", "Noura"),
    ("أحمد", "Ahmed"),
    ("ريم", "Reem"),
    ("خالد", "Khalid"),
    ("هند", "Hind"),
    ("سلمان", "Salman"),
    ("لطيفة", "Latifa"),
]
LAST = [
    ("الشهري", "Alshehri"),
    ("الحربي", "Alharbi"),
    ("الغامدي", "Alghamdi"),
    ("الزهراني", "Alzahrani"),
    ("المطيري", "Almutairi"),
]


def generate_clinic(
    cloud: RekazCloud,
    today: date | None = None,
    *,
    seed: int = 7,
    customers: int = 24,
    per_day: int = 8,
    days: tuple[int, int] = (-1, 7),
    second_branch_books: bool = True,
) -> dict:
    """Fill ``cloud`` with a clinic; returns ``{"branches", "providers", "products", "prices"}``
    (lists of ids; ``prices`` maps an English price name to its id). ``per_day``
    reservations per branch and day, for the days ``today + days[0] … today + days[1]``.

    The providers of the general consultation and the free advice work in both branches, so
    a reservation of the second branch takes their time in the first one too (a provider
    holds one reservation at a time, NOTES.md). ``second_branch_books=False`` leaves the
    second branch without reservations: a clinic where the first branch's desk, which reads
    its own branch only, sees all of its providers' time."""
    rng = random.Random(seed)
    today = today or cloud.clock.now().astimezone(cloud.zone).date()
    main = cloud.add_branch("الفرع الرئيسي", "Main Branch")
    north = cloud.add_branch("فرع الملقا", "Al Malqa Branch", "https://maps.example.com/malqa")
    both = [main["id"], north["id"]]
    staff = [cloud.add_provider(name)["id"] for name in PROVIDERS]
    general = cloud.add_product(
        "كشف عام",
        "General consultation",
        [
            {"nameAr": "كشف جديد", "nameEn": "New visit", "amount": 200, "duration": 30},
            {"nameAr": "مراجعة", "nameEn": "Follow-up", "amount": 0, "duration": 15},
        ],
        staff[:3],
        both,
    )
    dental = cloud.add_product(
        "تنظيف الأسنان",
        "Dental cleaning",
        [
            {"nameAr": "جلسة", "nameEn": "Session", "amount": 350, "discountedAmount": 300, "duration": 45},
        ],
        [staff[3]],
        [main["id"]],
    )
    advice = cloud.add_product(
        "استشارة مجانية",
        "Free consultation",
        [
            {"nameAr": "استشارة", "nameEn": "Advice", "amount": 0},
        ],
        [staff[1], staff[4]],
        both,
        duration=20,
    )
    products = [general, dental, advice]
    prices = {p["nameEn"]: p["id"] for product in products for p in product["pricing"]}

    people = []
    for n in range(customers):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST) + n) % len(LAST)]
        name = f"{first[0]} {last[0]}" if n % 2 else f"{first[1]} {last[1]}"
        number = f"5{rng.randrange(10**7, 10**8)}"
        mobile = ("+966" + number, "966" + number, "0" + number)[n % 3]
        people.append(cloud.add_customer(name, mobile, both[n % 2])["id"])

    now = cloud.clock.now()
    for offset in range(days[0], days[1] + 1):
        day = today + timedelta(days=offset)
        for branch in (main, north) if second_branch_books else (main,):
            offered = [p for p in products if branch["id"] in p["branchIds"]]
            for _ in range(per_day):
                product = rng.choice(offered)
                price = rng.choice(product["pricing"])
                start = datetime.combine(
                    day, time(rng.randrange(9, 20), rng.choice((0, 15, 30, 45))), cloud.zone
                )
                end = start + timedelta(minutes=cloud.minutes(product, price))
                pool = [p["id"] for p in product["productProviders"]]
                providers = [] if rng.random() < 0.15 else [rng.choice(pool)]
                body = {
                    "customerId": rng.choice(people),
                    "branchId": branch["id"],
                    "items": [
                        {
                            "quantity": 1,
                            "priceId": price["id"],
                            "from": start.isoformat(),
                            "to": end.isoformat(),
                            "providerIds": providers,
                        }
                    ],
                }
                try:
                    made = cloud.bulk_create(
                        body, source=rng.choice(("WebBooking", "PublicApi", "Dashboard"))
                    )
                except RekazError:
                    continue  # the provider is taken then: skip, as a receptionist would
                ident = made["reservationIds"][0]
                _settle(cloud, ident, rng, now)
    return {"branches": both, "providers": staff, "products": [p["id"] for p in products], "prices": prices}


def _settle(cloud: RekazCloud, ident: str, rng: random.Random, now: datetime) -> None:
    """Confirm most priced reservations, cancel a few, and attend the visits under way or over."""
    record = cloud.reservations[ident]
    if record["status"] == PENDING and rng.random() < 0.7:
        cloud.confirm(ident)
    if rng.random() < 0.1:
        cloud.cancel(ident, "customer asked", notify=False)
        return
    if record["_start"] <= now and rng.random() < 0.8:
        cloud.attend(
            {"type": 0, "actionType": 0, "customerId": record["customerId"], "actionId": ident},
            source="Kiosk",
        )
        if record["_end"] <= now and rng.random() < 0.8:
            cloud.kiosk_attendance(ident, CHECK_OUT)
