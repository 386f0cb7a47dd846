"""Bolt listeners: `/meet`, the card's buttons, the feedback buttons and the modals.

The card's Edit button opens the scheduling form filled in with the meeting's title,
start and length, only for a meeting of the channel it was pressed in that has not
started (the button's value is user-controlled; `MeetingService.meeting_slot` gives
nothing else). Its submission becomes a rename and/or a move, asked in that order
for the verified user, who gets one private answer; the service refuses anyone but
the organizer or an admin.

Every listener acknowledges first (Slack allows 3 seconds, a provider may take
longer), then does its work inside `after_ack`: asks Slack who the user is, runs
the service and answers privately, and turns any failure into one logged
traceback and one private sentence. Who asks comes from the verified request
(`inbound`), never from a button's value; the service itself checks who may end
or cancel what, and records a rating for the verified user who clicked.

Every private answer goes through `answer_privately`, which never gives up
silently: the request's response_url when it has one, else (or when that post
fails) chat.postEphemeral to the user in the channel, and, when that fails too, a
text-only ephemeral that says how to get a host link the lost answer carried.
Whatever failed is logged once, without the answer's links.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import edit_form, inbound, modal, render
from adapters.slack.acks_first import AcksFirst
from adapters.slack.callers import PLATFORM, Callers
from adapters.slack.inbound import Who
from bot.messages import Reply
from bot.models import Caller
from bot.requests import Button, Request
from bot.service import OOPS, MeetingService

log = logging.getLogger(__name__)

FORM_FAILED = (
    "The scheduling form could not be opened; type the meeting instead: "
    "/meet Design review at 15:00 for 45m"
)
EDIT_FAILED = (
    "The edit form could not be opened; type the change instead: "
    "/meet move {id} tomorrow 15:00 or /meet rename {id} New title"
)
NOT_HERE = (
    "convene can't find that meeting in this channel; edit a meeting from its own card "
    "(/meet list shows the ones here)."
)
NOT_CHANGEABLE = (
    "This meeting has started or is over, so it can no longer be changed; "
    "book a new one with /meet Design review at 15:00."
)
UNCHANGED = "Nothing was changed: the title, start and length are as they were."
COMMENT_FAILED = (
    "The comment form could not be opened; type it instead: /meet rate {id} 4 your comment"
)
HOST_LINK_LOST = (
    "The private message with your host link did not arrive; "
    "use /meet host <id> to get your host link (/meet list shows the id)."
)

# `/meet tz <zone>` (the grammar also reads a typed-out leading "/meet").
RESPONSE_URL_TIMEOUT = 10  # seconds; then chat.postEphemeral is tried
SETS_ZONE = re.compile(r"\s*(?:/meet\s+)?tz(?:\s|$)", re.IGNORECASE)

Work = Callable[[], Awaitable[Reply | None]]
"""A listener's work after its ack: the private answer, or None when there is none."""
Answer = Callable[[Reply], Awaitable[None]]


async def after_ack(what: str, work: Work, answer: Answer, failed: Reply | None = None) -> None:
    """Run work that Slack already acknowledged: its reply, or on any failure a logged
    traceback and `failed` (OOPS by default), goes privately to the user."""
    try:
        reply = await work()
    except Exception:
        log.exception("%s failed after it was acknowledged", what)
        reply = failed if failed is not None else Reply(OOPS, ok=False)
    if reply is not None:
        await answer(reply)


def _pattern(*action_ids: str) -> re.Pattern[str]:
    return re.compile("^(" + "|".join(re.escape(a) for a in action_ids) + ")$")


# The buttons whose press is a request: End, Cancel, the five ratings, and the card's
# answers (Going, Maybe, Can't, Going to all, Get my link, Remind me privately).
REQUEST_BUTTONS = _pattern(
    render.action_id(Button.END),
    render.action_id(Button.CANCEL),
    *(render.action_id(Button.RATE, score) for score in render.SCORES),
    *render.ANSWER_ACTIONS,
)


