"""``python -m tests.clouds.agendize [--port N] [--seed S] [--appointments A]``: run the
simulated Agendize cloud in the foreground with a generated clinic, and print how to reach it."""

from __future__ import annotations

from ..serving import runner_arguments, serve_until_interrupted
from . import AgendizeCloud, generate_clinic, start_cloud


def main(argv: list[str] | None = None) -> None:
    parser = runner_arguments("agendize", __doc__, 8767)
    parser.add_argument("--appointments", type=int, default=120, help="normal appointments in all")
    parser.add_argument("--page-size", type=int, default=100, help="appointments per list page")
    parser.add_argument("--api-key", help="fixed apiKey (default: generated)")
    parser.add_argument("--token", help="fixed SSO token (default: generated)")
    args = parser.parse_args(argv)
    cloud = AgendizeCloud(
        api_key=args.api_key, token=args.token, admin_key=args.admin_key, page_size=args.page_size
    )
    clinic = generate_clinic(cloud, seed=args.seed, appointments=args.appointments)
    running = start_cloud(cloud, args.port)
    serve_until_interrupted(
        running,
        [
            f"Agendize simulated cloud at {running.url} (clients: {running.clients_url})",
            f"apiKey={cloud.api_key} token={cloud.token} (or Authorization: Bearer {cloud.access_token})",
            f"companies: {', '.join(clinic['companies'])}",
        ],
    )


if __name__ == "__main__":
    main()
