"""The card's Edit button: the scheduling form filled in, and its submission as a rename
and/or a move, through the real slack_bolt and slack_sdk against the loopback Slack.

The rig's clock is next Monday 09:00 UTC (tests/moments), Ana is in Berlin and Raj in
Kolkata, so every date below is derived from the day the suite runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.slack import edit_form
from bot.requests import MoveMeeting, RenameMeeting
from tests.e2e.slack_rig import NOW, Rig, block_problems, running
from tests.emulators import slack as emu
from tests.fakes import host_link_of
from tests.moments import BERLIN, NEW_YORK, at, next_clock_change

TOMORROW = NOW.date() + timedelta(days=1)


def _buttons(blocks: Any) -> list[dict[str, Any]]:
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def _book(rig: Rig, text: str = "/meet Retro tomorrow 16:00 for 30m") -> str:
    """A meeting booked by Ana; its id, read from the card's Edit button."""
    await rig.command(text)
    [card] = await rig.slack.wait_for_cards()
    [edit] = [b for b in _buttons(card.params["blocks"]) if b["action_id"] == "meet_edit"]
    await rig.slack.wait_for_responses()
    return str(edit["value"])


async def _click_edit(
    rig: Rig, meeting_id: str, user: str = "UANA", channel: str = "CGENERAL"
) -> None:
    url = rig.slack.response_url_for(f"edit-{len(rig.slack.api)}")
    payload = emu.action_payload(
        "meet_edit", meeting_id, response_url=url, user=user, channel=channel
    )
    status, _ = await rig.client.interaction(payload)
    assert status == 200


async def _opened_form(rig: Rig, count: int = 1) -> dict[str, Any]:
    opened = (await rig.slack.wait_for("views.open", count))[-1]
    view = opened.params["view"]
    return dict(json.loads(view) if isinstance(view, str) else view)


def _initial(view: dict[str, Any], block_id: str) -> str:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return str(block["element"].get("initial_value", ""))


def _submit_values(view: dict[str, Any], **changes: str) -> dict[str, Any]:
    """What Slack submits for the form as shown, with some fields retyped."""
    values = {}
    for block_id in ("title", "when", "duration"):
        typed = changes.get(block_id, _initial(view, block_id))
        values[block_id] = {"value": {"type": "plain_text_input", "value": typed}}
    return values


async def _submit(rig: Rig, view: dict[str, Any], user: str = "UANA", **changes: str) -> Any:
    payload = emu.view_payload(
        _submit_values(view, **changes),
        view["private_metadata"],
        user=user,
        callback_id="meet_edit",
    )
    status, body = await rig.client.interaction(payload)
    assert status == 200
    return json.loads(body) if body else {}


async def _meeting(rig: Rig, meeting_id: str) -> Any:
    meeting = await rig.app.core.get_meeting(meeting_id)
    assert meeting is not None
    return meeting


