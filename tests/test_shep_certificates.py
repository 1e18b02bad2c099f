"""SHEP-5: certificate and printableCertificate are real PDFs: the number, the patient, the procedure, the status
(read back with pypdf) and a QR code that decodes to the exemption number (pypdfium2 + zxing-cpp)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pypdf
import pypdfium2
import pytest
import zxingcpp

from tests.shep_support import Stand, data_of, envelope, start_shep


@pytest.fixture(scope="module")
def stand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stand]:
    running = start_shep(tmp_path_factory.mktemp("shep-pdf"), **{"shep.generate": 0})
    body = {
        "number": "KZ-2026-0042",
        "iin": "850315300128",
        "status": "UP_TO_DATE",
        "procedure": "101",
        "last_name": "Жұмабаева",
        "first_name": "Әйгерім",
        "middle_name": "Серікқызы",
    }
    assert running.admin("POST", "/shep/exemptions", json=body).status_code == 201
    yield running
    running.stop()


def certificates(stand: Stand) -> tuple[bytes, bytes]:
    item = data_of(stand.post(envelope("<number>KZ-2026-0042</number>"))).find("medicalExemptionList")
    assert item is not None
    return base64.b64decode(item.findtext("certificate") or ""), base64.b64decode(
        item.findtext("printableCertificate") or ""
    )


def qr_codes(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    return [found.text for found in zxingcpp.read_barcodes(page.render(scale=2).to_pil())]


@pytest.mark.req("SHEP-5")
def test_both_certificates_are_pdfs_with_the_facts_in_russian_and_kazakh(stand: Stand) -> None:
    for pdf in certificates(stand):
        assert pdf.startswith(b"%PDF-")
        text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        for expected in (
            "KZ-2026-0042",
            "Жұмабаева Әйгерім Серікқызы",
            "850315300128",
            "Профилактические прививки против кори",
            "Қызылшаға, қызамыққа",
            "актуален",
            "UP_TO_DATE",
            "Медициналық қарсы көрсетілім",
        ):
            assert expected in text, expected


@pytest.mark.req("SHEP-5")
def test_qr_code_encodes_the_exemption_number(stand: Stand) -> None:
    for pdf in certificates(stand):
        assert qr_codes(pdf) == ["KZ-2026-0042"]


@pytest.mark.req("SHEP-5")
def test_printable_one_is_a_print_layout(stand: Stand) -> None:
    electronic, printable = (pypdf.PdfReader(io.BytesIO(pdf)) for pdf in certificates(stand))
    assert round(float(printable.pages[0].mediabox.width)) == 595  # A4
    assert round(float(electronic.pages[0].mediabox.width)) == 420  # A5, on screen
    assert "Подпись врача" in printable.pages[0].extract_text()
    assert "Подпись врача" not in electronic.pages[0].extract_text()


@pytest.mark.req("SHEP-5")
def test_certificates_are_cached_and_served_by_admin(stand: Stand) -> None:
    certificates(stand)
    rendered = stand.shep.certificates.rendered
    first = certificates(stand)
    assert stand.shep.certificates.rendered == rendered  # cached
    pdf = stand.admin("GET", "/shep/exemptions/KZ-2026-0042/certificate", params={"printable": "1"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content == first[1]
