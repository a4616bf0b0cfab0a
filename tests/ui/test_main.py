"""``main.py`` as a user runs it: screenshots in both languages, and the headless server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
GEOMETRY = re.compile(r"calendar axis x=(\d+), first column x=(\d+)")


def _run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_screenshot(tmp_path, lang):
    png = tmp_path / f"day-{lang}.png"
    done = _run("--data-dir", str(tmp_path / "data"), "--lang", lang, "--screenshot", str(png))
    assert done.returncode == 0, done.stderr[-4000:]
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axis_x, first_x = map(int, GEOMETRY.search(done.stderr).groups())
    if lang == "ar":
        assert axis_x > first_x  # right to left: the time axis on the right of the first column
    else:
        assert axis_x < first_x


def test_server_only_runs_headless_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    code = (
        "import runpy, sys; sys.argv = ['main.py'] + sys.argv[1:]; "
        "import main; rc = main.main(); "
        "assert not any(m.startswith('PySide6') or m == 'qasync' for m in sys.modules), 'Qt imported'; "
        "sys.exit(rc)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--server-only", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        assert httpx.get(f"{url}/readyz").json()["result"]["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def _in_a_fresh_process(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "ISTIQBAL_CONFIG_DIR": str(tmp_path / "config"),
        "ISTIQBAL_LOG_DIR": str(tmp_path / "logs"),
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90
    )


HEAVY = (
    "fastapi",
    "uvicorn",
    "cryptography",
    "sqlite_utils",
    "httpx",
    "asyncio",
    "qasync",
    "ui.windows.main",
    "app.composition",
    "app.server",
    "app.sync.registry",
)


def test_the_start_up_window_paints_before_the_server_and_the_main_window_are_imported(tmp_path):
    """The receptionist sees the day's skeleton and "Starting the branch server…" while the
    HTTP client, the main window and the branch server (FastAPI, uvicorn, cryptography,
    the database) are still to load: none of them is imported when it has painted."""
    code = f"""
import sys
import main
args = main.parse_args(["--data-dir", {str(tmp_path / "data")!r}, "--lang", "ar"])
from ui import startup_window
shown = startup_window.show_for(args.lang, None)
assert shown.painted and shown.isVisible(), "not painted"
assert shown.message == "جارٍ تشغيل خادم الفرع…", shown.message
assert shown.isRightToLeft(), "the Arabic start-up window is not mirrored"
loaded = [m for m in {HEAVY!r} if m in sys.modules]
assert not loaded, loaded
"""
    done = _in_a_fresh_process(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_desk_parses_its_arguments_without_the_cloud_connectors(tmp_path):
    """A plain desk start lists no connector (that means importing every cloud's package and
    the branch server's); given cloud options still parse as before, with their own names."""
    code = f"""
import sys
import main
args = main.parse_args(["--data-dir", {str(tmp_path)!r}, "--port", "0", "-v", "--lang=en"])
assert args.lang == "en" and args.verbose and args.data_dir_given
loaded = [m for m in {HEAVY!r} if m in sys.modules]
assert not loaded, loaded
args = main.parse_args(["--data-dir", {str(tmp_path)!r}, "--cloud", "ehjzny", "--cloud-url", "https://x/api",
                        "--app-id", "A1"])
assert (args.cloud, args.cloud_url, args.cloud_account) == ("ehjzny", "https://x/api", "A1"), vars(args)
"""
    done = _in_a_fresh_process(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    help_text = _run("--help").stdout
    assert "--cloud-url" in help_text and "--screenshot" in help_text


def test_a_desk_start_shows_its_windows_in_order_then_the_day(tmp_path):
    """The start-up window paints first, then the main window (still without data), then the
    branch server listens and the day is painted: the server starts after the windows."""
    data = tmp_path / "data"
    assert _run("--data-dir", str(data), "--screenshot", str(tmp_path / "first.png")).returncode == 0
    done = _run("--data-dir", str(data), "--screenshot", str(tmp_path / "day.png"))
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stderr.splitlines()

    def at(text: str) -> int:
        """The first log line whose message is ``text`` or starts with it and a space or colon."""
        messages = [line.split(": ", 1)[-1] for line in lines]
        return next(i for i, m in enumerate(messages) if m == text or m.startswith((text + " ", text + ":")))

    assert at("window shown") < at("desk window shown") < at("branch server listening") < at("day painted")
    assert at("day painted") < at("screenshot saved")
    assert "demo clinic imported" not in done.stderr  # the existing database is not filled again
