"""Working hours of a resource ("Time Rules" and "Off Rules", Ehjzny API reference, "Manage Time Rules";
the Ehjzny page of ``docs/clouds/``, "Shapes the reference lost").

The project's own shape (branch-local wall times, what the desk edits and stores)::

    {"depthOfDays": 30, "scheduleAfterHoursFromNow": 0,
     "rules": [{"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "from": 900, "to": 1300,
                "fromDate"?: "2026-12-01", "toDate"?: "2027-01-31"}],
     "offRules": [{"from": "2026-11-25", "to": "2026-11-26", "reason": "conference"}]}

``from``/``to`` are military times (``1330`` = 13:30, ``2400`` = midnight at the day's end),
``to`` exclusive. Several rules on one day give several periods (overlapping ones are
merged). Off rules are date ranges (inclusive, branch-local) on which the resource does not
work. ``scheduleAfterHoursFromNow``: -1 = from tomorrow, 0 = now, n = n hours from now.
``depthOfDays``: how many days ahead may be booked (0 = no limit).

The cloud's shape (contract) is ``{"depthOfDays", "scheduleAfterHoursFromNow", "rules":
[{"weekDays": [0..6] (0 = Sunday), "times": [{"from": 900, "to": 1700}], "fromDate"?,
"toDate"?}]}``. :func:`read` accepts both and the obvious variants the contract asks a
reader to take (weekday names or numbers, ``"09:00"`` strings or military integers,
``start``/``end`` for ``from``/``to``). Hours it cannot read are **unknown**, never closed:
:func:`unknown` marks them ``{"unknown": true, "reason", "cloud"}`` and :func:`periods_on`
then treats the whole day as open (the desk decides; the sync status says "hours unknown").
"""

from __future__ import annotations

import re
from datetime import date

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
#: the contract's weekday numbers (0 = Sunday) → our names
_NUMBERED = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WHOLE_DAY = [(0, 2400)]
_CLOCK = re.compile(r"^\s*(\d{1,2})(?::|h)?(\d{2})?\s*$|^\s*\d{3,4}\s*$")


class UnreadableTimeRules(ValueError):
    """Time rules in a shape this reader does not know."""


def day_name(day: date) -> str:
    return DAY_NAMES[day.weekday()]


def unknown(reason: str, cloud=None) -> dict:
    """The stored form of hours that could not be read (``cloud``: what came, kept for staff)."""
    return {"unknown": True, "reason": reason, "cloud": cloud}


def is_unknown(time_rules: dict | None) -> bool:
    return bool(isinstance(time_rules, dict) and time_rules.get("unknown"))


def _weekday(value) -> str:
    if isinstance(value, bool):
        raise UnreadableTimeRules(f"not a weekday: {value!r}")
    if isinstance(value, int):
        if 0 <= value <= 7:
            return _NUMBERED[value % 7]
        raise UnreadableTimeRules(f"weekday number out of 0..6: {value}")
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return _weekday(int(text))
        for name in DAY_NAMES:
            if text[:3] == name and (len(text) == 3 or name + text[3:] in _LONG_NAMES):
                return name
    raise UnreadableTimeRules(f"not a weekday: {value!r}")


_LONG_NAMES = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "tues",
    "wednes",
    "thur",
    "thurs",
}


