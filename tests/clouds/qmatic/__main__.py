"""``python -m tests.clouds.qmatic [--port N] [--seed S] [--appointments A]``: run the
simulated Qmatic cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

from ..serving import runner_arguments, serve_until_interrupted
from . import QmaticCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = runner_arguments("qmatic", __doc__, 8768)
    parser.add_argument("--appointments", type=int, default=80, help="confirmed appointments in all")
    parser.add_argument("--tenant", help="fixed X-TENANT-ID (default: generated)")
    parser.add_argument("--authorization", help="Authorization header every call must carry (default: none)")
    parser.add_argument("--date-of-birth-required", action="store_true", help="confirm needs dateOfBirth")
    args = parser.parse_args(argv)
    cloud = QmaticCloud(
        tenant=args.tenant,
        authorization=args.authorization,
        admin_key=args.admin_key,
        date_of_birth_required=args.date_of_birth_required,
    )
    clinic = generate_clinic(cloud, seed=args.seed, appointments=args.appointments)
    running = start_cloud(cloud, args.port)
    gateway = f"Authorization: {cloud.authorization}" if cloud.authorization else "(no Authorization needed)"
    known = ", ".join(c["personalIdentifier"] for c in clinic["customers"][:3])
    serve_until_interrupted(
        running,
        [
            f"Qmatic simulated cloud at {running.url}",
            f"X-TENANT-ID: {cloud.tenant}  {gateway}",
            *(f"branch {branch}: {cloud.branches[branch].name}" for branch in clinic["branches"]),
            f"known customers (personalIdentifier): {known}, ...",
        ],
    )


if __name__ == "__main__":
    main()
