"""``python -m tests.clouds.rekaz [--port N] [--seed S] [--key K] [--tenant T]``: run the
simulated Rekaz cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

from ..serving import runner_arguments, serve_until_interrupted
from . import RekazCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = runner_arguments("rekaz", __doc__, 8766)
    parser.add_argument("--per-day", type=int, default=8, help="reservations per branch and day")
    parser.add_argument("--key", help="fixed API key (default: generated)")
    parser.add_argument("--tenant", help="fixed tenant id (default: generated)")
    args = parser.parse_args(argv)
    cloud = RekazCloud(key=args.key, tenant=args.tenant, admin_key=args.admin_key)
    clinic = generate_clinic(cloud, seed=args.seed, per_day=args.per_day)
    running = start_cloud(cloud, args.port)
    serve_until_interrupted(
        running,
        [
            f"Rekaz simulated cloud at {running.url}",
            f"Authorization: Basic {cloud.key}",
            f"__tenant: {cloud.tenant}",
            f"branches: {', '.join(clinic['branches'])}",
        ],
    )


if __name__ == "__main__":
    main()
