"""Scenario tests: real activities posted to the real app over loopback.

Replies are captured by the local connector given as each activity's serviceUrl.
"""

from __future__ import annotations

import json
import sqlite3


from bot.model import LIFELINES, SUPPLIES
from tests.support.teams import TeamsUser

CARD = "application/vnd.microsoft.card.adaptive"
SATO = TeamsUser("29:sato", "佐藤 花子", "aad-sato")
SMITH = TeamsUser("29:smith", "Alex Smith", "aad-smith")


def texts(card: dict) -> str:
    """Return every string in a card, joined, for assertions on what a person reads."""
    return json.dumps(card, ensure_ascii=False)


def inputs(card: dict) -> dict[str, dict]:
    """Return the card's inputs by id."""
    found = {}

    def walk(node):
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def execute_actions(card: dict) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def submit_action(card: dict) -> dict:
    return next(a for a in execute_actions(card) if a["verb"] == "report_save")


def report_values(**changes) -> dict:
    values = {
        "status": "open",
        "evacuees": "120",
        "households": "45",
        "care_needed": "8",
        "capacity": "400",
        "needs": "",
    }
    values.update({f"lifeline_{name}": "ok" for name in LIFELINES})
    values.update({f"supply_{name}": "ok" for name in SUPPLIES})
    values.update(changes)
    return values


async def open_form(bot, user, site_id="S001", **kwargs) -> dict:
    body = await bot.client.invoke("report_pick", {"site_id": site_id}, user, **kwargs)
    assert body["type"] == CARD
    return body["value"]


async def submit(bot, user, form: dict, **changes) -> dict:
    action = submit_action(form)
    data = {**action["data"], **report_values(**changes)}
    body = await bot.client.invoke("report_save", data, user)
    assert body["statusCode"] == 200 and body["type"] == CARD
    return body["value"]


def reports_in(bot) -> int:
    with sqlite3.connect(bot.settings.database) as db:
        return db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]


async def test_report_command_in_japanese_opens_the_site_picker(running_bot, connector):
    assert await running_bot.client.message("報告", SATO) == 201

    card = connector.cards()[-1]
    assert "避難所状況報告" in texts(card)
    picker = inputs(card)["site_id"]
    assert picker["style"] == "filtered"
    assert len(picker["choices"]) >= 20


async def test_report_command_with_a_name_opens_that_sites_form(running_bot, connector):
    await running_bot.client.message("report Minato Elementary", SMITH, locale="en-US")

    card = connector.cards()[-1]
    assert "Shelter status report" in texts(card)
    assert submit_action(card)["data"]["site_id"]


async def test_valid_report_reaches_the_board(running_bot, connector):
    form = await open_form(running_bot, SATO)
    saved = await submit(running_bot, SATO, form, evacuees="230", households="80")
    assert "報告を受け付けました" in texts(saved)

    await running_bot.client.message("ボード", SATO)
    board = texts(connector.cards()[-1])
    assert "230" in board
    assert "開設避難所" in board


async def test_english_user_gets_english_cards(running_bot, connector):
    form = await open_form(running_bot, SMITH, locale="en-US")
    assert "Send report" in texts(form)

    saved = await submit(running_bot, SMITH, form)
    assert "Report received" in texts(saved)

    await running_bot.client.message("board", SMITH, locale="en-US")
    assert "Open shelters" in texts(connector.cards()[-1])


async def test_invalid_report_keeps_input_and_records_nothing(running_bot):
    form = await open_form(running_bot, SATO)
    rejected = await submit(
        running_bot, SATO, form, evacuees="10", households="25", needs="毛布 30枚", care_needed="-3"
    )

    assert reports_in(running_bot) == 0
    assert "報告は送信されていません" in texts(rejected)
    assert "世帯数が避難者数を超えています" in texts(rejected)
    assert "0以上の数を入力してください" in texts(rejected)
    fields = inputs(rejected)
    assert fields["households"]["value"] == 25
    assert fields["evacuees"]["value"] == 10
    assert fields["needs"]["value"] == "毛布 30枚"
    assert submit_action(rejected)["data"]["submission_id"] == submit_action(form)["data"]["submission_id"]


async def test_unknown_choice_is_rejected_in_english(running_bot):
    form = await open_form(running_bot, SMITH, locale="en-US")
    rejected = await submit(running_bot, SMITH, form, supply_water="plenty", evacuees="abc")

    assert reports_in(running_bot) == 0
    assert "Choose one of the options." in texts(rejected)
    assert "Enter a number" in texts(rejected)


