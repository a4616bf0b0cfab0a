"""HTTP client of the Qmatic Cloud Appointments external API (Qmatic API
reference; contract ``docs/clouds/qmatic.md``).

:data:`TABLE` holds every path and every JSON name the contract infers (rows marked
"inferred" or "public page" in its "Operations" table and "Bodies"), in ONE place: a real
deployment that spells one differently is corrected here and nowhere else. The mapping
(:mod:`.mapping`) reads its JSON names from :data:`NAMES`.

Every call sends ``X-TENANT-ID`` and ``Accept-Language`` (API reference "Attributes", doc) and, only
when one is configured, ``Authorization`` exactly as given (a gateway in front of the
tenant; contract "Transport", inferred). Bodies are JSON; lists are bare arrays.

Failures (contract "Transport" → Errors), for the sync engine (:attr:`QmaticError.kind`):

* :class:`TransportError`: no answer (refused, reset, timeout, reply lost); a write may or
  may not have been handled.
* ``transient``: 5xx, 429 (``retry_after`` seconds from ``Retry-After``).
* ``auth``: 401 / 403 (bad credential or unknown tenant).
* ``not_found``: 404 (unknown id, also a reservation whose hold expired).
* ``conflict``: 409 (the slot is no longer free).
* ``refused``: any other 4xx (400 validation, e.g. the ``personalIdentifier`` pattern).

The error body is read leniently: ``message``, else ``error.message``, plus ``code`` when
present. Reads (GET, and the search, which changes nothing) are retried here a few times on
a transient failure; writes never are: the outbox retries them after its own look-up.
"""

from __future__ import annotations

import random

import httpx

from app.sync import transport as http
from app.sync.transport import retry_after

#: The contract in one table. ``routes``: operation → (method, path relative to the base
#: URL ``…/external/v1``); ``query``: the time-slot query names; ``names``: the JSON names
#: of bodies and replies the API reference's attribute tables only describe (contract "Bodies",
#: "Objects": inferred). Correct a deployment's spelling here.
TABLE: dict[str, dict] = {
    "routes": {
        "services": ("GET", "/services"),  # doc
        "service_groups": ("GET", "/services/groups"),  # doc
        "service": ("GET", "/services/{serviceId}"),  # doc (/services/serviceId)
        "timeslots": ("GET", "/services/{serviceId}/timeslots"),  # doc path
        "reserve": ("POST", "/reservations"),  # doc
        "confirm": ("PUT", "/reservations/{reservationId}"),  # doc (/reservations/reservationId)
        "release": ("DELETE", "/reservations/reservations/{appointmentId}"),  # public page; method inferred
        "search": ("POST", "/appointments/search"),  # public page
        "appointment": ("GET", "/appointments/{appointmentId}"),  # inferred
        "reschedule": ("PUT", "/appointments/{appointmentId}/reschedule"),  # inferred
        "cancel": ("DELETE", "/appointments/{appointmentId}"),  # public page
        "update_customer": ("PUT", "/appointments/{appointmentId}/customer"),  # inferred
    },
    "query": {
        "branchId": "branchId",
        "requestedResourceId": "requestedResourceId",
        "numberOfReservations": "numberOfReservations",
    },
    "names": {
        # reserve body
        "serviceId": "serviceId",
        "branchId": "branchId",
        "requestedResourceId": "requestedResourceId",
        "timeSlot": "timeSlot",
        "startTime": "startTime",
        "endTime": "endTime",
        "notes": "notes",
        "numberOfReservations": "numberOfReservations",
        # reserve reply: the reservation id is the appointment id (public release page)
        "appointmentId": "appointmentId",
        "id": "id",
        # confirm body (the nesting under "customer" follows the search body)
        "customer": "customer",
        "personalIdentifier": "personalIdentifier",
        "firstName": "firstName",
        "lastName": "lastName",
        "phoneNumber": "phoneNumber",
        "email": "email",
        "dateOfBirth": "dateOfBirth",
        "informationQuestions": "informationQuestions",
        "questionText": "questionText",
        "answer": "answer",
        # reschedule body
        "reservationId": "reservationId",
        # appointment fields used when present
        "status": "status",
        "resource": "resource",
    },
}
ROUTES: dict[str, tuple[str, str]] = TABLE["routes"]
QUERY: dict[str, str] = TABLE["query"]
NAMES: dict[str, str] = TABLE["names"]

