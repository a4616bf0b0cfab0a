"""The *Reports* window (*Day → Reports…*, :mod:`ui.windows.reports_desk`): the branch's figures for a range of days.

Everything comes from ``GET /reports/{kind}`` (:mod:`app.server.reports`, through
:meth:`app.client.DeskClient.report`), fetched together on the desk's :class:`Tasks`
runner — the GUI thread never waits. The window shows a summary line, five Qt Charts
(bookings by state and source, waiting times, visit length against booked, utilisation,
revenue and VAT by method) and, on its second tab, every figure as a table; *Export CSV…*
writes that table (UTF-8 with BOM, for Excel), *Export PDF…* the charts and the table.

Arabic: the charts are mirrored (the categories run right to left, the value axis is on the
right) and every number on them is formatted by :mod:`app.i18n.formats`, so View → Digits
gives Arabic-Indic digits on the axes too.
"""

from __future__ import annotations

import asyncio
import csv
import html
import textwrap
from datetime import date
from pathlib import Path

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QStackedBarSeries,
)
from PySide6.QtCore import QBuffer, QDate, QIODevice, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain import payments as pay
from app.i18n import _, is_rtl
from app.i18n import formats as fmt
from app.i18n.labels import status_label
from app.i18n.text import display_name
from ui.core.tasks import Tasks
from ui.paper.receipt import method_label, money

KINDS = ("bookings", "no-shows", "waits", "visits", "utilisation", "revenue")
PALETTE = (
    "#4f8fd6",
    "#5fbf95",
    "#e8a54b",
    "#cf7fbf",
    "#8c9bab",
    "#e57373",
    "#64b5c8",
    "#b39ddb",
    "#a1887f",
    "#90a4ae",
)
_STATE_OF = {
    "CHECKED_IN": ("CONFIRMED", "CHECKED_IN"),
    "IN_PROGRESS": ("CONFIRMED", "IN_PROGRESS"),
    "COMPLETED": ("CONFIRMED", "COMPLETED"),
    "NO_SHOW": ("CONFIRMED", "NO_SHOW"),
}


def state_label(state: str) -> str:
    status, visit = _STATE_OF.get(state, (state, None))
    return status_label(status, visit)


def source_label(source: str) -> str:
    return {"desk": _("Desk"), "walk-in": _("Walk-in"), "cloud": _("Cloud")}.get(source, source)


def minutes_label(minutes: float | None) -> str:
    """Minutes with one decimal at most (``12.5 min``), "—" for none."""
    if minutes is None:
        return "—"
    # Translators: a number of minutes on a report, e.g. "12.5 min".
    return _("{n} min").format(n=fmt.format_number(round(minutes, 1)))


def percent_label(ratio: float | None) -> str:
    return "—" if ratio is None else fmt.format_percent(ratio)


def _axis_labels(step: float, fmt_value) -> QCategoryAxis:
    """A value axis with ticks at 0, 1, 2, 3, 4 × ``step`` whose labels are ours (the
    desk's digits)."""
    axis = QCategoryAxis()
    axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    axis.setRange(0, 4 * step)
    for i in range(5):
        axis.append(fmt_value(step * i) + "\u200b" * i, step * i)  # a category axis needs unique labels
    return axis


