"""HTTP client of the Ehjzny cloud API (``docs/clouds/ehjzny.md``).

:data:`ROUTES` is the contract's route table in ONE place (the contract asks for it: most
paths are inferred, so a real deployment corrects them here). Every call sends
``X-APP-ID``, ``lang`` and ``Authorization: Bearer <API key or access token>``
(contract "Transport") and returns the ``result`` of the envelope.

Failures are sorted for the sync engine (contract "Transport" → Errors):

* :class:`TransportError` — no answer (connection refused, reset, timeout, reply lost):
  the request may or may not have been handled.
* :class:`CloudError` with ``transient`` — 5xx or 429 (``retry_after`` seconds from the
  ``Retry-After`` header, None when absent).
* :class:`CloudError` with ``status == 401`` — bad or expired token: refresh and retry.
* any other :class:`CloudError` — a refusal (validation, conflict, not found).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

from app.sync import transport as http
from app.sync.transport import retry_after

log = logging.getLogger(__name__)

#: operation → (method, path). Keep every path of the connector here (contract "Operations").
ROUTES: dict[str, tuple[str, str]] = {
    "otp_request": ("POST", "/auth/otp/request"),
    "otp_verify": ("POST", "/auth/otp/verify"),
    "token": ("GET", "/auth/token"),
    "resources": ("GET", "/management/resources"),
    "time_rules": ("GET", "/management/resources/{id}/timeRules"),
    "types": ("GET", "/management/types"),
    "customers": ("GET", "/management/customers"),
    "customer": ("GET", "/management/customers/{id}"),
    "bookings": ("GET", "/management/bookings"),
    "booking": ("GET", "/management/bookings/{id}"),
    "cancel": ("POST", "/management/bookings/cancel"),
    "assign": ("POST", "/management/bookings/assign"),
    "end": ("POST", "/management/bookings/end"),
    "schedule": ("PUT", "/management/scheduling/new"),
    "schedule_temporary": ("PUT", "/management/scheduling/temporary"),
    "confirm": ("POST", "/management/scheduling/confirm"),
    "put_time_rules": ("PUT", "/management/resources/{id}/timeRules"),
}

#: error codes of an expired or unknown page token (restart the listing, contract "Transport")
PAGE_TOKEN_CODES = frozenset({"PAGINATION-TOKEN-EXPIRED", "PAGINATION-TOKEN-INVALID"})


class TransportError(Exception):
    """The cloud did not answer (the request may or may not have been handled)."""


class CloudError(Exception):
    """The cloud answered with an error: ``code``, ``message``, HTTP ``status`` and, for 429,
    ``retry_after`` (seconds)."""

    def __init__(self, code: str, message: str, status: int, retry_after: float | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.code, self.message, self.status, self.retry_after = code, message, status, retry_after

    @property
    def transient(self) -> bool:
        return self.status >= 500 or self.status == 429

    @property
    def page_token_expired(self) -> bool:
        return self.code in PAGE_TOKEN_CODES


def _json(response: httpx.Response):
    """The reply's JSON, ``{}`` for a body that is not JSON."""
    try:
        return response.json()
    except ValueError:
        return {}


def _error(response: httpx.Response) -> CloudError:
    """An answer ≥ 400 as :class:`CloudError` (contract "Transport" → Errors)."""
    data = _json(response)
    error = data.get("error", data) if isinstance(data, dict) else {}
    error = error if isinstance(error, dict) else {}
    return CloudError(
        str(error.get("code") or f"HTTP-{response.status_code}"),
        str(error.get("message") or response.reason_phrase),
        response.status_code,
        retry_after(response),
    )


class EhjznyClient:
    """``EhjznyClient(base_url, app_id, token_source)``; create it inside the running loop.

    ``token_source()`` is an async callable returning the bearer (the API key, or an access
    token); ``on_unauthorized()`` (optional, async) is awaited once after a 401 before the
    call is retried once, e.g. to refresh the access token.
    """

    def __init__(
        self,
        base_url: str,
        app_id: str,
        token_source: Callable[[], Awaitable[str]],
        *,
        on_unauthorized: Callable[[], Awaitable[None]] | None = None,
        lang: str = "en",
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.token_source = token_source
        self.on_unauthorized = on_unauthorized
        self.transport = http.Transport(
            "Ehjzny",
            http.http_client(
                base_url=self.base_url,
                timeout=timeout,
                transport=transport,
                connections=16,
                headers={"X-APP-ID": app_id, "lang": lang},
                auth=http.BearerAuth(token_source, on_unauthorized),
            ),
            error=_error,
            unreachable=TransportError,
        )
        self.http = self.transport.http

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def call(
        self,
        operation: str,
        *,
        ids: dict | None = None,
        params: dict | None = None,
        body: dict | None = None,
        auth: bool = True,
        envelope: bool = False,
    ):
        """One call of ``operation`` (a key of :data:`ROUTES`); ``auth=False`` sends no
        bearer. Returns ``result`` (or the whole envelope with ``envelope=True``). Never
        retried here (the engine backs off; a 401 is retried once after ``on_unauthorized``).
        Raises TransportError or CloudError."""
        method, path = ROUTES[operation]
        kwargs: dict = {"params": {k: v for k, v in (params or {}).items() if v is not None}, "json": body}
        if not auth:
            kwargs["auth"] = None
        response = await self.transport.send(
            method, path.format(**(ids or {})), operation=operation, **kwargs
        )
        data = _json(response)
        if envelope:
            return data
        return data.get("result") if isinstance(data, dict) else data

    async def pages(
        self, operation: str, params: dict | None = None, *, token: str | None = None, limit: int = 500
    ) -> AsyncIterator[tuple[list[dict], str | None]]:
        """Yield ``(items, next_token)`` page by page from ``token`` (None = page one).
        An expired token raises CloudError with ``page_token_expired``."""
        while True:
            data = await self.call(
                operation, params={**(params or {}), "limit": limit, "nextPageToken": token}, envelope=True
            )
            pagination = data.get("pagination") or {}
            token = pagination.get("nextPageToken") if pagination.get("hasMore", True) else None
            yield list(data.get("result") or []), token
            if not token:
                return

    async def all(self, operation: str, params: dict | None = None, limit: int = 500) -> list[dict]:
        """Every item of a listing (restarting once from page one when a token expires)."""
        for attempt in (1, 2):
            out: list[dict] = []
            try:
                async for items, _ in self.pages(operation, params, limit=limit):
                    out.extend(items)
                return out
            except CloudError as exc:
                if not exc.page_token_expired or attempt == 2:
                    raise
        return []
