"""Render resources/icons/istiqbal.svg into the icons the build and the desk use.

    uv run python packaging/make_icons.py

Writes ``istiqbal.png`` (256 px, the window icon), ``istiqbal.ico`` (Windows; Qt's ICO
writer, 256 px) and ``istiqbal.icns`` (macOS; Qt's ICNS writer, 512 px) beside the SVG.
Only Qt is used (QtSvg renders, the imageformats plugins write), no Pillow. The results are
committed, so a build needs no display and no extra package; re-run after editing the SVG.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
OUTPUTS = (("istiqbal.png", "PNG", 256), ("istiqbal.ico", "ICO", 256), ("istiqbal.icns", "ICNS", 512))


def render(svg: Path, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    svg = ICONS / "istiqbal.svg"
    failed = 0
    for name, fmt, size in OUTPUTS:
        if render(svg, size).save(str(ICONS / name), fmt):
            print(f"wrote {ICONS / name} ({size} px)")
        else:
            print(f"could not write {name}: Qt has no {fmt} writer here", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
