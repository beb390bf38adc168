"""Talk to the bot through the Agents Playground's own conversation API, as its web UI does.

Messages go in with `POST /_conversation/v1/conversations/{id}/messages`, card buttons
with `POST /_conversation/v1/invoke`; the bot's posts and in-place updates come back on
the WebSocket `/_ws_conversation/v1/conversations/stream`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from typing import Self

import aiohttp

from bot.cards import CARD_CONTENT_TYPE
from tests.test_scenarios import execute_actions, inputs

BOT_ID = "28:bcp-board"
BOT_NAME = "BCP Board"
# Ids from .m365agentsplayground.yml.
ME = "29:yamada-haruka"
SATO = "29:sato-kenji"
PERSONAL_CHAT = "a:personal-yamada-haruka"
GROUP_CHAT = "19:shelter-staff-chuo@thread.v2"
STATUS_CHANNEL = "19:hq-shelter-status@thread.tacv2"
WAIT_SECONDS = 10


@dataclass
class Post:
    """One message of the bot, as the Playground shows it (`action` is how it arrived)."""

    action: str
    conversation_id: str
    message_id: str
    text: str
    card: dict | None
    thread_id: str | None

    @classmethod
    def from_event(cls, event: dict) -> Post:
        message = event["message"]
        cards = [
            attachment["content"]
            for attachment in message.get("attachments") or []
            if attachment.get("contentType") == CARD_CONTENT_TYPE
        ]
        return cls(
            action=event["action"],
            conversation_id=event["actionConversationId"],
            message_id=message["messageId"],
            text=message.get("text") or "",
            card=cards[0] if cards else None,
            thread_id=message.get("postConversationId"),
        )

    def reads(self) -> str:
        """Return everything a person reads in this post, for assertions."""
        return self.text + json.dumps(self.card or {}, ensure_ascii=False)


class Playground:
    """A client of one running Playground; use `async with`."""

    def __init__(self, url: str):
        self.url = url
        self.posts: list[Post] = []
        self._arrived = asyncio.Event()

    async def __aenter__(self) -> Self:
        self.session = aiohttp.ClientSession(raise_for_status=True)
        self.socket = await self.session.ws_connect(
            f"{self.url}/_ws_conversation/v1/conversations/stream"
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._reader.cancel()
        await self.socket.close()
        await self.session.close()

    async def _read(self) -> None:
        async for frame in self.socket:
            event = json.loads(frame.data)
            if event.get("action") in ("createMessage", "updateMessage"):
                self.posts.append(Post.from_event(event))
                self._arrived.set()

    def mark(self) -> int:
        """Return a mark for `wait_for`: posts from now on."""
        return len(self.posts)

    async def say(self, text: str, conversation_id: str = PERSONAL_CHAT, user: str = ME) -> Post:
        """Type a message and return the bot's answer in that conversation.

        Outside the personal chat the bot is @mentioned first, as Teams needs.
        """
        body = {"from": {"id": user}, "text": text, "textFormat": "plain"}
        if conversation_id != PERSONAL_CHAT:
            mention = f"<at>{BOT_NAME}</at>"
            body.update(
                text=f"{mention} {text}",
                textFormat="xml",
                mentions=[{"mentioned": {"id": BOT_ID, "name": BOT_NAME}, "text": mention}],
            )
        mark = self.mark()
        url = f"{self.url}/_conversation/v1/conversations/{conversation_id}/messages"
        async with self.session.post(url, json=body):
            pass
        # NOTE: in a channel, the bot's answer is a reply in the thread the message
        # started ("<channel>;messageid=<id>"), or a new post in the channel itself.
        return await self.wait_for(
            lambda post: (
                post.action == "createMessage"
                and post.conversation_id.split(";")[0] == conversation_id
            ),
            after=mark,
        )

    async def press(self, post: Post, verb: str, typed: dict | None = None, user: str = ME) -> Post:
        """Press the card button with `verb`, with the card's inputs as typed.

        Like a Teams client, this sends every input's current value (its default unless
        `typed` changes it) with the button's data, unless the button takes no inputs.

        Returns:
            The post with the card the bot answered, which replaces the pressed one.
        """
        actions = [a for a in execute_actions(post.card or {}) if a.get("verb") == verb]
        assert actions, f"no {verb!r} button on this card: {post.reads()[:300]}"
        action = actions[0]
        data = dict(action.get("data") or {})
        if action.get("associatedInputs") != "none":
            values = {key: node.get("value", "") for key, node in inputs(post.card).items()}
            data.update({key: str(value) for key, value in values.items()})
            data.update(typed or {})
        body = {
            "name": "adaptiveCard/action",
            "conversation": {"id": post.thread_id or post.conversation_id},
            "from": {"id": user},
            "replyToId": post.message_id,
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        }
        async with self.session.post(f"{self.url}/_conversation/v1/invoke", json=body) as answer:
            response = await answer.json()
        assert response["type"] == CARD_CONTENT_TYPE, response
        return replace(post, action="invokeResponse", card=response["value"])

    async def wait_for(self, condition, after: int = 0, seconds: float = WAIT_SECONDS) -> Post:
        """Return the first post from index `after` on that meets `condition`."""
        try:
            async with asyncio.timeout(seconds):
                while True:
                    for post in self.posts[after:]:
                        if condition(post):
                            return post
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            seen = [
                f"{p.action} in {p.conversation_id}: {p.reads()[:150]}" for p in self.posts[after:]
            ]
            raise AssertionError(
                f"the bot posted nothing expected within {seconds} s; it posted:\n"
                + ("\n".join(seen) or "nothing")
            ) from None
