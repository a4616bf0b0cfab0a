"""Sign-in of the simulated cloud (Ehjzny API reference, "Request Otp", "Verify Otp", "Get Access Token";
contract "Transport": ``Authorization: Bearer <access token or organization API key>``).

* ``POST /auth/otp/request`` ``{method, phoneNumber | email, isOrgMember}`` "sends" the code;
  the simulation's code is always :attr:`otp_code` (``"1234"`` by default).
* ``POST /auth/otp/verify`` (same body plus ``code``) →
  ``{accessToken, refreshToken, expiresIn, accessTokenExpiresAt, user}``. With
  ``isOrgMember: false`` the user is the customer of that phone/email (created if new).
* ``GET /auth/token?refreshToken=`` → a fresh access token; the API reference allows the access
  token in place of the refresh token.
* The API key never expires. An access token lives ``access_token_ttl`` seconds on the
  cloud's clock; :meth:`expire_tokens` ages them all at once (fault injection). A missing
  or unknown bearer → 401 ``AUTH-UNAUTHORIZED``; an expired one → 401 ``AUTH-TOKEN-EXPIRED``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from .errors import OTP_INVALID, TOKEN_EXPIRED, UNAUTHORIZED, unauthorized
from .rules import invalid, iso

MEMBER = {"role": "member"}


class AuthMixin:
    def _auth_init(self) -> None:
        self.access_tokens: dict[str, tuple] = {}  # token → (expires at, user)
        self.refresh_tokens: dict[str, dict] = {}  # token → user
        self.otps: dict[tuple, str] = {}

    def request_otp(self, body: dict) -> dict:
        key = self._otp_key(body)
        with self.lock:
            self.otps[key] = self.otp_code
        return {"sent": True, "method": body.get("method") or "sms"}

    def verify_otp(self, body: dict) -> dict:
        key = self._otp_key(body)
        with self.lock:
            if self.otps.get(key) != str(body.get("code") or ""):
                raise unauthorized(OTP_INVALID, "wrong or unrequested OTP code")
            del self.otps[key]
            if key[2]:
                user = dict(MEMBER)
            else:
                customer = self.find_or_create_customer({"phone": key[0]} if key[0] else {"email": key[1]})
                user = {"role": "customer", "customerId": customer["id"]}
            refresh = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = user
            return self._issue_access(refresh, user)

    #: answer ``GET /auth/token`` with a NEW refresh token and retire the old one (the API reference's
    #: reply carries a ``refreshToken``; whether it is new is not said)
    rotate_refresh_tokens = False

    def token_from_refresh(self, token: str | None) -> dict:
        with self.lock:
            user = self.refresh_tokens.get(token or "")
            if user is None and token in self.access_tokens:
                user = self.access_tokens[token][1]
            if user is None:
                raise unauthorized(UNAUTHORIZED, "unknown refresh token")
            if self.rotate_refresh_tokens and token in self.refresh_tokens:
                del self.refresh_tokens[token]
                token = "rt-" + secrets.token_urlsafe(24)
                self.refresh_tokens[token] = user
            return self._issue_access(token, user)

    def authenticate(self, header: str | None) -> dict:
        """The user behind an ``Authorization`` header, or 401."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthorized(UNAUTHORIZED, "missing bearer token")
        if token == self.api_key:
            return dict(MEMBER)
        with self.lock:
            entry = self.access_tokens.get(token)
        if entry is None:
            raise unauthorized(UNAUTHORIZED, "unknown access token")
        if entry[0] <= self.clock.now():
            raise unauthorized(TOKEN_EXPIRED, "access token expired: refresh it")
        return entry[1]

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens stay valid)."""
        with self.lock:
            past = self.clock.now() - timedelta(seconds=1)
            self.access_tokens = {t: (past, user) for t, (_, user) in self.access_tokens.items()}

    def _issue_access(self, refresh: str, user: dict) -> dict:
        token = "at-" + secrets.token_urlsafe(24)
        expires = self.clock.now() + timedelta(seconds=self.access_token_ttl)
        self.access_tokens[token] = (expires, user)
        return {
            "accessToken": token,
            "refreshToken": refresh,
            "expiresIn": self.access_token_ttl,
            "accessTokenExpiresAt": iso(expires),
            "user": user,
        }

    @staticmethod
    def _otp_key(body: dict) -> tuple:
        phone, email = body.get("phoneNumber"), body.get("email")
        if not (phone or email):
            raise invalid("phoneNumber or email is required")
        return (phone, None if phone else email, bool(body.get("isOrgMember")))
