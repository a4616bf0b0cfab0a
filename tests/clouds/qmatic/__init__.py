"""A simulated Qmatic Cloud Appointments tenant (Qmatic API reference; contract
``docs/clouds/qmatic.md``).

A real HTTP server for tests and for watching a desk sync::

    cloud = QmaticCloud()
    clinic = generate_clinic(cloud)
    with start_cloud(cloud) as running:
        httpx.get(f"{running.url}/services", headers=running.headers)   # X-TENANT-ID, Accept-Language
        cloud.clock.shift(timedelta(minutes=16))        # every open hold has expired
        cloud.faults.lose_reply(method="POST", path="/external/v1/reservations")

``python -m tests.clouds.qmatic --port 8768`` runs one in the foreground. It imports
nothing from the desk's ``app`` package: its rules are its own (``NOTES.md`` lists what
it had to decide where the API reference and the contract are silent).
"""

from .app import BASE, RunningCloud, build_app, start_cloud
from .clinic import customer_of, generate_clinic
from .faults import FaultRule, Faults
from .model import (
    CANCELLED,
    CONFIRMED,
    EXPIRED,
    HOLD,
    LANGUAGES,
    RELEASED,
    RESERVED,
    USED,
    Appointment,
    Clock,
    QmaticCloud,
    QmaticError,
)

__all__ = [
    "BASE",
    "CANCELLED",
    "CONFIRMED",
    "EXPIRED",
    "HOLD",
    "LANGUAGES",
    "RELEASED",
    "RESERVED",
    "USED",
    "Appointment",
    "Clock",
    "FaultRule",
    "Faults",
    "QmaticCloud",
    "QmaticError",
    "RunningCloud",
    "build_app",
    "customer_of",
    "generate_clinic",
    "start_cloud",
]
