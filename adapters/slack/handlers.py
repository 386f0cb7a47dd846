"""Bolt listeners: `/meet`, the card's buttons, the feedback buttons and the modals.

Every listener acknowledges first (Slack allows 3 seconds, a provider may take
longer), then asks Slack who the user is, runs the service and answers
privately. Ids come from the verified request, never from a button's value;
the service itself checks who may end or cancel what, and records a rating for
the verified user who clicked, whatever the button's value says.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import modal, render
from adapters.slack.callers import Callers
from bot.messages import Reply
from bot.models import Caller
from bot.requests import CancelMeeting, EndMeeting, RateMeeting, Request
from bot.service import OOPS, MeetingService

log = logging.getLogger(__name__)

FORM_FAILED = (
    "The scheduling form could not be opened; type the meeting instead: "
    "/meet Design review at 15:00 for 45m"
)
COMMENT_FAILED = (
    "The comment form could not be opened; type it instead: /meet rate {id} 4 your comment"
)


class Handlers:
    def __init__(self, service: MeetingService, callers: Callers) -> None:
        self.service = service
        self.callers = callers

    def register(self, app: AsyncApp) -> None:
        app.command("/meet")(self.meet)
        app.action(re.compile(f"^({render.END_ACTION}|{render.CANCEL_ACTION})$"))(self.close)
        app.action(render.OPEN_FORM_ACTION)(self.open_form_button)
        app.action(re.compile(f"^({render.JOIN_ACTION}|{render.LINK_ACTION})"))(self.link_clicked)
        app.action(re.compile(f"^{render.RATE_PREFIX}[1-5]$"))(self.rate_button)
        app.action(render.COMMENT_ACTION)(self.comment_button)
        app.view(modal.CALLBACK_ID)(self.schedule_submitted)
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
        try:
            caller = await self.callers.caller(
                client,
                str(context.team_id or command.get("team_id") or ""),
                str(command.get("channel_id") or ""),
                str(context.user_id or command.get("user_id") or ""),
                str(command.get("user_name") or ""),
            )
            # Slack sends &, < and > typed in the command as &amp;, &lt; and &gt;.
            text = render.unescape(str(command.get("text") or ""))
            reply = await self.service.run_text(caller, text)
            if reply.open_form:
                if await self.open_form(client, str(command.get("trigger_id") or ""), caller):
                    return
                reply = Reply(FORM_FAILED, ok=False)
            await self.answer(respond, reply)
        except Exception:
            log.exception("/meet failed after it was acknowledged")
            await self.answer(respond, Reply(OOPS, ok=False))

    async def answer(self, respond: AsyncRespond, reply: Reply) -> None:
        """The private answer through the command's response_url."""
        response = await respond(
            text=render.reply_text(reply),
            blocks=render.reply_blocks(reply, offer_form=reply.offer_form),
            response_type="ephemeral",
            replace_original=False,
        )
        if response.status_code != 200:
            log.warning("Slack refused a private reply (HTTP %s)", response.status_code)

    async def open_form(self, client: AsyncWebClient, trigger_id: str, caller: Caller) -> bool:
        context = modal.FormContext(caller.channel_id, self.service.core.zone_for(caller).key)
        view = modal.schedule_view(context, self.service.core.clock())
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            return False
        return True

    # -- buttons ---------------------------------------------------------------------------

    async def _button_caller(self, client: AsyncWebClient, context: AsyncBoltContext) -> Caller:
        return await self.callers.caller(
            client,
            str(context.team_id or ""),
            str(context.channel_id or ""),
            str(context.user_id or ""),
        )

    async def close(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """End/Cancel: the value only names the meeting; the verified user is the caller."""
        await ack()
        meeting_id = str(action.get("value") or "")[:40]
        end = action.get("action_id") == render.END_ACTION
        request = EndMeeting(meeting_id) if end else CancelMeeting(meeting_id)
        await self._act(request, respond, client, context)

    async def _act(
        self,
        request: Request,
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """After a button's ack: the verified user (never the payload) asks the service."""
        try:
            caller = await self._button_caller(client, context)
            reply = await self.service.handle(caller, request)
        except Exception:
            log.exception("a button failed after it was acknowledged")
            reply = Reply(OOPS, ok=False)
        await self.answer(respond, reply)

    async def open_form_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        caller = await self._button_caller(client, context)
        if not await self.open_form(client, str(body.get("trigger_id") or ""), caller):
            await self.answer(respond, Reply(FORM_FAILED, ok=False))

    async def link_clicked(self, ack: AsyncAck) -> None:
        """Link buttons open in the browser; Slack still tells the app, which just says OK."""
        await ack()

    # -- feedback -------------------------------------------------------------------------

    async def rate_button(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A rating 1–5 from the verified user; the value only names the meeting."""
        await ack()
        meeting_id = str(action.get("value") or "")[:40]
        score = render.score_of(str(action.get("action_id") or ""))
        await self._act(RateMeeting(meeting_id, score), respond, client, context)

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
        meeting_id = str(action.get("value") or "")[:40]
        channel_id = str(context.channel_id or "")
        try:
            caller = await self._button_caller(client, context)
            meeting = self.service.core.find_meeting(caller, meeting_id)
            view = modal.comment_view(
                modal.CommentContext(meeting_id, channel_id), meeting.title if meeting else None
            )
            await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
            return
        except SlackApiError as exc:
            log.warning("views.open for a comment failed: %s", exc.response.get("error"))
        except Exception:
            log.exception("the comment button failed after it was acknowledged")
        await self.answer(respond, Reply(COMMENT_FAILED.format(id=meeting_id), ok=False))

    async def comment_submitted(
        self,
        ack: AsyncAck,
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A comment alone (any earlier rating stays); the answer goes to the channel privately."""
        form = modal.CommentContext.load(view.get("private_metadata"))
        values = (view.get("state") or {}).get("values") or {}
        comment = modal.read_comment(values)
        if isinstance(comment, dict):
            await ack(response_action="errors", errors=comment)
            return
        await ack()
        user_id = str(context.user_id or "")
        try:
            caller = await self.callers.caller(
                client, str(context.team_id or ""), form.channel_id, user_id
            )
            reply = await self.service.handle(caller, RateMeeting(form.meeting_id, None, comment))
        except Exception:
            log.exception("a feedback comment failed after it was acknowledged")
            reply = Reply(OOPS, ok=False)
        await self.post_private(client, form.channel_id, user_id, reply)

    # -- the scheduling form ---------------------------------------------------------------

    async def schedule_submitted(
        self,
        ack: AsyncAck,
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        form = modal.FormContext.load(view.get("private_metadata"))
        values = (view.get("state") or {}).get("values") or {}
        result = modal.read_submission(values, now=self.service.core.clock(), tz=form.tz)
        if isinstance(result, dict):
            await ack(response_action="errors", errors=result)
            return
        await ack()
        user_id = str(context.user_id or "")
        try:
            caller = await self.callers.caller(
                client, str(context.team_id or ""), form.channel_id, user_id
            )
            reply = await self.service.handle(caller, result)
        except Exception:
            log.exception("the scheduling form failed after it was acknowledged")
            reply = Reply(OOPS, ok=False)
        await self.post_private(client, form.channel_id, user_id, reply)

    async def post_private(
        self, client: AsyncWebClient, channel_id: str, user_id: str, reply: Reply
    ) -> None:
        """A modal has no response_url: its answer is an ephemeral message in the channel."""
        try:
            await client.chat_postEphemeral(
                channel=channel_id,
                user=user_id,
                text=render.reply_text(reply),
                blocks=render.reply_blocks(reply),
            )
        except SlackApiError as exc:
            log.warning("a form's private answer failed: %s", exc.response.get("error"))
