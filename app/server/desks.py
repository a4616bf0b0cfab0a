"""Paired desks: pairing codes, desk tokens and roles.

Pairing is started at the server's own desk (loopback, or a manager desk):
``POST /desks/pairing-code`` gives a short code (``ABCD-EFGH``, 8 letters/digits without
look-alikes, single use, valid ``CODE_MINUTES``) shown on that screen. The new desk calls
``POST /desks/pair`` over HTTPS with ``{deskName, role, code}`` or, better, ``proof`` =
hex HMAC-SHA256(key = the code without dash, message = the fingerprint of the certificate
the desk sees): a machine in the middle, which shows the desk a certificate of its own, can
then neither reuse the code nor get a token. The answer is a bearer token (shown once; only
its SHA-256 is stored, table ``desks``) and the server certificate's fingerprint to pin.

Roles: ``reception`` (all desk work), ``provider`` (the queue and bookings of its own
``resourceIds``: accept, check in, start, end, no-show; read-only otherwise), ``manager``
(everything, also pairing and settings). The server's own loopback desk is a manager.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain import errors
from app.domain.clock import to_iso, utc_now
from app.domain.errors import BookingError
from app.ids import new_id
from app.trust import normalize_code, pairing_proof

ROLES = ("reception", "provider", "manager")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_MINUTES = 10
MAX_FAILURES = 10  # wrong codes before every open code is void


@dataclass(frozen=True)
class Desk:
    """An authenticated desk. ``local``: the server's own desk over plain loopback HTTP."""

    id: str
    name: str
    role: str
    resourceIds: tuple[str, ...] = field(default_factory=tuple)
    local: bool = False


LOCAL_DESK = Desk(id="local", name="server desk", role="manager", local=True)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DeskRegistry:
    """Codes live in memory (a restart voids them); desks live in the store."""

    def __init__(self, store, fingerprint: str | None = None, now=utc_now):
        self.store = store
        self.fingerprint = fingerprint
        self._now = now
        self._codes: dict[str, dict] = {}
        self._failures = 0
        self._lock = threading.Lock()
        self._cache: dict[str, Desk | None] = {}

    def pairing_code(self, role: str | None = None, resource_ids: list[str] | None = None) -> dict:
        """A new code ``{"code", "expiresAt", "role", "resourceIds", "fingerprint"}``. A code
        made for a role pairs only that role."""
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        expires = self._now() + timedelta(minutes=CODE_MINUTES)
        with self._lock:
            self._codes = {c: v for c, v in self._codes.items() if v["expires"] > self._now()}
            self._codes[raw] = {"expires": expires, "role": role, "resourceIds": list(resource_ids or [])}
            self._failures = 0
        return {"code": f"{raw[:4]}-{raw[4:]}", "expiresAt": to_iso(expires), "role": role,
                "resourceIds": list(resource_ids or []), "fingerprint": self.fingerprint}

    def _take(self, code: str | None, proof: str | None) -> dict:
        """Consume the matching live code. Raises PAIRING-FAILED (403)."""
        now: datetime = self._now()
        with self._lock:
            found = None
            for raw, value in self._codes.items():
                if value["expires"] <= now:
                    continue
                if code and hmac.compare_digest(normalize_code(code).encode(), raw.encode()):
                    found = raw
                elif proof and self.fingerprint and hmac.compare_digest(
                        proof.lower().encode(), pairing_proof(raw, self.fingerprint).encode()):
                    found = raw
            if found is None:
                self._failures += 1
                if self._failures >= MAX_FAILURES:
                    self._codes.clear()
                raise BookingError("PAIRING-FAILED", "the pairing code is wrong or has expired", 403)
            return self._codes.pop(found)

    def pair(self, desk_name: str, role: str, code: str | None = None, proof: str | None = None,
             resource_ids: list[str] | None = None) -> dict:
        """Pair a desk → ``{"token", "deskId", "deskName", "role", "resourceIds",
        "fingerprint"}``. Raises VALIDATION (unknown role, provider without resources) or
        PAIRING-FAILED (403: wrong/expired code, or a role the code was not made for)."""
        if role not in ROLES:
            raise errors.invalid(f"role must be one of {', '.join(ROLES)}", field="role")
        grant = self._take(code, proof)
        if grant["role"] and grant["role"] != role:
            raise BookingError("PAIRING-FAILED", "this code was made for another role", 403)
        resources = grant["resourceIds"] or list(resource_ids or [])
        if role == "provider" and not resources:
            raise errors.invalid("a provider desk needs the ids of its resources", field="resourceIds")
        for rid in resources:
            if self.store.resource(rid) is None:
                raise errors.not_found("resource", rid)
        token = secrets.token_urlsafe(32)
        desk = {"id": new_id(), "name": desk_name, "role": role, "resourceIds": resources,
                "tokenHash": token_hash(token), "createdAt": to_iso(self._now())}
        self.store.add_desk(desk)
        return {"token": token, "deskId": desk["id"], "deskName": desk_name, "role": role,
                "resourceIds": resources, "fingerprint": self.fingerprint}

    def authenticate(self, token: str) -> Desk | None:
        """The desk holding ``token``, or None (unknown or revoked)."""
        digest = token_hash(token)
        if digest in self._cache:
            return self._cache[digest]
        row = self.store.desk_by_token_hash(digest)
        desk = Desk(row["id"], row["name"], row["role"], tuple(row["resourceIds"])) if row else None
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
