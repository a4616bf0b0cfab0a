"""The Reports window against a real branch server holding the hand-computed day of
``tests/test_reports.py``: the figures it shows, its charts mirrored in Arabic with
Arabic-Indic digits, CSV and PDF export, and Day → Reports… from the keyboard."""

from __future__ import annotations

import csv
import re

import pytest
from pypdf import PdfReader
from PySide6.QtCharts import QBarCategoryAxis, QCategoryAxis
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.client import DeskClient
from app.i18n import formats as fmt
from app.i18n import set_language
from app.i18n.text import strip_bidi_controls
from tests.clinic import DAY, serve
from tests.test_reports import make_day
from tests.ui.conftest import until


@pytest.fixture
def day_server(tmp_path):
    store, service = make_day(tmp_path / "branch.sqlite3")
    thread = serve(service)
    yield thread
    thread.stop()
    store.close()


def _open(loop, thread, *, lang="en", digits="latn"):
    from ui.core.tasks import Tasks
    from ui.windows.reports import ReportsWindow

    set_language(lang)
    fmt.set_digits(digits)

    async def go():
        client = DeskClient(thread.url, token=thread.token)
        window = ReportsWindow(client, Tasks(), "Asia/Riyadh", DAY, DAY)
        window.show()
        await until(lambda: window.drawn, what="the charts drawn")
        return window, client

    return loop.run_until_complete(go())


def _close(loop, window, client):
    window.close()
    loop.run_until_complete(client.aclose())
    set_language("en")
    fmt.set_digits("latn")


def _axes(view):
    chart = view.chart()
    x = next(a for a in chart.axes() if isinstance(a, QBarCategoryAxis))
    y = next(a for a in chart.axes() if isinstance(a, QCategoryAxis))
    return chart, x, y


def _bars(view) -> dict[str, list[float]]:
    series = view.chart().series()[0]
    return {s.label(): [s.at(i) for i in range(s.count())] for s in series.barSets()}


def test_the_window_shows_the_hand_computed_figures(loop, day_server):
    window, client = _open(loop, day_server)
    try:
        summary = window.summary.text()
        assert "11 bookings" in summary and "no-shows 20%" in summary
        assert "median wait 20 min (walk-ins 25 min)" in summary
        assert "SAR\xa0650.00" in summary and "SAR\xa084.80" in summary  # net and VAT
        assert len(window.charts) == 5
        _chart, x, _y = _axes(window.charts[0])  # bookings by state (stacked) and source
        assert x.categories() == ["Desk", "Walk-in", "Cloud"]
        bars = _bars(window.charts[0])
        assert bars["Done"] == [3, 2, 0] and bars["No-show"] == [1, 0, 0]
        waits = _bars(window.charts[1])
        assert waits["Median"] == [20, 25] and waits["90th percentile"] == pytest.approx([28, 33])
        _chart, x, _y = _axes(window.charts[3])
        assert x.categories() == ["Dr. Sara", "Dr. Omar"]
        assert _bars(window.charts[3])["Served"] == pytest.approx([100 * 73 / 540, 100 * 30 / 540])
        figures = {(r, f): v for r, f, v in window.figure_rows()}
        assert figures[("Revenue", "Cash")].startswith("net SAR\xa0300.00")
    finally:
        _close(loop, window, client)


def test_arabic_charts_are_mirrored_with_arabic_indic_digits(loop, day_server):
    window, client = _open(loop, day_server, lang="ar", digits="arab")
    try:
        chart, x, y = _axes(window.charts[0])
        assert chart.layoutDirection() == Qt.LayoutDirection.RightToLeft
        from ui.windows.reports import source_label

        # the first source (desk) is drawn rightmost; the value axis stands on the right
        assert x.categories() == [source_label(s) for s in ("cloud", "walk-in", "desk")]
        assert source_label("desk") != "Desk"
        assert y.alignment() == Qt.AlignmentFlag.AlignRight
        labels = "".join(y.categoriesLabels())
        assert re.search("[٠-٩]", labels) and not re.search("[0-9]", labels)
        assert "١١" in window.summary.text()
        bars = _bars(window.charts[0])
        from ui.windows.reports import state_label

        assert bars[state_label("COMPLETED")] == [0, 2, 3]  # cloud, walk-in, desk
    finally:
        _close(loop, window, client)


