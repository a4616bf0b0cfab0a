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
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


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
    code = ("import runpy, sys; sys.argv = ['main.py'] + sys.argv[1:]; "
            "import main; rc = main.main(); "
            "assert not any(m.startswith('PySide6') or m == 'qasync' for m in sys.modules), 'Qt imported'; "
            "sys.exit(rc)")
    proc = subprocess.Popen([sys.executable, "-c", code, "--server-only", "--data-dir", str(tmp_path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        assert httpx.get(f"{url}/readyz").json()["result"]["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
