from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.providers.http import make_client
from tests.fakes import Harness, Sleeps, harness
from tests.stores import pg_url, store  # noqa: F401 (fixtures for every test)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The providers' production client (its pool and transport), as the app builds it."""
    async with make_client() as client:
        yield client


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as made:
        yield made


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    return str(tmp_path / "convene.db")