def test_export_csv_and_pdf(loop, day_server, tmp_path):
    window, client = _open(loop, day_server)
    try:
        path = window.write_csv(tmp_path / "r.csv")
        rows = list(csv.reader(open(path, encoding="utf-8-sig")))
        assert rows[0] == ["Report", "Figure", "Value"]
        assert ["Bookings", "Total", "11"] in rows
        assert any(r[0] == "No-shows" and r[2] == "1 of 5 (20%)" for r in rows)
        pdf = window.write_pdf(tmp_path / "r.pdf")
        text = re.sub(
            r"\s+", " ", strip_bidi_controls(" ".join(p.extract_text() or "" for p in PdfReader(pdf).pages))
        )
        assert "Reports" in text and "1 of 5 (20%)" in text
        images = sum(len(p["/Resources"].get("/XObject") or {}) for p in PdfReader(pdf).pages)
        assert images >= 5  # the charts
    finally:
        _close(loop, window, client)


def test_day_menu_opens_reports_from_the_keyboard(loop, desk):
    async def go():
        QTest.keyClick(
            desk, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
        window = await until(lambda: desk.reports.reports_window, what="the Reports window")
        await until(lambda: window.drawn, what="the charts drawn")
        return window

    window = loop.run_until_complete(go())
    day_menu = next(a.menu() for a in desk.menuBar().actions() if a.text() == "&Day")
    assert "&Reports…" in [a.text() for a in day_menu.actions()]
    assert window.tabs.count() == 2 and window.first_edit.date().day() == 1
    window.close()


def test_a_live_language_switch_mirrors_the_open_window(loop, day_server):
    from ui.core import language
    from ui.windows.reports import source_label

    window, client = _open(loop, day_server)
    try:
        language.controller().apply("ar")

        async def mirrored():
            await until(
                lambda: window.drawn and window.layoutDirection() == Qt.LayoutDirection.RightToLeft,
                what="the window in Arabic",
            )

        loop.run_until_complete(mirrored())
        _chart, x, y = _axes(window.charts[0])
        assert x.categories() == [source_label(s) for s in ("cloud", "walk-in", "desk")]
        assert y.alignment() == Qt.AlignmentFlag.AlignRight
        assert window.windowTitle() == "التقارير" and window.show_button.text() == "&عرض"
    finally:
        language.controller().apply("en")
        _close(loop, window, client)


def test_long_names_are_whole_and_cloud_money_shows_by_its_method(loop, tmp_path):
    """A doctor's full name under the utilisation bars is broken into lines, not cut to
    "Dr. …"; money a cloud reported paid (Ehjzny's invoice total: online; a DigitalBooker
    ``prepaid`` payment: other) is charted by its method and named in the figures."""
    from app.sync import registry
    from app.sync.apply import Applier
    from app.sync.connector import CloudMoney, CloudPayment
    from app.sync.outbox import Outbox
    from ui.windows.reports import category_label

    store, service = make_day(tmp_path / "branch.sqlite3")
    long_name = "Dr. Sara Abdulrahman Al-Qahtani"
    store.upsert(
        "resources",
        [
            {**r, "name": long_name, "name_translations": {"en": long_name, "ar": long_name}}
            for r in store.resources()
            if r["id"] == "dr-sara"
        ],
    )
    b7 = store.db.execute(
        "select id from bookings where resourceId = 'dr-sara' and typeId = 'dental' and visitStatus is null"
    ).fetchone()[0]
    now = service.now()
    with store.transaction():
        for cloud, booking_id, money in (
            ("ehjzny", "C1", CloudMoney(price="150.00", paid="150.00", fully_paid=True)),
            (
                "digitalbooker",
                b7,
                CloudMoney(
                    price="250.00", payments=(CloudPayment("db-2", "100.0", "other", "prepaid", 1500),)
                ),
            ),
        ):
            fields = registry.get(cloud).synced_fields
            Applier(store, Outbox(store, cloud, synced_fields=fields), cloud, fields).apply_money(
                booking_id, money, now
            )
    thread = serve(service)
    try:
        window, client = _open(loop, thread)
        try:
            _chart, x, _y = _axes(window.charts[3])
            assert not x.truncateLabels()
            assert x.categories()[0] == category_label(long_name) == "Dr. Sara<br>Abdulrahman<br>Al-Qahtani"
            _chart, x, _y = _axes(window.charts[4])
            assert x.categories() == ["Cash", "Card", "Online", "Other"]
            assert _bars(window.charts[4])["Net of VAT"][2:] == pytest.approx([130.43, 86.96])
            figures = {(r, f): v for r, f, v in window.figure_rows()}
            assert figures[("Revenue", "Online")].endswith("SAR\xa0150.00 paid in the cloud")
            assert "paid in the cloud" not in figures[("Revenue", "Cash")]
            assert figures[("Revenue", "Total")].startswith("net SAR\xa0900.00")
        finally:
            _close(loop, window, client)
    finally:
        thread.stop()
        store.close()
