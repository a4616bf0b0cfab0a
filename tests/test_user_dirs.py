"""One per-user config directory: an older version's files (secrets, paired desks) kept in
a second, lower-case directory are found after the move, nothing is lost, and they stay
readable by their owner only."""

from __future__ import annotations

import json
import os
import stat

import keyring
import keyring.backends.fail
import pytest

from app import desk_credentials, desk_prefs, secret_store, user_dirs
from app.sync import connection

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the two folders and modes are POSIX's")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def home(monkeypatch, tmp_path):
    """A user's config home of an older version: ``istiqbal/`` (secrets, paired desks, left
    0644 in a 0755 folder) beside ``Istiqbal/`` (the desk's language); no keyring."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv(user_dirs.ENV_CONFIG_DIR, raising=False)
    monkeypatch.setattr(user_dirs, "_migrated", set())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    old, new = config / "istiqbal", config / "Istiqbal"
    old.mkdir(parents=True, mode=0o755)
    new.mkdir(parents=True, mode=0o755)
    url = "https://desk-server:8765"
    files = {
        old / "secrets.json": {
            "app@http://cloud": "s3cret",
            f"{desk_credentials.SERVICE}|{url}": "desk-token",
        },
        old / "desks.json": {
            url: {
                "fingerprint": "ab" * 32,
                "deskId": "d1",
                "deskName": "Front",
                "role": "manager",
                "resourceIds": [],
            }
        },
        new / "desk.json": {"language": "ar", "digits": "arab"},
    }
    for path, data in files.items():
        path.write_text(json.dumps(data))
        path.chmod(0o644)
    old.chmod(0o755)
    return old, new, url


def test_files_of_the_old_directory_are_found_after_the_move(home):
    old, new, url = home
    assert desk_prefs.load()["language"] == "ar"  # the one directory's own file
    assert connection.load_secret("app@http://cloud")[0] == "s3cret"  # the cloud's secret, moved
    paired = desk_credentials.load(url)  # the paired desk, moved
    assert paired is not None and (paired.token, paired.role) == ("desk-token", "manager")
    assert secret_store.secrets_file() == new / "secrets.json"
    assert sorted(p.name for p in new.iterdir()) == ["desk.json", "desks.json", "secrets.json"]
    assert not old.exists()  # nothing left behind
    assert mode(new) == 0o700
    assert mode(new / "secrets.json") == 0o600 and mode(new / "desks.json") == 0o600


def test_a_name_in_both_directories_loses_neither(home):
    old, new, _url = home
    (new / "secrets.json").write_text(json.dumps({"other@http://cloud": "newer"}))
    moved = user_dirs.migrate_config(new, old)
    assert moved == ["desks.json"]
    assert json.loads((new / "secrets.json").read_text())["other@http://cloud"] == "newer"
    assert json.loads((old / "secrets.json").read_text())["app@http://cloud"] == "s3cret"  # kept where it was


def test_preferences_written_now_are_owner_only(home):
    _old, new, _url = home
    desk_prefs.remember_start("lan", "https://desk-server:8765")
    assert desk_prefs.start_choice() == {"mode": "lan", "url": "https://desk-server:8765"}
    assert desk_prefs.load()["language"] == "ar"
    assert mode(new / "desk.json") == 0o600
