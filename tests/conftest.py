from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes import Harness, harness


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as made:
        yield made


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    return str(tmp_path / "convene.db")
