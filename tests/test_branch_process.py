"""One process per branch file, and stopping that always works — against real processes.

A headless branch server (``main.py --server-only``) runs on a data directory; ``main.py
sync --once``, ``--restore`` and a second server on the same directory must leave every
booking in ``branch.sqlite3`` (nothing moved aside to ``.replaced-…``) and be refused with
a clear message. Bursts of SIGINT and SIGTERM to the server's process group, 0–1 ms apart,
stop it every time within seconds and free the branch for the next start.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from app.store import backup
from app.store.lock import is_claimed

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and process groups")
DB = "branch.sqlite3"


def _env(tmp_path: Path, **extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ISTIQBAL_LOG_DIR": str(tmp_path / "logs"), **extra}


class Server:
    """A real headless server process in its own process group; ``.url`` once it is ready."""

    def __init__(self, command: list[str], env: dict):
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.process.kill()
            raise AssertionError(
                f"the server did not start: {self.process.communicate(timeout=10)[1][-3000:]}"
            )

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self) -> int:
        self.signal_group(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.signal_group(signal.SIGKILL)
            self.process.communicate(timeout=10)


def headless(data_dir: Path, tmp_path: Path, *extra: str) -> Server:
    return Server(
        [sys.executable, "main.py", "--server-only", "--data-dir", str(data_dir), "--port", "0", *extra],
        _env(tmp_path),
    )


def _headers(data_dir: Path) -> dict:
    token = data_dir / "local-token"
    return {"Authorization": f"Bearer {token.read_text().strip()}"} if token.exists() else {}


def _walk_in(http: httpx.Client) -> str:
    type_id = http.get("/management/types").json()["result"][0]["id"]
    customer_id = http.get("/management/customers", params={"limit": 1}).json()["result"][0]["id"]
    answer = http.put(
        "/management/scheduling/new",
        json={"type": type_id, "customerIdentifier": {"id": customer_id}, "assign": False},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]["id"]


def _booking_ids(db_path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("select id from bookings")}
    finally:
        conn.close()


def _run_main(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sync_restore_and_a_second_server_never_touch_a_running_servers_branch(tmp_path):
    data_dir = tmp_path / "branch"
    server = headless(data_dir, tmp_path)
    try:
        with httpx.Client(base_url=server.url, headers=_headers(data_dir), timeout=10) as http:
            made = [_walk_in(http)]
            taken = http.post("/backups")
            assert taken.status_code == 200, taken.text
            name = backup.list_backups(data_dir / DB)[0]["name"]
            made.append(_walk_in(http))
            # a restore waits for the next start: only the process that holds the branch may do it
            backup.schedule_restore(data_dir / DB, name)

            synced = _run_main(tmp_path, "sync", "--data-dir", str(data_dir), "--once", "--deadline", "5")
            assert not list(data_dir.glob(f"{DB}.replaced-*")), (
                "sync --once restored under the running server"
            )
            assert synced.returncode != 0, synced.stdout + synced.stderr
            assert "another Istiqbal process is using" in synced.stderr or "not connected" in synced.stderr

            restored = _run_main(
                tmp_path, "--server-only", "--data-dir", str(data_dir), "--port", "0", "--restore", name
            )
            assert restored.returncode == 2
            assert "another Istiqbal process is using" in restored.stderr

            second = _run_main(tmp_path, "--server-only", "--data-dir", str(data_dir), "--port", "0")
            assert second.returncode == 2
            assert "another Istiqbal process is using" in second.stderr

            made.append(_walk_in(http))  # the server still writes to the file it opened
            listed = http.get("/management/bookings/waiting")
            assert set(made) <= {b["id"] for b in listed.json()["result"]}, listed.text
    finally:
        assert server.stop() == 0
    assert set(made) <= _booking_ids(data_dir / DB)
    assert not list(data_dir.glob(f"{DB}.replaced-*")) and not list(data_dir.glob(f"{DB}.damaged-*"))
    assert backup.pending_restore(data_dir / DB)["name"] == name  # still the running server's to do


def test_sync_once_beside_a_running_server_is_done_by_that_server(tmp_path):
    """With the server's local token in the data directory, ``sync --once`` asks the running
    server to sync (over its API) and reports what it did; the database is not opened."""
    from app.server.desks import token_hash
    from app.store import open_store
    from tests.test_sync_engine import cloud_for_tests, desk_bookings_in_cloud

    with cloud_for_tests() as running:
        data_dir = tmp_path / "branch"
        script_token = "script-" + "t" * 32  # a manager desk's token, for a server that writes no local token
        store = open_store(data_dir / DB)
        store.add_desk(
            {
                "id": "deskScript",
                "name": "script",
                "role": "manager",
                "resourceIds": [],
                "tokenHash": token_hash(script_token),
                "createdAt": "2026-01-01T00:00:00Z",
            }
        )
        store.close()
        env = _env(tmp_path, ISTIQBAL_CLOUD_KEY=running.api_key)
        server = Server(
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
            ],
            env,
        )
        try:
            token = data_dir / "local-token"
            if not token.exists():  # read the same way as the server's own
                token.write_text(script_token + "\n")
            with httpx.Client(base_url=server.url, headers=_headers(data_dir), timeout=10) as http:
                deadline = time.monotonic() + 30
                while http.get("/sync/status").json()["result"]["lastPullAt"] is None:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
                running.cloud.faults.latency(300, method="PUT")  # the server's own push is not done yet
                booked = _walk_in(http)
            done = subprocess.run(
                [
                    sys.executable,
                    "main.py",
                    "sync",
                    "--data-dir",
                    str(data_dir),
                    "--once",
                    "--deadline",
                    "20",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "done by the running branch server" in done.stderr
            assert json.loads(done.stdout.splitlines()[0])["pending"] == 0
            assert len(desk_bookings_in_cloud(running.cloud)) == 1, booked
        finally:
            assert server.stop() == 0
        assert not list(data_dir.glob(f"{DB}.replaced-*"))


def _burst(server: Server, rng: random.Random) -> None:
    for index in range(rng.randint(2, 12)):
        server.signal_group(rng.choice((signal.SIGINT, signal.SIGTERM)) if index else signal.SIGINT)
        time.sleep(rng.uniform(0, 0.001))


class Busy:
    """Desks polling the server during a burst (its thread then competes for the GIL, which
    is what lets a second signal land inside the first one's handler)."""

    def __init__(self, url: str, headers: dict, threads: int = 2):
        self.url, self.headers, self.stopping = url, headers, False
        self.threads = [threading.Thread(target=self._poll, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def _poll(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=2) as http:
            while not self.stopping:
                try:
                    http.get("/branch")
                except httpx.HTTPError:
                    return

    def stop(self) -> None:
        self.stopping = True
        for thread in self.threads:
            thread.join(timeout=5)


def _rounds(data_dir: Path, tmp_path: Path, rounds: int, seed: int, command=None) -> list[float]:
    rng, took = random.Random(seed), []
    for _round in range(rounds):
        server = command() if command else headless(data_dir, tmp_path)
        busy = Busy(server.url, _headers(data_dir))
        time.sleep(0.2)
        started = time.monotonic()
        _burst(server, rng)
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.signal_group(signal.SIGKILL)
            server.process.communicate(timeout=10)
            raise AssertionError(
                f"round {_round}: the server did not stop within 5 s of a signal burst"
            ) from None
        finally:
            busy.stop()
        took.append(time.monotonic() - started)
        err = server.process.communicate(timeout=10)[1]
        assert server.process.returncode == 0, err[-3000:]
        assert not is_claimed(data_dir / DB), "the stopped server still holds the branch"
    return took


def test_bursts_of_sigint_and_sigterm_always_stop_the_headless_server(tmp_path):
    """20 rounds (4 data directories side by side, 5 rounds each): start, wait until ready,
    a burst of 2–12 signals 0–1 ms apart to the process group, exit within 5 s with status 0,
    the branch lock free — and the next round's server starts on the same directory."""
    with ThreadPoolExecutor(4) as pool:
        runs = [pool.submit(_rounds, tmp_path / f"branch{n}", tmp_path, 5, n) for n in range(4)]
        took = [t for run in runs for t in run.result()]
    assert len(took) == 20
    print(f"20 signal bursts: stopped in {min(took):.2f}–{max(took):.2f} s")


def test_signals_that_keep_coming_while_the_server_exits_do_not_kill_it(tmp_path):
    """A service manager, or a user holding Ctrl+C, may keep signalling while the server is
    already on its way out: it still ends with status 0, three times in a row."""
    for _round in range(3):
        server = headless(tmp_path / "branch", tmp_path)
        server.signal_group(signal.SIGTERM)
        while server.process.poll() is None:  # SIGTERM every millisecond until it is gone
            server.signal_group(signal.SIGTERM)
            time.sleep(0.001)
        err = server.process.communicate(timeout=10)[1]
        assert server.process.returncode == 0, err[-3000:]
        assert "branch server stopped" in err


def test_bursts_of_signals_stop_the_sync_serve_path(tmp_path):
    data_dir = tmp_path / "branch"

    def command() -> Server:
        return Server(
            [sys.executable, "-m", "app.sync", "serve", "--data-dir", str(data_dir)], _env(tmp_path)
        )

    assert len(_rounds(data_dir, tmp_path, 4, 99, command)) == 4


def test_ctrl_c_and_sigterm_close_the_desk_and_free_the_branch(tmp_path):
    """The desk (offscreen) in its own process group: a burst of SIGINT and SIGTERM, as
    Ctrl+C in its terminal gives, closes it within seconds with status 0, and the branch is
    free for the next start — three times."""
    data_dir = tmp_path / "desk"
    env = _env(tmp_path, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    rng = random.Random(7)
    for _round in range(3):
        desk = subprocess.Popen(
            [sys.executable, "main.py", "--data-dir", str(data_dir)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        seen = []
        for line in desk.stderr:
            seen.append(line)
            if "desk ready on" in line:
                break
        else:
            raise AssertionError("the desk did not start: " + "".join(seen)[-3000:])
        server = Server.__new__(Server)
        server.process = desk
        _burst(server, rng)
        try:
            desk.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.signal_group(signal.SIGKILL)
            raise AssertionError(
                f"round {_round}: the desk did not close within 5 s of a signal burst"
            ) from None
        rest = desk.stderr.read()
        assert desk.returncode == 0, rest[-3000:]
        assert "Traceback" not in rest, rest[-3000:]
        assert not is_claimed(data_dir / DB)
        assert not (data_dir / "server.json").exists()


def test_sync_serve_and_connect_beside_a_running_server_are_refused(tmp_path):
    data_dir = tmp_path / "branch"
    server = headless(data_dir, tmp_path)
    try:
        for command in (["serve"], ["connect", "--cloud-url", "http://127.0.0.1:9/api", "--app-id", "a"]):
            done = subprocess.run(
                [sys.executable, "-m", "app.sync", command[0], "--data-dir", str(data_dir), *command[1:]],
                cwd=ROOT,
                env=_env(tmp_path, ISTIQBAL_CLOUD_KEY="k"),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 4, done.stderr[-2000:]
            assert "refused: another Istiqbal process is using" in done.stderr
            assert "Traceback" not in done.stderr
    finally:
        assert server.stop() == 0
