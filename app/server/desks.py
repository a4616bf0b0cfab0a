"""Paired desks: pairing codes, desk tokens and roles.

Pairing is started at a manager desk (the server's own desk is one):
``POST /desks/pairing-code`` ``{role, resourceIds}`` gives a short code (``ABCD-EFGH``, 8
letters/digits without look-alikes, single use, valid ``CODE_MINUTES``) shown on that
screen. The role (``reception`` when none is given) and a provider's resources are fixed
then: the code pairs that role only. The new desk calls ``POST /desks/pair`` over HTTPS
with ``{deskName, code}`` (``role`` optional: when given it must be the code's) or, better,
``proof`` =
hex HMAC-SHA256(key = the code without dash, message = the fingerprint of the certificate
the desk sees): a machine in the middle, which shows the desk a certificate of its own, can
then neither reuse the code nor get a token. The answer is a bearer token (shown once; only
its SHA-256 is stored, table ``desks``) and the server certificate's fingerprint to pin.

Roles: ``reception`` (all desk work), ``provider`` (the queue and bookings of its own
``resourceIds``: accept, check in, start, end, no-show; read-only otherwise), ``manager``
(everything, also pairing and settings).

The server's own desk: :attr:`DeskRegistry.local_token`, random per process (never
stored), authenticates as :data:`LOCAL_DESK`, a manager. The embedded desk gets it
in-process; a headless server writes it to ``<data dir>/local-token`` (0600, the token alone
on one line; :func:`write_local_token`) for scripts on the same machine.

Wrong guesses: each source address gets ``FREE_GUESSES`` wrong codes, then must wait
``2 ** (n - FREE_GUESSES)`` seconds (at most ``MAX_BACKOFF``) after its n-th wrong one
before its next try counts (429 ``PAIRING-RATE-LIMITED`` with ``retryAfter`` seconds). Other
addresses and the open codes are not affected.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from app.domain import errors
from app.domain.clock import to_iso, utc_now
from app.domain.errors import BookingError
from app.domain.model import DeskRole
from app.ids import new_id
from app.trust import normalize_code, pairing_proof

ROLES = tuple(DeskRole)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_MINUTES = 10
FREE_GUESSES = 3  # wrong codes per source address before the backoff starts
MAX_BACKOFF = 300  # seconds
LOCAL_TOKEN_FILE = "local-token"


@dataclass(frozen=True)
class Desk:
    """An authenticated desk. ``local``: the server's own desk (its per-process token)."""

    id: str
    name: str
    role: DeskRole
    resource_ids: tuple[str, ...] = field(default_factory=tuple)
    local: bool = False


