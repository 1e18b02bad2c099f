"""Every requirement ID of shared/requirements.md is cited by at least one test (`@pytest.mark.req`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CATALOGUE = Path(os.environ.get("MEDSTAND_REFERENCE", ROOT.parent / "shared" / "reference")).parent / "requirements.md"


def test_every_requirement_id_is_cited_by_a_test() -> None:
    if not CATALOGUE.is_file():
        pytest.skip(f"no requirements catalogue at {CATALOGUE}")
    ids = re.findall(r"^- ([A-Z]+(?:-[A-Z0-9]+)+)\b", CATALOGUE.read_text(encoding="utf-8"), re.M)
    cited: set[str] = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        for marker in re.findall(r"@pytest\.mark\.req\(([^)]*)\)", path.read_text(encoding="utf-8")):
            cited.update(re.findall(r'"([^"]+)"', marker))
    assert len(ids) >= 68
    assert [i for i in ids if i not in cited] == []
