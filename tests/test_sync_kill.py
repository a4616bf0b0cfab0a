"""kill -9 during push and during pull: a real branch server process
(``python -m app.sync serve``) is killed with SIGKILL mid-way, then ``sync --once`` runs
on the same data dir; the end state equals an uninterrupted run: every change arrives
once, every cloud booking exists once locally."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from app.domain.clock import Clock, from_local, local_date, to_iso
from app.store import open_store
from tests.test_sync_engine import Branch, cloud_for_tests, desk_bookings_in_cloud, run, slots, work_days

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _env(running, tmp_path: Path) -> dict:
    return {
        **os.environ,
        "ISTIQBAL_CLOUD_KEY": running.api_key,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": str(ROOT),
    }


def _serve(running, data_dir: Path, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.sync",
            "serve",
            "--data-dir",
            str(data_dir),
            "--cloud",
            "ehjzny",
            "--cloud-url",
            running.url,
            "--app-id",
            running.app_id,
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _sync_once(data_dir: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.sync", "sync", "--data-dir", str(data_dir), "--once", "--deadline", "30"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def _wait_for(probe, process: subprocess.Popen, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if probe():
            return
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.01)
    process.kill()
    raise AssertionError("timed out")


def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def test_kill_9_during_push(tmp_path):
    with cloud_for_tests() as running:
        branch = Branch(running, tmp_path)
        run(branch, lambda: branch.engine.sync_once(deadline=10))
        made = []
        for day in work_days(2):
            for i, time_ in enumerate(slots(day)[:20]):
                made.append(branch.book(day, time_, resource=("resAhmed", "resSara")[i % 2]))
        branch.close()
        running.cloud.faults.latency(150, method="PUT")
        env = _env(running, tmp_path)
        server = _serve(running, tmp_path, env)
        _wait_for(lambda: len(desk_bookings_in_cloud(running.cloud)) >= 10, server)
        _kill(server)
        assert len(desk_bookings_in_cloud(running.cloud)) < len(made)  # killed mid-push
        running.cloud.faults.clear()
        done = _sync_once(tmp_path, env)
        assert done.returncode == 0, done.stdout + done.stderr
        in_cloud = desk_bookings_in_cloud(running.cloud)
        assert len(in_cloud) == len(made)  # each change once: nothing lost, nothing doubled
        store = open_store(tmp_path / "branch.sqlite3")
        assert {store.cloud_ids(b["id"]).get("ehjzny") for b in made} == {b["id"] for b in in_cloud}
        assert store.db.execute("select count(*) from sync_outbox").fetchone()[0] == 0
        store.close()


def test_kill_9_during_pull(tmp_path):
    with cloud_for_tests() as running:
        cloud = running.cloud
        today = local_date(Clock().now(), "Asia/Riyadh")
        bookings = []
        for offset in range(0, 25):
            day = today + timedelta(days=offset)
            for resource in ("resAhmed", "resSara"):
                for minutes in range(0, 24 * 60 - 20, 20):
                    start = from_local(day, minutes // 60 * 100 + minutes % 60, "Asia/Riyadh")
                    bookings.append(
                        {
                            "id": f"load{len(bookings):05d}",
                            "status": "CONFIRMED",
                            "typeId": "typeGeneral",
                            "resourceId": resource,
                            "customerId": "cusOmar",
                            "startDateTime": to_iso(start),
                            "duration": 20,
                            "createdAt": to_iso(Clock().now() - timedelta(days=3)),
                        }
                    )
        cloud.load({"bookings": bookings})
        total = len(cloud.bookings)
        cloud.faults.latency(40, method="GET", path="/management/bookings")
        env = _env(running, tmp_path)
        server = _serve(running, tmp_path, env, "--page-limit", "100")
        db_path = tmp_path / "branch.sqlite3"

        def some_pulled() -> bool:
            if not db_path.exists():
                return False
            import sqlite3

            try:
                with sqlite3.connect(db_path, timeout=1) as conn:
                    return conn.execute("select count(*) from bookings").fetchone()[0] > 500
            except sqlite3.Error:
                return False

        _wait_for(some_pulled, server)
        _kill(server)
        store = open_store(db_path)
        assert store.db.execute("select count(*) from bookings").fetchone()[0] < total  # killed mid-pull
        store.close()
        cloud.faults.clear()
        done = _sync_once(tmp_path, env)
        assert done.returncode == 0, done.stdout + done.stderr
        store = open_store(db_path)
        local = store.db.execute("select count(*) from bookings").fetchone()[0]
        mapped = store.db.execute(
            "select count(distinct cloudId), count(distinct localId) from cloud_ids"
            " where entity = 'booking' and cloud = 'ehjzny'"
        ).fetchone()
        store.close()
        assert local == total and tuple(mapped) == (total, total)
