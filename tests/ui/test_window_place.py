"""The desk's window opens where the receptionist left it, and on a small screen it fits
(offscreen screens, real widgets; the settings file is the test session's own)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from app import desk_prefs
from ui.core import window_place


@pytest.fixture
def forget_place():
    desk_prefs.save(**{window_place.KEY: ""})
    yield
    desk_prefs.save(**{window_place.KEY: ""})


def _window(qapp):
    window = QMainWindow()
    window.setMinimumSize(200, 150)
    return window


def test_without_a_remembered_place_the_window_fits_the_screen(qapp, forget_place):
    window = _window(qapp)
    window_place.place(window)
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert window.width() <= area.width() and window.height() <= area.height()
    assert area.contains(window.frameGeometry().center())
    if area.width() > window_place.DEFAULT_SIZE[0] / window_place.MARGIN:
        assert window.width() == window_place.DEFAULT_SIZE[0]


def test_the_window_opens_where_it_was_closed(qapp, forget_place):
    area = QGuiApplication.primaryScreen().availableGeometry()
    first = _window(qapp)
    first.setGeometry(area.x() + 20, area.y() + 30, area.width() // 2, area.height() // 2)
    window_place.remember(first)
    again = _window(qapp)
    window_place.place(again)
    assert (again.geometry().size(), again.geometry().topLeft()) == (
        first.geometry().size(),
        first.geometry().topLeft(),
    )
    fresh = _window(qapp)
    window_place.place(fresh, remembered=False)  # a screenshot: always the default, fitted
    assert fresh.geometry().size() != first.geometry().size()


def test_a_place_on_an_unplugged_monitor_is_not_used(qapp, forget_place):
    area = QGuiApplication.primaryScreen().availableGeometry()
    gone = _window(qapp)
    gone.setGeometry(area.right() + 5000, area.bottom() + 5000, 400, 300)
    window_place.remember(gone)
    window = _window(qapp)
    window_place.place(window)
    assert area.contains(window.frameGeometry().center())
