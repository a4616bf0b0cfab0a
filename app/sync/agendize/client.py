"""HTTP client of the Agendize Scheduling API 2.1 (``docs/clouds/agendize.md``).

:data:`ROUTES` is the contract's route table in ONE place: most reference-data paths are
inferred (contract "Operations"), so a real deployment corrects them here. Every call
carries ``apiKey`` and ``token`` as query parameters (contract "Transport"). Scheduling
paths go to ``base_url`` (``…/api/2.1``); the Client API to ``clients_url`` (``…/api/2.0``,
contract: "its base is configured separately").

Failures (contract "Transport" → Errors), sorted by :func:`classify`:

* :class:`TransportError`: no answer (refused, reset, timeout, reply lost); the request
  may or may not have been handled.
* :class:`CloudError` with ``status``, ``reason``, ``message`` and ``retry_after``
  (seconds, from ``Retry-After`` on a 429). 410, or a 400 that names the sync token, is a
  refused sync token (contract "Behaviour" 3).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from app.sync import transport as http
from app.sync.transport import retry_after

log = logging.getLogger(__name__)

#: operation → (method, base ("scheduling" | "clients"), path). Contract "Operations".
ROUTES: dict[str, tuple[str, str, str]] = {
    "companies": ("GET", "scheduling", "/scheduling/companies"),
    "company": ("GET", "scheduling", "/scheduling/companies/{company}"),
    "staff": ("GET", "scheduling", "/scheduling/companies/{company}/staff"),
    "staff_member": ("GET", "scheduling", "/scheduling/companies/{company}/staff/{id}"),
    "services": ("GET", "scheduling", "/scheduling/companies/{company}/services"),
    "resources": ("GET", "scheduling", "/scheduling/companies/{company}/resources"),
    "appointments": ("GET", "scheduling", "/scheduling/companies/{company}/appointments"),
    "appointment": ("GET", "scheduling", "/scheduling/companies/{company}/appointments/{id}"),
    "insert": ("POST", "scheduling", "/scheduling/companies/{company}/appointments"),
    "update": ("PUT", "scheduling", "/scheduling/companies/{company}/appointments/{id}"),
    "delete": ("DELETE", "scheduling", "/scheduling/companies/{company}/appointments/{id}"),
    "clients": ("GET", "clients", "/clients"),
    "client": ("GET", "clients", "/clients/{id}"),
    "create_client": ("POST", "clients", "/clients"),
}


class TransportError(Exception):
    """Agendize did not answer (the request may or may not have been handled)."""


class CloudError(Exception):
    """Agendize answered with an error: HTTP ``status``, ``reason`` (the envelope's, may be
    empty), ``message`` and ``retry_after`` (seconds, or None)."""

    def __init__(self, status: int, reason: str, message: str, retry_after: float | None = None):
        super().__init__(f"{status} {reason or '-'}: {message}")
        self.status, self.reason, self.message, self.retry_after = status, reason, message, retry_after

    @property
    def code(self) -> str:
        """A code for the needs-attention list: ``AGENDIZE-<status>[-<reason>]``."""
        return f"AGENDIZE-{self.status}" + (f"-{self.reason}" if self.reason else "")

    @property
    def transient(self) -> bool:
        return self.status >= 500 or self.status == 429

    @property
    def sync_token_refused(self) -> bool:
        """410, or a 400 that names the sync token (contract "Behaviour" 3)."""
        text = f"{self.reason} {self.message}".lower()
        return self.status == 410 or (self.status == 400 and ("synctoken" in text or "sync token" in text))


@dataclass(frozen=True)
class Verdict:
    """What an error means for the engine: ``kind`` is ``transient`` (retry after
    ``retry_after`` s, None = backoff) | ``auth`` | ``refused`` | ``not_found`` |
    ``cursor_expired``; ``code`` and ``message`` for the needs-attention list."""

    kind: str
    code: str = ""
    message: str = ""
    retry_after: float | None = None


def classify(error: BaseException) -> Verdict | None:
    """Sort an error of this client (contract "Transport" → Errors). 401/403 → ``auth``;
    404 → ``not_found``; 410 or a 400 naming the sync token → ``cursor_expired``; 5xx/429
    and no answer (code ``CLOUD-UNREACHABLE``) → ``transient``; any other 4xx →
    ``refused``. None for an error that is not this client's."""
    if isinstance(error, TransportError):
        return Verdict("transient", "CLOUD-UNREACHABLE", str(error))
    if not isinstance(error, CloudError):
        return None
    if error.transient:
        return Verdict("transient", error.code, error.message, error.retry_after)
    if error.sync_token_refused:
        return Verdict("cursor_expired", error.code, error.message)
    if error.status in (401, 403):
        return Verdict("auth", error.code, error.message)
    if error.status == 404:
        return Verdict("not_found", error.code, error.message)
    return Verdict("refused", error.code, error.message)


