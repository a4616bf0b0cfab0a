"""First run, Help → Backups… / Copy diagnostics and the recovery notice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.ui.conftest import until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ISTIQBAL_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def test_first_run_choice_is_remembered(loop, config_dir):
    from app import desk_prefs
    from ui.windows import first_run

    assert desk_prefs.start_choice() is None

    async def scenario():
        task = asyncio.ensure_future(first_run.choose())
        page = await until(
            lambda: next(
                (
                    w
                    for w in QApplication.topLevelWidgets()
                    if isinstance(w, first_run.FirstRunPage) and w.isVisible()
                ),
                None,
            )
        )
        assert set(page.buttons) == {"demo", "cloud", "lan"}
        page.buttons["demo"].click()
        return await asyncio.wait_for(task, 10)

    assert loop.run_until_complete(scenario()) == {"mode": "demo", "url": None}
    assert desk_prefs.start_choice() == {"mode": "demo", "url": None}


def test_closing_the_page_chooses_nothing(loop, config_dir):
    from app import desk_prefs
    from ui.windows import first_run

    async def scenario():
        task = asyncio.ensure_future(first_run.choose())
        page = await until(
            lambda: next(
                (
                    w
                    for w in QApplication.topLevelWidgets()
                    if isinstance(w, first_run.FirstRunPage) and w.isVisible()
                ),
                None,
            )
        )
        page.reject()
        return await asyncio.wait_for(task, 10)

    assert loop.run_until_complete(scenario()) is None
    assert desk_prefs.start_choice() is None


def test_first_run_wanted_only_on_a_plain_start(config_dir):
    import main
    from app import desk_prefs

    assert main.first_run_wanted(main.parse_args([]))
    for argv in (["--data-dir", "/tmp/x"], ["--screenshot", "x.png"], ["--connect", "http://127.0.0.1:1"]):
        assert not main.first_run_wanted(main.parse_args(argv)), argv
    assert main.first_run_wanted(main.parse_args(["--first-run", "--data-dir", "/tmp/x"]))
    desk_prefs.remember_start("demo")
    assert not main.first_run_wanted(main.parse_args([]))


def test_first_run_screenshot(tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "ISTIQBAL_CONFIG_DIR": str(tmp_path / "config"),
        "ISTIQBAL_LOG_DIR": str(tmp_path / "logs"),
    }
    png = tmp_path / "first-run.png"
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--first-run", "--screenshot", str(png)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "config" / "desk.json").exists()  # a screenshot chooses nothing


def test_copy_diagnostics_puts_a_redacted_report_on_the_clipboard(loop, desk):
    async def scenario():
        QApplication.clipboard().clear()
        desk.care.act_diagnostics.trigger()
        return await until(lambda: QApplication.clipboard().text(), what="the report")

    text = loop.run_until_complete(scenario())
    assert text.startswith("Istiqbal diagnostics")
    customers = httpx.get(
        f"{desk.client.base_url}/management/customers",
        params={"limit": 50},
        headers={"Authorization": desk.client.http.headers["authorization"]},
    ).json()["result"]
    for customer in customers:
        assert customer["firstName"] not in text
        if customer.get("phone"):
            assert customer["phone"] not in text


def test_backups_dialog_lists_takes_and_schedules_a_restore(loop, desk):
    from ui.dialogs.maintenance import BackupsDialog

    async def scenario():
        desk.care.act_backups.trigger()
        dialog = await until(
            lambda: next(
                (w for w in QApplication.topLevelWidgets() if isinstance(w, BackupsDialog) and w.isVisible()),
                None,
            )
        )
        dialog.back_up.click()

        def manual_row():
            names = [dialog.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.list.count())]
            return next((i + 1 for i, name in enumerate(names) if name.endswith("-manual.sqlite3")), None)

        row = await until(manual_row, what="the new backup") - 1
        assert "by hand" in dialog.list.item(row).text()
        dialog.list.setCurrentRow(row)
        chosen = dialog.list.currentItem().data(Qt.ItemDataRole.UserRole)
        dialog.ask_restore()
        box = await until(
            lambda: next(
                (w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()),
                None,
            )
        )
        next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole).click()
        await until(lambda: "waiting" in dialog.status.text(), what="the pending restore")
        info = await until(
            lambda: next(
                (w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()),
                None,
            )
        )
        assert "starts again" in info.text()
        info.accept()
        dialog.reject()
        return chosen

    chosen = loop.run_until_complete(scenario())
    listed = httpx.get(
        f"{desk.client.base_url}/backups",
        headers={"Authorization": desk.client.http.headers["authorization"]},
    ).json()
    assert listed["pendingRestore"]["name"] == chosen


def test_recovery_notice_after_the_first_load(loop, desk, monkeypatch, branch_server):
    branch_server.store.recovery = {
        "status": "recovered",
        "problem": "malformed",
        "outboxReadable": True,
        "restored": "branch-x-scheduled.sqlite3",
        "movedAside": "/x",
    }

    async def scenario():
        desk.care.check_recovery()
        return await until(
            lambda: next(
                (w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()),
                None,
            )
        )

    box = loop.run_until_complete(scenario())
    assert "damaged" in box.text() and "backup" in box.text()
    box.accept()
