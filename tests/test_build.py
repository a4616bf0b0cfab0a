"""The frozen desk (PyInstaller one-folder build, ``packaging/build.py``).

The ``build`` tests build ``dist/istiqbal`` (about a minute on 2 cores; skipped when it is
up to date) and run the frozen binary as a user would. Leave them out locally with
``uv run pytest -m "not build"``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

import buildinfo  # noqa: E402


def test_app_version_is_the_pyproject_version():
    import app

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert app.__version__ == project["version"]


def test_windows_version_resource_comes_from_the_version():
    assert buildinfo.version_tuple("1.2.3rc1") == (1, 2, 3, 0)
    assert buildinfo.version_tuple("0.1") == (0, 1, 0, 0)
    text = buildinfo.version_info_text("0.4.2", "Istiqbal (استقبال): the desk")
    assert "filevers=(0, 4, 2, 0)" in text and "StringStruct('ProductVersion', '0.4.2')" in text
    # the spec reads it with PyInstaller's own classes; here: it is one Python expression
    names = {
        "VSVersionInfo",
        "FixedFileInfo",
        "StringFileInfo",
        "StringTable",
        "StringStruct",
        "VarFileInfo",
        "VarStruct",
    }
    eval(compile(text, "version_info", "eval"), {n: (lambda *a, **k: (a, k)) for n in names})


@pytest.fixture(scope="module")
def frozen() -> Path:
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    exe = Path(done.stdout.strip().splitlines()[-1])
    assert exe.is_file() and os.access(exe, os.X_OK), exe
    return exe


def _env(tmp_path: Path) -> dict:
    # a private HOME/XDG so the frozen desk's per-user files stay in the test's folder
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "share"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


@pytest.mark.build
def test_frozen_desk_takes_a_screenshot_of_the_demo_clinic(frozen, tmp_path):
    png = tmp_path / "out.png"
    done = subprocess.run(
        [str(frozen), "--data-dir", str(tmp_path / "data"), "--screenshot", str(png)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    assert "demo clinic imported" in done.stderr
    assert not (frozen.parent / "data").exists()  # data never beside the program


@pytest.mark.build
def test_frozen_desk_speaks_arabic(frozen, tmp_path):
    png = tmp_path / "ar.png"
    done = subprocess.run(
        [str(frozen), "--data-dir", str(tmp_path / "data"), "--lang", "ar", "--screenshot", str(png)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert png.stat().st_size > 10_000


@pytest.mark.build
def test_frozen_server_only_answers_readyz(frozen, tmp_path):
    proc = subprocess.Popen(
        [str(frozen), "--server-only", "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,
        env={**_env(tmp_path), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        answer = httpx.get(f"{url}/readyz", timeout=10).json()["result"]
        assert answer["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.build
def test_frozen_sync_command_is_there(frozen, tmp_path):
    done = subprocess.run(
        [str(frozen), "sync", "--help"], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--once" in done.stdout


@pytest.mark.build
def test_frozen_build_leaves_out_unused_qt(frozen):
    internal = frozen.parent / "_internal"
    modules = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.so")} | {
        p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.pyd")
    }
    # QtCharts (the Reports window) links QtOpenGL and QtOpenGLWidgets
    assert modules <= {
        "QtCore",
        "QtGui",
        "QtWidgets",
        "QtPrintSupport",
        "QtNetwork",
        "QtCharts",
        "QtOpenGL",
        "QtOpenGLWidgets",
    }, modules
    names = {p.name for p in internal.rglob("*")}
    for unwanted in ("libQt6Qml.so.6", "libQt6Quick.so.6", "libQt6WebEngineCore.so.6", "libqgtk3.so"):
        assert unwanted not in names
    assert (internal / "locales" / "ar" / "LC_MESSAGES" / "istiqbal.mo").is_file()
    assert any((internal / "resources" / "fonts").glob("*.ttf"))
