"""Error codes of the simulated Ehjzny cloud that the app's rules module does not name.

Contract (``shared/contracts/ehjzny.md``, "Transport" → Errors): errors are
``{"error": {"code", "message"}}`` with a 4xx/5xx status. The booking codes
(``SCH-ALREADY_ASSIGNED``, ``BKS-110``, ``SCH-SLOT-TAKEN``, ``NOT-FOUND``...) come from
:mod:`app.domain.errors`; these are the transport-level ones of the simulation.
"""

from __future__ import annotations

from app.domain.errors import BookingError

APP_ID_REQUIRED = "APP-ID-REQUIRED"
APP_ID_UNKNOWN = "APP-ID-UNKNOWN"
UNAUTHORIZED = "AUTH-UNAUTHORIZED"
TOKEN_EXPIRED = "AUTH-TOKEN-EXPIRED"
FORBIDDEN = "AUTH-FORBIDDEN"
OTP_INVALID = "AUTH-OTP-INVALID"
PAGE_TOKEN_EXPIRED = "PAGINATION-TOKEN-EXPIRED"
PAGE_TOKEN_INVALID = "PAGINATION-TOKEN-INVALID"
CUSTOMER_EXISTS = "CUSTOMER-EXISTS"
NO_RESOURCE = "SCH-NO-RESOURCE"
RATE_LIMITED = "RATE-LIMITED"
UNAVAILABLE = "SERVER-UNAVAILABLE"


def unauthorized(code: str, message: str) -> BookingError:
    return BookingError(code, message, 401)
