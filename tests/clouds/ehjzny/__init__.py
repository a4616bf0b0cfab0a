"""A simulated Ehjzny cloud (``docs/clouds/ehjzny.md``; Ehjzny API reference).

A real HTTP server for tests and for watching the desk sync::

    with start_cloud(clinic=sample_clinic(date.today())) as running:
        httpx.get(running.url + "/management/bookings", headers=running.headers)
        running.cloud.customer_join_queue("cusHuda", "typeGeneral")   # act cloud-side
        running.cloud.faults.fail(2)                                   # next two calls: 503

``python -m tests.clouds.ehjzny --port 8765`` runs one in the foreground.
"""

from .cloud import EhjznyCloud
from .faults import FaultRule, Faults
from .runner import RunningCloud, start_cloud
from .sample import sample_clinic

__all__ = ["EhjznyCloud", "FaultRule", "Faults", "RunningCloud", "sample_clinic", "start_cloud"]