def _flag(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(response: httpx.Response):
    """The reply's JSON, or None for an empty body or one that is not JSON."""
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _error(response: httpx.Response) -> CloudError:
    """An answer ≥ 400 as :class:`CloudError` (the ``error`` envelope, or the same keys at
    the top level; contract "Transport" → Errors)."""
    data = _json(response)
    error = data.get("error", data) if isinstance(data, dict) else {}
    error = error if isinstance(error, dict) else {}
    return CloudError(
        response.status_code,
        str(error.get("reason") or ""),
        str(error.get("message") or response.reason_phrase),
        retry_after(response),
    )


class AgendizeClient:
    """``AgendizeClient(base_url, api_key, token, clients_url=None)``; create it inside the
    running loop. ``base_url`` ends in ``/api/2.1`` (no trailing slash); ``clients_url``
    defaults to the same host's ``/api/2.0``. ``requests`` counts calls and ``received``
    the reply bytes (the pull benchmark reads them)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        token: str,
        *,
        clients_url: str | None = None,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.clients_url = (clients_url or default_clients_url(self.base_url)).rstrip("/")
        self.auth = {"apiKey": api_key, "token": token}
        self.transport = http.Transport(
            "Agendize",
            http.http_client(timeout=timeout, transport=transport, connections=16),
            error=_error,
            unreachable=TransportError,
        )
        self.http = self.transport.http

    @property
    def requests(self) -> int:
        """Requests sent so far."""
        return self.transport.requests

    @property
    def received(self) -> int:
        """Bytes of the replies so far (the pull benchmark reads them)."""
        return self.transport.received

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def call(
        self, operation: str, *, ids: dict | None = None, params: dict | None = None, body: dict | None = None
    ):
        """One call of ``operation`` (a key of :data:`ROUTES`); ``ids`` fills the path
        (``company``, ``id``). Returns the reply's JSON (None for an empty body or one that
        is not JSON). Never retried here (the engine backs off). Raises TransportError or
        CloudError."""
        method, base, path = ROUTES[operation]
        url = (self.base_url if base == "scheduling" else self.clients_url) + path.format(**(ids or {}))
        query = {**{k: _flag(v) for k, v in (params or {}).items() if v is not None}, **self.auth}
        response = await self.transport.send(method, url, operation=operation, params=query, json=body)
        return _json(response)

    async def pages(
        self, operation: str, *, ids: dict | None = None, params: dict | None = None
    ) -> AsyncIterator[dict]:
        """Yield each page (``{"items", "nextPageToken"?, "nextSyncToken"?}``, contract
        "Transport": list envelope) until the last one, which carries ``nextSyncToken``."""
        token = None
        while True:
            page = await self.call(operation, ids=ids, params={**(params or {}), "pageToken": token}) or {}
            yield page
            token = page.get("nextPageToken")
            if not token:
                return

    async def all(self, operation: str, *, ids: dict | None = None, params: dict | None = None) -> list[dict]:
        """Every item of a listing, all pages."""
        out: list[dict] = []
        async for page in self.pages(operation, ids=ids, params=params):
            out.extend(page.get("items") or [])
        return out


def default_clients_url(base_url: str) -> str:
    """``…/api/2.1`` → ``…/api/2.0`` (contract "Operations": the Client API pages show
    ``/api/2.0``); any other base gets ``/api/2.0`` beside its last segment."""
    base = base_url.rstrip("/")
    if base.endswith("/api/2.1"):
        return base[: -len("2.1")] + "2.0"
    return base.rsplit("/", 1)[0] + "/2.0"
