"""What each registered connector declares: ``GET /sync/clouds`` of the branch
(``registry.describe()``: ``[{name, title, capabilities, fields, ...}]``), read once per
test session in a separate Python process, so the suite imports nothing from ``app``.

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
from app.sync import registry
print(json.dumps(registry.describe()))
"""


@functools.cache
def connectors() -> dict[str, dict]:
    """name → the connector's description (``GET /sync/clouds``). Raises RuntimeError when
    the probe fails (the app cannot even list its connectors: every case would be wrong)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"the connector registry cannot be read: {done.stderr[-2000:]}")
    return {c["name"]: c for c in json.loads(done.stdout.strip().splitlines()[-1])}


#: Registered connectors that do not pass the suite yet, with what is missing: their cases
#: are skipped with this reason (every run says so) until the connector is fixed.
NOT_YET_CONFORMANT: dict[str, str] = {}


def described(name: str) -> dict:
    """The description of ``name``; skips the case when the connector is not registered
    (or is listed in :data:`NOT_YET_CONFORMANT`)."""
    found = connectors().get(name)
    if found is None:
        pytest.skip(f"{name}: connector not registered (registered: {', '.join(connectors()) or 'none'})")
    if name in NOT_YET_CONFORMANT:
        pytest.skip(f"{name}: {NOT_YET_CONFORMANT[name]}")
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
        pytest.skip(
            f"{name} declares pull_mode = {caps.get('pull_mode')!r}; the case needs one of {pull_modes}"
        )