def _military(value) -> int:
    """900, "900", "0900", "09:00", "9h00" → 900; raises UnreadableTimeRules otherwise."""
    if isinstance(value, bool):
        raise UnreadableTimeRules(f"not a time: {value!r}")
    if isinstance(value, int | float) and int(value) == value:
        out = int(value)
    elif isinstance(value, str) and (match := _CLOCK.match(value)):
        hours, minutes = match.group(1), match.group(2)
        out = (
            int(hours) * 100 + int(minutes)
            if minutes is not None and not value.strip().isdigit()
            else int(value.strip())
        )
    else:
        raise UnreadableTimeRules(f"not a time: {value!r}")
    if not (0 <= out // 100 <= 24 and out % 100 < 60) or (out // 100 == 24 and out % 100):
        raise UnreadableTimeRules(f"not a military time: {value!r}")
    return out


def _pick(obj: dict, *keys):
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def _span(obj) -> tuple[int, int]:
    if not isinstance(obj, dict):
        raise UnreadableTimeRules(f"not a period: {obj!r}")
    lo, hi = _pick(obj, "from", "start", "startTime", "begin"), _pick(obj, "to", "end", "endTime", "until")
    if lo is None or hi is None:
        raise UnreadableTimeRules(f"a period needs from and to: {obj!r}")
    return _military(lo), _military(hi)


def _rule(obj) -> list[dict]:
    """One rule of either shape → rules of the project's shape."""
    if not isinstance(obj, dict):
        raise UnreadableTimeRules(f"not a rule: {obj!r}")
    days = _pick(obj, "weekDays", "days", "weekdays", "weekDay", "day")
    if days is None:
        raise UnreadableTimeRules(f"a rule without days: {obj!r}")
    names = sorted({_weekday(d) for d in (days if isinstance(days, list) else [days])}, key=DAY_NAMES.index)
    periods = _pick(obj, "times", "periods", "hours", "slots")
    if periods is None:
        periods = [obj]
    if not isinstance(periods, list):
        raise UnreadableTimeRules(f"times must be a list: {periods!r}")
    dates = {k: str(obj[k]) for k in ("fromDate", "toDate") if obj.get(k)}
    for value in dates.values():
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            raise UnreadableTimeRules(f"not a date: {value!r}") from None
    return [
        {"days": names, "from": lo, "to": hi, **{k: v[:10] for k, v in dates.items()}}
        for lo, hi in map(_span, periods)
    ]


def read(raw) -> dict:
    """Time rules of either shape (module doc) → the project's shape. Raises
    UnreadableTimeRules for anything else (no ``rules`` list, an unreadable rule, day or time)."""
    if is_unknown(raw):
        return raw
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise UnreadableTimeRules("time rules need a list of rules")
    out = {
        "depthOfDays": int(raw.get("depthOfDays") or 0),
        "scheduleAfterHoursFromNow": int(raw.get("scheduleAfterHoursFromNow") or 0),
        "rules": [r for rule in raw["rules"] for r in _rule(rule)],
    }
    off = raw.get("offRules")
    if off:
        if not isinstance(off, list) or not all(
            isinstance(o, dict) and o.get("from") and o.get("to") for o in off
        ):
            raise UnreadableTimeRules("offRules: [{from, to}] dates")
        out["offRules"] = off
    return out


def to_contract(time_rules: dict) -> dict:
    """The project's shape → the cloud's (contract "Shapes the reference lost"): one rule per
    set of days and dates, its periods in ``times``. Off rules have no contract shape and
    stay local. Raises UnreadableTimeRules for unknown or unreadable hours."""
    if is_unknown(time_rules):
        raise UnreadableTimeRules("unknown hours cannot be written")
    ours = read(time_rules)
    grouped: dict[tuple, list] = {}
    for rule in ours["rules"]:
        key = (tuple(_NUMBERED.index(d) for d in rule["days"]), rule.get("fromDate"), rule.get("toDate"))
        grouped.setdefault(key, []).append({"from": rule["from"], "to": rule["to"]})
    rules = []
    for (days, first, last), times in grouped.items():
        rule = {"weekDays": sorted(days), "times": sorted(times, key=lambda t: (t["from"], t["to"]))}
        rule.update({k: v for k, v in (("fromDate", first), ("toDate", last)) if v})
        rules.append(rule)
    return {
        "depthOfDays": ours["depthOfDays"],
        "scheduleAfterHoursFromNow": ours["scheduleAfterHoursFromNow"],
        "rules": rules,
    }


def periods_on(time_rules: dict | None, day: date) -> list[tuple[int, int]]:
    """Working periods of ``day`` as sorted, merged ``(from, to)`` military pairs; [] on a day
    off. Unknown or unreadable hours give the whole day (never "closed")."""
    if not time_rules:
        return []
    if is_unknown(time_rules):
        return list(_WHOLE_DAY)
    iso = day.isoformat()
    for off in time_rules.get("offRules") or []:
        if off.get("from", "") <= iso <= off.get("to", ""):
            return []
    rules = time_rules.get("rules") or []
    if not all(
        isinstance(r, dict)
        and "days" in r
        and "from" in r
        and "to" in r
        and isinstance(r["from"], int)
        and isinstance(r["to"], int)
        for r in rules
    ):
        try:
            rules = read(time_rules)["rules"]
        except UnreadableTimeRules:
            return list(_WHOLE_DAY)
    name = day_name(day)
    found = sorted(
        (int(rule["from"]), int(rule["to"]))
        for rule in rules
        if name in rule.get("days", ())
        and int(rule["to"]) > int(rule["from"])
        and (not rule.get("fromDate") or rule["fromDate"] <= iso)
        and (not rule.get("toDate") or iso <= rule["toDate"])
    )
    merged: list[tuple[int, int]] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged
