"""What BCP Board corrects at the SDK's edge (bot/adapter.py) keeps the SDK's behaviour."""

from __future__ import annotations

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes

from bot.adapter import card_response
from bot.cards import CARD_CONTENT_TYPE, render


class _Answering(ActivityHandler):
    def __init__(self, card: dict):
        self.card = card

    async def on_invoke_activity(self, turn_context: TurnContext):
        return card_response(self.card)


async def test_an_invoke_answer_reaches_the_adapter_whole_and_uncopied():
    card = render("help", "en")
    adapter = TestAdapter()  # it keeps what the turn sends, as the SDK hands it over

    await adapter.process_activity(
        Activity(type=ActivityTypes.invoke, name="adaptiveCard/action", value={}),
        _Answering(card).on_turn,
    )

    (answer,) = adapter.activity_buffer
    assert answer.type == ActivityTypes.invoke_response
    assert answer.value.status == 200
    assert answer.value.body == {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}
    assert answer.value.body["value"] is card  # the SDK's deep copy kept the card itself
