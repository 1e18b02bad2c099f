"""The seed's seven examples (Code Blocks 2–8), kept as printed, read tolerantly and reproduced by the emulator."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.netrika_support import (
    Received,
    Receiver,
    Stand,
    contract_errors,
    seed_example,
    start_netrika,
    tolerant_loads,
)

EXAMPLES = {  # golden file -> (message type, does the seed print it as strict JSON?)
    "cda_status": ("CDAStatus", False),
    "semd_status": ("SEMDStatus", True),
    "remd_status": ("REMDStatus", True),
    "mse_result": ("MseResult", True),
    "mse_result_data": ("MseResultData", False),
    "vimis_result": ("VimisResult", False),
}
TRUNCATED = {"cda_status": "CDA", "mse_result_data": "Data"}  # the seed cuts these base64 values with "...."


def seed_ack(request: Received, n: int) -> tuple[int, bytes, float]:
    """The seed's acknowledgement (Code Block 8) exactly as printed, whatever was received."""
    return 200, seed_example("ack").encode("utf-8"), 0.0


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    running = start_netrika(tmp_path)
    yield running
    running.stop()


def printed_part(value: str) -> str:
    """The truncated base64 as printed, up to its last whole 4-character quantum (tests/golden/netrika/README.md)."""
    kept = value.rstrip(".")
    return kept[: len(kept) // 4 * 4]


def example(name: str) -> dict[str, Any]:
    parsed = dict(tolerant_loads(seed_example(name)))
    if name in TRUNCATED:
        parsed[TRUNCATED[name]] = printed_part(parsed[TRUNCATED[name]])
    return parsed


@pytest.mark.golden
@pytest.mark.req("NET-1")
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_seed_examples_read_tolerantly_and_strict_json_fails_where_the_seed_is_broken(name: str) -> None:
    message_type, strict = EXAMPLES[name]
    text = seed_example(name)
    if strict:
        assert json.loads(text) == tolerant_loads(text)
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    parsed = example(name)
    from emulators.netrika.messages import ORDER

    assert list(parsed) == list(ORDER[message_type])  # every field of section 5's table, in the example's order
    assert contract_errors(message_type, parsed) == []


@pytest.mark.golden
@pytest.mark.req("NET-1", "X-1")
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_emulator_reproduces_each_seed_example_field_for_field(stand: Stand, name: str) -> None:
    message_type, _ = EXAMPLES[name]
    expected = example(name)
    receiver = Receiver().start()
    try:
        stand.admin("POST", "/netrika/sites", json={"site": "golden", "base_url": receiver.url + "/back/"})
        sent = stand.send(message_type=message_type, site="golden", status=expected["Status"], fields=expected)
        assert stand.settled(sent["id"])["state"] == "delivered"
        (got,) = receiver.received
    finally:
        receiver.stop()
    assert got.path == f"/back/{message_type}"  # POST [base]/[MessageType]
    assert got.headers["content-type"].startswith("application/json")
    body = orjson.loads(got.body)
    assert body == expected and list(body) == list(expected)
    assert contract_errors(message_type, body) == []


@pytest.mark.golden
@pytest.mark.req("NET-1")
def test_the_seeds_cda_and_mse_data_decode_to_documents_shaped_like_the_generated_ones(stand: Stand) -> None:
    seed_cda = base64.b64decode(example("cda_status")["CDA"]).decode("utf-8", "ignore")
    seed_data = base64.b64decode(example("mse_result_data")["Data"]).decode("utf-8", "ignore")
    receiver = Receiver().start()
    try:
        cda = stand.send(message_type="CDAStatus", base_url=receiver.url)["message"]["CDA"]
        stand.admin("POST", "/netrika/sites", json={"site": "s", "base_url": receiver.url})
        data = stand.send(message_type="MseResultData", site="s")["message"]["Data"]
    finally:
        receiver.stop()
    ours_cda, ours_data = base64.b64decode(cda).decode(), base64.b64decode(data).decode()
    for line in seed_cda.splitlines()[:3]:  # the XML prolog, the stylesheet, the ClinicalDocument element
        assert line in ours_cda.splitlines()
    assert "<title>Медицинское свидетельство о рождении</title>" in seed_cda and ours_cda
    assert "\r\n" in ours_cda  # CRLF line ends, as the seed's
    assert ours_data.splitlines()[:2] == seed_data.splitlines()[:2]
    from lxml import etree

    root = etree.fromstring(ours_cda.encode("utf-8"))
    assert root.tag == "{urn:hl7-org:v3}ClinicalDocument"


@pytest.mark.golden
@pytest.mark.req("NET-2")
def test_the_seeds_acknowledgement_as_printed_acknowledges_the_message_it_names(stand: Stand) -> None:
    ack = json.loads(seed_example("ack"))
    assert contract_errors("Ack", ack) == []
    receiver = Receiver(seed_ack).start()
    try:
        fields = example("semd_status")  # its MessageId is the one the seed's acknowledgement names
        assert fields["MessageId"] == ack["MessageId"]
        delivered = stand.settled(stand.send(message_type="SEMDStatus", base_url=receiver.url, fields=fields)["id"])
        other = stand.settled(stand.send(message_type="SEMDStatus", base_url=receiver.url)["id"])
    finally:
        receiver.stop()
    assert delivered["state"] == "delivered" and delivered["ack"] == ack
    assert other["state"] == "dead"  # the same acknowledgement for another message is not one
    assert {a["outcome"] for a in other["attempt_log"]} == {"wrong_message_id"}


@pytest.mark.golden
@pytest.mark.req("NET-7")
def test_vimis_result_what_a_tolerant_parser_must_accept(stand: Stand) -> None:
    """The seed's VimisResult: no commas after StatusCode and IdCaseMis, and two spellings of two keys."""
    text = seed_example("vimis_result")
    with pytest.raises(json.JSONDecodeError, match="Expecting ',' delimiter"):
        json.loads(text)
    parsed = tolerant_loads(text)
    assert parsed["StatusCode"] == 4 and parsed["IdCaseMis"] == "3462895" and parsed["IdSource"] == "12393"
    receiver = Receiver().start()
    try:
        example_spelling = stand.send(message_type="VimisResult", base_url=receiver.url, fields=parsed)
        table_spelling = stand.send(message_type="VimisResult", base_url=receiver.url, fields=parsed,
                                    spelling="table")  # fmt: skip
        for sent in (example_spelling, table_spelling):
            assert stand.settled(sent["id"])["state"] == "delivered"
        bodies = [orjson.loads(r.body) for r in receiver.received]
        first, second = sorted(bodies, key=lambda body: "IdSourse" in body)
    finally:
        receiver.stop()
    assert first == parsed  # the emulator sends valid JSON: commas included
    assert "IdSourse" in second and "StatusСode" in second and "IdSource" not in second
    assert "\u0421" in next(k for k in second if k.startswith("Status") and k != "Status")  # a Cyrillic С
    renamed = {"IdSourse": "IdSource", "StatusСode": "StatusCode"}
    assert {renamed.get(k, k): v for k, v in second.items()} == parsed
    assert contract_errors("VimisResult", second) == []
