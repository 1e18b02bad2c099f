"""The seed's header, body and REST examples (5.2) as golden shapes, and the command-line entry points."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulators import catalog, cli
from emulators.core import registry
from emulators.core.config import load_settings
from emulators.core.testing import serve_in_thread
from emulators.sample_mis.fhsemd import REST_PATH, SemdMis, rest_app
from tests.fhsemd_support import GOLDEN, Fh, read_topic, start_fh

pytestmark = [pytest.mark.filterwarnings("ignore:read_text is deprecated"),
              pytest.mark.filterwarnings("ignore:open_text is deprecated")]  # fmt: skip


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fh]:
    running = start_fh(tmp_path_factory.mktemp("fhsemd-golden"))
    yield running
    running.stop()


def assert_placeholder(placeholder: Any, value: Any, where: str) -> None:
    """The seed writes types as values: "uuid", "integer", "datetime", "date", "success|error", "string"."""
    if isinstance(placeholder, dict):
        assert set(value) == set(placeholder), f"{where}: fields {sorted(value)} != seed {sorted(placeholder)}"
        for name, inner in placeholder.items():
            assert_placeholder(inner, value[name], f"{where}.{name}")
    elif isinstance(placeholder, list):
        assert isinstance(value, list), where
        for item in value:
            assert_placeholder(placeholder[0], item, f"{where}[]")
    elif placeholder == "uuid":
        assert str(uuid.UUID(value)) == value, where
    elif placeholder == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif placeholder == "datetime":
        assert dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None, where
    elif placeholder == "date":
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and dt.date.fromisoformat(value), where
    elif "|" in placeholder:
        assert value in placeholder.split("|"), where
    elif placeholder == "string":
        assert isinstance(value, str) and value, where
    else:  # a constant of the seed
        assert value == placeholder, where


@pytest.mark.golden
@pytest.mark.req("SEMD-2")
def test_header_has_the_seed_shape_and_constants(fh: Fh) -> None:
    (item,) = fh.send({"relatesToMessage": "golden-1"})
    (record,) = [r for r in read_topic(fh.bootstrap, 100, within=3) if r.offset == item["offset"]
                 and r.partition == item["partition"]]  # fmt: skip
    header = {name: raw.decode() for name, raw in record.headers}
    seed = golden("header.json")
    assert list(header) == list(seed)
    assert_placeholder({**seed, "timestamp": "datetime"}, header, "header")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", header["timestamp"])  # like 2025-01-15T10:30:00.000Z


@pytest.mark.golden
@pytest.mark.req("SEMD-2")
def test_success_body_has_the_seed_shape(fh: Fh) -> None:
    (item,) = fh.send({"relatesToMessage": "golden-2", "warnings": 1})
    body = fh.result(str(item["messageId"]), refresh=False)["body"]
    seed = golden("body.json")
    assert list(body) == list(seed)
    assert_placeholder({**seed, "errors": []}, {**body, "errors": []}, "body")
    assert body["errors"] == []


@pytest.mark.golden
@pytest.mark.req("SEMD-2")
def test_error_body_has_the_seed_fields_less_the_registry_item(fh: Fh) -> None:
    (item,) = fh.send({"relatesToMessage": "golden-3", "status": "error"})
    body = fh.result(str(item["messageId"]), refresh=False)["body"]
    seed = golden("body.json")
    del seed["registryItem"]
    assert_placeholder(seed, body, "body")


@pytest.mark.golden
@pytest.mark.req("SEMD-4")
def test_rest_request_and_answer_have_the_seed_shape() -> None:
    request_text = (GOLDEN / "rest-request.json.txt").read_text(encoding="utf-8")
    seed_request_fields = re.findall(r'^\s{2}"(\w+)"', request_text, re.M)
    assert seed_request_fields == ["relatesToMessage", "status", "errors"]
    state = SemdMis()
    document = state.submit()
    served = serve_in_thread(rest_app(state))
    try:
        error = {"code": "NO_SNILS", "message": "Наличие СНИЛС пациента не соответствует требованиям вида документов"}
        sent = {"relatesToMessage": document.message_id, "status": "error", "errors": [error]}
        answer = requests.post(served.url + REST_PATH, json=sent, timeout=10)
    finally:
        served.stop()
    assert answer.status_code == 200
    assert_placeholder({**golden("rest-response.json"), "errors": []}, answer.json(), "answer")
    assert state.documents[document.message_id].status == "rejected"


@pytest.mark.req("SEMD-1", "X-1")
def test_registered_with_settings_from_env_and_the_consumer_command(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog.load()
    assert registry.spec("fhsemd").default_port == 2300
    monkeypatch.setenv("MEDSTAND_FHSEMD_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("MEDSTAND_FHSEMD_FRAMING", "envelope")
    settings = load_settings().section("fhsemd")
    assert (settings.kafka_bootstrap, settings.framing, settings.kafka_port, settings.topic) == (
        "kafka:9092", "envelope", 9092, "semd-registration-results")  # fmt: skip
    with pytest.raises(SystemExit) as shown:
        cli.main(["sample-mis", "fhsemd-consumer", "--help"])
    assert shown.value.code == 0


def test_a_wrong_framing_setting_is_a_one_line_config_error(tmp_path: Any) -> None:
    from emulators.core.errors import ConfigError
    from emulators.fhsemd.emulator import FhSemd

    settings = load_settings(overrides={"data_dir": str(tmp_path), "fhsemd.framing": "xml"})
    with pytest.raises(ConfigError, match="framing"):
        FhSemd(settings)
