"""Words that are commands elsewhere get a helpful answer, not a meeting named after them."""

from __future__ import annotations

import pytest

from tests.fakes import Harness


@pytest.mark.parametrize("word", ["providers", "check", "every"])
async def test_a_lone_command_word_explains_instead_of_booking(h: Harness, word: str) -> None:
    reply = await h.platform.run(f"/meet {word}")
    assert not reply.ok
    assert f'"{word}" on its own is not a /meet command' in reply.text
    assert f'/meet "{word}"' in reply.text  # shows how to mean it as a title
    assert h.platform.cards == []


async def test_quoted_or_longer_titles_still_book(h: Harness) -> None:
    quoted = await h.platform.run('/meet "providers"')
    longer = await h.platform.run("/meet Providers sync")
    assert quoted.ok and longer.ok, (quoted.text, longer.text)
    assert [card.title for _, card in h.platform.cards] == ["providers", "Providers sync"]