#: Accept-Language codes the API reference lists (no Arabic: the desk keeps its own Arabic names)
LANGUAGES = ("en_US", "en_UK", "fr_FR", "nl_NL", "de_DE", "it_IT", "ES_es")


class TransportError(Exception):
    """Qmatic did not answer (the request may or may not have been handled)."""


class QmaticError(Exception):
    """Qmatic answered with an error: HTTP ``status``, ``code`` (the body's, or None),
    ``message`` and, for 429, ``retry_after`` seconds."""

    def __init__(self, status: int, code: str | None, message: str, retry_after: float | None = None):
        super().__init__(f"{status} {code or '-'}: {message}")
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after

    @property
    def kind(self) -> str:
        """``transient`` | ``auth`` | ``not_found`` | ``conflict`` | ``refused``."""
        if self.status >= 500 or self.status == 429:
            return "transient"
        if self.status in (401, 403):
            return "auth"
        if self.status == 404:
            return "not_found"
        if self.status == 409:
            return "conflict"
        return "refused"

    @property
    def transient(self) -> bool:
        return self.kind == "transient"


def _error(response: httpx.Response) -> QmaticError:
    """The error body read leniently (contract "Transport" → Errors)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    nested = data.get("error") if isinstance(data.get("error"), dict) else {}
    message = data.get("message") or nested.get("message") or response.reason_phrase or "error"
    code = data.get("code") if data.get("code") is not None else nested.get("code")
    return QmaticError(
        response.status_code, str(code) if code is not None else None, str(message), retry_after(response)
    )


class QmaticClient:
    """``QmaticClient(base_url, tenant, language="en_US", authorization=None)``; create it
    inside the running event loop. ``read_retries``: extra attempts of a read after a
    transient failure; ``max_wait``: the longest ``Retry-After`` waited inside one call
    (seconds; a longer one goes to the caller, whose backoff honours it)."""

    def __init__(
        self,
        base_url: str,
        tenant: str,
        *,
        language: str = "en_US",
        authorization: str | None = None,
        timeout: float = 15.0,
        read_retries: int = 3,
        max_wait: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.transport = http.Transport(
            "Qmatic",
            http.http_client(
                base_url=self.base_url,
                timeout=timeout,
                transport=transport,
                headers={"X-TENANT-ID": tenant, "Accept-Language": language or "en_US"},
                auth=http.HeaderAuth("Authorization", authorization) if authorization else None,
            ),
            error=_error,
            unreachable=TransportError,
            malformed=lambda status, message: QmaticError(status, None, message),
            reads=http.ReadRetry(read_retries, max_wait, base=0.5, cap=30.0),
            rng=rng,
        )
        self.http = self.transport.http
        #: calls made per operation, each retry too (tests, the sync status)
        self.calls: dict[str, int] = self.transport.calls

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def call(self, operation: str, *, ids: dict | None = None, params: dict | None = None, body=None):
        """One call of ``operation`` (a key of :data:`ROUTES`): the decoded JSON reply, or
        None for 204 / an empty body. Reads (GET, and the search, which changes nothing in
        the cloud) are retried after a transient failure (:class:`app.sync.transport.Transport`).
        Raises TransportError or QmaticError."""
        method, path = ROUTES[operation]
        kwargs: dict = {"params": {k: v for k, v in (params or {}).items() if v is not None}}
        if body is not None:
            kwargs["json"] = body
        return await self.transport.json(
            method,
            path.format(**(ids or {})),
            operation=operation,
            read=method == "GET" or operation == "search",
            **kwargs,
        )
