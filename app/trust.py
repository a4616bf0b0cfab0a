"""Trust between a desk and a branch server on the LAN, shared by both sides.

The server's certificate is pinned by the SHA-256 of its DER bytes (lower-case hex): a desk
accepts exactly the certificate it saw when it paired, the way Syncthing pins device ids.
Pairing sends a proof (HMAC of the pairing code over the fingerprint the desk sees) instead
of the code itself (see :mod:`app.server.desks`).
"""

from __future__ import annotations

import hashlib
import hmac
import ssl


def fingerprint_of(der: bytes) -> str:
    """SHA-256 of a certificate's DER bytes, lower-case hex (64 characters)."""
    return hashlib.sha256(der).hexdigest()


def normalize_fingerprint(text: str) -> str:
    """Accept ``AB:CD:..`` or plain hex in any case → plain lower-case hex. Raises ValueError."""
    clean = text.replace(":", "").replace(" ", "").lower()
    if len(clean) != 64 or any(c not in "0123456789abcdef" for c in clean):
        raise ValueError("a certificate fingerprint is 64 hex digits (SHA-256)")
    return clean


class PinMismatch(ssl.SSLCertVerificationError):
    """The server's certificate is not the one this desk paired with."""


def pinned_context(fingerprint: str | None, seen: list[str] | None = None) -> ssl.SSLContext:
    """A client TLS context that accepts exactly the certificate with ``fingerprint``
    (checked right after the handshake, before any request byte is sent). With
    ``fingerprint`` None it accepts any certificate (pairing only) and appends the seen
    fingerprint to ``seen``. Raises :class:`PinMismatch` on the connection attempt."""
    expected = normalize_fingerprint(fingerprint) if fingerprint else None

    def check(der: bytes | None) -> None:
        got = fingerprint_of(der or b"")
        if seen is not None:
            seen.append(got)
        if expected is not None and got != expected:
            raise PinMismatch(f"the server's certificate {got[:16]}… is not the paired one {expected[:16]}…")

    class PinnedObject(ssl.SSLObject):
        def do_handshake(self):
            super().do_handshake()
            check(self.getpeercert(binary_form=True))

    class PinnedSocket(ssl.SSLSocket):
        def do_handshake(self, block=False):
            super().do_handshake(block)
            check(self.getpeercert(binary_form=True))

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # trust comes from the pin, not from a CA
    ctx.sslobject_class = PinnedObject
    ctx.sslsocket_class = PinnedSocket
    return ctx


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def pairing_proof(code: str, fingerprint: str) -> str:
    """What a pairing desk sends instead of the code (see the module docstring)."""
    return hmac.new(normalize_code(code).encode(), fingerprint.lower().encode(), hashlib.sha256).hexdigest()
