"""``python -m tests.clouds.ehjzny [--port N] [--zone Z] [--clinic FILE] [--app-id A] [--api-key K]``:
run the simulated cloud in the foreground and print how to reach it.

The clinic is the small :func:`sample_clinic`, or a JSON file in the shape
:meth:`CloudState.load` takes (contract shapes; time rules as in "Shapes the reference lost").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ..serving import runner_arguments, serve_until_interrupted
from .rules import local_day
from .runner import start_cloud
from .sample import sample_clinic


def main(argv: list[str] | None = None) -> None:
    parser = runner_arguments("ehjzny", __doc__, 8765, seed=False, admin_key=False)
    parser.add_argument("--zone", default="Asia/Riyadh", help="the organization's time zone")
    parser.add_argument("--clinic", help="a clinic JSON file (default: the small sample clinic)")
    parser.add_argument("--app-id", help="fixed X-APP-ID (default: generated)")
    parser.add_argument("--api-key", help="fixed API key (default: generated)")
    args = parser.parse_args(argv)
    if args.clinic:
        with open(args.clinic, encoding="utf-8") as handle:
            clinic = json.load(handle)
    else:
        clinic = sample_clinic(local_day(datetime.now(UTC), args.zone), args.zone)
    running = start_cloud(args.port, clinic, zone=args.zone, app_id=args.app_id, api_key=args.api_key)
    serve_until_interrupted(
        running,
        [
            f"Ehjzny simulated cloud at {running.url}",
            f"X-APP-ID: {running.app_id}",
            f"API key (Authorization: Bearer ...): {running.api_key}",
            "Faults: POST /_sim/faults, clock: POST /_sim/clock.",
        ],
    )


if __name__ == "__main__":
    main()
