"""Certificates (SHEP-5): real PDFs with the number, the patient, the procedure, the status and a QR code.

reportlab with its own QR widget; the text is set in DejaVu Sans, shipped in `fonts/`, because
reportlab's bundled fonts have no Kazakh letters (қ, ғ, ұ, ү, ө, ә, і, ң, һ). `invariant` makes the same
exemption give the same bytes, so a cache keyed by the record is exact.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import io
import threading
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from emulators.shep import catalogue as texts
from emulators.shep.store import Exemption

FONTS = Path(__file__).parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_fonts_lock = threading.Lock()


def _register_fonts() -> None:
    with _fonts_lock:
        if REGULAR not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))


def _date(value: str | None) -> str:
    return dt.date.fromisoformat(value).strftime("%d.%m.%Y") if value else ""  # Таблица 2: DD-ММ-YYYY style


def _lines(exemption: Exemption) -> list[tuple[str, str]]:
    """(label, value) rows: labels in Russian / Kazakh, values as stored."""
    label = {key: f"{ru} / {kk}" for key, (ru, kk) in texts.CERTIFICATE.items()}
    status_ru, status_kk = texts.STATUS_NAMES[exemption.status]
    procedure = exemption.procedure
    rows = [
        (label["number"], exemption.number),
        (label["patient"], exemption.patient),
        (label["birth_date"], _date(exemption.birth_date)),
    ]
    if exemption.iin:
        rows.append((label["iin"], exemption.iin))
    if exemption.passport_number:
        name = texts.CITIZENSHIPS.get(exemption.citizenship_code or "", (exemption.citizenship_code or "", ""))[0]
        rows.append((label["document"], f"{exemption.passport_number}, {name}"))
    rows += [
        (label["procedure"], procedure.name_ru),
        ("", procedure.name_kk),
        (label["status"], f"{status_ru} / {status_kk} ({exemption.status})"),
        (label["issued"], _date(exemption.issued_on)),
    ]
    if exemption.end_date:
        rows.append((label["valid_until"], _date(exemption.end_date)))
    if exemption.revocation_reason:
        rows.append((label["revocation"], exemption.revocation_reason))
    rows += [(label["organisation"], exemption.organisation), (label["doctor"], exemption.doctor)]
    return rows


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` points."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and pdfmetrics.stringWidth(candidate, font, size) > width:
            lines.append(current)
            candidate = word
        current = candidate
    return [*lines, current]


def _qr(canvas: Canvas, value: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(value, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def render(exemption: Exemption, printable: bool) -> bytes:
    """The electronic form (A5, on screen) or the printable one (A4, margins, signature and stamp lines)."""
    _register_fonts()
    width, height = A4 if printable else A5
    margin = (20 if printable else 12) * mm
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    title_ru, title_kk = texts.CERTIFICATE["title"]
    canvas.setTitle(f"{title_ru} № {exemption.number}")
    canvas.setFont(BOLD, 14 if printable else 12)
    y = height - margin
    canvas.drawString(margin, y, f"{title_ru} № {exemption.number}")
    y -= 16
    canvas.setFont(REGULAR, 10)
    canvas.drawString(margin, y, title_kk)
    y -= 24
    size = 9 if printable else 7.5
    for label, value in _lines(exemption):
        if label:
            canvas.setFont(REGULAR, size - 1.5)
            canvas.drawString(margin, y, label)
            y -= size + 1
        canvas.setFont(BOLD, size)
        for line in _wrap(value, BOLD, size, width - 2 * margin):
            canvas.drawString(margin, y, line)
            y -= size + 2
        y -= 3
    qr_size = (40 if printable else 30) * mm
    _qr(canvas, exemption.number, width - margin - qr_size, margin + (20 * mm if printable else 0), qr_size)
    canvas.setFont(REGULAR, 7)
    canvas.drawString(margin, margin + (20 * mm if printable else 0), " / ".join(texts.CERTIFICATE["qr"]))
    if printable:
        canvas.setFont(REGULAR, 10)
        canvas.drawString(margin, margin + 8 * mm, " / ".join(texts.CERTIFICATE["signature"]))
        canvas.drawString(width - margin - 40 * mm, margin + 8 * mm, " / ".join(texts.CERTIFICATE["stamp"]))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class CertificateCache:
    """base64 PDFs by (record, layout): a record is immutable, so a changed exemption is a new key."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: collections.OrderedDict[tuple[Exemption, bool], str] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.rendered = 0

    def base64(self, exemption: Exemption, printable: bool) -> str:
        key = (exemption, printable)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        encoded = base64.b64encode(render(exemption, printable)).decode("ascii")
        with self._lock:
            self.rendered += 1
            self._items[key] = encoded
            while len(self._items) > max(self.size, 0):
                self._items.popitem(last=False)
        return encoded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
