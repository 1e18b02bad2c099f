"""Every text and code ФХ СЭМД sends, in one place: the РЭМД classifier rows (verbatim) and the seed's constants.

The classifier rows live in `remd-codes.json` beside this module (a subset of NSI 1.2.643.5.1.13.13.99.2.305
v3.18, copied verbatim): errors from the «регистрация СЭМД» contour, warnings from IPS_VALIDATION_WARNING and
the «ФРЛЛО» contour (reconstructed: those checks do not block a registration, so they come back as warnings).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# the seed's header constants (5.2, «Заголовок сообщения»)
MESSAGE_TYPE = "REGISTRATION_RESULT"
SOURCE_SYSTEM = "FH_SEMD"
TARGET_SYSTEM = "IS"
SUCCESS, ERROR = "success", "error"


@dataclass(frozen=True)
class Code:
    code: str
    id: int
    message: str
    contour: str

    def as_item(self) -> dict[str, str]:
        """The seed's `{code, message}` item of `errors` / `registrationWarnings`."""
        return {"code": self.code, "message": self.message}


def _load() -> tuple[dict[str, Code], dict[str, Code]]:
    data = json.loads((Path(__file__).with_name("remd-codes.json")).read_text(encoding="utf-8"))
    errors = {row[0]: Code(*row) for row in data["errors"]}
    warnings = {row[0]: Code(*row) for row in data["warnings"]}
    return errors, warnings


ERRORS, WARNINGS = _load()


def known_code(code: str) -> Code | None:
    return ERRORS.get(code) or WARNINGS.get(code)
