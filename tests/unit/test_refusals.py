"""Refusals that help: one sentence, a form that works, and nothing the asker may not see."""

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


async def test_a_title_over_the_limit_is_refused_whole(h: Harness) -> None:
    reply = await h.platform.run("/meet " + "x" * 1_000_000 + " in 1h")
    assert not reply.ok and "1000000 characters" in reply.text and "200" in reply.text
    assert len(reply.text) < 300 and h.platform.cards == []


async def test_a_title_is_one_line(h: Harness) -> None:
    reply = await h.platform.run('/meet "Line one\nLine two: *APPROVED*" in 1h')
    assert reply.ok, reply.text
    assert h.platform.cards[-1][1].title == "Line one Line two: *APPROVED*"


async def test_refusals_to_others_name_the_meeting_by_id_not_title(h: Harness) -> None:
    """Someone in another channel who learned an id learns nothing more from a refusal."""
    assert (await h.platform.run("/meet Secret reorg in 1h", channel="private-hr")).ok
    meeting_id = h.platform.cards[-1][1].meeting_id
    for command in (f"/meet end {meeting_id}", f"/meet host {meeting_id}",
                    f"/meet feedback {meeting_id}", f"/meet rate {meeting_id} 3"):  # fmt: skip
        refused = await h.platform.run(command, user="raj", channel="general")
        assert not refused.ok, command
        assert "Secret reorg" not in refused.text and meeting_id in refused.text, refused.text
