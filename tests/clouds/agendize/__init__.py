"""A simulated Agendize cloud (Agendize API reference; contract ``docs/clouds/agendize.md``).

A real HTTP server for tests and for watching a desk sync::

    cloud = AgendizeCloud()
    clinic = generate_clinic(cloud)
    with start_cloud(cloud) as running:
        company = clinic["companies"][0]
        httpx.get(f"{running.url}/scheduling/companies/{company}/appointments", params=running.params)
        cloud.invalidate_sync_tokens()                  # act cloud-side: the next pull gets 410
        cloud.faults.lose_reply(method="POST")          # the next insert commits, its reply is lost

``python -m tests.clouds.agendize --port 8767`` runs one in the foreground. It imports
nothing from the desk's ``app`` package: its rules are its own (``NOTES.md`` lists what
it had to decide where the API reference and the contract are silent).
"""

from .app import RunningCloud, build_app, start_cloud
from .clinic import generate_clinic
from .faults import FaultRule, Faults
from .model import STATUSES, AgendizeCloud, AgendizeError, Clock

__all__ = [
    "STATUSES",
    "AgendizeCloud",
    "AgendizeError",
    "Clock",
    "FaultRule",
    "Faults",
    "RunningCloud",
    "build_app",
    "generate_clinic",
    "start_cloud",
]
