"""The seed's Приложение 3 request, sent verbatim, answered in the shape of the seed's response example."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.shep_support import GOLDEN, Stand, assert_valid, our_schema, parse, reference_schema, start_shep


@pytest.fixture(scope="module")
def stand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stand]:
    running = start_shep(tmp_path_factory.mktemp("shep-golden"))
    yield running
    running.stop()


def tag_sequence(text: str) -> list[str]:
    """Open/close tags in document order, prefixes dropped (the wire's prefixes are free)."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    tags = re.findall(r"<(/?)(?:[\w.-]+:)?([\w.-]+)[^>]*?(/?)>", text)
    return [f"{slash}{name}" + ("/" if empty else "") for slash, name, empty in tags]


def answer_tags(root: etree._Element) -> list[str]:
    text = etree.tostring(root, encoding="unicode")
    return [t for t in tag_sequence(text) if t not in ("Header/",)]


@pytest.mark.golden
@pytest.mark.req("SHEP-1", "SHEP-4", "SHEP-7")
def test_seed_request_answered_like_the_seed_response(stand: Stand) -> None:
    answer = stand.post((GOLDEN / "seed_request.xml").read_bytes())
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    seed = (GOLDEN / "seed_response.txt").read_text(encoding="utf-8")
    printed = tag_sequence(seed[: seed.index("<certificate>") + len("<certificate>")])  # the seed stops there
    ours = answer_tags(parse(answer))
    assert ours[: len(printed)] == printed
    reconstructed = (GOLDEN / "response_reconstructed.xml").read_text(encoding="utf-8")
    assert ours == tag_sequence(reconstructed)


@pytest.mark.golden
@pytest.mark.req("SHEP-4")
def test_seed_values_reproduced(stand: Stand) -> None:
    root = parse(stand.post((GOLDEN / "seed_request.xml").read_bytes()))
    seed_text = (GOLDEN / "seed_response.txt").read_text(encoding="utf-8")
    for element in ("code", "message", "number", "nameRu", "nameKk"):
        printed = re.findall(rf"<{element}>([^<]*)</{element}>", seed_text)
        assert printed == [e.text for e in root.iter(element)][: len(printed)], element
    assert root.findtext(".//medicalExemptionList/status") == "UP_TO_DATE"


@pytest.mark.golden
@pytest.mark.req("SHEP-7", "X-1")
def test_reconstructed_golden_and_our_answer_validate(stand: Stand) -> None:
    golden = etree.parse(str(GOLDEN / "response_reconstructed.xml")).getroot()
    ours = parse(stand.post((GOLDEN / "seed_request.xml").read_bytes()))
    for schema in (our_schema(), reference_schema()):
        assert_valid(schema, golden[-1][0])
        assert_valid(schema, ours[-1][0])


@pytest.mark.golden
@pytest.mark.req("SHEP-1")
def test_seed_request_validates_against_both_schemas() -> None:
    request = etree.parse(str(GOLDEN / "seed_request.xml")).getroot()
    for schema in (our_schema(), reference_schema()):
        assert_valid(schema, request[-1][0])


def test_golden_files_are_the_seed_verbatim() -> None:
    seed = Path("/work/shared/seeds/004_09424c770a08bcfb.txt")
    if not seed.is_file():
        pytest.skip("seed not on this machine")
    text = seed.read_text(encoding="utf-8")
    for name in ("seed_request.xml", "seed_response.txt", "seed_soap12_format.xml"):
        assert (GOLDEN / name).read_text(encoding="utf-8").strip() in text
