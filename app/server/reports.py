"""The branch's reports, computed from the local store (so they work offline).

Each report is one or two SQL aggregates (``group by`` in SQLite, never a Python loop over
bookings) over a range of branch-local days, optionally for one resource and/or one
booking type, optionally broken down per resource or per booking type (``groupBy``).
Rows carry ``group``: the resource or booking type id, None for the whole range (or for
bookings with no resource yet).

Which bookings a range holds: those whose start (``startDateTime``; a booking still
waiting, or rejected, in a queue has none and counts on the day it joined, ``createdAt``)
falls within ``[first day 00:00, day after the last 00:00)`` in the branch's zone.
Payments count on the day they were taken (``payments.createdAt``).

Definitions (minutes are real numbers; the quantiles are :func:`app.domain.reports.quantile`):

* **bookings** — count per ``state`` (:data:`app.domain.reports.STATES`: the status, or the
  visit of a CONFIRMED booking) and ``source`` (:data:`app.domain.reports.SOURCES`).
* **no-shows** — of the CONFIRMED bookings made ahead (not through a queue: no
  ``queueNumber``) whose start has passed, those marked ``NO_SHOW``: ``expected``,
  ``noShows``, ``rate`` (0..1).
* **waits** — for every started visit: a booking made ahead waits from its check-in
  (``checkedInAt``) to its start (``startedAt``); a walk-in waits in the queue from joining
  it (``createdAt``) to its start. A walk-in is any booking that came through a queue (it
  has a ``queueNumber``): put in the queue at a desk, or pulled from a cloud's queue (an
  Ehjzny ``PENDING_ASSIGNMENT``), whose start also marks it arrived. ``kind``
  ``booked``/``walk-in``: count, median, p90, mean, minutes.
* **visits** — completed visits: served (``startedAt`` → ``endedAt``) against booked (the
  booking type's ``minutes``): count, mean of each, median and p90 served, ``overran``
  (served longer than booked).
* **utilisation** — per resource: ``workingMinutes`` (its working periods on the range's
  days, :func:`app.domain.availability.working_spans`), ``bookedMinutes`` (``duration`` of
  its pending and confirmed bookings, no-shows included: the time was held for them),
  ``servedMinutes`` (completed visits, start to end), and both over working minutes.
  A booking-type filter keeps that type's bookings and the resources serving it.
* **revenue** — per payment ``method``: ``count``, ``taken`` (payments), ``refunded``
  (refunds, negative), ``net`` (their sum), ``vat`` (VAT in the net), ``netOfVat`` and
  ``cloud`` (the part of ``net`` a cloud reported), in minor units of the branch currency
  (:mod:`app.server.payments`). Each amount of money is counted once:

  - the desk's payments and refunds (``payments``), on the day they were taken;
  - what a cloud reports paid (``cloud_payments``, ``cloud_money``; :mod:`app.sync.apply`),
    on the day of its booking (the range's rule above: a cloud says when it was paid only
    by when the desk pulled it, which a long offline spell or a first sync would pile onto
    one day). A cloud that lists its payments gives their method (DigitalBooker's
    ``cash``/``online``, else ``other``) and VAT rate; a cloud that reports only a paid total
    (Ehjzny's and Rekaz's invoice, Agendize's ``paid``) counts as ``online`` — the booking
    was paid through the cloud (its payment link), not at this desk. Their VAT is worked out
    at the rate a desk payment on that booking would carry. A payment the desk took and
    pushed to a cloud stays the desk's: the cloud's copy is never stored as the cloud's
    (``cloud_ids`` entity ``payment``), so it is not counted twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from functools import lru_cache

from app.domain import availability, errors
from app.domain import payments as payments_rules
from app.domain import reports as rules
from app.domain.clock import local_day_bounds, to_iso
from app.domain.model import Status
from app.server.payments import billing

_GROUP = {None: "null", "resource": "b.resourceId", "type": "b.typeId"}
_DAY = "coalesce(b.startDateTime, b.createdAt)"
#: The expressions of the report indexes (migrations ``m017``, ``m020``: the same trees, or SQLite will not
#: use them): an index in each report's ``group by`` order lets a year be aggregated
#: without sorting it (``indexed by`` when the report is not broken down).
_WAIT = (
    "max(0, case when b.queueNumber is not null then unixepoch(b.startedAt) - unixepoch(b.createdAt)"
    " else unixepoch(b.startedAt) - unixepoch(b.checkedInAt) end)"
)
_SERVED = "unixepoch(b.endedAt) - unixepoch(b.startedAt)"
_ACTIVE = (Status.CONFIRMED, Status.PENDING_APPROVAL, Status.PENDING_PAYMENT)
KINDS = ("bookings", "no-shows", "waits", "visits", "utilisation", "revenue")


def _scope(
    first: date, last: date, zone: str, resource_id: str | None, type_id: str | None, group_by: str | None
) -> tuple[str, str, list]:
    """(group SQL, where SQL over bookings ``b``, params) of one report's range and filters.
    Raises VALIDATION for a range backwards or longer than :data:`rules.MAX_DAYS`, or an
    unknown ``groupBy``."""
    if last < first:
        raise errors.invalid("the range ends before it starts", field="to")
    if (last - first).days + 1 > rules.MAX_DAYS:
        raise errors.invalid(f"a report covers at most {rules.MAX_DAYS} days", field="to")
    if group_by not in _GROUP:
        raise errors.invalid("groupBy takes resource or type", field="groupBy")
    start, end = local_day_bounds(first, zone)[0], local_day_bounds(last, zone)[1]
    where, params = [f"{_DAY} >= ?", f"{_DAY} < ?"], [to_iso(start), to_iso(end)]
    if resource_id:
        where.append("b.resourceId = ?")
        params.append(resource_id)
    if type_id:
        where.append("b.typeId = ?")
        params.append(type_id)
    return _GROUP[group_by], " and ".join(where), params


#: From this many days on a report reads the whole table in its index's order (no sort);
#: a shorter range is found through the day index and its few rows sorted.
LONG_RANGE_DAYS = 45


def _long(first: date, last: date) -> bool:
    return (last - first).days + 1 >= LONG_RANGE_DAYS


def _index(first: date, last: date, group_by: str | None, index: str) -> tuple[bool, str]:
    """(in the index's order, the ``indexed by`` clause) of a bookings report: a long range
    not broken down walks ``index`` (already in its ``group by`` order), anything else the
    day index. Named, not left to the planner: a branch store has no ``ANALYZE`` statistics,
    and without them SQLite took e.g. the status index for one day's no-shows (every
    confirmed booking of the year read: 0.6 s instead of 1 ms)."""
    if group_by is None and _long(first, last):
        return True, f"indexed by {index}"
    return False, "indexed by bookings_report_day"


def _spread(hist: list[tuple[float, int]]) -> dict:
    """count, median, p90 and mean (minutes) of a seconds histogram."""
    count = sum(c for _v, c in hist)
    total = sum(v * c for v, c in hist)
    median, p90 = rules.quantile(hist, 0.5), rules.quantile(hist, 0.9)
    return {
        "count": count,
        "median": None if median is None else median / 60,
        "p90": None if p90 is None else p90 / 60,
        "mean": total / count / 60 if count else None,
    }


@lru_cache(maxsize=256)
def _working_minutes(rules_json: str, first: date, last: date, zone: str) -> float:
    time_rules = json.loads(rules_json) if rules_json else None
    minutes = 0.0
    day = first
    while day <= last:
        for lo, hi in availability.working_spans(time_rules, day, zone):
            minutes += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return minutes


class Reports:
    """``Reports(conn, zone, now, resources, currency)``: the reports of one branch store,
    read through ``conn`` (a ``sqlite3`` connection of its own, so a report may run on a
    worker thread beside the writer); ``now()`` is the server's clock (UTC, aware),
    ``resources`` the store's resources, ``currency`` the branch's (ISO 4217), ``minutes``
    the booking types' lengths, ``vat_rates`` the branch's VAT rates. Every method
    takes ``first``/``last`` (branch-local dates, inclusive), ``resource_id``, ``type_id``,
    ``group_by`` (None, ``"resource"``, ``"type"``) and returns ``{"from", "to", "groupBy",
    "rows": [...]}`` plus its totals."""

    def __init__(
        self,
        conn,
        zone: str,
        now,
        resources: list[dict],
        currency: str,
        minutes: dict[str, int] | None = None,
        vat_rates: dict | None = None,
    ):
        self.conn, self.zone, self.now = conn, zone, now
        self.resources, self.currency = resources, currency
        #: booking type id → its minutes (the booked length of a visit)
        self.minutes = minutes or {}
        #: ``{"rate": bp, "types": {typeId: bp}}``: the branch's VAT rate and the booking types' own
        self.vat_rates = vat_rates or {"rate": payments_rules.VAT_RATE_DEFAULT, "types": {}}

    @classmethod
    def of_store(cls, store, zone: str, now, conn=None) -> Reports:
        """The reports of ``store`` (through ``conn``, default the store's own connection)."""
        settings = billing(store)
        return cls(
            conn or store.db.conn,
            zone,
            now,
            store.resources(),
            settings["currency"],
            {t["id"]: t.get("minutes") for t in store.types()},
            {"rate": settings["vatRate"], "types": settings["typeVatRates"] or {}},
        )

    def _q(self, sql: str, params: list) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def _head(self, first: date, last: date, group_by: str | None) -> dict:
        return {"from": first.isoformat(), "to": last.isoformat(), "groupBy": group_by}

    def run(
        self,
        kind: str,
        first: date,
        last: date,
        resource_id: str | None = None,
        type_id: str | None = None,
        group_by: str | None = None,
    ) -> dict:
        """The report ``kind`` (:data:`KINDS`). Raises NOT-FOUND for another kind."""
        method = {
            "bookings": self.bookings,
            "no-shows": self.no_shows,
            "waits": self.waits,
            "visits": self.visits,
            "utilisation": self.utilisation,
            "revenue": self.revenue,
        }.get(kind)
        if method is None:
            raise errors.not_found("report", kind)
        return method(first, last, resource_id, type_id, group_by)

    def bookings(self, first, last, resource_id=None, type_id=None, group_by=None) -> dict:
        group, where, params = _scope(first, last, self.zone, resource_id, type_id, group_by)
        ordered, by = _index(first, last, group_by, "bookings_report_states")
        rows = self._q(
            f"select {group}, b.source, b.status, b.visitStatus, count(*) from bookings b {by}"
            f" where {where} group by {'' if ordered else '1, '}b.source, b.status, b.visitStatus",
            params,
        )
        counts: dict = defaultdict(int)
        for g, source, status, visit, n in rows:
            state = visit if status == Status.CONFIRMED and visit else status
            counts[(g, state, source or "cloud")] += n
        out = [
            {"group": g, "state": state, "source": source, "count": n}
            for (g, state, source), n in sorted(counts.items(), key=lambda kv: tuple(x or "" for x in kv[0]))
        ]
        return {**self._head(first, last, group_by), "rows": out, "total": sum(r["count"] for r in out)}

    def no_shows(self, first, last, resource_id=None, type_id=None, group_by=None) -> dict:
        group, where, params = _scope(first, last, self.zone, resource_id, type_id, group_by)
        ordered, by = _index(first, last, group_by, "bookings_report_states")
        # a CONFIRMED booking has a start, so the day it counts in is its start (all in the index)
        rows = self._q(
            f"select {group}, count(*), coalesce(sum(b.visitStatus = 'NO_SHOW'), 0) from bookings b {by}"
            f" where {where} and b.status = 'CONFIRMED' and b.queueNumber is null"
            f" and {_DAY} < ?" + (" group by 1" if group_by else ""),
            [*params, to_iso(self.now())],
        )
        out = [{"group": g, "expected": n, "noShows": k, "rate": rules.rate(k, n)} for g, n, k in rows if n]
        expected, no_shows = sum(r["expected"] for r in out), sum(r["noShows"] for r in out)
        return {
            **self._head(first, last, group_by),
            "rows": out,
            "expected": expected,
            "noShows": no_shows,
            "rate": rules.rate(no_shows, expected),
        }

    def waits(self, first, last, resource_id=None, type_id=None, group_by=None) -> dict:
        group, where, params = _scope(first, last, self.zone, resource_id, type_id, group_by)
        ordered, by = _index(first, last, group_by, "bookings_report_waits")
        rows = self._q(
            f"select {group}, b.queueNumber is not null, {_WAIT}, count(*) from bookings b {by}"
            f" where {where} and b.startedAt is not null and b.checkedInAt is not null"
            f" group by {'2, 3' if ordered else '1, 2, 3'}",
            params,
        )
        hists: dict = defaultdict(list)
        for g, is_walk_in, seconds, n in rows:
            kind = "walk-in" if is_walk_in else "booked"
            hists[(g, kind)].append((seconds, n))
            if group_by is not None:
                hists[(None, kind)].append((seconds, n))
        out = [
            {"group": g, "kind": kind, **_spread(h)}
            for (g, kind), h in hists.items()
            if group_by is None or g is not None
        ]
        out.sort(key=lambda r: (r["group"] or "", r["kind"]))
        total = {kind: _spread(hists.get((None, kind), [])) for kind in ("booked", "walk-in")}
        return {**self._head(first, last, group_by), "rows": out, "total": total}

    def visits(self, first, last, resource_id=None, type_id=None, group_by=None) -> dict:
        group, where, params = _scope(first, last, self.zone, resource_id, type_id, group_by)
        ordered, by = _index(first, last, group_by, "bookings_report_visits")
        rows = self._q(
            f"select {group}, {_SERVED}, b.typeId, count(*) from bookings b {by}"
            f" where {where} and b.visitStatus = 'COMPLETED' and b.startedAt is not null"
            f" and b.endedAt is not null group by {'2, 3' if ordered else '1, 2, 3'}",
            params,
        )
        acc: defaultdict = defaultdict(lambda: {"hist": defaultdict(int), "booked": 0.0, "over": 0})
        for g, seconds, booking_type, n in rows:
            minutes = self.minutes.get(booking_type)
            for key in {g, None} if group_by is not None else {None}:
                a = acc[key]
                a["hist"][seconds] += n
                a["booked"] += (minutes or 0) * n
                a["over"] += n if minutes is not None and seconds > minutes * 60 else 0

        def figures(a) -> dict:
            spread = _spread(list(a["hist"].items()))
            n = spread["count"]
            return {
                "count": n,
                "servedMean": spread["mean"],
                "servedMedian": spread["median"],
                "servedP90": spread["p90"],
                "bookedMean": a["booked"] / n if n else None,
                "overran": a["over"],
            }

        out = [
            {"group": g, **figures(a)}
            for g, a in sorted(acc.items(), key=lambda kv: kv[0] or "")
            if group_by is None or g is not None
        ]
        return {
            **self._head(first, last, group_by),
            "rows": out,
            "total": figures(acc[None]) if None in acc else figures(acc.default_factory()),
        }

    def utilisation(self, first, last, resource_id=None, type_id=None, group_by=None) -> dict:
        """Always per resource (``groupBy`` is ignored); see the module docstring."""
        _scope(first, last, self.zone, None, None, None)  # the range's checks
        start, end = local_day_bounds(first, self.zone)[0], local_day_bounds(last, self.zone)[1]
        # a booking with a resource has a start: the day it counts in is its start's. The
        # resources are named, so the index is read in one range per resource (of the days
        # asked), with or without statistics
        ids = [resource_id] if resource_id else [r["id"] for r in self.resources] or [""]
        where, params = (
            [
                "b.resourceId is not null",
                f"b.resourceId in ({','.join('?' * len(ids))})",
                "b.startDateTime >= ?",
                "b.startDateTime < ?",
            ],
            [*ids, to_iso(start), to_iso(end)],
        )
        if type_id:
            where.append("b.typeId = ?")
            params.append(type_id)
        marks = ",".join("?" * len(_ACTIVE))
        rows = self._q(
            f"select b.resourceId, coalesce(sum(case when b.status in ({marks}) then b.duration end), 0),"
            f" coalesce(sum(case when b.visitStatus = 'COMPLETED' then {_SERVED} end), 0)"
            " from bookings b indexed by bookings_report_utilisation"
            f" where {' and '.join(where)}"
            " group by 1",
            [*_ACTIVE, *params],
        )
        used = {r: (booked, served / 60) for r, booked, served in rows}
        out = []
        for resource in self.resources:
            if resource_id and resource["id"] != resource_id:
                continue
            if type_id and type_id not in (resource.get("types") or []) and resource["id"] not in used:
                continue
            text = json.dumps(resource.get("timeRules"), sort_keys=True) if resource.get("timeRules") else ""
            working = _working_minutes(text, first, last, self.zone)
            booked, served = used.get(resource["id"], (0, 0.0))
            out.append(
                {
                    "group": resource["id"],
                    "workingMinutes": working,
                    "bookedMinutes": booked,
                    "servedMinutes": served,
                    "booked": rules.rate(booked, working),
                    "served": rules.rate(served, working),
                }
            )
        working = sum(r["workingMinutes"] for r in out)
        booked = sum(r["bookedMinutes"] for r in out)
        served = sum(r["servedMinutes"] for r in out)
        return {
            **self._head(first, last, "resource"),
            "rows": out,
            "total": {
                "workingMinutes": working,
                "bookedMinutes": booked,
                "servedMinutes": served,
                "booked": rules.rate(booked, working),
                "served": rules.rate(served, working),
            },
        }

    def revenue(self, first, last, resource_id=None, type_id=None, group_by=None) -> dict:
        """Money in, by method: the desk's payments on the day they were taken, and what the
        clouds report paid on the bookings of the range (module docstring)."""
        if last < first:
            raise errors.invalid("the range ends before it starts", field="to")
        group, where_b, params_b = _scope(first, last, self.zone, resource_id, type_id, group_by)
        start, end = local_day_bounds(first, self.zone)[0], local_day_bounds(last, self.zone)[1]
        where, params = ["p.createdAt >= ?", "p.createdAt < ?"], [to_iso(start), to_iso(end)]
        joined = group_by is not None or resource_id or type_id
        if resource_id:
            where.append("b.resourceId = ?")
            params.append(resource_id)
        if type_id:
            where.append("b.typeId = ?")
            params.append(type_id)
        source = (
            "payments p join bookings b on b.id = p.bookingId"
            if joined
            else f"payments p {'indexed by payments_report_methods' if _long(first, last) else ''}"
        )
        rows = self._q(
            f"select {group}, p.method, count(*), coalesce(sum(max(p.amount, 0)), 0),"
            f" coalesce(sum(min(p.amount, 0)), 0), sum(p.amount), sum(p.vatAmount) from {source}"
            f" where {' and '.join(where)} group by {'1, ' if joined else ''}p.method",
            params,
        )
        acc: dict = {}
        for g, m, n, taken, refunded, net, vat in rows:
            acc[(g, m)] = {
                "group": g,
                "method": m,
                "count": n,
                "taken": taken,
                "refunded": refunded,
                "net": net,
                "vat": vat,
                "cloud": 0,
            }
        rate, rate_params = self._vat_rate_sql()
        # the clouds' own payments (listed one by one), then the paid totals of the clouds that
        # list none (``online``); a payment the desk pushed to a cloud is neither (it is the desk's).
        # ``cross join`` fixes the order: over a long range walk the clouds' rows and look their
        # bookings up by id (index only); over a short one the range's bookings by day
        if _long(first, last):
            payments_src = "cloud_payments cp cross join bookings b indexed by bookings_report_money on b.id = cp.bookingId"
            money_src = (
                "cloud_money cm cross join bookings b indexed by bookings_report_money on b.id = cm.bookingId"
            )
        else:  # the range's few bookings by day, their money by booking id
            payments_src = "bookings b indexed by bookings_report_day cross join cloud_payments cp on cp.bookingId = b.id"
            money_src = (
                "bookings b indexed by bookings_report_day cross join cloud_money cm on cm.bookingId = b.id"
            )
        cloud = (
            f"select {group} as g, cp.method as m, cp.amount as a, coalesce(cp.vatRate, {rate}) as r"
            f" from {payments_src} where {where_b}"
            f" union all select {group}, 'online', cm.paid, {rate}"
            f" from {money_src} where {where_b} and cm.paid != 0"
            " and not exists (select 1 from cloud_payments x where x.cloud = cm.cloud and x.bookingId = cm.bookingId)"
        )
        # :func:`app.domain.payments.vat_in` in integer SQL: a·r/(10000 + r), half away from zero
        vat = "(case when a < 0 then -1 else 1 end) * ((abs(a) * r * 2 + 10000 + r) / (2 * (10000 + r)))"
        for g, m, n, taken, refunded, net, vat_sum in self._q(
            f"select g, m, count(*), coalesce(sum(max(a, 0)), 0), coalesce(sum(min(a, 0)), 0), sum(a), sum({vat})"
            f" from ({cloud}) group by 1, 2",
            [*rate_params, *params_b, *rate_params, *params_b],
        ):
            row = acc.setdefault(
                (g, m),
                {
                    "group": g,
                    "method": m,
                    "count": 0,
                    "taken": 0,
                    "refunded": 0,
                    "net": 0,
                    "vat": 0,
                    "cloud": 0,
                },
            )
            for key, value in (
                ("count", n),
                ("taken", taken),
                ("refunded", refunded),
                ("net", net),
                ("vat", vat_sum),
            ):
                row[key] += value
            row["cloud"] += net
        order = {m: i for i, m in enumerate(payments_rules.METHODS)}
        out = sorted(
            acc.values(), key=lambda r: (r["group"] or "", order.get(r["method"], len(order)), r["method"])
        )
        for row in out:
            row["netOfVat"] = row["net"] - row["vat"]
        total = {
            k: sum(r[k] for r in out)
            for k in ("count", "taken", "refunded", "net", "vat", "netOfVat", "cloud")
        }
        return {**self._head(first, last, group_by), "rows": out, "total": total, "currency": self.currency}

    def _vat_rate_sql(self) -> tuple[str, list]:
        """The VAT rate (bp) of a booking ``b`` as SQL: its booking type's own rate, else the
        branch's (billing settings, :mod:`app.server.payments`) — the rate a desk payment on it
        would carry, for cloud money that gives none."""
        own = self.vat_rates.get("types") or {}
        if not own:
            return "?", [int(self.vat_rates["rate"])]
        whens = " ".join("when ? then ?" for _t in own)
        return f"(case b.typeId {whens} else ? end)", [
            *(x for t, r in own.items() for x in (t, int(r))),
            int(self.vat_rates["rate"]),
        ]
