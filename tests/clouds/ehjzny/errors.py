"""Transport-level error codes of the simulated Ehjzny cloud.

Contract (``docs/clouds/ehjzny.md``, "Transport" → Errors): errors are
``{"error": {"code", "message"}}`` with a 4xx/5xx status. The booking codes
(``SCH-ALREADY_ASSIGNED``, ``BKS-110``, ``SCH-SLOT-TAKEN``, ``NOT-FOUND``...) come from
:mod:`.rules`; these are the transport-level ones of the simulation.
"""

from __future__ import annotations

from .rules import SimError

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


def unauthorized(code: str, message: str) -> SimError:
    return SimError(code, message, 401)