LOCAL_DESK = Desk(id="local", name="server desk", role=DeskRole.MANAGER, local=True)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def write_local_token(data_dir: str | Path, token: str) -> Path:
    """Write ``token`` alone on one line to ``<data_dir>/local-token``, readable by its owner
    only (0600, written to a temporary file then renamed: never a moment with a wider mode
    or half a token). Returns the path."""
    path = Path(data_dir) / LOCAL_TOKEN_FILE
    tmp = path.with_name(f".{LOCAL_TOKEN_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{token}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def read_local_token(data_dir: str | Path) -> str | None:
    """The token a headless server wrote to ``<data_dir>/local-token``, or None."""
    try:
        return (Path(data_dir) / LOCAL_TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None


def remove_local_token(data_dir: str | Path, token: str) -> None:
    """Remove ``<data_dir>/local-token`` when it still holds ``token`` (this process's)."""
    if read_local_token(data_dir) == token:
        (Path(data_dir) / LOCAL_TOKEN_FILE).unlink(missing_ok=True)


class DeskRegistry:
    """Codes and wrong-guess counts live in memory (a restart voids them); desks live in the
    store. ``local_token`` (default: a new random one) is the server's own desk's."""

    def __init__(self, store, fingerprint: str | None = None, now=utc_now, local_token: str | None = None):
        self.store = store
        self.fingerprint = fingerprint
        self.local_token = local_token or secrets.token_urlsafe(32)
        self._now = now
        self._codes: dict[str, dict] = {}
        self._guesses: dict[str, tuple[int, datetime]] = {}  # source → (wrong guesses, last at)
        self._lock = threading.Lock()
        self._cache: dict[str, Desk | None] = {}

    def pairing_code(self, role: str | None = None, resource_ids: list[str] | None = None) -> dict:
        """A new code ``{"code", "expiresAt", "role", "resourceIds", "fingerprint"}`` that pairs
        ``role`` only (None = ``reception``) and, for a provider, those resources. Raises
        VALIDATION (unknown role, a provider without resources, resources for another role)
        or NOT-FOUND (an unknown resource)."""
        resources = list(dict.fromkeys(resource_ids or []))
        if (role or DeskRole.RECEPTION) not in ROLES:
            raise errors.invalid(f"role must be one of {', '.join(ROLES)}", field="role")
        role = DeskRole(role or DeskRole.RECEPTION)
        if role == DeskRole.PROVIDER and not resources:
            raise errors.invalid("a provider desk needs the ids of its resources", field="resourceIds")
        if role != DeskRole.PROVIDER and resources:
            raise errors.invalid("only a provider desk is limited to resources", field="resourceIds")
        for rid in resources:
            if self.store.resource(rid) is None:
                raise errors.not_found("resource", rid)
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        expires = self._now() + timedelta(minutes=CODE_MINUTES)
        with self._lock:
            self._codes = {c: v for c, v in self._codes.items() if v["expires"] > self._now()}
            self._codes[raw] = {"expires": expires, "role": role, "resourceIds": resources}
        return {
            "code": f"{raw[:4]}-{raw[4:]}",
            "expiresAt": to_iso(expires),
            "role": role,
            "resourceIds": resources,
            "fingerprint": self.fingerprint,
        }

    def _wait_left(self, source: str, now: datetime) -> int:
        """Seconds ``source`` must still wait before its next guess counts (0: may try)."""
        count, last = self._guesses.get(source, (0, now))
        if count < FREE_GUESSES:
            return 0
        delay = min(MAX_BACKOFF, 2 ** (count - FREE_GUESSES))
        left = (last + timedelta(seconds=delay) - now).total_seconds()
        return max(0, int(left + 0.999))

    def _find(self, code: str | None, proof: str | None, now: datetime) -> str | None:
        for raw, value in self._codes.items():
            if value["expires"] <= now:
                continue
            if code and hmac.compare_digest(normalize_code(code).encode(), raw.encode()):
                return raw
            if (
                proof
                and self.fingerprint
                and hmac.compare_digest(proof.lower().encode(), pairing_proof(raw, self.fingerprint).encode())
            ):
                return raw
        return None

    def _take(
        self,
        code: str | None,
        proof: str | None,
        role: str | None,
        resource_ids: list[str] | None,
        source: str,
    ) -> dict:
        """Consume the matching live code once the role (and resources) asked for, when given,
        are the code's. Raises PAIRING-RATE-LIMITED (429) while ``source`` must wait, PAIRING-FAILED
        (403) for a wrong or expired code (counted against ``source``) or another role or other resources (the code stays valid)."""
        now: datetime = self._now()
        with self._lock:
            if len(self._guesses) > 10_000:  # forget quiet addresses
                cutoff = now - timedelta(seconds=MAX_BACKOFF * 2)
                self._guesses = {s: v for s, v in self._guesses.items() if v[1] > cutoff}
            wait = self._wait_left(source, now)
            if wait:
                raise BookingError(
                    "PAIRING-RATE-LIMITED",
                    f"too many wrong pairing codes; try again in {wait} s",
                    429,
                    retryAfter=wait,
                )
            found = self._find(code, proof, now)
            if found is None:
                count = self._guesses.get(source, (0, now))[0] + 1
                self._guesses[source] = (count, now)
                raise BookingError("PAIRING-FAILED", "the pairing code is wrong or has expired", 403)
            grant = self._codes[found]
            if role is not None and role != grant["role"]:
                raise BookingError(
                    "PAIRING-FAILED",
                    f"this code was made for a {grant['role']} desk",
                    403,
                    role=grant["role"],
                )
            if resource_ids and sorted(set(resource_ids)) != sorted(grant["resourceIds"]):
                raise BookingError("PAIRING-FAILED", "this code was made for other resources", 403)
            self._guesses.pop(source, None)
            return self._codes.pop(found)

    def pair(
        self,
        desk_name: str,
        role: str | None = None,
        code: str | None = None,
        proof: str | None = None,
        resource_ids: list[str] | None = None,
        source: str = "",
    ) -> dict:
        """Pair a desk → ``{"token", "deskId", "deskName", "role", "resourceIds",
        "fingerprint"}`` with the role and resources fixed when the code was made.
        ``source``: the caller's address (wrong guesses are counted per address).
        ``resource_ids``, when given, must be the code's. Raises VALIDATION (unknown role),
        PAIRING-FAILED (403: wrong/expired code, another role or other resources),
        PAIRING-RATE-LIMITED (429)."""
        if role is not None and role not in ROLES:
            raise errors.invalid(f"role must be one of {', '.join(ROLES)}", field="role")
        grant = self._take(code, proof, role, resource_ids, source)
        resources = grant["resourceIds"]
        token = secrets.token_urlsafe(32)
        desk = {
            "id": new_id(),
            "name": desk_name,
            "role": grant["role"],
            "resourceIds": resources,
            "tokenHash": token_hash(token),
            "createdAt": to_iso(self._now()),
        }
        self.store.add_desk(desk)
        return {
            "token": token,
            "deskId": desk["id"],
            "deskName": desk_name,
            "role": grant["role"],
            "resourceIds": resources,
            "fingerprint": self.fingerprint,
        }

    def authenticate(self, token: str) -> Desk | None:
        """The desk holding ``token`` (:data:`LOCAL_DESK` for :attr:`local_token`), or None
        (unknown or revoked)."""
        if hmac.compare_digest(token.encode(), self.local_token.encode()):
            return LOCAL_DESK
        digest = token_hash(token)
        if digest in self._cache:
            return self._cache[digest]
        row = self.store.desk_by_token_hash(digest)
        desk = Desk(row["id"], row["name"], DeskRole(row["role"]), tuple(row["resourceIds"])) if row else None
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[digest] = desk
        return desk

    def revoke(self, desk_id: str) -> bool:
        done = self.store.revoke_desk(desk_id, to_iso(self._now()))
        self._cache.clear()
        return done

    def list(self) -> list[dict]:
        return self.store.desks()
