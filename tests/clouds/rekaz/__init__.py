"""A simulated Rekaz cloud (Rekaz API reference; contract ``docs/clouds/rekaz.md``).

A real HTTP server for tests and for watching a desk sync::

    cloud = RekazCloud()
    clinic = generate_clinic(cloud)
    with start_cloud(cloud) as running:
        httpx.get(running.url + "/branches", headers=running.headers)
        cloud.kiosk_attendance(reservation_id)          # act cloud-side
        cloud.faults.rate_limit(retry_after=2)          # the next call: 429

``python -m tests.clouds.rekaz --port 8766`` runs one in the foreground. It imports
nothing from the desk's ``app`` package: its rules are its own (``NOTES.md`` lists what
it had to decide where the API reference and the contract are silent).
"""

from .app import RunningCloud, build_app, start_cloud
from .clinic import generate_clinic
from .faults import FaultRule, Faults
from .model import Clock, RekazCloud, RekazError

__all__ = [
    "Clock",
    "FaultRule",
    "Faults",
    "RekazCloud",
    "RekazError",
    "RunningCloud",
    "build_app",
    "generate_clinic",
    "start_cloud",
]
