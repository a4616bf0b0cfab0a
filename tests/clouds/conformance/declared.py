"""What each registered connector declares: ``GET /sync/clouds`` of the branch
(``registry.describe()``: ``[{name, title, capabilities, fields, ...}]``), read once per
test session in a separate Python process, so the suite imports nothing from ``app``.

Before the connector registry existed, the engine spoke Ehjzny only; its declaration was
the engine's action table (``app.sync.outbox.CLOUD_ACTIONS`` and ``CREATING``), which
:data:`_PROBE` reads in that case (``legacy: true``: the command line then takes
``--app-id`` instead of ``--cloud-account``).

A case asks :func:`require` for the capabilities it needs; it is skipped with the
connector's own declaration as the reason ("connector not registered", or "ehjzny
declares attendances = False"), never silently.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

_PROBE = r"""
import json
try:
    from app.sync import registry
except ImportError:
    registry = None
if registry is not None:
    print(json.dumps(registry.describe()))
else:
    from app.sync.outbox import CLOUD_ACTIONS, CREATING
    actions = set(CLOUD_ACTIONS)
    capabilities = {"pull_mode": "windows", "queue": "accept" in actions, "end_early": "end" in actions,
                    "holds": "hold" in actions, "approve": False, "attendances": "checkin" in actions,
                    "visit_status_push": "noshow" in actions, "payments": False,
                    "reschedule_new_id": "reschedule" in CREATING, "customer_write": False,
                    "time_rules_write": True, "restore": "restore" in actions, "deleted_feed": False}
    fields = [{"key": "baseUrl", "cli": None}, {"key": "account", "cli": "app-id"}, {"key": "secret", "cli": None}]
    print(json.dumps([{"name": "ehjzny", "capabilities": capabilities, "fields": fields, "legacy": True}]))
"""


@functools.cache
def connectors() -> dict[str, dict]:
    """name → the connector's description (``GET /sync/clouds``). Raises RuntimeError when
    the probe fails (the app cannot even list its connectors: every case would be wrong)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"the connector registry cannot be read: {done.stderr[-2000:]}")
    return {c["name"]: c for c in json.loads(done.stdout.strip().splitlines()[-1])}


def described(name: str) -> dict:
    """The description of ``name``; skips the case when the connector is not registered."""
    found = connectors().get(name)
    if found is None:
        pytest.skip(f"{name}: connector not registered (registered: {', '.join(connectors()) or 'none'})")
    return found


def capability(name: str, key: str):
    return described(name)["capabilities"].get(key)


def require(name: str, *keys: str, pull_modes: tuple[str, ...] | None = None) -> None:
    """Skip unless connector ``name`` declares every capability of ``keys`` true (and, with
    ``pull_modes``, a pull mode among them); the reason names the declaration."""
    caps = described(name)["capabilities"]
    for key in keys:
        if not caps.get(key):
            pytest.skip(f"{name} declares {key} = {caps.get(key)!r}: the case does not apply")
    if pull_modes is not None and caps.get("pull_mode") not in pull_modes:
        pytest.skip(f"{name} declares pull_mode = {caps.get('pull_mode')!r}; the case needs one of {pull_modes}")
