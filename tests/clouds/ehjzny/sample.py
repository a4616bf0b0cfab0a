"""A small clinic in the shape :meth:`CloudState.load` takes, for the simulation's own tests
and for ``python -m tests.clouds.ehjzny``.

Two doctors, three booking types, three customers, working hours Saturday to Thursday
09:00–13:00 and 16:00–21:00 (time rules in the contract's
shape, "Shapes the reference lost"; 0 = Sunday).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .rules import iso

#: the ids of the bookings the sample clinic starts with (every other id is random)
BOOKING_IDS = frozenset({"bkMorning"})
WEEK = [6, 0, 1, 2, 3, 4]  # Saturday to Thursday (0 = Sunday)
HOURS = {
    "depthOfDays": 30,
    "scheduleAfterHoursFromNow": 0,
    "rules": [{"weekDays": WEEK, "times": [{"from": 900, "to": 1300}, {"from": 1600, "to": 2100}]}],
}


def _names(en: str, ar: str) -> dict:
    return {"name": en, "name_translations": {"en": en, "ar": ar}}


def sample_clinic(today: date, zone: str = "Asia/Riyadh") -> dict:
    types = [
        {"id": "typeGeneral", **_names("General consultation", "كشف عام"), "minutes": 20, "price": "150.00"},
        {"id": "typeFollowUp", **_names("Follow-up", "مراجعة"), "minutes": 10, "price": "0.00"},
        {
            "id": "typeDental",
            **_names("Dental cleaning", "تنظيف أسنان"),
            "minutes": 30,
            "price": "200.00",
            "leaveMinutesAfter": 10,
        },
    ]
    resources = [
        {
            "id": "resAhmed",
            **_names("Dr. Ahmed", "د. أحمد"),
            "category": "general",
            "types": ["typeGeneral", "typeFollowUp"],
        },
        {
            "id": "resSara",
            **_names("Dr. Sara", "د. سارة"),
            "category": "dental",
            "types": ["typeGeneral", "typeDental"],
        },
    ]
    customers = [
        {"id": "cusHuda", "firstName": "Huda", "lastName": "Saleh", "phone": "+966500000001"},
        {"id": "cusOmar", "firstName": "Omar", "lastName": "Nasser", "phone": "+966500000002"},
        {"id": "cusLina", "firstName": "Lina", "lastName": "Fahad", "email": "lina@example.com"},
    ]
    start = datetime.combine(today, time(12, 0), ZoneInfo(zone))
    bookings = [
        {
            "id": "bkMorning",
            "status": "CONFIRMED",
            "typeId": "typeGeneral",
            "resourceId": "resAhmed",
            "customerId": "cusHuda",
            "startDateTime": iso(start),
            "duration": 20,
            "createdAt": iso(start - timedelta(days=2)),
        },
    ]
    return {
        "organization": {"timeZone": zone, **_names("Sample clinic", "عيادة تجريبية")},
        "resources": resources,
        "types": types,
        "customers": customers,
        "bookings": bookings,
        "timeRules": {r["id"]: HOURS for r in resources},
    }
