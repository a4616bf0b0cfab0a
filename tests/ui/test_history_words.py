"""The history view's words (ui.dialogs.history.history_lines, no server): every action the
branch server writes into a booking's history, and every ``history[].type`` of the Agendize
seed (``003_707c71aee94e5c34.txt`` "history[].type"), reads as words in English and in
Arabic, never as the raw key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.i18n import set_language

ROOT = Path(__file__).resolve().parents[2]
#: Agendize seed "history[].type" values
AGENDIZE_TYPES = (
    "booked pending accepted finished no_show user_deleted archived in_progress completed declined client_deleted"
    " payment changed_end changed_service started user_rescheduled user_rescheduled_changed_start"
    " user_rescheduled_changed_staff user_rescheduled_changed_resource user_rescheduled_changed_client"
    " user_rescheduled_changed_note user_rescheduled_changed_field client_rescheduled"
    " client_rescheduled_changed_start client_rescheduled_changed_staff client_rescheduled_changed_resource"
    " client_rescheduled_changed_client client_rescheduled_changed_note client_rescheduled_changed_field"
).split()
ARABIC = re.compile("[\u0600-\u06ff]")


def server_actions() -> set[str]:
    """The history actions the server writes: the names its write calls give (the booking
    service, payments, the sync engine), and the domain's Action enum where there is one."""
    found: set[str] = set()
    pattern = re.compile(
        r'(?:_commit|_act|BookingChange)\(\s*"([\w.-]+)"(?: if [^\n]*? else "([\w.-]+)")?'
        r'|"action":\s*"([\w.-]+)"(?: if [^\n]*? else "([\w.-]+)")?'
    )
    for path in [*(ROOT / "app" / "server").glob("*.py"), *(ROOT / "app" / "sync").glob("*.py")]:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.update(g for g in match.groups() if g)
    try:
        from app.domain.model import Action  # type: ignore[attr-defined]
    except ImportError:
        pass
    else:
        found.update(str(a) for a in Action)
    found.discard("pull")  # the outbox's own operation name, never a history entry
    return found


def _line(action: str, **after):
    from ui.dialogs.history import history_lines

    cloud = action.startswith(("cloud.", "sync"))
    entry = {
        "createdAt": "2026-12-08T07:02:00Z",
        "action": action,
        "actor": "agendize" if cloud else "system" if "expire" in action else None,
        "deskId": "local",
        "before": {"paid": 0},
        "after": {"paid": 15000, **after},
    }
    (line,) = history_lines([entry], "Asia/Riyadh")
    return line


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_server_action_and_cloud_type_has_words(lang):
    actions = server_actions()
    assert {"create", "reschedule", "cancel", "end", "payment", "sync"} <= actions  # the scan found them
    set_language(lang)
    try:
        texts = {}
        for action in sorted(actions) + [f"cloud.{t}" for t in AGENDIZE_TYPES]:
            line = (
                _line(action, by="client", channel="online") if action.startswith("cloud.") else _line(action)
            )
            texts[action] = line.what
            assert line.what and line.who, action
            raw = action.split(".")[-1]
            assert line.what not in (action, raw) and "_" not in line.what and "cloud." not in line.what, (
                action,
                line.what,
            )
            if lang == "ar":
                assert ARABIC.search(line.what), (action, line.what)
                assert ARABIC.search(line.who) or line.who == "\u2068Agendize\u2069", (action, line.who)
        assert "Changed" not in texts.values()  # none fell through to the generic words
    finally:
        set_language("en")


def test_words_say_what_and_who():
    set_language("en")
    moved = _line("reschedule")
    assert moved.what == "Rescheduled"
    from ui.dialogs.history import history_lines

    entries = [
        {
            "createdAt": "2026-12-08T07:00:00Z",
            "action": "reschedule",
            "actor": "Reception 1",
            "deskId": "d1",
            "before": {"startDateTime": "2026-12-08T07:00:00Z"},
            "after": {"startDateTime": "2026-12-08T07:30:00Z"},
        },
        {
            "createdAt": "2026-12-08T07:05:00Z",
            "action": "cancel",
            "actor": None,
            "deskId": "local",
            "before": {},
            "after": {"status": "CANCELED", "cancelReason": "the patient called"},
        },
        {
            "createdAt": "2026-12-08T07:01:00Z",
            "action": "cloud.client_rescheduled_changed_start",
            "actor": "agendize",
            "after": {"cloudKey": "k1", "by": "client", "channel": "online"},
        },
        {
            "createdAt": "2026-12-08T07:03:00Z",
            "action": "sync",
            "actor": "agendize",
            "before": {"startDateTime": "2026-12-08T07:30:00Z"},
            "after": {
                "startDateTime": "2026-12-08T08:00:00Z",
                "cloudChange": {
                    "key": "k2",
                    "at": "2026-12-08T07:02:00Z",
                    "by": "client",
                    "channel": "online",
                },
            },
        },
        {
            "createdAt": "2026-12-08T07:02:00Z",
            "action": "cloud.client_rescheduled_changed_start",
            "actor": "agendize",
            "after": {"cloudKey": "k2", "by": "client", "channel": "online"},
        },
    ]
    lines = [(line.what, line.who) for line in history_lines(entries, "Asia/Riyadh")]
    from app.domain.clock import from_iso
    from app.i18n import formats as fmt

    def t(hh_mm: str) -> str:  # UTC → Riyadh wall time as the desk writes it
        return "\u2068" + fmt.format_time(from_iso(f"2026-12-08T{hh_mm}:00Z"), "Asia/Riyadh") + "\u2069"

    assert lines == [
        ("Canceled: \u2068the patient called\u2069", "This computer's desk"),
        # the pull's change at the cloud's time, once (its copied entry k2 is not shown again)
        (f"Rescheduled from {t('07:30')} to {t('08:00')}", "The client, online (\u2068Agendize\u2069)"),
        ("Rescheduled to a new time", "The client, online (\u2068Agendize\u2069)"),
        (f"Rescheduled from {t('07:00')} to {t('07:30')}", "\u2068Reception 1\u2069"),
    ]
