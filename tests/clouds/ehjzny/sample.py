"""A small clinic in the ``app.demo.generate_clinic`` shape, for the simulation's own tests
and for ``python -m tests.clouds.ehjzny`` while ``app.demo`` is not there.

Two doctors, three booking types, three customers, working hours Saturday to Thursday
09:00–13:00 and 16:00–21:00 (rule shape of :mod:`app.domain.timerules`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.clock import to_iso

WEEK = ["sat", "sun", "mon", "tue", "wed", "thu"]
HOURS = {"depthOfDays": 30, "scheduleAfterHoursFromNow": 0,
         "rules": [{"days": WEEK, "from": 900, "to": 1300}, {"days": WEEK, "from": 1600, "to": 2100}]}


def _names(en: str, ar: str) -> dict:
    return {"name": en, "name_translations": {"en": en, "ar": ar}}


def sample_clinic(today: date, zone: str = "Asia/Riyadh") -> dict:
    types = [
        {"id": "typeGeneral", **_names("General consultation", "كشف عام"), "minutes": 20, "price": "150.00"},
        {"id": "typeFollowUp", **_names("Follow-up", "مراجعة"), "minutes": 10, "price": "0.00"},
        {"id": "typeDental", **_names("Dental cleaning", "تنظيف أسنان"), "minutes": 30, "price": "200.00",
         "leaveMinutesAfter": 10},
    ]
    resources = [
        {"id": "resAhmed", **_names("Dr. Ahmed", "د. أحمد"), "category": "general",
         "types": ["typeGeneral", "typeFollowUp"]},
        {"id": "resSara", **_names("Dr. Sara", "د. سارة"), "category": "dental",
         "types": ["typeGeneral", "typeDental"]},
    ]
    customers = [
        {"id": "cusHuda", "firstName": "Huda", "lastName": "Saleh", "phone": "+966500000001"},
        {"id": "cusOmar", "firstName": "Omar", "lastName": "Nasser", "phone": "+966500000002"},
        {"id": "cusLina", "firstName": "Lina", "lastName": "Fahad", "email": "lina@example.com"},
    ]
    start = datetime.combine(today, time(12, 0), ZoneInfo(zone))
    bookings = [
        {"id": "bkMorning", "status": "CONFIRMED", "typeId": "typeGeneral", "resourceId": "resAhmed",
         "customerId": "cusHuda", "startDateTime": to_iso(start), "duration": 20,
         "createdAt": to_iso(start - timedelta(days=2))},
    ]
    return {"organization": {"timeZone": zone, **_names("Sample clinic", "عيادة تجريبية")},
            "resources": resources, "types": types, "customers": customers, "bookings": bookings,
            "timeRules": {r["id"]: HOURS for r in resources}}
