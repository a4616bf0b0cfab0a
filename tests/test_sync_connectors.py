"""One engine for every cloud: the registry of connectors, one command line and the
``cloudIds`` of every booking, customer, resource and booking type in the branch API.

Ehjzny is the first connector; its simulated cloud (``tests/clouds/ehjzny``) is a real HTTP
server following the platform's API reference.
"""

from __future__ import annotations

import argparse

import pytest
from fastapi.testclient import TestClient

from app.sync import registry
from app.sync.connector import Capabilities, ConfigField, Connector, ConnectorInfo, PullMode
from tests.test_sync_engine import Branch, cloud_for_tests, run, work_days


@pytest.fixture(scope="module")
def running():
    with cloud_for_tests() as cloud:
        yield cloud


@pytest.fixture
def branch(running, tmp_path):
    running.cloud.faults.clear()
    b = Branch(running, tmp_path)
    yield b
    b.close()


def test_the_registry_names_each_cloud_with_what_it_can_do():
    info = registry.get("ehjzny")
    assert registry.default_cloud() == "ehjzny" and registry.names()[0] == "ehjzny"
    assert info.capabilities.pull_mode == PullMode.WINDOWS and info.capabilities.queue
    assert not info.capabilities.attendances  # check-ins stay at the desk: declared, never silent
    assert [f.key for f in info.fields] == ["baseUrl", "account", "secret"]
    assert info.field("account").cli == "app-id"
    assert [s.name for s in info.sign_in] == ["request", "verify"]
    described = {c["name"]: c for c in registry.describe()}["ehjzny"]
    assert described["capabilities"]["pull_mode"] == "windows"
    assert described["authKinds"][0][0] == "apiKey"
    with pytest.raises(KeyError, match="known: ehjzny"):
        registry.get("nowhere")


def test_a_registered_cloud_is_a_command_line_choice_and_gets_its_own_spelling():
    from app.composition.sync_cli import add_sync_arguments

    other = ConnectorInfo(
        name="testcloud",
        title="Test Cloud",
        capabilities=Capabilities(pull_mode=PullMode.NONE),
        fields=(
            ConfigField("baseUrl", "Address", "url"),
            ConfigField("account", "Tenant", cli="tenant-id"),
            ConfigField("region", "Region", cli="test-region"),
            ConfigField("zone", "Zone"),
        ),
        factory=lambda *a, **k: None,
        synced_fields=("status",),
    )
    registry.register(other)
    try:
        parser = argparse.ArgumentParser()
        add_sync_arguments(parser)
        args = parser.parse_args(
            [
                "--cloud",
                "testcloud",
                "--cloud-url",
                "https://x",
                "--tenant-id",
                "t-1",
                "--test-region",
                "riyadh",
                "--zone",
                "b",
            ]
        )
        assert (args.cloud, args.cloud_url, args.cloud_account) == ("testcloud", "https://x", "t-1")
        assert (args.cloud_extra_region, args.cloud_extra_zone) == ("riyadh", "b")  # its other fields
        assert parser.parse_args(["--app-id", "a-1"]).cloud_account == "a-1"  # Ehjzny's spelling
        assert parser.parse_args(["--cloud-account", "c-1"]).cloud_account == "c-1"
        with pytest.raises(SystemExit):
            parser.parse_args(["--cloud", "nowhere"])
        assert "testcloud" in {c["name"] for c in registry.describe()}
    finally:
        registry._registry.pop("testcloud", None)


def test_the_ehjzny_connector_is_a_connector(branch):
    assert isinstance(branch.engine.connector, Connector)
    assert branch.engine.cloud == "ehjzny" and branch.engine.status()["cloud"] == "ehjzny"


def test_every_booking_customer_resource_and_type_carries_its_cloud_ids(branch, running):
    from app.server.api import create_app

    day = work_days(1)[0]
    online = running.cloud.add_online_booking("typeGeneral", day=day, time=1000, resource_id="resAhmed")
    run(branch, lambda: branch.engine.sync_once(deadline=10))
    local = branch.store.local_id("ehjzny", online["id"])
    api = create_app(branch.service)
    headers = {"Authorization": f"Bearer {api.state.desks.local_token}"}
    with TestClient(api, base_url="http://127.0.0.1") as http:
        resources = http.get("/management/resources", headers=headers).json()["result"]
        types = http.get("/management/types", headers=headers).json()["result"]
        customers = http.get("/management/customers", params={"search": "Huda"}, headers=headers).json()[
            "result"
        ]
        booking = http.get(f"/management/bookings/{local}", headers=headers).json()["result"]
    assert {r["id"]: r["cloudIds"] for r in resources}["resAhmed"] == {"ehjzny": "resAhmed"}
    assert {t["id"]: t["cloudIds"] for t in types}["typeGeneral"] == {"ehjzny": "typeGeneral"}
    assert [c["cloudIds"] for c in customers] == [{"ehjzny": "cusHuda"}]
    assert booking["cloudIds"] == {"ehjzny": online["id"]}


def test_a_resource_of_the_cloud_keeps_its_local_id_and_the_mapping_is_per_cloud(branch):
    run(branch, lambda: branch.engine.pull_reference())
    store = branch.store
    assert store.local_id("ehjzny", "resAhmed", "resource") == "resAhmed"
    # another cloud's resource with the same id is another thing: it gets a local id of its own
    from app.sync.apply import Applier

    other = Applier(store, branch.engine.outbox, "othercloud", ("status",))
    with store.transaction():
        other.apply_reference("resources", "resource", [{"id": "resAhmed", "name": "Room 9", "types": []}])
    mine = store.local_id("othercloud", "resAhmed", "resource")
    assert mine and mine != "resAhmed"
    assert store.resource("resAhmed")["name"] != "Room 9"
    assert store.resource(mine)["cloudIds"] == {"othercloud": "resAhmed"}
