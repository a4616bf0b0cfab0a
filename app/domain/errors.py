"""Errors of the booking rules: a stable code, a message and the HTTP status the API uses.

Codes from the contract (the Ehjzny page of ``docs/clouds/``, "Transport" → Errors):
``SCH-ALREADY_ASSIGNED`` (400), ``BKS-110`` (400), slot no longer free (409), unknown id
(404). The others are this project's own and keep the same ``AREA-NAME`` form.
"""

from __future__ import annotations


class BookingError(Exception):
    """A request the rules refuse. Nothing has been written when this is raised."""

    def __init__(self, code: str, message: str, http_status: int = 400, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.details = details

    def to_json(self) -> dict:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


NOT_FOUND = "NOT-FOUND"
VALIDATION = "VALIDATION"
ALREADY_ASSIGNED = "SCH-ALREADY_ASSIGNED"
EXPIRED = "BKS-110"
SLOT_TAKEN = "SCH-SLOT-TAKEN"
INVALID_TRANSITION = "INVALID-TRANSITION"
OUTSIDE_WORKING_HOURS = "SCH-OUTSIDE-WORKING-HOURS"
TYPE_NOT_SERVED = "SCH-TYPE-NOT-SERVED"
PROVIDER_BUSY = "SCH-PROVIDER-BUSY"


def not_found(what: str, ident: str) -> BookingError:
    return BookingError(NOT_FOUND, f"{what} {ident!r} does not exist", 404, id=ident)


def invalid(message: str, **details) -> BookingError:
    return BookingError(VALIDATION, message, 400, **details)
