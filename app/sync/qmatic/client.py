"""HTTP client of the Qmatic Cloud Appointments external API (seed
``001_07b4ebc8faea0778.txt``; contract ``shared/contracts/qmatic.md``).

:data:`TABLE` holds every path and every JSON name the contract infers (rows marked
"inferred" or "public page" in its "Operations" table and "Bodies"), in ONE place: a real
deployment that spells one differently is corrected here and nowhere else. The mapping
(:mod:`.mapping`) reads its JSON names from :data:`NAMES`.

Every call sends ``X-TENANT-ID`` and ``Accept-Language`` (seed "Attributes", doc) and, only
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

import asyncio
import logging
import random

import httpx

log = logging.getLogger(__name__)

#: The contract in one table. ``routes``: operation → (method, path relative to the base
#: URL ``…/external/v1``); ``query``: the time-slot query names; ``names``: the JSON names
#: of bodies and replies the seed's attribute tables only describe (contract "Bodies",
#: "Objects": inferred). Correct a deployment's spelling here.
TABLE: dict[str, dict] = {
    "routes": {
        "services": ("GET", "/services"),                                   # doc
        "service_groups": ("GET", "/services/groups"),                      # doc
        "service": ("GET", "/services/{serviceId}"),                        # doc (/services/serviceId)
        "timeslots": ("GET", "/services/{serviceId}/timeslots"),            # doc path
        "reserve": ("POST", "/reservations"),                               # doc
        "confirm": ("PUT", "/reservations/{reservationId}"),                # doc (/reservations/reservationId)
        "release": ("DELETE", "/reservations/reservations/{appointmentId}"),  # public page; method inferred
        "search": ("POST", "/appointments/search"),                         # public page
        "appointment": ("GET", "/appointments/{appointmentId}"),            # inferred
        "reschedule": ("PUT", "/appointments/{appointmentId}/reschedule"),  # inferred
        "cancel": ("DELETE", "/appointments/{appointmentId}"),              # public page
        "update_customer": ("PUT", "/appointments/{appointmentId}/customer"),  # inferred
    },
    "query": {"branchId": "branchId", "requestedResourceId": "requestedResourceId",
              "numberOfReservations": "numberOfReservations"},
    "names": {
        # reserve body
        "serviceId": "serviceId", "branchId": "branchId", "requestedResourceId": "requestedResourceId",
        "timeSlot": "timeSlot", "startTime": "startTime", "endTime": "endTime", "notes": "notes",
        "numberOfReservations": "numberOfReservations",
        # reserve reply: the reservation id is the appointment id (public release page)
        "appointmentId": "appointmentId", "id": "id",
        # confirm body (the nesting under "customer" follows the search body)
        "customer": "customer", "personalIdentifier": "personalIdentifier", "firstName": "firstName",
        "lastName": "lastName", "phoneNumber": "phoneNumber", "email": "email", "dateOfBirth": "dateOfBirth",
        "informationQuestions": "informationQuestions", "questionText": "questionText", "answer": "answer",
        # reschedule body
        "reservationId": "reservationId",
        # appointment fields used when present
        "status": "status", "resource": "resource",
    },
}
ROUTES: dict[str, tuple[str, str]] = TABLE["routes"]
QUERY: dict[str, str] = TABLE["query"]
NAMES: dict[str, str] = TABLE["names"]

#: Accept-Language codes the seed lists (no Arabic: the desk keeps its own Arabic names)
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


def backoff_seconds(attempts: int, retry_after: float | None = None, *, base: float = 0.5,
                    cap: float = 30.0, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``attempts`` (1, 2, ...): ``Retry-After`` when sent, else
    ``uniform(0.5, 1) × min(cap, base × 2^(n-1))`` (the engine's "full jitter" backoff)."""
    if retry_after is not None:
        return max(0.0, float(retry_after))
    return min(cap, base * (2 ** max(0, attempts - 1))) * (rng or random).uniform(0.5, 1.0)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


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
    return QmaticError(response.status_code, str(code) if code is not None else None, str(message),
                       _retry_after(response))


class QmaticClient:
    """``QmaticClient(base_url, tenant, language="en_US", authorization=None)``; create it
    inside the running event loop. ``read_retries``: extra attempts of a read after a
    transient failure; ``max_wait``: the longest ``Retry-After`` waited inside one call
    (seconds; a longer one goes to the caller, whose backoff honours it)."""

    def __init__(self, base_url: str, tenant: str, *, language: str = "en_US", authorization: str | None = None,
                 timeout: float = 15.0, read_retries: int = 3, max_wait: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None, rng: random.Random | None = None):
        self.base_url = base_url.rstrip("/")
        self.read_retries, self.max_wait = read_retries, max_wait
        self.rng = rng or random.Random()
        #: calls made per operation (tests, the sync status)
        self.calls: dict[str, int] = {}
        headers = {"X-TENANT-ID": tenant, "Accept-Language": language or "en_US", "Accept": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport, headers=headers,
                                      limits=httpx.Limits(max_connections=8, max_keepalive_connections=8))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(self, operation: str, *, ids: dict | None = None, params: dict | None = None, body=None):
        """One call of ``operation`` (a key of :data:`ROUTES`): the decoded JSON reply, or
        None for 204 / an empty body. Raises TransportError or QmaticError."""
        method, path = ROUTES[operation]
        path = path.format(**(ids or {}))
        query = {k: v for k, v in (params or {}).items() if v is not None}
        retried = method == "GET" or operation == "search"  # reads change nothing in the cloud
        attempts = 0
        while True:
            attempts += 1
            self.calls[operation] = self.calls.get(operation, 0) + 1
            try:
                kwargs: dict = {"params": query}
                if body is not None:
                    kwargs["json"] = body
                response = await self.http.request(method, path, **kwargs)
                if response.status_code >= 400:
                    raise _error(response)
            except (httpx.HTTPError, QmaticError) as exc:
                failure = exc if isinstance(exc, QmaticError) else TransportError(
                    f"{method} {path}: {type(exc).__name__}: {exc}")
                transient = isinstance(failure, TransportError) or failure.kind == "transient"
                wait = backoff_seconds(attempts, getattr(failure, "retry_after", None), rng=self.rng)
                if not retried or not transient or attempts > self.read_retries or wait > self.max_wait:
                    raise failure from (exc if failure is not exc else None)
                log.info("Qmatic %s %s: %s; retry %d in %.1f s", method, path, failure, attempts, wait)
                await asyncio.sleep(wait)
                continue
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise QmaticError(response.status_code, None, f"{method} {path}: the reply is not JSON") from exc
