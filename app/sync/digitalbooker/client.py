"""HTTP client of the DigitalBooker Admin and Public API (DigitalBooker API reference
"Introduction", "Authentication", "Errors", "Pagination"; contract
``docs/clouds/digitalbooker.md`` "Transport").

* URL: ``{base}/{lang}/admin/v1/...`` and ``{base}/{lang}/public/v1/...``; the language
  segment goes first (API reference "Localization": "change the language identifier in the API
  endpoint URL"; the placement is the contract's inference). Paths come from
  :data:`app.sync.digitalbooker.names.NAMES` only.
* Auth: HTTP Basic, the API key's id as the user and its password as the password (API reference
  "Authentication"); the Public API is called without it.
* Paging: ``limit`` (1–100) and ``cursor`` (an offset: the next page is ``cursor +
  len(data)`` while ``has_more``); rows of one listing are merged by id, since offset paging
  over a changing set can repeat a row (contract "Transport").
* Int lists in queries are comma-separated (``resources=3,7``); bodies are JSON.

Failures (contract "Transport" → Errors), sorted by :attr:`DigitalBookerError.kind`:
:class:`TransportError` (no answer: the request may or may not have been handled),
``transient`` (5xx, 429 with ``Retry-After``), ``auth`` (401, 403: a key without the
privilege), ``not_found`` (404), ``conflict`` (409: the slot is no longer free) and
``refused`` (any other 4xx). Reads (GET) are retried a few times after a transient
failure with a jittered exponential backoff (``Retry-After`` when sent); writes never are:
the outbox retries them after its own lost-reply look-up (:mod:`app.sync.transport`).
"""

from __future__ import annotations

import random

import httpx

from app.sync import transport as http
from app.sync.digitalbooker.names import name, route
from app.sync.transport import retry_after

#: rows per page, at most (API reference "Pagination": "Range 1 to 100")
MAX_LIMIT = 100


class TransportError(Exception):
    """DigitalBooker did not answer (the request may or may not have been handled)."""


class DigitalBookerError(Exception):
    """DigitalBooker answered with an error: ``status`` (HTTP), ``code`` and ``message`` (the
    API reference's optional error code and message), ``errors`` (the per-parameter list,
    ``[{param, message}]``) and ``retry_after`` (seconds, from a 429's ``Retry-After``)."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        errors: list | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(f"{status} {code or '-'}: {message}")
        self.status, self.code, self.message = status, code, message
        self.errors = errors or []
        self.retry_after = retry_after

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

    @property
    def label(self) -> str:
        """A code for the needs-attention list: ``DIGITALBOOKER-<status>[-<code>]``."""
        return f"DIGITALBOOKER-{self.status}" + (f"-{self.code}" if self.code else "")


def _error(response: httpx.Response) -> DigitalBookerError:
    """The contract's error reply (``{"error": {code?, message?, errors?}}``, the same keys at
    the top level accepted) as an exception."""
    try:
        data = response.json()
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    inner = data.get(name("error.error"))
    error = inner if isinstance(inner, dict) else data
    code = error.get(name("error.code"))
    errors = error.get(name("error.errors"))
    return DigitalBookerError(
        response.status_code,
        str(code) if code is not None else None,
        str(error.get(name("error.message")) or response.reason_phrase or "error"),
        errors=errors if isinstance(errors, list) else None,
        retry_after=retry_after(response),
    )


def _query(params: dict | None) -> dict:
    """Query values as the contract writes them: int lists comma-separated, bools
    ``true``/``false``; None (and empty lists) left out."""
    out = {}
    for key, value in (params or {}).items():
        if value is None or value == []:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        out[key] = value
    return out


class DigitalBookerClient:
    """``DigitalBookerClient(base_url, key_id, password, lang="en")``; create it inside the
    running loop. ``base_url``: ``https://<host>/api`` (no trailing slash, no language);
    ``read_retries``: extra attempts of a GET after a transient failure; ``max_wait``: the
    longest ``Retry-After`` waited inside one call (a longer one goes to the caller).
    ``requests`` counts the calls made."""

    def __init__(
        self,
        base_url: str,
        key_id: str,
        password: str,
        *,
        lang: str = "en",
        timeout: float = 15.0,
        read_retries: int = 2,
        max_wait: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.lang = (lang or "en").strip().strip("/") or "en"
        self.transport = http.Transport(
            "DigitalBooker",
            http.http_client(
                auth=httpx.BasicAuth(key_id or "", password or ""), timeout=timeout, transport=transport
            ),
            error=_error,
            unreachable=TransportError,
            malformed=lambda status, message: DigitalBookerError(status, None, message),
            reads=http.ReadRetry(read_retries, max_wait, base=0.3, cap=10.0),
            rng=rng,
        )
        self.http = self.transport.http

    @property
    def requests(self) -> int:
        """Requests sent so far (each retry too)."""
        return self.transport.requests

    async def aclose(self) -> None:
        await self.transport.aclose()

    def url(self, operation: str, ids: dict | None = None) -> tuple[str, str]:
        """``(method, absolute URL)`` of ``operation`` with ``ids`` filled into its path."""
        method, path = route(operation)
        return method, f"{self.base_url}/{self.lang}{path.format(**(ids or {}))}"

    async def call(
        self,
        operation: str,
        *,
        ids: dict | None = None,
        params: dict | None = None,
        body: dict | None = None,
        public: bool = False,
    ):
        """One call of ``operation`` (a ``route.*`` key of the names table): the decoded
        JSON reply (None for an empty one). ``public``: without credentials (the Public
        API). A GET is retried after a transient failure (:class:`app.sync.transport.Transport`).
        Raises TransportError or DigitalBookerError."""
        method, url = self.url(operation, ids)
        kwargs: dict = {"params": _query(params)}
        if public:
            kwargs["auth"] = None
        if method in ("POST", "PUT"):
            kwargs["json"] = body if body is not None else {}
        return await self.transport.json(method, url, operation=operation, read=method == "GET", **kwargs)

    async def pages(
        self,
        operation: str,
        *,
        ids: dict | None = None,
        params: dict | None = None,
        limit: int = MAX_LIMIT,
        start: int = 0,
    ):
        """Yield ``(data, next_cursor)`` page by page (``next_cursor`` None after the last
        page): the cursor is an offset, ``cursor + len(data)`` while ``has_more`` (contract
        "Transport": Paging). Raises DigitalBookerError for a reply that is not a list."""
        cursor = int(start or 0)
        limit = max(1, min(MAX_LIMIT, int(limit)))
        while True:
            reply = await self.call(
                operation,
                ids=ids,
                params={**(params or {}), name("list.limit"): limit, name("list.cursor"): cursor},
            )
            if not isinstance(reply, dict) or not isinstance(reply.get(name("list.data")), list):
                raise DigitalBookerError(200, "bad_list", f"{operation}: the reply is not a list object")
            data = reply[name("list.data")]
            more = bool(reply.get(name("list.has_more"))) and bool(data)
            cursor += len(data)
            yield data, (cursor if more else None)
            if not more:
                return

    async def all(
        self, operation: str, *, ids: dict | None = None, params: dict | None = None, limit: int = MAX_LIMIT
    ) -> list:
        """Every row of a listing, all pages, merged by id (the later copy wins); rows that
        are not objects (the deleted-ids listing's ints) are kept once each, in order."""
        merged: dict = {}
        async for data, _ in self.pages(operation, ids=ids, params=params, limit=limit):
            for row in data:
                key = row.get(name("booking.id")) if isinstance(row, dict) else row
                merged[str(key)] = row
        return list(merged.values())