async def test_the_card_of_a_booked_meeting_has_an_edit_button_beside_end_and_cancel(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await _book(rig)
        [card] = rig.slack.calls_to("chat.postMessage")
        buttons = _buttons(card.params["blocks"])
        assert [b["action_id"] for b in buttons][:4] == [
            "meet_join",
            "meet_end",
            "meet_edit",
            "meet_cancel",
        ]  # then the answer buttons and the calendar links
        assert buttons[2]["value"] == meeting_id and buttons[2]["text"]["text"] == "Edit"
        await rig.command("/meet Standup")  # instant: already running, nothing to edit
        [_, instant] = await rig.slack.wait_for_cards(2)
        assert "meet_edit" not in json.dumps(instant.params["blocks"])
        assert block_problems(rig.slack.api) == []


async def test_edit_opens_the_form_filled_in_in_the_users_zone(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await _book(rig)
        await _click_edit(rig, meeting_id)
        view = await _opened_form(rig)
        [opened] = rig.slack.calls_to("views.open")
        assert opened.params["trigger_id"] == "trigger-2"
        assert view["callback_id"] == "meet_edit"
        assert _initial(view, "title") == "Retro"
        assert _initial(view, "when") == f"on {TOMORROW.day} {TOMORROW:%b %Y} at 16:00"
        assert _initial(view, "duration") == "30m"
        assert "Europe/Berlin" in json.dumps(view["blocks"])
        assert json.loads(view["private_metadata"])["meeting"] == meeting_id
        assert block_problems(rig.slack.calls_to("views.open")) == []


async def test_a_new_time_moves_the_meeting_updates_the_card_and_answers_privately(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await _book(rig)
        before = await _meeting(rig, meeting_id)
        await _click_edit(rig, meeting_id)
        view = await _opened_form(rig)

        answer = await _submit(rig, view, when="tomorrow 17:30")
        assert "errors" not in answer
        [update] = await rig.slack.wait_for("chat.update")
        [private] = await rig.slack.wait_for("chat.postEphemeral")

        moved = await _meeting(rig, meeting_id)
        assert moved.start == at(TOMORROW, 17, 30, BERLIN)
        assert moved.end - moved.start == timedelta(minutes=30)  # the length is kept
        assert moved.title == "Retro" and moved.join_url != before.join_url
        assert update.params["ts"] == rig.slack.posted_ts[0]
        blocks = json.dumps(update.params["blocks"])
        assert f"<!date^{int(moved.start.timestamp())}^" in blocks
        assert moved.join_url in blocks and "meet_edit" in blocks
        assert private.params["user"] == "UANA" and private.params["channel"] == "CGENERAL"
        assert "Moved" in private.params["text"] and "Renamed" not in private.params["text"]
        host_url = await host_link_of(rig.app.core, moved.id)
        assert host_url in json.dumps(private.params["blocks"])
        assert host_url not in rig.slack.public_payloads()
        notices = [c for c in rig.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
        assert notices and all(n.params["thread_ts"] == rig.slack.posted_ts[0] for n in notices)
        assert block_problems(rig.slack.api) == []


async def test_a_new_title_and_a_range_are_a_rename_then_a_move_with_one_answer(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await _book(rig)
        await _click_edit(rig, meeting_id)
        view = await _opened_form(rig)
        await _submit(rig, view, title="Sprint retro", when="tomorrow 10:00-11:15")
        await rig.slack.wait_for("chat.update", 2)  # renamed, then moved
        [private] = await rig.slack.wait_for("chat.postEphemeral")
        text = private.params["text"]
        assert text.index("Renamed") < text.index("Moved"), text
        changed = await _meeting(rig, meeting_id)
        assert changed.title == "Sprint retro"
        assert (changed.start, changed.end) == (
            at(TOMORROW, 10, 0, BERLIN),
            at(TOMORROW, 11, 15, BERLIN),
        )
        last = rig.slack.calls_to("chat.update")[-1]
        assert "Sprint retro" in json.dumps(last.params["blocks"])
        assert len(rig.slack.calls_to("chat.postEphemeral")) == 1
        assert block_problems(rig.slack.api) == []


async def test_only_the_length_changed_keeps_the_exact_start(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        rig.clock.advance(seconds=17)  # "in 2h" starts at 11:00:17: the form shows 11:00
        meeting_id = await _book(rig, "/meet Retro in 2h for 30m")
        start = (await _meeting(rig, meeting_id)).start
        await _click_edit(rig, meeting_id)
        view = await _opened_form(rig)
        await _submit(rig, view, duration="1h")
        await rig.slack.wait_for("chat.update")
        [private] = await rig.slack.wait_for("chat.postEphemeral")
        assert "Moved" in private.params["text"]
        moved = await _meeting(rig, meeting_id)
        assert moved.start == start and moved.end - moved.start == timedelta(hours=1)


async def test_a_submission_by_someone_else_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await _book(rig)
        await _click_edit(rig, meeting_id, user="URAJ")  # Raj may look at the form
        view = await _opened_form(rig)
        assert _initial(view, "title") == "Retro"
        assert "Asia/Kolkata" in json.dumps(view["blocks"])  # shown in Raj's own zone
        await _submit(rig, view, user="URAJ", title="Hijacked", when="tomorrow 18:00")
        [private] = await rig.slack.wait_for("chat.postEphemeral")
        assert private.params["user"] == "URAJ" and "Only the organizer" in private.params["text"]
        assert rig.slack.calls_to("chat.update") == []
        kept = await _meeting(rig, meeting_id)
        assert kept.title == "Retro" and kept.start == at(TOMORROW, 16, 0, BERLIN)


async def test_another_channels_meeting_opens_no_form_and_names_no_title(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await _book(rig, '/meet "Secret merger" tomorrow 16:00')
        await _click_edit(rig, meeting_id, user="URAJ", channel="CRANDOM")
        [_, refusal] = await rig.slack.wait_for_responses(2)
        assert refusal["response_type"] == "ephemeral"
        assert "can't find that meeting in this channel" in refusal["text"]
        assert "Secret" not in json.dumps(refusal)
        await _click_edit(rig, "nosuch", user="UANA")
        [*_, unknown] = await rig.slack.wait_for_responses(3)
        assert "can't find that meeting" in unknown["text"]
        assert rig.slack.calls_to("views.open") == []


async def test_a_running_meeting_opens_no_form(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        await rig.command("/meet Standup")
        [card] = await rig.slack.wait_for_cards()
        meeting_id = next(b["value"] for b in _buttons(card.params["blocks"]) if "value" in b)
        await rig.slack.wait_for_responses()
        await _click_edit(rig, meeting_id)  # a card of an earlier version, say
        [_, refusal] = await rig.slack.wait_for_responses(2)
        assert "has started or is over" in refusal["text"]
        assert rig.slack.calls_to("views.open") == []


async def test_an_unchanged_form_changes_nothing_and_bad_fields_come_back(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await _book(rig)
        await _click_edit(rig, meeting_id)
        view = await _opened_form(rig)
        bad = await _submit(rig, view, when="25:00", duration="forever")
        assert bad["response_action"] == "errors"
        assert set(bad["errors"]) == {"when", "duration"} and "25:00" in bad["errors"]["when"]
        both = await _submit(rig, view, when="tomorrow 10:00-11:00", duration="45m")
        assert set(both["errors"]) == {"duration"} and "range" in both["errors"]["duration"]
        await _submit(rig, view)
        [private] = await rig.slack.wait_for("chat.postEphemeral")
        assert "Nothing was changed" in private.params["text"]
        assert rig.slack.calls_to("chat.update") == []
        assert (await _meeting(rig, meeting_id)).start == at(TOMORROW, 16, 0, BERLIN)


# ---- the form's words read back to the same instant (pure) -----------------------------------


def _values(context: edit_form.EditContext, **changes: str) -> dict[str, Any]:
    shown = {"title": context.title, "when": context.when, "duration": context.length}
    return {
        k: {"value": {"type": "plain_text_input", "value": v}} for k, v in (shown | changes).items()
    }


def test_a_repeated_hour_is_shown_with_its_offset_and_reads_back_exactly() -> None:
    """On a fall-back night 01:30 happens twice in New York: the form names which."""
    day = next_clock_change(NEW_YORK, forward=False, after=NOW.date())
    first = at(day, 1, 30, NEW_YORK)  # the first 01:30 (daylight time)
    second = first + timedelta(hours=1)  # the same wall time, an hour later
    now = at(day - timedelta(days=1), 12)
    for start in (first, second):
        context = edit_form.EditContext.shown(
            "abc234", "CGENERAL", NEW_YORK, ("Night shift", start, start + timedelta(minutes=45))
        )
        assert "01:30 UTC-" in context.when
        loaded = edit_form.EditContext.load(context.dump())
        assert loaded == context
        assert edit_form.read_edit(_values(loaded), loaded, now=now) == []
        longer = edit_form.read_edit(_values(loaded, duration="1h"), loaded, now=now)
        assert longer == [MoveMeeting("abc234", start, timedelta(hours=1))]
        retyped = edit_form.read_edit(_values(loaded, when=f"{loaded.when} "), loaded, now=now)
        assert retyped == []  # spacing alone is no change
        moved = edit_form.read_edit(
            _values(loaded, when=loaded.when.replace("01:30", "01:45")), loaded, now=now
        )
        assert isinstance(moved, list) and isinstance(moved[0], MoveMeeting)
        assert moved[0].start == start + timedelta(minutes=15)


def test_a_rename_comes_before_a_move_and_a_blank_title_is_no_rename() -> None:
    start = datetime(2030, 6, 3, 14, 0, tzinfo=UTC)
    berlin = ZoneInfo("Europe/Berlin")
    context = edit_form.EditContext.shown(
        "abc234", "C", berlin, ("Retro", start, start + timedelta(hours=1))
    )
    now = start - timedelta(days=2)
    both = edit_form.read_edit(
        _values(context, title="  New   name ", when="on 3 Jun 2030 at 17:00"), context, now=now
    )
    assert both == [
        RenameMeeting("abc234", "New name"),
        MoveMeeting("abc234", datetime(2030, 6, 3, 15, 0, tzinfo=UTC), None, ""),
    ]
    assert edit_form.read_edit(_values(context, title=""), context, now=now) == []


def test_forged_metadata_reads_as_an_empty_form_not_a_crash() -> None:
    for raw in (None, "", "not json", "[1]", json.dumps({"meeting": 5, "start": "yesterday"})):
        context = edit_form.EditContext.load(raw)
        assert context.exact_start is None and context.tz.key == "UTC"
        result = edit_form.read_edit(_values(context, when="", duration="45m"), context, now=NOW)
        assert result == {"when": "Give the start, like tomorrow 15:00."}
