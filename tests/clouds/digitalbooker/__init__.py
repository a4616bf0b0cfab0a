"""A simulated DigitalBooker cloud (DigitalBooker API reference; contract ``docs/clouds/digitalbooker.md``).

A real HTTP server for tests and for watching a desk sync::

    cloud = DigitalBookerCloud()
    clinic = generate_clinic(cloud)
    with start_cloud(cloud) as running:
        location = clinic["locations"][0]
        httpx.get(f"{running.url}/en/admin/v1/bookings", auth=running.auth,
                  params={"location_id": location, "from_date": "2026-12-06", "to_date": "2027-01-06"})
        cloud.calendar_delete(booking_id)               # act cloud-side: the id joins the deleted list
        cloud.faults.lose_reply(method="POST")          # the next create commits, its reply is lost

``python -m tests.clouds.digitalbooker --port 8768`` runs one in the foreground. It imports
nothing from the desk's ``app`` package: its rules are its own (``NOTES.md`` lists what
it had to decide where the API reference and the contract are silent).
"""

from .app import RunningCloud, build_app, start_cloud
from .clinic import generate_clinic
from .faults import FaultRule, Faults
from .model import (
    ADMIN,
    BOOKING_TYPES,
    PAYMENT_TYPES,
    WWW,
    ApiKey,
    Clock,
    DigitalBookerCloud,
    DigitalBookerError,
)

__all__ = [
    "ADMIN",
    "BOOKING_TYPES",
    "PAYMENT_TYPES",
    "WWW",
    "ApiKey",
    "Clock",
    "DigitalBookerCloud",
    "DigitalBookerError",
    "FaultRule",
    "Faults",
    "RunningCloud",
    "build_app",
    "generate_clinic",
    "start_cloud",
]