class Handlers:
    def __init__(
        self, service: MeetingService, callers: Callers, acks_first: AcksFirst | None = None
    ) -> None:
        self.service = service
        self.callers = callers
        self.acks_first = acks_first or AcksFirst()

    async def after_ack(
        self, what: str, work: Work, answer: Answer, failed: Reply | None = None
    ) -> None:
        """`after_ack`, once the acks queued behind this one have gone (`AcksFirst`)."""
        await self.acks_first.turn()
        await after_ack(what, work, answer, failed)

    def register(self, app: AsyncApp) -> None:
        app.command("/meet")(self.meet)
        app.action(REQUEST_BUTTONS)(self.button)
        app.action(render.OPEN_FORM_ACTION)(self.open_form_button)
        app.action(re.compile(f"^({render.JOIN_ACTION}|{render.LINK_ACTION})"))(self.link_clicked)
        app.action(render.action_id(Button.COMMENT))(self.comment_button)
        app.action(render.action_id(Button.EDIT))(self.edit_button)
        app.view(modal.CALLBACK_ID)(self.schedule_submitted)
        app.view(edit_form.EDIT_CALLBACK_ID)(self.edit_submitted)
        app.view(modal.COMMENT_CALLBACK_ID)(self.comment_submitted)

    # -- /meet ---------------------------------------------------------------------------

    async def meet(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        who = inbound.command_who(command, context)

        async def work() -> Reply | None:
            caller = await self.callers.caller(client, who)
            text = inbound.command_text(command)
            reply = await self.service.run_text(caller, text)
            if reply.ok and SETS_ZONE.match(text):
                self.callers.forget(who.team_id, who.user_id)  # the cached zone is stale
            if not reply.open_form:
                return reply
            if await self.open_form(client, inbound.trigger_id(command), caller):
                return None
            return Reply(FORM_FAILED, ok=False)

        await self.after_ack("/meet", work, partial(answer_privately, client, who, respond))

    async def open_form(self, client: AsyncWebClient, trigger_id: str, caller: Caller) -> bool:
        """The scheduling form, pre-filled in the caller's zone from the service's clock."""
        zone = await self.service.zone_for(caller)
        context = modal.FormContext(caller.channel_id, zone.key)
        return await open_view(client, trigger_id, modal.schedule_view(context, self.service.now()))

    def asks(self, client: AsyncWebClient, who: Who, request: Request) -> Work:
        """The work of a button or a form: the verified user asks the service."""

        async def work() -> Reply:
            caller = await self.callers.caller(client, who)
            return await self.service.handle(caller, request)

        return work

    # -- buttons ---------------------------------------------------------------------------

    async def button(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """End, Cancel, a rating or an answer: the value only names the meeting; the
        verified user acts (and answers as themselves)."""
        await ack()
        request = inbound.button_press(action)
        if request is None:  # the listener's pattern lets only request buttons through
            return
        who = inbound.action_who(context)
        work = self.asks(client, who, request)
        await self.after_ack("a button", work, partial(answer_privately, client, who, respond))

    async def open_form_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        who = inbound.action_who(context)

        async def work() -> Reply | None:
            caller = await self.callers.caller(client, who)
            if await self.open_form(client, inbound.trigger_id(body), caller):
                return None
            return Reply(FORM_FAILED, ok=False)

        await self.after_ack(
            "the form button", work, partial(answer_privately, client, who, respond)
        )

    async def edit_button(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """Opens the scheduling form filled in with the meeting it names, in the clicker's zone."""
        await ack()
        who = inbound.action_who(context)
        meeting_id = inbound.meeting_of(action)
        failed = Reply(EDIT_FAILED.format(id=meeting_id or "<id>"), ok=False)

        async def work() -> Reply | None:
            caller = await self.callers.caller(client, who)
            form = await self.edit_form(caller, meeting_id)
            if isinstance(form, Reply):
                return form
            view = edit_form.edit_view(form)
            return None if await open_view(client, inbound.trigger_id(body), view) else failed

        answer = partial(answer_privately, client, who, respond)
        await self.after_ack("the edit button", work, answer, failed)

    async def edit_form(self, caller: Caller, meeting_id: str) -> edit_form.EditContext | Reply:
        """The filled-in form for a meeting of the caller's channel that has not started,
        or why there is none. Like `title_here`, nothing about a meeting of another
        channel is shown: the id in the button's value may have been typed by anyone."""
        place = await self.service.meeting_place(PLATFORM, meeting_id)
        if place is None or place != caller.place:
            return Reply(NOT_HERE, ok=False)
        slot = await self.service.meeting_slot(caller, meeting_id)
        if slot is None:
            return Reply(NOT_CHANGEABLE, ok=False)
        zone = await self.service.zone_for(caller)
        return edit_form.EditContext.shown(meeting_id, caller.channel_id, zone, slot)

    async def link_clicked(self, ack: AsyncAck) -> None:
        """Link buttons open in the browser; Slack still tells the app, which just says OK."""
        await ack()

    # -- feedback -------------------------------------------------------------------------

    async def comment_button(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """Opens the comment form; it remembers the meeting and where to answer."""
        await ack()
        who = inbound.action_who(context)
        meeting_id = inbound.meeting_of(action)
        failed = Reply(COMMENT_FAILED.format(id=meeting_id), ok=False)

        async def work() -> Reply | None:
            caller = await self.callers.caller(client, who)
            view = modal.comment_view(
                modal.CommentContext(meeting_id, who.channel_id),
                await self.title_here(caller, meeting_id),
            )
            return None if await open_view(client, inbound.trigger_id(body), view) else failed

        answer = partial(answer_privately, client, who, respond)
        await self.after_ack("the comment button", work, answer, failed)

    async def title_here(self, caller: Caller, meeting_id: str) -> str | None:
        """The title to label the comment form with, only when the click came from the
        meeting's own channel: the button's value is user-controlled, and a title is
        not for whoever names an id from elsewhere (the form then says "meeting <id>")."""
        place = await self.service.meeting_place(PLATFORM, meeting_id)
        if place is None or place != caller.place:
            return None
        return await self.service.meeting_title(caller, meeting_id)

    async def comment_submitted(
        self,
        ack: AsyncAck,
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A comment alone (any earlier rating stays); the answer goes to the channel privately."""
        form, result = inbound.comment_submission(view)
        await self.submitted(ack, "a feedback comment", form.channel_id, result, client, context)

    # -- the scheduling form ---------------------------------------------------------------

    async def schedule_submitted(
        self,
        ack: AsyncAck,
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        form, result = inbound.schedule_submission(view, now=self.service.now())
        await self.submitted(ack, "the scheduling form", form.channel_id, result, client, context)

    async def edit_submitted(
        self,
        ack: AsyncAck,
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A rename and/or a move, asked in that order; one private answer for both."""
        form, result = inbound.edit_submission(view, now=self.service.now())
        if isinstance(result, dict):
            await ack(response_action="errors", errors=result)
            return
        await ack()
        who = inbound.form_who(context, form.channel_id)
        answer = partial(answer_privately, client, who, None)  # a modal has no response_url
        await self.after_ack("the edit form", self.asks_in_turn(client, who, result), answer)

    def asks_in_turn(self, client: AsyncWebClient, who: Who, requests: list[Request]) -> Work:
        """Several requests of one form, in order, stopping at the first refusal; their
        answers joined into one."""

        async def work() -> Reply:
            if not requests:
                return Reply(UNCHANGED)
            caller = await self.callers.caller(client, who)
            replies: list[Reply] = []
            for request in requests:
                replies.append(await self.service.handle(caller, request))
                if not replies[-1].ok:
                    break
            return Reply(
                " ".join(r.text for r in replies),
                ok=all(r.ok for r in replies),
                private=tuple(note for r in replies for note in r.private),
            )

        return work

    async def submitted(
        self,
        ack: AsyncAck,
        what: str,
        channel_id: str,
        result: Request | dict[str, str],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A modal's submission: errors go back under their fields (the modal stays open);
        a request is acked (the modal closes), then asked, then answered in the channel."""
        if isinstance(result, dict):
            await ack(response_action="errors", errors=result)
            return
        await ack()
        who = inbound.form_who(context, channel_id)
        answer = partial(answer_privately, client, who, None)  # a modal has no response_url
        await self.after_ack(what, self.asks(client, who, result), answer)


async def open_view(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> bool:
    """views.open; False (logged) when Slack refuses, e.g. an expired trigger."""
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        return False
    return True


async def answer_privately(
    client: AsyncWebClient, who: Who, respond: AsyncRespond | None, reply: Reply
) -> None:
    """The one way to answer the user privately; see the module's docstring."""
    text = render.reply_text(reply)
    blocks = render.reply_blocks(reply, offer_form=reply.offer_form)
    failures: list[str] = []
    if respond is not None and respond.response_url:
        failed = await _by_response_url(client, respond.response_url, text, blocks)
        if failed is None:
            return
        failures.append(f"response_url {failed}")
    failed = await _by_ephemeral(client, who, text, blocks)
    if failed is None:
        if failures:
            log.warning(
                "a private answer to %s went by chat.postEphemeral: %s", who.user_id, failures[0]
            )
        return
    failures.append(f"chat.postEphemeral {failed}")
    if any(note.link for note in reply.private):
        text = f"{text} {render.escape(HOST_LINK_LOST)}"  # the link lived in the blocks only
    failed = await _by_ephemeral(client, who, text, None)
    outcome = "sent as text only" if failed is None else f"lost (text only: {failed})"
    log.warning("a private answer to %s was %s: %s", who.user_id, outcome, "; ".join(failures))


async def _by_response_url(
    client: AsyncWebClient, url: str, text: str, blocks: list[dict[str, Any]]
) -> str | None:
    """None once Slack took it, else why not (never the URL: it is a capability).

    Sent on the Web API client's own aiohttp session: bolt's `respond()` opens a
    new session (and connection) for every answer."""
    webhook = AsyncWebhookClient(url, timeout=RESPONSE_URL_TIMEOUT, session=client.session)
    try:
        response = await webhook.send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )
    except (aiohttp.ClientError, TimeoutError, SlackClientError, ValueError) as exc:
        return type(exc).__name__
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


async def _by_ephemeral(
    client: AsyncWebClient, who: Who, text: str, blocks: list[dict[str, Any]] | None
) -> str | None:
    """chat.postEphemeral to the user in the channel; None when sent, else why not."""
    try:
        await client.chat_postEphemeral(
            channel=who.channel_id, user=who.user_id, text=text, blocks=blocks
        )
    except SlackApiError as exc:
        return str(exc.response.get("error") or "refused")
    except (aiohttp.ClientError, TimeoutError, SlackClientError) as exc:
        return type(exc).__name__
    return None
