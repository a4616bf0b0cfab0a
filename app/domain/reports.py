"""The arithmetic of the branch's reports, on aggregates the store already grouped.

The store hands over histograms (``{value: count}``, one SQL ``group by``), never rows,
so a year of bookings costs as much here as the number of distinct values (at most a few
thousand seconds of waiting), not the number of bookings.

Quantiles are the "linear" definition (Hyndman & Fan type 7, numpy's default, Excel's
``PERCENTILE.INC``): sorted values x₀…xₙ₋₁, h = (n − 1)·p, q = x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋₊₁ − x⌊h⌋).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: Report sources of a booking (``bookings.source``): made at a desk, put in a desk's queue
#: (a walk-in), or pulled from a cloud booking platform.
SOURCES = ("desk", "walk-in", "cloud")

#: The state a report counts a booking in: its status, or for a CONFIRMED booking the visit
#: once it has one (:class:`app.domain.model.VisitStatus`).
STATES = (
    "PENDING_APPROVAL",
    "PENDING_PAYMENT",
    "PENDING_ASSIGNMENT",
    "CONFIRMED",
    "CHECKED_IN",
    "IN_PROGRESS",
    "COMPLETED",
    "NO_SHOW",
    "CANCELED",
    "REJECTED",
)

#: The longest range one report covers, days (a year and a leap day, with room for a
#: range that starts and ends mid-week).
MAX_DAYS = 400


def quantile(histogram: Iterable[tuple[float, int]], p: float) -> float | None:
    """The ``p``-quantile (0 ≤ p ≤ 1) of the values a histogram ``[(value, count)]`` holds,
    linear between closest ranks (module docstring); None when it holds nothing. Raises
    ValueError for ``p`` outside [0, 1] or a negative count."""
    if not 0 <= p <= 1:
        raise ValueError(f"p must be within [0, 1], not {p}")
    bins = sorted((v, c) for v, c in histogram if c)
    if any(c < 0 for _v, c in bins):
        raise ValueError("a histogram count is negative")
    n = sum(c for _v, c in bins)
    if n == 0:
        return None
    h = (n - 1) * p
    lo_rank = math.floor(h)

    def at(rank: int) -> float:
        seen = 0
        for value, count in bins:
            seen += count
            if rank < seen:
                return value
        return bins[-1][0]

    lo, hi = at(lo_rank), at(min(lo_rank + 1, n - 1))
    return lo + (h - lo_rank) * (hi - lo)


def rate(part: float, whole: float) -> float | None:
    """``part / whole`` (0..1), None when ``whole`` is 0."""
    return part / whole if whole else None
