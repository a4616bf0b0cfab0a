"""A generated DigitalBooker clinic: two locations (branches) of one account, workers
(providers; one works at both locations) and resources (rooms) in their categories, dated
work hours for every day from yesterday to 30 days ahead (split shifts, a day off, Fridays
closed), service categories and services (priced with tax, free, one with offsets and a
room), registered, company and temporary users in a user group, a class with its bookings,
and bookings spread over the days around ``today``: confirmed and not, made in the admin
(interface 1) and on the booking site (interface 2, some with a campaign code), some paid
(cash, online, prepaid; one part-paid), some modified, one resource booking, one waiting for
a worker, and a few deleted on the days before. Deterministic for a ``seed``.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from .model import ADMIN, WWW, DigitalBookerCloud, DigitalBookerError, hhmm

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
SUN_THU = (6, 0, 1, 2, 3)  # date.weekday(): Sunday to Thursday; Friday (4) is closed


def _t(text: str) -> time:
    return time.fromisoformat(text)


def generate_clinic(
    cloud: DigitalBookerCloud,
    today: date | None = None,
    *,
    seed: int = 7,
    users: int = 24,
    bookings: int = 120,
    days: tuple[int, int] = (-1, 14),
) -> dict:
    """Fill ``cloud``; returns ``{"locations": [ids], "workers": {location: [ids]},
    "rooms": {location: [ids]}, "services": {location: [ids]}, "users": [ids],
    "temporary_users": [ids], "classes": [ids], "deleted": [ids]}``. ``bookings`` service
    bookings are made in all over ``days`` (relative to ``today``, the cloud's local date)."""
    rng = random.Random(seed)
    today = today or cloud.today()
    out: dict = {
        "locations": [],
        "workers": {},
        "rooms": {},
        "services": {},
        "users": [],
        "temporary_users": [],
        "classes": [],
        "deleted": [],
    }
    for n in range(users):
        first, last = PEOPLE[n % len(PEOPLE)]
        body = {
            "first_name": first,
            "last_name": last if n < len(PEOPLE) else f"{last} {n}",
            "email": f"{first.lower()}.{n}@example.com",
            "phone": f"+96650{1000000 + n * 7919 % 9000000}",
            "city": "Riyadh",
            "gender": ("female", "male")[n % 2],
            "birth_year": 1960 + n,
        }
        if n == 5:
            body["type"] = "company"
        out["users"].append(cloud.create_user(body)["id"])
    for n in range(
        2
    ):  # walk-ins with neither email nor phone (not in the user list, API reference "List user objects")
        out["temporary_users"].append(
            cloud.create_user({"type": "temporary", "first_name": "Walk-in", "last_name": f"Guest {n + 1}"})[
                "id"
            ]
        )
    vip = cloud.add_user_group({"en": "VIP", "ar": "كبار العملاء"})
    vip["members"].extend(out["users"][:4])
    cloud.add_user_group({"en": "Staff family", "ar": "عائلات الموظفين"})

    riyadh = cloud.add_location(
        {"en": "Istiqbal Clinic Olaya", "ar": "عيادة استقبال العليا"},
        "olaya",
        address={"en": "Olaya Street 12", "ar": "شارع العليا 12"},
        zip_code="12211",
        city={"en": "Riyadh", "ar": "الرياض"},
        country="SA",
        phone="+966112345678",
        latitude=24.69,
        longitude=46.68,
        external_id="branch-olaya",
    )
    north = cloud.add_location(
        {"en": "Istiqbal Clinic North", "ar": "عيادة استقبال الشمال", "fi": "Pohjoinen"},
        "north",
        address={"en": "King Salman Road 40"},
        city={"en": "Riyadh"},
        country="SA",
        phone="+966117654321",
        in_menu=False,
    )
    for location in (riyadh, north):
        cloud.add_view(location["id"], {"en": "Book an appointment", "ar": "احجز موعدًا"}, "book", "services")
        cloud.add_view(location["id"], {"en": "Classes"}, "classes", "classes")
    doctors = cloud.add_resource_category({"en": "Doctors", "ar": "الأطباء"}, "worker")
    dentists = cloud.add_resource_category({"en": "Dentists", "ar": "أطباء الأسنان"}, "worker")
    rooms = cloud.add_resource_category({"en": "Rooms", "ar": "الغرف"}, "resource")

    def worker(name_en, name_ar, category, locations):
        return cloud.add_resource(
            "worker",
            {"en": name_en, "ar": name_ar},
            category["id"],
            [loc["id"] for loc in locations],
            description={"en": "Physician"},
            external_id=f"staff-{name_en.split()[-1].lower()}",
        )["id"]

    sara = worker("Dr. Sara Qahtani", "د. سارة القحطاني", doctors, [riyadh])
    omar = worker("Dr. Omar Haddad", "د. عمر حداد", doctors, [riyadh, north])
    lina = worker("Dr. Lina Farouk", "د. لينا فاروق", dentists, [riyadh])
    yousef = worker("Dr. Yousef Kareem", "د. يوسف كريم", doctors, [north])
    maha = worker("Dr. Maha Ali", "د. مها علي", dentists, [north])
    room1 = cloud.add_resource("resource", {"en": "Room 1", "ar": "الغرفة 1"}, rooms["id"], [riyadh["id"]])[
        "id"
    ]
    xray = cloud.add_resource(
        "resource", {"en": "X-ray room", "ar": "غرفة الأشعة"}, rooms["id"], [riyadh["id"]], bookable=False
    )["id"]
    room_a = cloud.add_resource("resource", {"en": "Room A", "ar": "الغرفة أ"}, rooms["id"], [north["id"]])[
        "id"
    ]

    off = today + timedelta(days=3)
    shifts = {  # (worker, location): weekday → intervals
        (sara, riyadh["id"]): {**{d: [("08:00", "14:00")] for d in SUN_THU}, 5: [("09:00", "13:00")]},
        (omar, riyadh["id"]): {d: [("13:00", "20:00")] for d in (6, 0, 1, 2)},
        (omar, north["id"]): {3: [("10:00", "18:00")]},
        (lina, riyadh["id"]): {d: [("08:00", "12:00"), ("13:00", "20:00")] for d in SUN_THU},
        (yousef, north["id"]): {d: [("09:00", "17:00")] for d in SUN_THU},
        (maha, north["id"]): {d: [("10:00", "18:00")] for d in (5, 6, 0, 1, 2)},
    }
    for (ident, location_id), week in shifts.items():
        hours = {}
        for offset in range(-1, 31):
            day = today + timedelta(days=offset)
            spans = [] if (ident == lina and day == off) else week.get(day.weekday(), [])
            hours[day] = [(_t(a), _t(b)) for a, b in spans]
        cloud.set_work_hours(ident, location_id, hours)

    general = cloud.add_service_category({"en": "General medicine", "ar": "الطب العام"})
    dental = cloud.add_service_category({"en": "Dental", "ar": "الأسنان"})
    both = [riyadh["id"], north["id"]]
    consult = cloud.add_service(
        {"en": "Consultation", "ar": "استشارة"},
        general["id"],
        [30],
        [sara, omar, lina, yousef, maha],
        both,
        price=230.0,
        tax_percent=15,
        description={"en": "A first visit with a physician"},
    )
    follow = cloud.add_service(
        {"en": "Follow-up", "ar": "متابعة"}, general["id"], [15, 30], [sara, omar, yousef], both
    )
    cleaning = cloud.add_service(
        {"en": "Dental cleaning", "ar": "تنظيف الأسنان"},
        dental["id"],
        [45],
        [lina, maha],
        both,
        price=345.0,
        tax_percent=15,
        start_offset=5,
        end_offset=10,
    )
    services = [consult, follow, cleaning]
    out["locations"] = [riyadh["id"], north["id"]]
    out["workers"] = {riyadh["id"]: [sara, omar, lina], north["id"]: [omar, yousef, maha]}
    out["rooms"] = {riyadh["id"]: [room1, xray], north["id"]: [room_a]}
    out["services"] = {riyadh["id"]: [s.id for s in services], north["id"]: [s.id for s in services]}
    room_of = {riyadh["id"]: room1, north["id"]: room_a}

    now = cloud.clock.now()
    span = days[1] - days[0] + 1
    slots = [(loc, w) for loc, ws in out["workers"].items() for w in ws]
    per_day = max(1, -(-bookings // (span * len(slots))))
    made = 0
    for offset in range(days[0], days[1] + 1):
        day = today + timedelta(days=offset)
        for location_id, ident in slots:
            if made >= bookings:
                break
            for a, b in cloud.work_hours.get((ident, location_id, day), [])[:1]:
                cursor = datetime.combine(day, a)
                for _ in range(per_day):
                    if made >= bookings:
                        break
                    offered = [s for s in services if ident in s.workers]
                    service = rng.choice(offered)
                    cursor += timedelta(minutes=rng.choice((0, 15, 30)) + service.start_offset)
                    if cursor + timedelta(
                        minutes=service.durations[0] + service.end_offset
                    ) > datetime.combine(day, b):
                        break
                    resources = [ident] + ([room_of[location_id]] if service is cleaning else [])
                    interface = WWW if rng.random() < 0.4 else ADMIN
                    try:
                        booking = cloud.create_service_booking(
                            {
                                "location_id": location_id,
                                "service_id": service.id,
                                "date": day.isoformat(),
                                "start_time": hhmm(cursor),
                                "resources": resources,
                                "user_id": rng.choice(out["users"]),
                            },
                            interface=interface,
                        )
                    except DigitalBookerError:
                        cursor += timedelta(minutes=service.durations[0])
                        continue
                    cursor += timedelta(minutes=service.durations[0] + service.end_offset + 30)
                    made += 1
                    _history(cloud, cloud.bookings[booking["id"]], rng, now)
    _extras(cloud, out, rng, today, now, riyadh["id"], consult, follow, room1, general)
    return out


def _history(cloud: DigitalBookerCloud, record: dict, rng: random.Random, now: datetime) -> None:
    """Back-date the booking's creation, then confirm, pay and mark it as the desk would find it."""
    start = datetime.combine(record["date"], record["start"]).replace(tzinfo=cloud.zone)
    created = min(
        now - timedelta(minutes=30), start - timedelta(days=rng.randrange(1, 20), minutes=rng.randrange(600))
    )
    record["_created"] = created
    if record["interface"] == WWW:
        if rng.random() < 0.3:
            record["campaign_code"] = rng.choice(("RAMADAN", "WINTER26"))
        if rng.random() < 0.2:
            record["notes"] = "First visit, please call before."
    changed = created + (now - created) * rng.random()
    if rng.random() < 0.6:
        record["confirmed"] = True
        if rng.random() < 0.5:
            record["_modified"] = changed
    if record["price"]:
        roll = rng.random()
        paid_before = start <= now and roll < 0.7
        if paid_before or roll < 0.1:
            kind = "cash" if paid_before else rng.choice(("online", "prepaid"))
            record["payments"].append(
                {"id": cloud.new_id("payment"), "type": kind, "amount": record["price"], "tax": 15.0}
            )
            record["_modified"] = max(changed, created + timedelta(minutes=1))


def _extras(cloud, out, rng, today, now, location_id, consult, follow, room1, general) -> None:
    """One of each rarer case: part-paid, a resource booking, a class with bookings, a booking
    waiting for a worker, a temporary user's booking, deletions on the days before."""
    users = out["users"]
    tomorrow = today + timedelta(days=1)
    made = [b for b in cloud.bookings.values() if b["price"] and not b["payments"] and b["date"] > today]
    if made:
        part = made[0]
        part["payments"].append({"id": cloud.new_id("payment"), "type": "cash", "amount": 100.0, "tax": 15.0})
        part["_modified"] = now - timedelta(hours=2)
    for start in ("07:00", "07:30", "06:30"):
        try:
            room = cloud.create_resource_booking(
                {
                    "location_id": location_id,
                    "date": tomorrow.isoformat(),
                    "start_time": start,
                    "duration": "00:45",
                    "resources": [room1],
                    "user_id": users[1],
                }
            )
            cloud.bookings[room["id"]]["_created"] = now - timedelta(days=2)
            break
        except DigitalBookerError:
            continue
    category = cloud.add_class_category({"en": "Group sessions", "ar": "جلسات جماعية"})
    kind = cloud.add_class_type(
        {"en": "Diabetes education", "ar": "التثقيف السكري"},
        category["id"],
        {"en": "A group session with a nurse"},
    )
    held = cloud.add_class(
        kind["id"],
        location_id,
        today + timedelta(days=2),
        _t("17:00"),
        _t("18:00"),
        price=50.0,
        tax_percent=15,
        max_bookings=8,
    )
    out["classes"].append(held["id"])
    for user_id in users[6:9]:
        booking = cloud.create_course_booking({"course_id": held["id"], "user_id": user_id})
        cloud.bookings[booking["id"]]["_created"] = now - timedelta(days=1)
    for hour in range(9, 19):  # a booking made online with no worker chosen: waiting for one
        try:
            cloud.online_booking(location_id, follow.id, tomorrow, time(hour, 45), user_id=users[10])
            break
        except DigitalBookerError:
            continue
    temp = out["temporary_users"][0]
    for hour in range(8, 14):
        try:
            cloud.create_service_booking(
                {
                    "location_id": location_id,
                    "service_id": consult.id,
                    "date": today.isoformat(),
                    "start_time": f"{hour:02d}:50",
                    "resources": [out["workers"][location_id][0]],
                    "user_id": temp,
                }
            )
            break
        except DigitalBookerError:
            continue
    for days_ago in (2, 1, 0):  # deleted on the days before (and today)
        for hour in range(8, 20):
            try:
                gone = cloud.create_service_booking(
                    {
                        "location_id": location_id,
                        "service_id": follow.id,
                        "date": (today + timedelta(days=5)).isoformat(),
                        "start_time": f"{hour:02d}:05",
                        "resources": [],
                        "user_id": rng.choice(users),
                    }
                )
                break
            except DigitalBookerError:
                continue
        moment = now - timedelta(days=days_ago, hours=1)
        cloud.bookings[gone["id"]]["_created"] = moment - timedelta(days=1)
        cloud.remove(gone["id"], moment)
        out["deleted"].append(gone["id"])
    cloud.changed()
