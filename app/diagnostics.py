"""The desk's diagnostics report ("Help → Copy diagnostics"), redacted before it leaves.

:func:`redact` removes what must not be pasted into a support ticket: e-mail addresses,
phone numbers (Latin or Arabic-Indic digits), tokens and keys (``Bearer …``, ``token=…``,
``"apiKey": "…"``, long hex/base64 runs, JWTs), the values of personal fields
(``firstName``, ``phone``, ``note``, …) and any patient name the desk knows of. The
report itself holds versions, platform, the server's state, the sync status (with its
``lastError``), the backups, the start-up recovery report and the log's tail.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from collections.abc import Iterable

import app
from app import logs

MASK = "[redacted]"

#: fields whose values are personal or secret, wherever they appear (JSON or key=value)
SENSITIVE_KEYS = (
    "firstName",
    "lastName",
    "name",
    "fullName",
    "customerName",
    "phone",
    "mobile",
    "email",
    "note",
    "notes",
    "address",
    "token",
    "accessToken",
    "refreshToken",
    "apiKey",
    "api_key",
    "secret",
    "password",
    "authorization",
    "code",
    "otp",
    "tokenHash",
    "searchText",
    "displayName",
)
_KEYS = "|".join(sorted(map(re.escape, SENSITIVE_KEYS), key=len, reverse=True))
# "key": "value" (JSON), 'key': 'value' (repr) and key=value / key: value (logs, URLs)
_JSON_FIELD = re.compile(rf"""(["']?)\b({_KEYS})\1(\s*[:=]\s*)(["'])(?:\\.|(?!\4).)*\4""", re.IGNORECASE)
_PLAIN_FIELD = re.compile(rf"""\b({_KEYS})(\s*[=:]\s*)(?!["'\[{{])([^\s,;&}})\]]+)""", re.IGNORECASE)
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_LONG_SECRET = re.compile(
    r"(?<![\w/.-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}(?![\w/.-])"
)
_DIGIT = r"[0-9\u0660-\u0669\u06F0-\u06F9]"
# a phone: 7+ digits, maybe with a leading + or 00, spaces, dashes, dots or parentheses between
_PHONE = re.compile(rf"(?<![\w:.\-/]){'(?:[+]|00)?'}\(?{_DIGIT}(?:[\s().-]{{0,2}}{_DIGIT}){{6,14}}(?![\w:/])")
# ISO dates/times and ULIDs/ids must survive the phone rule
_SAFE = re.compile(
    r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\b"
)


def _names_pattern(names: Iterable[str]) -> re.Pattern | None:
    words = sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in words), re.IGNORECASE)


def redact(text: str, names: Iterable[str] = ()) -> str:
    """``text`` without e-mails, phones, tokens, personal field values or ``names``."""
    text = _JSON_FIELD.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{MASK}{m[4]}", text)
    text = _PLAIN_FIELD.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m[1]} {MASK}", text)
    text = _JWT.sub(MASK, text)
    text = _EMAIL.sub(MASK, text)
    pattern = _names_pattern(names)
    if pattern is not None:
        text = pattern.sub(MASK, text)
    # keep dates and times: swap them out while phones are masked
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    text = _SAFE.sub(keep, text)
    text = _PHONE.sub(MASK, text)
    text = _LONG_SECRET.sub(MASK, text)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)


def customer_names(customers: Iterable[dict]) -> list[str]:
    """Every name part of ``customers`` (Ehjzny shape), for :func:`redact`."""
    out: list[str] = []
    for customer in customers:
        for key in ("firstName", "lastName"):
            value = (customer.get(key) or "").strip()
            if value:
                out += [value, *value.split()]
        full = f"{customer.get('firstName') or ''} {customer.get('lastName') or ''}".strip()
        if full:
            out.append(full)
    return out


async def collect(client, extra: dict | None = None) -> dict:
    """What the report says, read through the desk's client (``app.client.DeskClient``);
    a part the server cannot give becomes its error message."""

    async def read(call):
        try:
            return await call()
        except Exception as exc:  # the report must come out even with the server down
            return {"error": f"{type(exc).__name__}: {exc}"}

    info: dict = {
        "app": {"version": app.__version__, "frozen": bool(getattr(sys, "frozen", False))},
        "platform": {
            "system": platform.platform(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        **(extra or {}),
        "server": {"url": client.base_url, "ready": await read(client.ready)},
        "sync": await read(client.sync_status),
        "backups": await read(lambda: client._result("GET", "/backups")),
        "recovery": await read(lambda: client._result("GET", "/backups/recovery")),
        "logFile": str(logs.log_file()),
    }
    if isinstance(info["backups"], list):
        info["backups"] = {"count": len(info["backups"]), "newest": info["backups"][:3]}
    return info


def report(info: dict, log_tail: str = "", names: Iterable[str] = ()) -> str:
    """The text put on the clipboard: ``info`` as JSON, then the log's tail, redacted."""
    body = json.dumps(info, ensure_ascii=False, indent=2, default=str)
    text = f"Istiqbal diagnostics\n\n{body}\n\n--- log (last lines) ---\n{log_tail}\n"
    return redact(text, names)


def last_sync_error(status: dict | None) -> str | None:
    """The sync status's ``lastError`` (a string or ``{"code", "message"}``), for the log."""
    if not isinstance(status, dict):
        return None
    error = status.get("lastError")
    if isinstance(error, dict):
        return f"{error.get('code', '')} {error.get('message', '')}".strip() or None
    return error or None
