"""Files with patient data or secrets are the user's only: the database, its -wal/-shm, the
backups, the lock, the pending restore, the local token, the logs and the secrets file are
0600 in 0700 folders — on a fresh install and, put right at start, on one made before
(0644 files in 0755 folders). A real headless server process makes and fixes them."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from app.secret_store import read_private_json, write_private_json
from app.store import backup, open_store
from tests.test_branch_process import DB, Server, _env, _headers

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
ROOT = Path(__file__).resolve().parents[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _serve(data_dir: Path, tmp_path: Path) -> Server:
    return Server(
        [sys.executable, "main.py", "--server-only", "--data-dir", str(data_dir), "--port", "0"],
        _env(tmp_path),
    )


def _assert_private(data_dir: Path, logs: Path) -> None:
    assert mode(data_dir) == 0o700
    for name in (DB, f"{DB}-wal", f"{DB}-shm", "branch.lock", "server.json"):
        assert mode(data_dir / name) == 0o600, name
    assert mode(data_dir / "backups") == 0o700
    taken = list((data_dir / "backups").glob("branch-*.sqlite3"))
    assert taken and all(mode(path) == 0o600 for path in taken)
    assert mode(logs) == 0o700
    assert [mode(path) for path in logs.glob("istiqbal.log*")] == [0o600] * len(
        list(logs.glob("istiqbal.log*"))
    )
    assert (logs / "istiqbal.log").exists()


def test_a_fresh_install_is_readable_by_the_user_only(tmp_path):
    data_dir = tmp_path / "fresh"
    server = _serve(data_dir, tmp_path)
    try:
        import httpx

        with httpx.Client(base_url=server.url, headers=_headers(data_dir), timeout=10) as http:
            assert http.post("/backups").status_code == 200
            name = backup.list_backups(data_dir / DB)[0]["name"]
            asked = http.post("/backups/restore", json={"name": name})
            assert asked.status_code == 200, asked.text
        _assert_private(data_dir, tmp_path / "logs")
        assert mode(data_dir / backup.PENDING_NAME) == 0o600
        token = data_dir / "local-token"
        if token.exists():
            assert mode(token) == 0o600
    finally:
        assert server.stop() == 0


def test_an_older_install_is_made_private_at_start(tmp_path):
    data_dir, logs = tmp_path / "old", tmp_path / "logs"
    store = open_store(data_dir / DB)
    store.close()
    backup.take_backup(data_dir / DB, "manual")
    backup.schedule_restore(data_dir / DB, backup.list_backups(data_dir / DB)[0]["name"])
    (data_dir / backup.PENDING_NAME).unlink()  # made and dropped: only its mode mattered before
    logs.mkdir()
    (logs / "istiqbal.log").write_text("old run: patient Huda\n")
    (logs / "istiqbal.log.1").write_text("older run\n")
    (data_dir / "notes.txt").write_text("not ours")
    aside = data_dir / f"{DB}.damaged-20260101T000000Z"
    sqlite3.connect(aside).close()
    for path in [data_dir, data_dir / "backups", logs]:
        path.chmod(0o755)
    for path in [*data_dir.iterdir(), *(data_dir / "backups").iterdir(), *logs.iterdir()]:
        if path.is_file():
            path.chmod(0o644)
    assert mode(data_dir / DB) == 0o644 and mode(data_dir) == 0o755

    server = _serve(data_dir, tmp_path)
    try:
        _assert_private(data_dir, logs)
        assert mode(aside) == 0o600
        assert mode(data_dir / "notes.txt") == 0o644  # not the program's: left as it was
    finally:
        assert server.stop() == 0


def test_the_secrets_file_and_its_folder_are_private(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / "secrets.json"
    path.write_text(json.dumps({"acct": "old"}))
    path.chmod(0o644)
    assert read_private_json(path) == {"acct": "old"}  # a file left readable by an older version
    assert (mode(folder), mode(path)) == (0o700, 0o600)
    fresh = tmp_path / "fresh" / "secrets.json"
    write_private_json(fresh, {"acct": "new"})
    assert (mode(fresh.parent), mode(fresh)) == (0o700, 0o600)
