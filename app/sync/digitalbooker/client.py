"""HTTP client of the DigitalBooker Admin and Public API (seed ``004_7907c60232aa2c57.txt``
"Introduction", "Authentication", "Errors", "Pagination"; contract
``shared/contracts/digitalbooker.md`` "Transport").

* URL: ``{base}/{lang}/admin/v1/...`` and ``{base}/{lang}/public/v1/...``; the language
  segment goes first (seed "Localization": "change the language identifier in the API
  endpoint URL"; the placement is the contract's inference). Paths come from
  :data:`app.sync.digitalbooker.names.NAMES` only.
* Auth: HTTP Basic, the API key's id as the user and its password as the password (seed
  "Authentication"); the Public API is called without it.
* Paging: ``limit`` (1–100) and ``cursor`` (an offset: the next page is ``cursor +
  len(data)`` while ``has_more``); rows of one listing are merged by id, since offset paging
  over a changing set can repeat a row (contract "Transport").
* Int lists in queries are comma-separated (``resources=3,7``); bodies are JSON.

Failures (contract "Transport" → Errors), sorted by :attr:`DigitalBookerError.kind`:
:class:`TransportError` (no answer: the request may or may not have been handled),
``transient`` (5xx, 429 with ``Retry-After``), ``auth`` (401, 403: a key without the
privilege), ``not_found`` (404), ``conflict`` (409: the slot is no longer free) and
``refused`` (any other 4xx). Reads (GET) are retried here a few times after a transient
failure with a jittered exponential backoff (``Retry-After`` when sent); writes never are:
the outbox retries them after its own lost-reply look-up.
"""

from __future__ import annotations

import asyncio
import logging
import random

import httpx

from app.sync.digitalbooker.names import name, route

log = logging.getLogger(__name__)
#: rows per page, at most (seed "Pagination": "Range 1 to 100")
MAX_LIMIT = 100


class TransportError(Exception):
    """DigitalBooker did not answer (the request may or may not have been handled)."""


class DigitalBookerError(Exception):
    """DigitalBooker answered with an error: ``status`` (HTTP), ``code`` and ``message`` (the
    seed's optional error code and message), ``errors`` (the per-parameter list,
    ``[{param, message}]``) and ``retry_after`` (seconds, from a 429's ``Retry-After``)."""

    def __init__(self, status: int, code: str | None, message: str, *, errors: list | None = None,
                 retry_after: float | None = None):
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


def backoff_seconds(attempts: int, retry_after: float | None = None, *, base: float = 0.3,
                    cap: float = 10.0, rng: random.Random | None = None) -> float:
    """Seconds before retry ``attempts`` (1, 2, ...) of a read: ``Retry-After`` when sent,
    else ``uniform(0.5, 1) × min(cap, base × 2^(n-1))`` (the engine's convention)."""
    if retry_after is not None:
        return max(0.0, float(retry_after))
    return min(cap, base * (2 ** max(0, attempts - 1))) * (rng or random).uniform(0.5, 1.0)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


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
    return DigitalBookerError(response.status_code, str(code) if code is not None else None,
                              str(error.get(name("error.message")) or response.reason_phrase or "error"),
                              errors=errors if isinstance(errors, list) else None,
                              retry_after=_retry_after(response))


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

    def __init__(self, base_url: str, key_id: str, password: str, *, lang: str = "en", timeout: float = 15.0,
                 read_retries: int = 2, max_wait: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None, rng: random.Random | None = None):
        self.base_url = base_url.rstrip("/")
        self.lang = (lang or "en").strip().strip("/") or "en"
        self.read_retries, self.max_wait = read_retries, max_wait
        self.rng = rng or random.Random()
        self.requests = 0
        self._auth = httpx.BasicAuth(key_id or "", password or "")
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport,
                                      headers={"Accept": "application/json"},
                                      limits=httpx.Limits(max_connections=8, max_keepalive_connections=8))

    async def aclose(self) -> None:
        await self.http.aclose()

    def url(self, operation: str, ids: dict | None = None) -> tuple[str, str]:
        """``(method, absolute URL)`` of ``operation`` with ``ids`` filled into its path."""
        method, path = route(operation)
        return method, f"{self.base_url}/{self.lang}{path.format(**(ids or {}))}"

    async def call(self, operation: str, *, ids: dict | None = None, params: dict | None = None,
                   body: dict | None = None, public: bool = False):
        """One call of ``operation`` (a ``route.*`` key of the names table): the decoded
        JSON reply (None for an empty one). ``public``: without credentials (the Public
        API). Raises TransportError or DigitalBookerError."""
        method, url = self.url(operation, ids)
        query = _query(params)
        attempts = 0
        while True:
            attempts += 1
            self.requests += 1
            try:
                kwargs: dict = {"params": query}
                if not public:
                    kwargs["auth"] = self._auth
                if method in ("POST", "PUT"):
                    kwargs["json"] = body if body is not None else {}
                response = await self.http.request(method, url, **kwargs)
                if response.status_code >= 400:
                    raise _error(response)
            except (httpx.HTTPError, DigitalBookerError) as exc:
                failure = exc if isinstance(exc, DigitalBookerError) else TransportError(
                    f"{method} {url}: {type(exc).__name__}: {exc}")
                transient = isinstance(failure, TransportError) or failure.transient
                wait = backoff_seconds(attempts, getattr(failure, "retry_after", None), rng=self.rng)
                if method != "GET" or not transient or attempts > self.read_retries or wait > self.max_wait:
                    raise failure from (exc if failure is not exc else None)
                log.info("DigitalBooker %s %s: %s; retry %d in %.1f s", method, url, failure, attempts, wait)
                await asyncio.sleep(wait)
                continue
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise DigitalBookerError(response.status_code, None, f"{method} {url}: the reply is not JSON") from exc

    async def pages(self, operation: str, *, ids: dict | None = None, params: dict | None = None,
                    limit: int = MAX_LIMIT, start: int = 0):
        """Yield ``(data, next_cursor)`` page by page (``next_cursor`` None after the last
        page): the cursor is an offset, ``cursor + len(data)`` while ``has_more`` (contract
        "Transport": Paging). Raises DigitalBookerError for a reply that is not a list."""
        cursor = int(start or 0)
        limit = max(1, min(MAX_LIMIT, int(limit)))
        while True:
            reply = await self.call(operation, ids=ids, params={**(params or {}), name("list.limit"): limit,
                                                                name("list.cursor"): cursor})
            if not isinstance(reply, dict) or not isinstance(reply.get(name("list.data")), list):
                raise DigitalBookerError(200, "bad_list", f"{operation}: the reply is not a list object")
            data = reply[name("list.data")]
            more = bool(reply.get(name("list.has_more"))) and bool(data)
            cursor += len(data)
            yield data, (cursor if more else None)
            if not more:
                return

    async def all(self, operation: str, *, ids: dict | None = None, params: dict | None = None,
                  limit: int = MAX_LIMIT) -> list:
        """Every row of a listing, all pages, merged by id (the later copy wins); rows that
        are not objects (the deleted-ids listing's ints) are kept once each, in order."""
        merged: dict = {}
        async for data, _ in self.pages(operation, ids=ids, params=params, limit=limit):
            for row in data:
                key = row.get(name("booking.id")) if isinstance(row, dict) else row
                merged[str(key)] = row
        return list(merged.values())
