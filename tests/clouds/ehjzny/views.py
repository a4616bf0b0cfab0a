"""How the simulated cloud shapes objects for output (contract "Objects"; Ehjzny API reference
"Create Confirmed Booking" response sample, "Instant Booking" step 3 and 7, "Localization").

* ``name`` (and any other ``X``) is picked from ``name_translations`` (``X_translations``)
  by the ``lang`` header (``en``/``ar``).
* Booking times: ``startDateTime``/``endDateTime``/``createdAt`` in the API reference's millisecond
  form ``2023-01-11T18:00:00.000Z`` (UTC); ``startDate``/``startTime`` are the
  organization's local date and military time.
* ``resourceId`` is absent while unassigned; ``queuePosition`` and
  ``estimatedWaitMinutes`` appear only while ``PENDING_ASSIGNMENT`` ("Instant Booking" 7:
  "Queue fields are removed from the booking after assignment").
"""

from __future__ import annotations

from .rules import PENDING_ASSIGNMENT, local_day, military_of, parse, queue_of

ALL_INCLUDES = frozenset({"customer", "type", "resource"})


def ms(text: str | None) -> str | None:
    """``2026-11-21T09:30:00Z`` → ``2026-11-21T09:30:00.000Z`` (the API reference's form)."""
    if not text or "." in text:
        return text
    return text[:-1] + ".000Z"


def localized(obj: dict, lang: str) -> dict:
    """``obj`` for output, each ``X`` taken from ``X_translations`` in ``lang`` (``name``...)."""
    out = {k: v for k, v in obj.items() if not k.startswith("_")}
    for key, texts in obj.items():
        if key.endswith("_translations") and isinstance(texts, dict) and texts:
            field = key.removesuffix("_translations")
            out[field] = texts.get(lang) or texts.get("en") or obj.get(field)
    return out


class ViewsMixin:
    def view(
        self, record: dict, lang: str = "en", includes=ALL_INCLUDES, position: int | None = None
    ) -> dict:
        """A booking record as the API returns it.

        ``position``: the booking's place in one resource's queue (the unassigned listing);
        otherwise a waiting booking shows its best place among the resources serving its type.
        """
        out = {k: v for k, v in record.items() if not k.startswith("_") and v is not None}
        for name in self.extensions:  # fields the API reference lacks, only when a test asks for them
            value = record.get("_timeout" if name == "assignmentTimeout" else "_" + name)
            if value is not None:
                out[name] = value
        for field in ("startDateTime", "endDateTime", "createdAt", "updatedAt", "reservedUntil"):
            if field in out:
                out[field] = ms(out[field])
        start = parse(record.get("startDateTime"))
        if start is not None:
            out["startDate"] = local_day(start, self.zone).isoformat()
            out["startTime"] = military_of(start, self.zone)
        if record["status"] == PENDING_ASSIGNMENT:
            self._add_queue_fields(record, out, position)
        linked = {
            "type": ("types", "typeId"),
            "resource": ("resources", "resourceId"),
            "customer": ("customers", "customerId"),
        }
        for name, (table, key) in linked.items():
            obj = getattr(self, table).get(record.get(key) or "")
            if name in includes and obj is not None:
                out[name] = localized(obj, lang)
        return out

    def queued(self) -> list[dict]:
        """Unassigned bookings, oldest ``createdAt`` first (Ehjzny API reference, "Queue Booking")."""
        waiting = [b for b in self.bookings.values() if b["status"] == PENDING_ASSIGNMENT]
        return sorted(waiting, key=lambda b: (b["createdAt"], b["_seq"]))

    def _add_queue_fields(self, record: dict, out: dict, position: int | None) -> None:
        if position is None:  # the best place among the resources serving its type
            places = [
                [b["id"] for b in queue_of(r, self.queued())].index(record["id"]) + 1
                for r in self.resources.values()
                if record["typeId"] in (r.get("types") or [])
                and record["id"] in [b["id"] for b in queue_of(r, self.queued())]
            ]
            position = min(places) if places else None
        if position is not None:
            minutes = int(self.types.get(record["typeId"], {}).get("minutes") or 0)
            out["queuePosition"] = position
            out["estimatedWaitMinutes"] = position * minutes
