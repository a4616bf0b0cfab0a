"""One spelling per action, event type and role, and the one action table the server,
the client and the desk are built from (``app.domain.actions``, ``docs/adding-an-action.md``)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from app.domain.actions import ACTIONS, allowed, cloud_operations, ref_actions
from app.domain.model import Action, EventType
from app.i18n.labels import ACTION_LABELS
from app.server import events as events_module
from app.server.api import create_app
from app.server.security import RANK, route_roles
from app.server.service import BookingService
from app.store import migrations, open_store
from app.sync.ehjzny.connector import plan as ehjzny_plan
from tests.clinic import DAY, at, clock_at, fill
from ui.core.actions import BOOKING_ACTIONS, DESK_ACTIONS, PATIENT_ACTIONS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def service(tmp_path):
    store = open_store(tmp_path / "branch.sqlite3")
    fill(store)
    svc = BookingService(store, clock_at(1000))
    yield svc
    store.close()


def _book(svc, time=1000):
    return svc.create(
        {
            "type": "gen",
            "date": DAY.isoformat(),
            "time": time,
            "resourceId": "dr-sara",
            "customerIdentifier": {"id": "c2"},
        }
    )


def test_a_check_in_is_spelt_one_way_in_the_history_the_stored_event_and_the_desk(service):
    booking = _book(service)
    service.check_in(booking["id"], {"deskId": "reception-1"})
    service.undo_check_in(booking["id"], {"deskId": "reception-1"})
    service.clock.shift(at(1001) - at(1000))
    service.no_show(booking["id"])
    actions = [h["action"] for h in service.history(booking["id"])]
    assert actions == ["create", "check_in", "undo_check_in", "no_show"]
    stored = [
        (t, json.loads(d).get("action"))
        for t, d in service.store.db.execute("select type, data from events order by id").fetchall()
    ]
    assert [a for t, a in stored if t == "booking.changed"] == actions
    # the desk's label, shortcut and the rule the desk checks use the same key
    assert Action.CHECK_IN in ACTION_LABELS and Action.CHECK_IN in DESK_ACTIONS
    assert "check_in" == Action.CHECK_IN == actions[1]


def test_the_migration_rewrites_the_old_spellings_of_stored_actions(tmp_path):
    """History entries and stored events written before one spelling (``checkin``,
    ``noshow``, ``undo-checkin``) read as :class:`Action` afterwards; others are left alone."""
    path = tmp_path / "old.sqlite3"
    db = Database(sqlite3.connect(str(path)))
    migrations.migrations.apply(db, stop_before="m019_action_spellings")
    for n, action in enumerate(("create", "checkin", "undo-checkin", "noshow", "end", "sync.moved")):
        db["history"].insert({"bookingId": "b1", "action": action, "createdAt": f"2026-11-22T07:0{n}:00Z"})
        db["events"].insert(
            {
                "id": n + 1,
                "type": "booking.changed",
                "createdAt": "2026-11-22T07:00:00Z",
                "data": json.dumps({"action": action, "booking": {"id": "b1", "note": "checkin"}}),
            }
        )
    db["events"].insert(
        {
            "id": 9,
            "type": "queue.changed",
            "createdAt": "2026-11-22T07:00:00Z",
            "data": json.dumps({"reason": "checkin", "typeId": "gen"}),
        }
    )
    db["events"].insert({"id": 10, "type": "resync", "createdAt": "2026-11-22T07:00:00Z", "data": "{}"})
    db.conn.commit()
    db.conn.close()
    store = open_store(path)
    try:
        history = [r[0] for r in store.db.execute("select action from history order by createdAt")]
        events = {r[0]: json.loads(r[1]) for r in store.db.execute("select id, data from events")}
    finally:
        store.close()
    expected = ["create", "check_in", "undo_check_in", "no_show", "end", "sync.moved"]
    assert history == expected
    assert [events[n + 1]["action"] for n in range(6)] == expected
    assert events[2]["booking"] == {"id": "b1", "note": "checkin"}  # the booking itself is untouched
    assert events[9] == {"reason": "check_in", "typeId": "gen"} and events[10] == {}
    assert all(a in set(Action) for a in history)


def test_every_route_of_the_table_answers_with_the_role_the_table_gives(service):
    """The routes are built from the table: each action's path is served with its role,
    and the URLs a desk of this version calls are the ones it had (``checkin``, ``noshow``...)."""
    declared = {
        (path, method): role for path, methods, role in route_roles(create_app(service)) for method in methods
    }
    for action, spec in ACTIONS.items():
        if spec.route:
            method = "PUT" if action in (Action.CREATE, Action.HOLD) else "POST"
            assert declared[(spec.route, method)] == RANK[spec.role], action
    assert {
        spec.route.rsplit("/bookings/", 1)[-1] for _a, spec in ref_actions() if "/bookings/" in spec.route
    } == {"checkin", "checkin/undo", "start", "end", "end/undo", "noshow", "cancel/undo"}


def test_the_desk_enables_an_action_when_its_rule_allows_it(service):
    booking = _book(service)
    now = service.now()
    assert allowed(Action.CHECK_IN, booking, now) and allowed("check_in", booking, now)
    assert not allowed(Action.START, {**booking, "visitStatus": "COMPLETED"}, now)
    assert not allowed(Action.ACCEPT, booking, now)
    waiting = service.create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c1"}})
    assert allowed(Action.ACCEPT, waiting, now) and not allowed(Action.CHECK_IN, waiting, now)
    assert not allowed("checkin", booking, now) and not allowed(Action.CHECK_IN, None, now)


def test_every_action_the_desk_shows_has_a_label_a_shortcut_and_a_rule():
    shortcuts = [s for _a, s in BOOKING_ACTIONS]
    assert len(set(shortcuts)) == len(shortcuts)
    for action, desk in DESK_ACTIONS.items():
        assert action in ACTION_LABELS and desk.shortcut and desk.done, action
        assert ACTIONS[action].check is not None, action
    assert [a for a, _s in PATIENT_ACTIONS] == [Action.START, Action.END, Action.NO_SHOW]
    for action, spec in ACTIONS.items():
        if spec.undone_by and spec.undone_by != action:
            assert ACTIONS[spec.undone_by].ref_only, action  # the desk's Undo is one generic call


def test_the_ehjzny_operations_come_from_the_table():
    assert cloud_operations()[Action.ACCEPT] == "assign"
    row = {"id": "b1", "status": "CONFIRMED"}
    assert [p.action for p in ehjzny_plan(Action.ACCEPT, row, row)] == ["assign"]
    assert ehjzny_plan(Action.CHECK_IN, row, row) == [] and ehjzny_plan(Action.NO_SHOW, row, row) == []


def test_every_event_type_is_in_the_catalogue_and_nowhere_spelt_by_hand():
    doc = events_module.__doc__ or ""
    missing = [t for t in EventType if f"``{t}``" not in doc]
    assert missing == []
    names = "|".join(re.escape(t) for t in EventType if "." in t)
    quoted = re.compile(rf'(?<![`\w])"({names})"')
    by_hand = [
        f"{p.relative_to(ROOT)}:{n}"
        for folder in ("app", "ui")
        for p in (ROOT / folder).rglob("*.py")
        if p.name != "model.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if quoted.search(line)
    ]
    assert by_hand == []
