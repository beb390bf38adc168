"""Build the activities Teams sends, and post them to the bot over real HTTP."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import aiohttp

_ids = itertools.count(1)


@dataclass
class TeamsUser:
    id: str
    name: str
    aad_object_id: str = ""

    def account(self) -> dict:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id or self.id}


BOT = {"id": "28:bcp-board", "name": "BCP Board"}


def activity(
    kind: str,
    service_url: str,
    user: TeamsUser,
    conversation_id: str = "personal-1",
    locale: str = "ja-jp",
    conversation_type: str = "personal",
    **extra,
) -> dict:
    body = {
        "type": kind,
        "id": f"incoming-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": user.account(),
        "recipient": dict(BOT),
        "conversation": {"id": conversation_id, "conversationType": conversation_type},
        "locale": locale,
        "localTimezone": "Asia/Tokyo",
        "channelData": {"tenant": {"id": "tenant-1"}},
    }
    body.update(extra)
    return body


class BotClient:
    """Talk to the bot at `bot_url` as Teams would, with replies going to `service_url`."""

    def __init__(self, session: aiohttp.ClientSession, bot_url: str, service_url: str):
        self.session = session
        self.bot_url = bot_url
        self.service_url = service_url

    async def post(self, body: dict) -> tuple[int, dict | None]:
        async with self.session.post(f"{self.bot_url}/api/messages", json=body) as response:
            data = await response.json() if response.content_type == "application/json" else None
            return response.status, data

    async def message(self, text: str, user: TeamsUser, **kwargs) -> int:
        status, _ = await self.post(
            activity("message", self.service_url, user, text=text, **kwargs)
        )
        return status

    async def invoke(self, verb: str, data: dict, user: TeamsUser, **kwargs) -> dict:
        """Press an Action.Execute button; return the invoke response body."""
        value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
        status, body = await self.post(
            activity("invoke", self.service_url, user, name="adaptiveCard/action", value=value, **kwargs)
        )
        assert status == 200, (status, body)
        return body

    async def install(self, user: TeamsUser, **kwargs) -> int:
        status, _ = await self.post(
            activity(
                "conversationUpdate",
                self.service_url,
                user,
                membersAdded=[dict(BOT)],
                **kwargs,
            )
        )
        return status


def new_submission_id() -> str:
    return str(uuid.uuid4())
