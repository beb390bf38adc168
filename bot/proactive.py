"""Speaking first: post and update cards in a conversation the bot is not answering.

Every proactive send goes through `Messenger`, which continues a stored conversation
reference with the adapter and turns each failure into a `DeliveryError` that says
what to do next: wait for Retry-After (429), post again (404), stop (403), or back off.
Callers (board publisher, alerts, reminders) decide when to retry; nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.adapter import card_activity
from bot.errors import BcpError

log = logging.getLogger(__name__)

# A send that takes longer is abandoned and retried later.
SEND_TIMEOUT = 30.0
MAX_BACKOFF = 300.0


class DeliveryError(BcpError):
    """Teams refused or did not answer a proactive send.

    Attributes:
        status: the HTTP status, or None when no answer came (network, timeout).
        retry_after: seconds Teams asked us to wait (429, 503), else None.
    """

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        return self.status == 429

    @property
    def gone(self) -> bool:
        """The message or conversation no longer exists (e.g. the card was deleted)."""
        return self.status == 404

    @property
    def blocked(self) -> bool:
        """The bot may not write there: removed from the team, or blocked by the user."""
        return self.status == 403


def retry_delay(error: DeliveryError, attempts: int, floor: float) -> float:
    """Return how long to wait before trying again after `attempts` failures in a row.

    Retry-After is honoured when Teams sends it; otherwise the wait doubles from
    `floor` up to five minutes, with jitter so that many senders do not retry together.
    """
    if error.retry_after is not None:
        return max(error.retry_after, floor)
    ceiling = min(MAX_BACKOFF, floor * 2 ** max(attempts - 1, 0))
    return max(floor, ceiling * random.uniform(0.5, 1.0))


def reference_of(activity: Activity, *, top_level: bool = False) -> dict:
    """Return the serialised reference of the conversation `activity` came from.

    Args:
        top_level: for a channel, address the channel itself rather than the thread the
            activity is in, so that a post starts a new thread that everyone sees.
    """
    reference = TurnContext.get_conversation_reference(activity)
    if top_level:
        reference.activity_id = None
        reference.conversation.id = conversation_key(reference.conversation.id)
    return reference.serialize()


def conversation_key(conversation_id: str) -> str:
    """Return a channel's id without the thread part Teams appends (";messageid=...")."""
    return (conversation_id or "").split(";messageid=")[0]


class Messenger:
    """Post and update cards through the Bot Framework adapter."""

    def __init__(self, adapter, app_id: str):
        self.adapter = adapter
        self.app_id = app_id

    async def post(self, reference: dict, card: dict, summary: str = "") -> str:
        """Post `card` as a new message; return its activity id.

        Args:
            summary: the text Teams shows in notifications instead of "sent a card".
        """

        async def send(turn_context: TurnContext) -> str:
            activity = card_activity(card)
            activity.summary = summary or None
            response = await turn_context.send_activity(activity)
            return response.id if response is not None else ""

        return await self._continue(reference, send)

    async def update(self, reference: dict, activity_id: str, card: dict) -> None:
        """Replace message `activity_id` with `card`."""

        async def send(turn_context: TurnContext) -> None:
            activity = card_activity(card)
            activity.id = activity_id
            await turn_context.update_activity(activity)

        await self._continue(reference, send)

    async def _continue(self, reference: dict, send):
        outcome = {}

        async def callback(turn_context: TurnContext) -> None:
            _take_over_retries(turn_context, self.adapter)
            try:
                outcome["value"] = await send(turn_context)
            except Exception as error:  # noqa: BLE001 - classified below, outside the SDK
                outcome["error"] = error

        conversation = ConversationReference().deserialize(reference)
        try:
            await asyncio.wait_for(
                self.adapter.continue_conversation(conversation, callback, self.app_id),
                SEND_TIMEOUT,
            )
        except asyncio.TimeoutError as error:
            raise DeliveryError(f"no answer within {SEND_TIMEOUT:.0f}s") from error
        except Exception as error:
            raise _classify(error) from error
        if "error" in outcome:
            raise _classify(outcome["error"]) from outcome["error"]
        return outcome.get("value")


def _take_over_retries(turn_context: TurnContext, adapter) -> None:
    """Stop msrest retrying this send by itself.

    NOTE: the connector client retries through urllib3: a 429 or 503 with Retry-After
    is retried after sleeping in a worker thread for as long as Teams asks, and 5xx
    answers up to three times. For proactive sends we retry on our own clock instead,
    so a throttled board never holds a thread and tests can move time by hand. The
    client is built for this one continuation, so replies to users are not affected.
    """
    client = turn_context.turn_state.get(getattr(adapter, "BOT_CONNECTOR_CLIENT_KEY", ""))
    policy = getattr(getattr(client, "config", None), "retry_policy", None)
    if policy is None:
        return
    policy.retries = 0
    policy.policy.status_forcelist = frozenset()
    policy.policy.respect_retry_after_header = False


def _classify(error: BaseException) -> DeliveryError:
    if isinstance(error, DeliveryError):
        return error
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status is None:
        return DeliveryError(f"{type(error).__name__}: {str(error)[:200]}")
    headers = getattr(response, "headers", None) or {}
    return DeliveryError(
        f"HTTP {status} {_error_code(error)}".rstrip(),
        status=status,
        retry_after=_retry_after(headers.get("Retry-After")),
    )


def _error_code(error: BaseException) -> str:
    """Return the connector's error code (e.g. MessageWritesBlocked), if it sent one."""
    body = getattr(getattr(error, "error", None), "error", None)
    return str(getattr(body, "code", "") or "")[:100]


def _retry_after(value: str | None) -> float | None:
    """Parse Retry-After: seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)
