"""The diagnostics report is redacted: no patient names, phones, e-mails or tokens."""

from __future__ import annotations

import asyncio
import json
import logging

from app import diagnostics, logs
from app.client import DeskClient
from app.diagnostics import MASK, redact


def test_emails_are_removed():
    text = redact("sent to sara.alqahtani+clinic@example.com.sa and x@y.io")
    assert "@" not in text and text.count(MASK) == 2


def test_phones_in_any_digits_and_format_are_removed():
    for phone in (
        "+966 50 123 4567",
        "0501234567",
        "00966-50-123-4567",
        "(050) 123-4567",
        "٠٥٠١٢٣٤٥٦٧",
        "+٩٦٦٥٠١٢٣٤٥٦٧",
        "050.123.4567",
    ):
        out = redact(f"customer phone {phone} called")
        assert MASK in out, (phone, out)
        assert not any(ch.isdigit() for ch in out), (phone, out)


def test_dates_times_ports_and_versions_survive():
    line = (
        "2026-11-21 08:20:24,025 INFO app.server: branch server listening on http://127.0.0.1:37915 "
        "at 2026-11-21T08:20:24.025Z; Istiqbal 0.1.0; counts {'bookings': 612, 'queued': 12}"
    )
    assert redact(line) == line


def test_tokens_and_keys_are_removed():
    secret = "sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    text = "\n".join(
        [
            f"Authorization: Bearer {secret}",
            json.dumps({"apiKey": secret, "refreshToken": "r-123456", "appId": "clinic-7"}),
            f"GET /sync?token={secret}&page=2",
            f"got {jwt}",
            f"api_key={secret}",
            "a long key 3c1f0e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
        ]
    )
    out = redact(text)
    assert secret not in out and "r-123456" not in out and "eyJ" not in out
    assert "3c1f0e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e" not in out
    assert '"appId": "clinic-7"' in out and "page=2" in out


def test_names_in_fields_and_known_patients_are_removed():
    customers = [
        {"firstName": "منيرة", "lastName": "الأحمدي", "phone": "0501234567"},
        {"firstName": "Sofia", "lastName": "Nguyen"},
    ]
    names = diagnostics.customer_names(customers)
    text = (
        "booking for منيرة الأحمدي refused; Sofia Nguyen checked in; "
        + json.dumps(
            {
                "firstName": "Karim",
                "lastName": "Siddiqui",
                "note": "allergic to penicillin",
                "status": "Confirmed",
            },
            ensure_ascii=False,
        )
        + " firstName=Ahmed lastName: Garcia"
    )
    out = redact(text, names)
    for word in ("منيرة", "الأحمدي", "Sofia", "Nguyen", "Karim", "Siddiqui", "penicillin", "Ahmed", "Garcia"):
        assert word not in out, (word, out)
    assert '"status": "Confirmed"' in out and "checked in" in out


def test_report_of_a_running_server_is_redacted_json(branch_server, tmp_path, monkeypatch):
    monkeypatch.setenv(logs.ENV_DIR, str(tmp_path / "logs"))
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        assert logs.setup(role="test") == tmp_path / "logs" / "istiqbal.log"
        logging.getLogger("test").warning("customer phone 0551234567 token=abcdef123456 email a@b.co")
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    tail = logs.tail()
    assert "started: Istiqbal" in tail and "0551234567" in tail

    async def scenario():
        client = DeskClient(branch_server.url, token=branch_server.token)
        try:
            info = await diagnostics.collect(client, {"qt": "6.x"})
            customers = await client.customers("", limit=30)
        finally:
            await client.aclose()
        return info, customers

    info, customers = asyncio.run(scenario())
    assert info["server"]["ready"]["status"] == "ok"
    assert info["sync"]["connected"] is False and info["recovery"]["status"] in ("new", "ok")
    assert info["backups"]["count"] >= 0
    text = diagnostics.report(info, tail, diagnostics.customer_names(customers))
    assert "0551234567" not in text and "abcdef123456" not in text and "a@b.co" not in text
    for customer in customers:
        assert customer["firstName"] not in text
    assert "Istiqbal diagnostics" in text and info["app"]["version"] in text


def test_last_sync_error_reads_either_shape():
    assert diagnostics.last_sync_error({"lastError": "HTTP 503"}) == "HTTP 503"
    assert (
        diagnostics.last_sync_error({"lastError": {"code": "NETWORK", "message": "down"}}) == "NETWORK down"
    )
    assert diagnostics.last_sync_error({"lastError": None}) is None
    assert diagnostics.last_sync_error(None) is None