async def test_duplicate_submission_is_recorded_once(running_bot):
    form = await open_form(running_bot, SATO)
    first = await submit(running_bot, SATO, form, evacuees="50", households="20")
    second = await submit(running_bot, SATO, form, evacuees="50", households="20")

    assert reports_in(running_bot) == 1
    assert first == second


async def test_reports_survive_a_restart(running_bot, connector):
    form = await open_form(running_bot, SATO)
    await submit(running_bot, SATO, form, evacuees="321", households="100")

    await running_bot.restart()

    assert reports_in(running_bot) == 1
    await running_bot.client.message("ボード", SATO)
    assert "321" in texts(connector.cards()[-1])


async def test_form_is_prefilled_from_the_sites_last_report(running_bot):
    form = await open_form(running_bot, SATO)
    await submit(running_bot, SATO, form, evacuees="77", households="30", supply_food="low")

    again = await open_form(running_bot, SMITH)
    fields = inputs(again)
    assert fields["evacuees"]["value"] == 77
    assert fields["supply_food"]["value"] == "low"
    assert "佐藤 花子" in texts(again)


async def test_a_sites_first_form_asks_for_the_counts_instead_of_offering_zero(running_bot):
    form = await open_form(running_bot, SATO)
    fields = inputs(form)
    assert "value" not in fields["evacuees"] and "value" not in fields["households"]
    assert fields["status"]["value"] == "open" and fields["supply_water"]["value"] == "ok"

    # Sent as it came (Teams sends empty inputs as empty strings): refused, nothing lost.
    data = {**submit_action(form)["data"], **report_values(evacuees="", households="")}
    body = await running_bot.client.invoke("report_save", data, SATO)
    again = inputs(body["value"])
    assert again["evacuees"]["errorMessage"] and again["households"]["errorMessage"]
    assert again["care_needed"]["value"] == 8
    assert reports_in(running_bot) == 0


async def test_report_command_goes_straight_to_the_users_last_site(running_bot, connector):
    form = await open_form(running_bot, SATO, site_id="S002")
    await submit(running_bot, SATO, form)

    await running_bot.client.message("報告", SATO)
    card = connector.cards()[-1]
    assert submit_action(card)["data"]["site_id"] == "S002"


async def test_help_for_unrecognised_text(running_bot, connector):
    await running_bot.client.message("こんにちは", SATO)
    assert "BCPボードでできること" in texts(connector.cards()[-1])

    await running_bot.client.message("hello", SMITH, locale="en-US")
    assert "BCP Board: what you can do" in texts(connector.cards()[-1])


async def test_mention_is_stripped_in_a_channel(running_bot, connector):
    await running_bot.client.message(
        "<at>BCP Board</at> board",
        SMITH,
        locale="en-US",
        conversation_id="19:hq@thread.tacv2",
        conversation_type="channel",
    )
    assert "Open shelters" in texts(connector.cards("19:hq@thread.tacv2")[-1])


async def test_welcome_card_on_install(running_bot, connector):
    assert await running_bot.client.install(SATO, conversation_id="19:team@thread.tacv2") == 201
    assert "BCPボードを利用できます" in texts(connector.cards("19:team@thread.tacv2")[-1])


async def test_language_choice_is_remembered(running_bot, connector):
    await running_bot.client.message("English", SATO)
    assert "Language set to English" in connector.sent()[-1]["text"]

    await running_bot.client.message("ボード", SATO)
    assert "Open shelters" in texts(connector.cards()[-1])


async def test_board_lists_a_full_shelter_first(running_bot, connector):
    form = await open_form(running_bot, SATO, site_id="S001")
    await submit(running_bot, SATO, form, evacuees="10", households="5")
    form = await open_form(running_bot, SATO, site_id="S005")
    await submit(running_bot, SATO, form, status="full", evacuees="300", households="120")

    board = await running_bot.client.invoke("board", {}, SMITH, locale="en-US")
    rows = [c for c in board["value"]["body"] if c.get("type") == "Container"]
    assert rows[0]["style"] == "attention"
    assert "Full" in texts(rows[0])


async def test_health_reports_the_journal(running_bot):
    async with running_bot.session.get(f"{running_bot.url}/healthz") as response:
        health = await response.json()
    assert response.status == 200
    assert health["ok"] is True and health["journal"] is True
    assert health["version"]


async def test_non_json_body_is_refused(running_bot):
    async with running_bot.session.post(
        f"{running_bot.url}/api/messages", data="hello", headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415
