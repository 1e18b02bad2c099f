"""X-1: the emulator is driven by its contract, and its own answers conform to it."""

from __future__ import annotations

import jsonschema
import pytest

from emulators.core.contract import Contract, contracts_dir
from tests import fer_data as data
from tests.conftest import Fer

GATEWAY = Contract(contracts_dir() / "fer/gateway.openapi.yaml")


@pytest.mark.req("X-1", "FER-API-4")
def test_contract_lists_every_path_of_the_seed() -> None:
    paths = set(GATEWAY.document["paths"])
    expected = {"/auth.svc", "/api/mo/oid/{oid}", "/api/oid/{oid}", "/api/mo/{mo_id}/resource",
                "/api/resourse/{resource_id}/slots", "/api/resource/{resource_id}/slots", "/api/slot/{slot_id}/books",
                "/api/callback", "/api/callback/check"}  # fmt: skip
    expected |= {f"/api/{e}" for e in ("mo", "resource", "service", "slot", "book", "referral", "unaccessable_period",
                                       "profilecode_resource")}  # fmt: skip
    assert expected <= paths


@pytest.mark.req("X-1")
def test_every_route_of_the_app_comes_from_a_contract(fer: Fer) -> None:
    operations = {op.operation_id for op in GATEWAY.operations}
    routed = {route.operation for route in fer.gateway.app.router.routes()}
    assert operations <= routed
    assert all(op.startswith("admin.") or op in operations for op in routed)


@pytest.mark.req("X-1", "FER-ENV-1")
def test_answers_conform_to_the_envelope_schema(fer: Fer) -> None:
    envelope = GATEWAY.schema("Envelope")
    mo = data.mo()
    answers = [fer.post("mo", [mo]), fer.post("mo", [{"id": 1}]), fer.get("/api/mo", id=mo["id"]),
               fer.get("/api/mo", id="nope"), fer.get(f"/api/mo/oid/{mo['parent_id']}"), fer.delete("mo", mo["id"]),
               fer.http.get(f"{fer.url}/api/mo", params={"id": "x"}, headers={"Authorization": "x"})]  # fmt: skip
    for answer in answers:
        jsonschema.validate(answer.json(), envelope)
        assert answer.status_code == answer.json()["statusCode"]


@pytest.mark.req("X-1", "FER-AUTH-1")
def test_auth_answers_conform_to_their_schema(fer: Fer) -> None:
    schema = GATEWAY.schema("AuthResponse")
    ok = fer.http.post(f"{fer.url}/auth.svc", json={"username": "1.2.643.5.1.13.13.12.2.86.8902",
                                                      "password": "E837EE78350021618250663B60EF58**"})  # fmt: skip
    bad = fer.http.post(f"{fer.url}/auth.svc", json={"username": "x", "password": "y"})
    for answer in (ok, bad):
        jsonschema.validate(answer.json(), schema)


def test_compose_file_declares_the_fer_service_from_the_repo_dockerfile() -> None:
    import shutil
    import subprocess
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    assert compose["services"]["fer"]["build"] == "." and "2100:2100" in compose["services"]["fer"]["ports"]
    assert (root / "Dockerfile").exists()
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        command = [docker, "compose"]
    elif shutil.which("docker-compose"):
        command = [str(shutil.which("docker-compose"))]
    else:
        return  # no compose client on this machine: the YAML checks above still ran
    done = subprocess.run([*command, "-f", str(root / "docker-compose.yml"), "config", "-q"], capture_output=True)
    assert done.returncode == 0, done.stderr
