"""Schemathesis over the server's own /openapi.json against a real loopback branch server
(backup and sync routes too), with every check schemathesis has: no input may make it
answer 5xx, and the answers must follow the document (statuses, shapes, auth). Modest
example counts keep the CI run short; ``FUZZ_EXAMPLES`` raises them for a run by hand."""

from __future__ import annotations

import os
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES

from tests.clinic import bearer, fill

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
#: the CI run draws the same examples every time (no flaky CI); a run by hand with
#: FUZZ_EXAMPLES draws new ones
SEEDED = "FUZZ_EXAMPLES" not in os.environ
#: talk to a cloud at the URL in the body (tested against the simulated cloud elsewhere);
#: /events is an endless stream, exercised by the live tests
NOT_FUZZED = ("/events", "/sync/settings", "/sync/otp/request", "/sync/otp/verify")


@schemathesis.check
def refusal_has_the_envelope(ctx, response, case):
    """A refused request (4xx/5xx) answers ``{"error": {"code", "message"}}`` as JSON."""
    if response.status_code < 400:
        return None
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(
            f"{response.status_code} without the JSON error envelope: {response.text[:200]!r}"
        ) from None
    if not (isinstance(error.get("code"), str) and error["code"] and isinstance(error.get("message"), str)):
        raise AssertionError(f"{response.status_code} envelope without code and message: {error!r}")
    return None


#: every check schemathesis has (and ours), except that schema-valid data must be accepted:
#: the API refuses, with a 400 and a reason, combinations the schema cannot express (date or
#: from+to, a provider code without resources, an opaque page token it did not make...)
EXCLUDED_CHECKS = [positive_data_acceptance]


#: invalid data may also be refused as too large (413, before the body is read)
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
            }
        }
    }
)


def start_fuzz_server(data_dir: str | Path):
    """``(server, schema, auth headers)``: a started BranchServer on the test clinic with a
    queued walk-in, and its OpenAPI document loaded with the server's own token."""
    from app.composition import BranchServer
    from app.server.service import BookingService
    from app.store import open_store

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(data_dir / "branch.sqlite3")
    if store.is_empty():
        fill(store)
        BookingService(store).create({"type": "gen", "assign": False, "customerIdentifier": {"id": "c1"}})
    store.close()
    server = BranchServer(data_dir, demo=False, backup_interval=None).start()
    auth = bearer(server.token)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", headers=auth, config=CONFIG)
    for path in NOT_FUZZED:
        schema = schema.exclude(path=path)

    @schema.auth()
    class ServerToken:
        """The server's own token on every case, except where a negative case drops it."""

        def get(self, case, context):
            return server.token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), **bearer(data)}

    return server, schema, auth


def fuzz(schema, auth: dict, examples: int, extra_checks: tuple = ()) -> tuple[int, list[str], list[str]]:
    """Walk every operation in positive and negative mode with all checks
    (:data:`EXCLUDED_CHECKS` aside, :func:`refusal_has_the_envelope` added). Returns
    ``(operations walked, 5xx failures, other failed checks)``."""
    assert not_a_server_error not in EXCLUDED_CHECKS
    server_errors, others, walked = [], [], 0
    operations = [r.ok() for r in schema.get_all_operations()]
    for operation, mode in ((op, m) for op in operations for m in GenerationMode):
        walked += 1

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=SEEDED,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            case.call_and_validate(
                timeout=10,
                excluded_checks=EXCLUDED_CHECKS,
                additional_checks=[refusal_has_the_envelope, *extra_checks],
            )

        try:
            check()
        except Unsatisfiable:  # nothing invalid to send (no parameters, or only a free-text path id)
            continue
        except (Exception, BaseExceptionGroup) as exc:  # collect every failing operation, not just the first
            text = f"{operation.label} ({mode.value}): {exc}"
            found = list(getattr(exc, "exceptions", [exc]))
            five = any(
                type(e).__name__ == "ServerError" or getattr(e, "status_code", 0) >= 500 for e in found
            )
            (server_errors if five else others).append(text)
    return walked, server_errors, others


def test_no_input_makes_the_server_fail(tmp_path):
    """Every operation, positive and negative examples, all checks (the pytest plugin's
    fixture mode does not work with this pytest, so operations are walked here)."""
    server, schema, auth = start_fuzz_server(tmp_path / "fuzz")
    try:
        walked, server_errors, others = fuzz(schema, auth, EXAMPLES)
    finally:
        server.stop()
    assert walked >= 2 * 40
    assert not server_errors, "\n\n".join(server_errors)
    assert not others, "\n\n".join(others)
