"""Opaque, expiring page tokens (Ehjzny API reference, "Pagination" at the top of the reference).

"Pagination tokens have an expiration time, so don't store them for extended periods."
The simulation keeps each token server-side with the instant it was issued (on the cloud's
injectable clock), the listing it belongs to and the sort key of the last item served
(keyset paging: items created meanwhile do not shift the pages). A token older than
``ttl`` seconds answers 400 ``PAGINATION-TOKEN-EXPIRED``; an unknown token, or one sent
with other filters than the listing it came from, answers 400 ``PAGINATION-TOKEN-INVALID``.
"""

from __future__ import annotations

import bisect
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta

from .errors import PAGE_TOKEN_EXPIRED, PAGE_TOKEN_INVALID
from .rules import SimError


class PageTokens:
    def __init__(self, clock, ttl: float = 60.0):
        self.clock = clock
        self.ttl = ttl
        self._tokens: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def page(
        self,
        items: Sequence,
        key: Callable,
        limit: int,
        token: str | None,
        scope: str,
        descending: bool = False,
    ) -> tuple[list, str | None]:
        """One page of ``items`` (already sorted by ``key``) → (page, next token or None).
        ``items`` may carry ``ascending_keys`` (the items' keys, ascending, as
        :class:`.listing.Listing` does): the page then starts by bisection, not a scan."""
        start = 0
        if token:
            last = self._resume(token, scope)
            keys = getattr(items, "ascending_keys", None)
            if keys is None:
                items = [i for i in items if (key(i) < last if descending else key(i) > last)]
            elif descending:  # the items after ``last`` are those with a smaller key: the tail
                start = len(keys) - bisect.bisect_left(keys, last)
            else:
                start = bisect.bisect_right(keys, last)
        page = list(items[start : start + limit])
        if len(items) - start <= limit:
            return page, None
        return page, self._issue(scope, key(page[-1]))

    def expire_all(self) -> None:
        """Age every issued token past its TTL (tests and ``/_sim/faults``)."""
        with self._lock:
            old = self.clock.now() - timedelta(seconds=self.ttl + 1)
            self._tokens = {t: (old, *rest) for t, (_, *rest) in self._tokens.items()}

    def _issue(self, scope: str, last) -> str:
        token = secrets.token_urlsafe(24)
        now = self.clock.now()
        with self._lock:
            horizon = now - timedelta(seconds=self.ttl * 10)
            self._tokens = {t: v for t, v in self._tokens.items() if v[0] > horizon}
            self._tokens[token] = (now, scope, last)
        return token

    def _resume(self, token: str, scope: str):
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None or entry[1] != scope:
            raise SimError(PAGE_TOKEN_INVALID, "unknown page token, or other filters than its listing")
        issued, _, last = entry
        if self.clock.now() - issued > timedelta(seconds=self.ttl):
            raise SimError(PAGE_TOKEN_EXPIRED, "page token expired: restart the listing from page one")
        return last
