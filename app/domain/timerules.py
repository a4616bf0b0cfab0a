"""Working hours of a resource ("Time Rules" and "Off Rules", seed 000 "Manage Time Rules").

The seed's ``PUT /management/resources/{id}/timeRules`` body is
``{"depthOfDays": int, "rules": [...], "scheduleAfterHoursFromNow": int}``; the shape of a
rule is not spelled out there, so this project fixes it (branch-local wall times)::

    {"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 900, "to": 1300}

``from``/``to`` are military times (``1330`` = 13:30), ``to`` exclusive. Several rules on
one day give several periods (a break between them). Off rules are date ranges
(inclusive, branch-local) on which the resource does not work::

    {"offRules": [{"from": "2026-11-25", "to": "2026-11-26", "reason": "conference"}]}

``scheduleAfterHoursFromNow``: -1 = from tomorrow, 0 = now, n = n hours from now.
``depthOfDays``: how many days ahead may be booked (0 = no limit).
"""

from __future__ import annotations

from datetime import date

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()


def day_name(day: date) -> str:
    return DAY_NAMES[day.weekday()]


def periods_on(time_rules: dict | None, day: date) -> list[tuple[int, int]]:
    """Working periods of ``day`` as sorted ``(from, to)`` military pairs; [] on a day off."""
    if not time_rules:
        return []
    iso = day.isoformat()
    for off in time_rules.get("offRules") or []:
        if off.get("from", "") <= iso <= off.get("to", ""):
            return []
    name = day_name(day)
    periods = [
        (int(rule["from"]), int(rule["to"]))
        for rule in time_rules.get("rules") or []
        if name in rule.get("days", ()) and int(rule["to"]) > int(rule["from"])
    ]
    return sorted(periods)
