"""One desk per data directory (ui/core/single_instance.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def qapp_instance():
    from ui.app import application

    return application()


def test_names_differ_per_data_dir_and_are_stable(tmp_path):
    from ui.core.single_instance import server_name

    assert server_name(tmp_path / "a") == server_name(tmp_path / "a" / ".." / "a")
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")


def test_second_claim_raises_the_first_window(qapp_instance, qtbot, tmp_path):
    from PySide6.QtWidgets import QMainWindow

    from ui.core.single_instance import SingleInstance

    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    window.showMinimized()
    first = SingleInstance(tmp_path)
    assert first.claim()
    try:
        with qtbot.waitSignal(first.activated, timeout=5000):
            assert SingleInstance(tmp_path).claim() is False
        qtbot.waitUntil(lambda: not window.isMinimized(), timeout=5000)
        other = SingleInstance(tmp_path / "other")
        assert other.claim()  # another data directory is another desk
        other.release()
    finally:
        first.release()
    third = SingleInstance(tmp_path)
    assert third.claim()  # released: the next start is the desk again
    third.release()


def _desk(data_dir: Path, *extra: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_second_start_on_the_same_data_dir_leaves_the_database_alone(tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "ISTIQBAL_LOG_DIR": str(tmp_path / "logs"),
        "ISTIQBAL_CONFIG_DIR": str(tmp_path / "config"),
        "PYTHONUNBUFFERED": "1",
    }
    first = _desk(tmp_path / "data", env=env)
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = first.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "branch server listening" in line:
                break
        assert any("branch server listening" in line for line in lines), "".join(lines)
        second = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--data-dir", str(tmp_path / "data")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stderr[-3000:]
        assert "already running" in second.stderr
        assert "branch server listening" not in second.stderr  # it never opened the database
        shot = subprocess.run(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "--data-dir",
                str(tmp_path / "data"),
                "--screenshot",
                str(tmp_path / "x.png"),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shot.returncode == 3 and not (tmp_path / "x.png").exists()
        deadline = time.monotonic() + 20
        log = tmp_path / "logs" / "istiqbal.log"
        while time.monotonic() < deadline and "asked for this window" not in log.read_text("utf-8"):
            time.sleep(0.1)
        assert "asked for this window" in log.read_text("utf-8")
    finally:
        first.terminate()
        try:
            first.wait(timeout=20)
        except subprocess.TimeoutExpired:
            first.kill()
            first.wait()