def nice_step(top: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ (at least 1) whose four steps reach ``top``."""
    magnitude = 1.0
    while True:
        for step in (1, 2, 5):
            if 4 * step * magnitude >= top:
                return step * magnitude
        magnitude *= 10


#: characters of a category label's line: longer names (a doctor's full name) go on more lines
LABEL_LINE = 14


def category_label(text: str) -> str:
    """A category axis' label, broken between words into lines of about :data:`LABEL_LINE`
    characters (the axis draws rich text; it would cut a long name to "Dr. …")."""
    lines = textwrap.wrap(text, LABEL_LINE, break_long_words=False, break_on_hyphens=False) or [text]
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def bar_chart(
    title: str,
    categories: list[str],
    series: list[tuple[str, list[float]]],
    value_text,
    stacked: bool = False,
    legend_aside: bool = False,
) -> QChartView:
    """A bar chart (stacked or side by side) mirrored for a right-to-left desk; ``value_text``
    formats the value axis' labels. Category labels are whole, on as many lines as they need
    (:func:`category_label`)."""
    rtl = is_rtl()
    if rtl:  # categories read right to left: the first one is drawn rightmost
        categories = list(reversed(categories))
        series = [(name, list(reversed(values))) for name, values in series]
    chart = QChart()
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setLayoutDirection(Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight)
    bars = QStackedBarSeries() if stacked else QBarSeries()
    for i, (name, values) in enumerate(series):
        bar_set = QBarSet(name)
        bar_set.setColor(QColor(PALETTE[i % len(PALETTE)]))
        bar_set.append([float(v or 0) for v in values])
        bars.append(bar_set)
    chart.addSeries(bars)
    small = QFont(chart.font())
    small.setPointSizeF(8)
    x = QBarCategoryAxis()
    x.setLabelsFont(small)  # before the labels: they are fitted to the font they have then
    x.setTruncateLabels(False)  # wrapped instead
    x.append([category_label(c) for c in categories] or [""])
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    bars.attachAxis(x)
    if stacked:
        top = max([sum(float(s[1][i] or 0) for s in series) for i in range(len(categories))] or [0])
    else:
        top = max([float(v or 0) for _n, values in series for v in values] or [0])
    y = _axis_labels(nice_step(top), value_text)
    chart.addAxis(y, Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft)
    bars.attachAxis(y)
    y.setLabelsFont(small)
    title = QFont(small)
    title.setPointSizeF(10)
    title.setBold(True)
    chart.setTitleFont(title)
    chart.legend().setFont(small)
    if legend_aside:
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignLeft if rtl else Qt.AlignmentFlag.AlignRight)
    else:
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumSize(360, 260)
    return view


class ReportsWindow(QDialog):
    """``ReportsWindow(client, tasks, zone, first=, last=, parent=)``: not modal; loads on
    ``show()`` and again on *Show*. ``loaded`` after the figures arrived and the charts are
    built; ``drawn`` is True once they have been painted."""

    loaded = Signal()

    def __init__(
        self,
        client,
        tasks: Tasks,
        zone: str,
        first: date | None = None,
        last: date | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.client, self.tasks, self.zone = client, tasks, zone
        self.setWindowFlag(Qt.WindowType.Window)
        today = date.today()
        first = first or today.replace(day=1)
        last = last or today
        self.reports: dict[str, dict] = {}
        self.resources: list[dict] = []
        self.types: list[dict] = []
        self.drawn = False
        self.charts: list[QChartView] = []

        self.first_edit, self.last_edit = QDateEdit(), QDateEdit()
        for edit, day in ((self.first_edit, first), (self.last_edit, last)):
            edit.setCalendarPopup(True)
            edit.setDate(QDate(day.year, day.month, day.day))
        self.resource_box, self.type_box, self.group_box = QComboBox(), QComboBox(), QComboBox()
        for data in (None, "resource", "type"):
            self.group_box.addItem("", data)
        self.show_button = QPushButton()
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.load)
        self.csv_button = QPushButton()
        self.csv_button.clicked.connect(self.ask_csv)
        self.pdf_button = QPushButton()
        self.pdf_button.clicked.connect(self.ask_pdf)
        controls = QHBoxLayout()
        self.labels: list[QLabel] = []
        for widget in (self.first_edit, self.last_edit, self.resource_box, self.type_box, self.group_box):
            label = QLabel()
            label.setBuddy(widget)
            self.labels.append(label)
            controls.addWidget(label)
            controls.addWidget(widget)
        controls.addStretch(1)
        for button in (self.show_button, self.csv_button, self.pdf_button):
            controls.addWidget(button)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.status = QLabel()
        self.charts_page = QWidget()
        self.grid = QGridLayout(self.charts_page)
        self.table = QTableWidget(0, 3)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.charts_page, "")
        self.tabs.addTab(self.table, "")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        self._csv_dialog = self._pdf_dialog = None
        self.resize(1200, 820)
        self.retranslate_ui()
        from ui.core import language

        language.follow(self)
        QTimer.singleShot(0, self.load)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """Texts in the desk's language; the charts are built again (mirrored, digits)."""
        self.setWindowTitle(_("Reports"))
        self.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft if is_rtl() else Qt.LayoutDirection.LeftToRight
        )
        for label, text in zip(
            self.labels,
            (_("&From"), _("&To"), _("&Resource"), _("Booking t&ype"), _("&Group by")),
            strict=True,
        ):
            label.setText(text)
        for i, text in enumerate((_("Nothing"), _("Resource"), _("Booking type"))):
            self.group_box.setItemText(i, text)
        self.show_button.setText(_("&Show"))
        self.csv_button.setText(_("Export &CSV…"))
        self.pdf_button.setText(_("Export &PDF…"))
        self.tabs.setTabText(0, _("Charts"))
        self.tabs.setTabText(1, _("Figures"))
        if self.resources or self.types:
            for box, items in ((self.resource_box, self.resources), (self.type_box, self.types)):
                box.setItemText(0, _("All"))
                for i, item in enumerate(items, start=1):
                    box.setItemText(i, display_name(item))
        if self.reports:
            self.build()
            QTimer.singleShot(0, self._mark_drawn)

    # loading ----------------------------------------------------------------------------
    def options(self) -> dict:
        return {
            "first": self.first_edit.date().toPython(),
            "last": self.last_edit.date().toPython(),
            "resource_id": self.resource_box.currentData(),
            "type_id": self.type_box.currentData(),
            "group_by": self.group_box.currentData(),
        }

    def load(self) -> None:
        """Fetch every report for the chosen range and filters (in the background)."""
        o = self.options()
        self.status.setText(_("Loading…"))
        self.show_button.setEnabled(False)
        need_lists = not self.resources

        async def fetch():
            calls = [
                self.client.report(kind, o["first"], o["last"], o["resource_id"], o["type_id"], o["group_by"])
                for kind in KINDS
            ]
            if need_lists:
                calls += [self.client.resources(), self.client.types()]
            return await asyncio.gather(*calls)

        self.tasks.run(fetch(), self._loaded, self._failed)

    def _failed(self, exc: BaseException) -> None:
        from ui.core.errors import message_for

        self.show_button.setEnabled(True)
        self.status.setText("⚠ " + message_for(exc))

    def _loaded(self, results: list) -> None:
        self.show_button.setEnabled(True)
        self.reports = dict(zip(KINDS, results[: len(KINDS)], strict=True))
        if len(results) > len(KINDS):
            self.resources, self.types = results[len(KINDS)], results[len(KINDS) + 1]
            self._fill_filters()
        self.status.setText("")
        self.build()
        self.loaded.emit()
        QTimer.singleShot(0, self._mark_drawn)

    def _mark_drawn(self) -> None:
        self.charts_page.repaint()
        self.drawn = True

    def _fill_filters(self) -> None:
        for box, items in ((self.resource_box, self.resources), (self.type_box, self.types)):
            box.clear()
            box.addItem(_("All"), None)
            for item in items:
                box.addItem(display_name(item), item["id"])

    # names --------------------------------------------------------------------------------
    def group_name(self, group_id: str | None, group_by: str | None) -> str:
        if group_id is None:
            return _("All") if group_by is None else _("Not assigned")
        items = self.resources if group_by == "resource" else self.types
        found = next((x for x in items if x["id"] == group_id), None)
        return display_name(found) if found else str(group_id)

    # building -----------------------------------------------------------------------------
    def build(self) -> None:
        """Summary, charts and table from :attr:`reports`."""
        self.drawn = False
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.charts = [
            self._bookings_chart(),
            self._waits_chart(),
            self._visits_chart(),
            self._utilisation_chart(),
            self._revenue_chart(),
        ]
        # three a row; utilisation (a bar pair per resource) takes two places of the second row
        for view, (row, col, span) in zip(
            self.charts, ((0, 0, 1), (0, 1, 1), (0, 2, 1), (1, 0, 2), (1, 2, 1)), strict=True
        ):
            self.grid.addWidget(view, row, col, 1, span)
        self.summary.setText(self.summary_text())
        rows = self.figure_rows()
        self.table.setColumnCount(3)
        self.table.setHorizontalHeaderLabels([_("Report"), _("Figure"), _("Value")])
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)

    def summary_text(self) -> str:
        b, n, w = self.reports["bookings"], self.reports["no-shows"], self.reports["waits"]["total"]
        u, rev = self.reports["utilisation"]["total"], self.reports["revenue"]
        currency = rev.get("currency") or pay.CURRENCY_DEFAULT
        # Translators: the Reports window's summary line; every value is already formatted.
        return _(
            "{bookings} bookings · no-shows {noshow} · median wait {wait} (walk-ins {queue})"
            " · booked {booked} / served {served} of working time · net {net}, VAT {vat}"
        ).format(
            bookings=fmt.format_number(b["total"]),
            noshow=percent_label(n["rate"]),
            wait=minutes_label(w["booked"]["median"]),
            queue=minutes_label(w["walk-in"]["median"]),
            booked=percent_label(u["booked"]),
            served=percent_label(u["served"]),
            net=money(rev["total"]["net"], currency),
            vat=money(rev["total"]["vat"], currency),
        )

    def _bookings_chart(self) -> QChartView:
        report = self.reports["bookings"]
        group_by = report["groupBy"]
        states = [s for s in _ORDER if any(r["state"] == s for r in report["rows"])]
        if group_by is None:
            keys = ["desk", "walk-in", "cloud"]
            categories = [source_label(s) for s in keys]
            value = lambda r: r["source"]  # noqa: E731
        else:
            keys = sorted({r["group"] for r in report["rows"]}, key=lambda g: self.group_name(g, group_by))
            categories = [self.group_name(g, group_by) for g in keys]
            value = lambda r: r["group"]  # noqa: E731
        series = [
            (
                state_label(s),
                [sum(r["count"] for r in report["rows"] if r["state"] == s and value(r) == k) for k in keys],
            )
            for s in states
        ]
        return bar_chart(
            _("Bookings by state and source"),
            categories,
            series,
            lambda v: fmt.format_number(int(v)),
            stacked=True,
            legend_aside=True,
        )

    def _waits_chart(self) -> QChartView:
        report = self.reports["waits"]
        kinds = (("booked", _("Arrival to start")), ("walk-in", _("Walk-ins: queue wait")))
        if report["groupBy"] is None:
            categories = [label for _k, label in kinds]
            series = [
                (_("Median"), [report["total"][k]["median"] or 0 for k, _l in kinds]),
                (_("90th percentile"), [report["total"][k]["p90"] or 0 for k, _l in kinds]),
            ]
        else:
            groups = sorted(
                {r["group"] for r in report["rows"]}, key=lambda g: self.group_name(g, report["groupBy"])
            )
            categories = [self.group_name(g, report["groupBy"]) for g in groups]
            by = {(r["group"], r["kind"]): r for r in report["rows"]}
            # Translators: reports, waiting-time chart: the series of each kind's median wait.
            median = _("median")
            series = [
                (f"{label} · {median}", [(by.get((g, k)) or {}).get("median") or 0 for g in groups])
                for k, label in kinds
            ]
        return bar_chart(
            _("Waiting time (minutes)"), categories, series, lambda v: fmt.format_number(round(v))
        )

    def _visits_chart(self) -> QChartView:
        report = self.reports["visits"]
        rows = report["rows"] if report["groupBy"] else [{"group": None, **report["total"]}]
        categories = [self.group_name(r["group"], report["groupBy"]) for r in rows]
        series = [
            (_("Booked (mean)"), [r["bookedMean"] or 0 for r in rows]),
            (_("Served (mean)"), [r["servedMean"] or 0 for r in rows]),
            (_("Served (median)"), [r["servedMedian"] or 0 for r in rows]),
        ]
        return bar_chart(
            _("Visit length against booked (minutes)"),
            categories,
            series,
            lambda v: fmt.format_number(round(v)),
        )

    def _utilisation_chart(self) -> QChartView:
        report = self.reports["utilisation"]
        rows = report["rows"]
        categories = [self.group_name(r["group"], "resource") for r in rows]
        series = [
            (_("Booked"), [100 * (r["booked"] or 0) for r in rows]),
            (_("Served"), [100 * (r["served"] or 0) for r in rows]),
        ]
        return bar_chart(
            _("Utilisation of working time"), categories, series, lambda v: fmt.format_percent(v / 100)
        )

    def _revenue_chart(self) -> QChartView:
        report = self.reports["revenue"]
        currency = report.get("currency") or pay.CURRENCY_DEFAULT
        present = {r["method"] for r in report["rows"]}
        methods = [m for m in pay.METHODS if m in present] + sorted(present - set(pay.METHODS)) or list(
            pay.METHODS
        )
        scale = 10 ** pay.decimals(currency)

        def total(method, key):
            return sum(r[key] for r in report["rows"] if r["method"] == method) / scale

        series = [
            (_("Net of VAT"), [total(m, "netOfVat") for m in methods]),
            (_("VAT"), [total(m, "vat") for m in methods]),
        ]
        return bar_chart(
            _("Revenue and VAT by method"),
            [method_label(m) for m in methods],
            series,
            lambda v: fmt.format_number(round(v)),
            stacked=True,
        )

    # figures (table, CSV, PDF) ------------------------------------------------------------
    def figure_rows(self) -> list[tuple[str, str, str]]:
        """Every figure as ``(report, figure, value)`` texts in the desk's language."""
        out: list[tuple[str, str, str]] = []
        r = self.reports
        head = _("Bookings")
        for row in r["bookings"]["rows"]:
            name = f"{state_label(row['state'])} · {source_label(row['source'])}"
            if r["bookings"]["groupBy"]:
                name = f"{self.group_name(row['group'], r['bookings']['groupBy'])} · {name}"
            out.append((head, name, fmt.format_number(row["count"])))
        out.append((head, _("Total"), fmt.format_number(r["bookings"]["total"])))
        head = _("No-shows")
        for row in r["no-shows"]["rows"]:
            group = self.group_name(row["group"], r["no-shows"]["groupBy"])
            out.append(
                (
                    head,
                    group,
                    _("{n} of {expected} ({rate})").format(
                        n=fmt.format_number(row["noShows"]),
                        expected=fmt.format_number(row["expected"]),
                        rate=percent_label(row["rate"]),
                    ),
                )
            )
        head = _("Waiting time")
        kinds = {"booked": _("Arrival to start"), "walk-in": _("Walk-ins: queue wait")}
        waits = r["waits"]
        items = (
            [(None, k, v) for k, v in waits["total"].items()]
            if waits["groupBy"] is None
            else [(row["group"], row["kind"], row) for row in waits["rows"]]
        )
        for group, kind, v in items:
            name = (
                f"{self.group_name(group, waits['groupBy'])} · {kinds[kind]}"
                if waits["groupBy"]
                else kinds[kind]
            )
            out.append(
                (
                    head,
                    name,
                    _("{n} visits · median {median} · 90th percentile {p90}").format(
                        n=fmt.format_number(v["count"]),
                        median=minutes_label(v["median"]),
                        p90=minutes_label(v["p90"]),
                    ),
                )
            )
        head = _("Visit length")
        visits = r["visits"]
        for row in visits["rows"] if visits["groupBy"] else [{"group": None, **visits["total"]}]:
            out.append(
                (
                    head,
                    self.group_name(row["group"], visits["groupBy"]),
                    _(
                        "{n} visits · booked {booked} · served {served} (median {median}, 90th percentile {p90})"
                        " · {over} overran"
                    ).format(
                        n=fmt.format_number(row["count"]),
                        booked=minutes_label(row["bookedMean"]),
                        served=minutes_label(row["servedMean"]),
                        median=minutes_label(row["servedMedian"]),
                        p90=minutes_label(row["servedP90"]),
                        over=fmt.format_number(row["overran"]),
                    ),
                )
            )
        head = _("Utilisation")
        for row in [*r["utilisation"]["rows"], {"group": None, **r["utilisation"]["total"]}]:
            name = self.group_name(row["group"], "resource") if row["group"] else _("All")
            out.append(
                (
                    head,
                    name,
                    _("booked {booked} · served {served} of {working}").format(
                        booked=percent_label(row["booked"]),
                        served=percent_label(row["served"]),
                        working=minutes_label(row["workingMinutes"]),
                    ),
                )
            )
        head = _("Revenue")
        currency = r["revenue"].get("currency") or pay.CURRENCY_DEFAULT
        for row in [*r["revenue"]["rows"], {"group": None, "method": None, **r["revenue"]["total"]}]:
            name = _("Total") if row["method"] is None else method_label(row["method"])
            if row["method"] is not None and r["revenue"]["groupBy"]:
                name = f"{self.group_name(row['group'], r['revenue']['groupBy'])} · {name}"
            value = _("net {net} (taken {taken}, refunded {refunded}) · VAT {vat}").format(
                net=money(row["net"], currency),
                taken=money(row["taken"], currency),
                refunded=money(row["refunded"], currency),
                vat=money(row["vat"], currency),
            )
            if row.get("cloud"):
                # Translators: appended to a revenue figure: the part a cloud booking platform reported paid.
                value += " · " + _("{amount} paid in the cloud").format(amount=money(row["cloud"], currency))
            out.append((head, name, value))
        return out

    def range_text(self) -> str:
        o = self.options()
        # Translators: the range of a report, e.g. "1 Nov 2026 – 30 Nov 2026".
        return _("{first} – {last}").format(
            first=fmt.format_date(o["first"]), last=fmt.format_date(o["last"])
        )

    def write_csv(self, path: str | Path) -> Path:
        """The figures as CSV (UTF-8 with BOM so Excel reads Arabic)."""
        with open(path, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([_("Report"), _("Figure"), _("Value")])
            writer.writerows(self.figure_rows())
        return Path(path)

    def pdf_html(self) -> str:
        """The charts (as images) and the figures' table as one printable document."""
        d = "rtl" if is_rtl() else "ltr"
        images = []
        for view in self.charts:
            pixmap = view.grab()
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            pixmap.save(buffer, "PNG")
            data = bytes(buffer.data().toBase64()).decode("ascii")
            images.append(f'<img src="data:image/png;base64,{data}" width="320"/>')
        from ui.paper.receipt import ltr_cells

        def cells(row, tag="td"):
            return (
                "<tr>"
                + "".join(
                    f'<{tag} align="{a}" dir="{d}">{html.escape(t)}</{tag}>'
                    for t, a in ltr_cells(*((t, "left") for t in row))
                )
                + "</tr>"
            )

        table = cells((_("Report"), _("Figure"), _("Value")), "th") + "".join(
            cells(r) for r in self.figure_rows()
        )
        heading = _("Reports")
        return (
            f'<html><body dir="{d}"><h2 dir="{d}">{html.escape(heading)}</h2>'
            f'<p dir="{d}">{html.escape(self.range_text())}</p><p dir="{d}">{html.escape(self.summary_text())}</p>'
            f'<p align="center">{" ".join(images)}</p>'
            f'<table width="100%" cellspacing="0" cellpadding="2" border="1">{table}</table></body></html>'
        )

    def write_pdf(self, path: str | Path) -> Path:
        from ui.paper.printing import write_pdf

        return write_pdf(self.pdf_html(), path)

    def _suggested(self, suffix: str) -> str:
        o = self.options()
        return str(Path.home() / f"reports-{o['first'].isoformat()}-{o['last'].isoformat()}.{suffix}")

    def ask_csv(self) -> QFileDialog:
        dialog = QFileDialog(self, _("Export CSV"), self._suggested("csv"), _("CSV files (*.csv)"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda path: self._saved(self.write_csv, path))
        self._csv_dialog = dialog
        dialog.open()
        return dialog

    def ask_pdf(self) -> QFileDialog:
        dialog = QFileDialog(self, _("Save as PDF"), self._suggested("pdf"), _("PDF files (*.pdf)"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(lambda path: self._saved(self.write_pdf, path))
        self._pdf_dialog = dialog
        dialog.open()
        return dialog

    def _saved(self, write, path: str) -> None:
        if not self.reports:
            return
        try:
            write(path)
        except OSError as exc:
            self.status.setText("⚠ " + _("Could not save: {error}").format(error=exc))
            return
        # Translators: %(path)s is the saved file's path.
        self.status.setText(_("Saved: %(path)s") % {"path": f"\u2066{path}\u2069"})


_ORDER = (
    "COMPLETED",
    "IN_PROGRESS",
    "CHECKED_IN",
    "CONFIRMED",
    "PENDING_APPROVAL",
    "PENDING_PAYMENT",
    "PENDING_ASSIGNMENT",
    "NO_SHOW",
    "CANCELED",
    "REJECTED",
)
