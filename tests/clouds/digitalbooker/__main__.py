"""``python -m tests.clouds.digitalbooker [--port N] [--seed S] [--bookings B]``: run the
simulated DigitalBooker cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

from ..serving import runner_arguments, serve_until_interrupted
from . import DigitalBookerCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = runner_arguments("digitalbooker", __doc__, 8768)
    parser.add_argument("--bookings", type=int, default=120, help="service bookings in all")
    parser.add_argument("--zone", default="Asia/Riyadh", help="the account's local time zone (IANA)")
    parser.add_argument("--key-id", help="fixed API key id (default: generated)")
    parser.add_argument("--password", help="fixed API key password (default: generated)")
    args = parser.parse_args(argv)
    cloud = DigitalBookerCloud(
        key_id=args.key_id, password=args.password, zone=args.zone, admin_key=args.admin_key
    )
    clinic = generate_clinic(cloud, seed=args.seed, bookings=args.bookings)
    running = start_cloud(cloud, args.port)
    serve_until_interrupted(
        running,
        [
            f"DigitalBooker simulated cloud at {running.url} (admin API: {running.admin_url})",
            f"API key id={cloud.key_id} password={cloud.password} (HTTP Basic); zone {cloud.zone.key}",
            f"locations: {', '.join(map(str, clinic['locations']))}",
        ],
    )


if __name__ == "__main__":
    main()
