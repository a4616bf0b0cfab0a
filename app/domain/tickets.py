"""Queue tickets: the string a walk-in is called by (``A001``, ``B014``).

As in Qmatic-style queue systems, each booking type has a ticket prefix (one or two Latin
capital letters, configurable per type; a new type gets the first free letter in name order)
and numbers count per prefix. Numbering restarts each branch-local day, but never repeats a
ticket still waiting from the day before: the next number is one more than the highest of
the same prefix created that day or still waiting, so a called ticket is never ambiguous,
also across the branch's local midnight (the queue rules: Ehjzny API reference, "Instant Booking",
"Queue Booking"; the numbering is the branch's own, the cloud has no tickets).

Booking fields: ``queueNumber`` (int, the count) and ``ticket`` (the string shown on the
queue, in doctor mode, on the waiting-room screen and on the printed ticket).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import product
from string import ascii_uppercase

from app.domain import errors

PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
#: digits of the number part: A001 … A999, then A1000
DIGITS = 3


def ticket_text(prefix: str, number: int) -> str:
    """``("A", 1)`` → ``"A001"``."""
    return f"{prefix}{int(number):0{DIGITS}d}"


def check_prefix(prefix: str | None) -> str:
    """The prefix upper-cased; raises VALIDATION unless it is one or two Latin letters."""
    text = (prefix or "").strip().upper()
    if not PREFIX_RE.match(text):
        raise errors.invalid("ticketPrefix must be one or two Latin letters (A–Z)", field="ticketPrefix")
    return text


def free_prefixes(taken: Iterable[str]) -> Iterator[str]:
    """A, B, … Z, then AA, AB, … — those not in ``taken``."""
    used = set(taken)
    for size in (1, 2):
        for letters in product(ascii_uppercase, repeat=size):
            prefix = "".join(letters)
            if prefix not in used:
                yield prefix


def default_prefixes(types: list[dict]) -> dict[str, str]:
    """``{typeId: prefix}`` for the types without a ``ticketPrefix``: the first free letters,
    in name (then id) order."""
    missing = sorted(
        (t for t in types if not t.get("ticketPrefix")),
        key=lambda t: (str(t.get("name") or ""), str(t["id"])),
    )
    fresh = free_prefixes(t["ticketPrefix"] for t in types if t.get("ticketPrefix"))
    return {t["id"]: next(fresh) for t in missing}


def next_number(numbers: Iterable[int | None]) -> int:
    """One more than the highest of ``numbers`` (the prefix's tickets of the day and those
    still waiting); 1 for none."""
    return max((int(n) for n in numbers if n), default=0) + 1
