"""Connecting a running branch server to the cloud over its API:
``/sync/settings`` and the OTP sign-in start the sync engine live, the secret goes to the
keyring or (without one) a 0600 file, and disconnecting stops it — against the simulated
Ehjzny cloud over loopback HTTP."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.domain.clock import Clock, local_date
from tests.clinic import Authed
from tests.clouds.ehjzny import sample_clinic, start_cloud
from tests.test_sync_engine import _wait as wait

ZONE = "Asia/Riyadh"


@pytest.fixture
def no_keyring(monkeypatch, tmp_path):
    """A machine without a keyring service; the per-user config dir in ``tmp_path``."""
    import keyring
    import keyring.backends.fail

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("ISTIQBAL_CLOUD_KEY", raising=False)
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    return tmp_path / "config"


@pytest.fixture
def cloud():
    with start_cloud(clinic=sample_clinic(local_date(Clock().now(), ZONE), ZONE)) as running:
        yield running


@pytest.fixture
def server(tmp_path, no_keyring):
    from app.composition import BranchServer

    running = BranchServer(tmp_path / "branch", demo=False, sync_options={"hot_every": 0.3}).start()
    try:
        yield running
    finally:
        running.stop()


def test_connect_with_an_api_key_live_then_disconnect(server, cloud, no_keyring):
    url, http = server.url, Authed(server)
    before = http.get(url + "/sync/settings").json()["result"]
    assert before["connected"] is False and before["baseUrl"] is None
    assert http.get(url + "/sync/status").json()["result"]["connected"] is False
    assert http.get(url + "/sync/attention").json()["result"] == []

    wrong = http.put(
        url + "/sync/settings",
        json={"cloud": "ehjzny", "baseUrl": cloud.url, "appId": cloud.app_id, "apiKey": "nope"},
        timeout=20,
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "CLOUD-AUTH-FAILED"
    unreachable = http.put(
        url + "/sync/settings",
        json={"baseUrl": "http://127.0.0.1:9", "appId": "x", "apiKey": "k"},
        timeout=20,
    )
    assert unreachable.status_code == 502 and unreachable.json()["error"]["code"] == "CLOUD-UNREACHABLE"
    assert http.put(url + "/sync/settings", json={"baseUrl": cloud.url, "appId": "x"}).status_code == 400

    done = http.put(
        url + "/sync/settings",
        json={"cloud": "ehjzny", "baseUrl": cloud.url + "/", "appId": cloud.app_id, "apiKey": cloud.api_key},
        timeout=20,
    )
    assert done.status_code == 200, done.text
    shown = done.json()["result"]
    assert shown["connected"] is True and shown["baseUrl"] == cloud.url and shown["appId"] == cloud.app_id
    assert shown["secretStore"] == "file" and shown["hasSecret"] is True
    path = Path(shown["secretPath"])
    assert path.is_relative_to(no_keyring) and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert cloud.api_key not in done.text and cloud.api_key not in str(server.store.setting("sync.cloud"))

    # the engine runs inside the running server: status and data without a restart
    status = wait(lambda: (s := http.get(url + "/sync/status").json()["result"])["lastPullAt"] and s)
    assert status["connected"] is True and status["online"] is True
    assert {r["id"] for r in server.store.resources()} == {"resAhmed", "resSara"}
    assert http.post(url + "/sync/now").json()["result"]["connected"] is True

    # saving again without a key keeps the stored one (and restarts the engine)
    again = http.put(url + "/sync/settings", json={"baseUrl": cloud.url, "appId": cloud.app_id}, timeout=20)
    assert again.status_code == 200 and again.json()["result"]["connected"] is True

    gone = http.delete(url + "/sync/settings").json()["result"]
    assert gone["connected"] is False and gone["baseUrl"] is None and gone["hasSecret"] is False
    assert http.get(url + "/sync/status").json()["result"]["connected"] is False
    # disconnected, a manager's edit of working hours stays local: nothing is queued for the cloud
    rules = http.get(url + "/management/resources/resAhmed/timeRules").json()["result"]
    assert http.put(url + "/management/resources/resAhmed/timeRules", json=rules).status_code == 200
    assert server.store.db.execute("select count(*) from sync_outbox").fetchone()[0] == 0
    assert cloud.api_key not in path.read_text()


def test_connect_with_an_otp_login(server, cloud):
    url, http = server.url, Authed(server)
    body = {"cloud": "ehjzny", "baseUrl": cloud.url, "appId": cloud.app_id, "phone": "+966500000001"}
    assert http.post(url + "/sync/otp/request", json=body, timeout=20).json()["result"]["sent"] is True
    wrong = http.post(url + "/sync/otp/verify", json={**body, "code": "0000"}, timeout=20)
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "CLOUD-AUTH-FAILED"
    http.post(url + "/sync/otp/request", json=body, timeout=20)
    done = http.post(url + "/sync/otp/verify", json={**body, "code": cloud.cloud.otp_code}, timeout=20)
    assert done.status_code == 200, done.text
    assert done.json()["result"]["auth"] == "otp" and done.json()["result"]["connected"] is True
    wait(lambda: http.get(url + "/sync/status").json()["result"]["lastPullAt"])
    assert server.store.resource("resSara") is not None


def test_a_server_started_with_a_cloud_still_serves_its_routes(tmp_path, cloud, no_keyring):
    from app.composition import BranchServer
    from app.sync.connection import CloudConfig

    server = BranchServer(
        tmp_path / "b",
        cloud=CloudConfig(cloud.url, cloud.app_id, cloud.api_key),
        sync_options={"hot_every": 0.3},
    ).start()
    http = Authed(server)
    try:
        wait(lambda: http.get(server.url + "/sync/status").json()["result"]["lastPullAt"])
        assert http.get(server.url + "/sync/attention").json()["result"] == []
        assert http.get(server.url + "/sync/settings").json()["result"]["connected"] is True
    finally:
        server.stop()


def test_a_branch_whose_key_is_gone_still_opens_and_asks_to_connect_again(tmp_path, cloud, no_keyring):
    """The key lives outside the data folder (keyring or a private file): a folder copied to a
    new PC, or a wiped keyring, leaves the connection without its key. The desk still opens
    (the branch works on its own) and the settings say to connect again; only an explicit
    ``--cloud`` without a key is refused, since that asks for sync."""
    import main
    from app.composition import BranchServer

    data = tmp_path / "branch"
    server = BranchServer(data, demo=False).start()
    try:
        answer = Authed(server).put(
            server.url + "/sync/settings",
            json={"cloud": "ehjzny", "baseUrl": cloud.url, "appId": cloud.app_id, "apiKey": cloud.api_key},
            timeout=20,
        )
        assert answer.status_code == 200, answer.text
        secrets = Path(answer.json()["result"]["secretPath"])
    finally:
        server.stop()
    secrets.unlink()  # the key is gone

    started = main.start_server(main.parse_args(["--data-dir", str(data)]), demo=False)
    try:
        http = Authed(started)
        settings = http.get(started.url + "/sync/settings").json()["result"]
        assert settings["baseUrl"] == cloud.url and settings["hasSecret"] is False
        assert settings["connected"] is False
        assert http.get(started.url + "/sync/status").json()["result"]["connected"] is False
    finally:
        started.stop()
    with pytest.raises(SystemExit, match="no key"):
        main.start_server(
            main.parse_args(
                [
                    "--data-dir",
                    str(data),
                    "--server-only",
                    "--cloud",
                    "ehjzny",
                    "--cloud-url",
                    cloud.url,
                    "--cloud-account",
                    cloud.app_id,
                ]
            )
        )


def test_a_demo_branch_is_not_connected_to_a_real_account(tmp_path):
    """The demo clinic's made-up patients must never reach a real cloud account."""
    from app.composition import BranchServer

    server = BranchServer(tmp_path / "demo-branch").start()  # first start: the demo clinic
    http = Authed(server)
    try:
        answer = http.put(
            f"{server.url}/sync/settings",
            json={"cloud": "ehjzny", "baseUrl": "http://127.0.0.1:9", "appId": "app", "apiKey": "key"},
        )
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "SYNC-DEMO-DATA"
        assert http.get(f"{server.url}/sync/status").json()["result"]["connected"] is False
    finally:
        server.stop()
