"""Supply requests end to end: real activities posted to the real app over loopback."""

from __future__ import annotations

import asyncio
import re
import sqlite3

from tests.support.teams import TeamsUser, new_submission_id
from tests.test_live_board import (
    HQ_CHANNEL,
    HQ_THREAD,
    INTERVAL,
    press_in_hq,
    register_board,
    register_japanese_board,
)
from tests.test_scenarios import CARD, execute_actions, inputs, texts

KOBAYASHI = TeamsUser("29:kobayashi", "小林 直子", "aad-kobayashi")
SMITH = TeamsUser("29:smith", "Alex Smith", "aad-smith")
PERSONAL = f"personal-{KOBAYASHI.id}"


async def request(bot, user=KOBAYASHI, submission_id=None, **changes) -> dict:
    """Send a supply request from `user`'s personal chat; return the answer card."""
    values = {"site_id": "S001", "items": "毛布 100枚\n飲料水 200本", "priority": "urgent"}
    data = {"submission_id": submission_id or new_submission_id(), **values, **changes}
    where = f"personal-{user.id}"
    body = await bot.client.invoke("request_save", data, user, conversation_id=where)
    assert body["statusCode"] == 200 and body["type"] == CARD
    return body["value"]


async def press(bot, card: dict, verb_state: str, user, note: str = "", **kwargs) -> dict:
    """Press the lifecycle button for `verb_state` on `card`; return the answer card."""
    action = next(
        a for a in execute_actions(card)
        if a["verb"] == "request_move" and a["data"]["state"] == verb_state
    )
    data = {**action["data"], "hq_note": note}
    body = await bot.client.invoke("request_move", data, user, **kwargs)
    assert body["type"] == CARD
    return body["value"]


def moves_on(card: dict) -> set[str]:
    return {a["data"]["state"] for a in execute_actions(card) if a["verb"] == "request_move"}


def request_posts(connector, channel: str) -> list[dict]:
    """Return the posts in `channel` that show or list requests, oldest first."""
    verbs = {"request_view", "request_move"}
    return [
        card
        for card in connector.cards(channel)
        if any(action["verb"] in verbs for action in execute_actions(card))
    ]


def requests_named(card: dict) -> list[int]:
    """Return the ids of the requests a post opens, each once."""
    found = (a["data"]["request_id"] for a in execute_actions(card) if a["verb"] == "request_view")
    return list(dict.fromkeys(int(request_id) for request_id in found))


def rows(bot, sql: str) -> list[tuple]:
    with sqlite3.connect(bot.settings.database) as db:
        return db.execute(sql).fetchall()


async def test_request_command_opens_the_form_for_the_site_named(running_bot, connector):
    assert await running_bot.client.message("要請 中央小", KOBAYASHI) == 201
    (card,) = connector.cards()
    assert "物資要請" in texts(card)
    assert inputs(card)["site_id"]["value"] == "S001"
    assert set(inputs(card)) == {"site_id", "items", "priority"}


async def test_request_is_recorded_once_and_shown_with_its_state(running_bot):
    submission_id = new_submission_id()
    first = await request(running_bot, submission_id=submission_id)
    again = await request(running_bot, submission_id=submission_id)
    assert "要請を送信しました" in texts(first)
    assert "要請中" in texts(first) and "毛布 100枚" in texts(first)
    assert "要請を送信しました" in texts(again) and "#1" in texts(again)
    assert rows(running_bot, "SELECT COUNT(*) FROM supply_requests") == [(1,)]
    assert rows(running_bot, "SELECT list_name FROM outbox WHERE list_name = 'supply_requests'")


async def test_invalid_request_keeps_input_and_records_nothing(running_bot):
    card = await request(running_bot, items="", priority="tomorrow")
    assert inputs(card)["priority"]["value"] == "tomorrow"
    assert inputs(card)["site_id"]["value"] == "S001"
    assert "必要な品目と数量を入力してください。" in texts(card)
    assert rows(running_bot, "SELECT COUNT(*) FROM supply_requests") == [(0,)]


async def test_hq_approves_and_dispatches_and_the_requester_hears_each_move(start_bot, connector):
    bot = await start_bot(hq_users=frozenset({SMITH.aad_object_id}))
    await register_board(bot)
    await request(bot)
    await bot.advance(INTERVAL)

    (posted,) = [c for c in connector.cards(HQ_CHANNEL) if "request_move" in texts(c)]
    assert "[URGENT]" in texts(posted)
    assert moves_on(posted) == {"approved", "dispatched", "cancelled"}

    where = {"conversation_id": HQ_THREAD, "conversation_type": "channel", "locale": "en-US"}
    approved = await press(bot, posted, "approved", SMITH, **where)
    assert "Now: Approved." in texts(approved)
    again = await press(bot, posted, "approved", SMITH, **where)
    assert "Approved" in texts(again)
    assert rows(bot, "SELECT COUNT(*) FROM request_events") == [(2,)]

    note = "トラック2台、15時着"
    dispatched = await press(bot, approved, "dispatched", SMITH, note=note, **where)
    assert "Dispatched" in texts(dispatched) and "トラック2台、15時着" in texts(dispatched)
    await bot.advance(1)
    await bot.advance(1)

    told = [texts(c) for c in connector.cards(PERSONAL)]
    assert any("要請 #1 は「承認済み」になりました" in t for t in told)
    assert any("要請 #1 は「発送済み」になりました" in t and "15時着" in t for t in told)


async def test_only_hq_moves_a_request_and_the_requester_confirms_delivery(start_bot, connector):
    bot = await start_bot(hq_users=frozenset({SMITH.aad_object_id}))
    view = await request(bot)
    assert moves_on(view) == set()  # the requester is not HQ: no HQ buttons

    body = await bot.client.invoke(
        "request_move", {"request_id": "1", "state": "approved", "action_id": "a1"}, KOBAYASHI
    )
    assert "本部のメンバーのみ" in texts(body["value"])
    assert rows(bot, "SELECT state FROM supply_requests") == [("requested",)]

    body = await bot.client.invoke(
        "request_move", {"request_id": "1", "state": "dispatched", "action_id": "a2"}, SMITH
    )
    assert moves_on(body["value"]) == {"delivered"}
    delivered = await press(bot, body["value"], "delivered", KOBAYASHI)
    assert "「到着済み」にしました" in texts(delivered)
    assert moves_on(delivered) == set()


async def test_a_move_the_lifecycle_does_not_allow_is_refused(running_bot):
    await request(running_bot)
    body = await running_bot.client.invoke(
        "request_move", {"request_id": "1", "state": "delivered", "action_id": "x"}, SMITH
    )
    assert "この操作ができません" in texts(body["value"])
    assert rows(running_bot, "SELECT state FROM supply_requests") == [("requested",)]


async def test_open_requests_are_on_the_board_and_the_list_and_survive_a_restart(
    running_bot, connector
):
    await request(running_bot)
    await request(running_bot, site_id="S002", priority="normal", items="粉ミルク 20缶")
    await running_bot.restart()

    await running_bot.client.message("ボード", KOBAYASHI)
    board = texts(connector.cards()[-1])
    assert "物資要請（未完了）" in board and "要請中 2・承認済み 0・発送済み 0" in board

    await running_bot.client.message("要請一覧", KOBAYASHI)
    listed = connector.cards()[-1]
    assert "2 件の要請が未完了です" in texts(listed)
    assert texts(listed).index("中央小学校") < texts(listed).index("粉ミルク")  # urgent first


async def test_a_lone_request_after_a_quiet_spell_is_posted_at_once_as_its_full_card(
    start_bot, connector
):
    bot = await start_bot(hq_users=frozenset({SMITH.aad_object_id}))
    await register_board(bot)

    await request(bot)
    await bot.advance(0)
    (posted,) = request_posts(connector, HQ_CHANNEL)
    assert moves_on(posted) == {"approved", "dispatched", "cancelled"}
    assert "毛布 100枚" in texts(posted)
    assert connector.sent(HQ_CHANNEL)[-1]["summary"] == "Supply request: Chuo Elementary School"

    # Two more at once make a burst; after a quiet minute a new one is alone again.
    await request(bot)
    await request(bot, site_id="S002")
    await bot.advance(INTERVAL)
    for _ in range(60):
        await bot.advance(1)
    await request(bot, site_id="S002", priority="normal", items="粉ミルク 20缶")
    await bot.advance(0)
    last = request_posts(connector, HQ_CHANNEL)[-1]
    assert moves_on(last) == {"approved", "dispatched", "cancelled"}
    assert requests_named(last) == [4]
    assert "粉ミルク 20缶" in texts(last)


async def test_a_burst_of_200_requests_makes_few_posts_that_name_or_count_every_request(
    start_bot, connector
):
    bot = await start_bot(hq_users=frozenset({SMITH.aad_object_id}))
    await register_board(bot)
    logistics = await register_japanese_board(bot, SMITH)
    shelters = [site.id for site in bot.services.registry.shelters()]

    # Twenty-five requests a second for eight seconds, every fourth one urgent.
    async def send(n: int) -> None:
        priority = "urgent" if n % 4 == 0 else "normal"
        items = f"毛布 {n}枚\n飲料水 {n}本"
        await request(bot, site_id=shelters[n % len(shelters)], priority=priority, items=items)

    for first in range(0, 200, 25):
        await asyncio.gather(*(send(n) for n in range(first, first + 25)))
        await bot.advance(1)
    for _ in range(30):
        await bot.advance(1)

    for channel, more in ((HQ_CHANNEL, r"And (\d+) more new supply requests"),
                          (logistics, r"ほか(\d+)件の新しい物資要請")):
        posts = request_posts(connector, channel)
        # Without grouping: 200 posts, one a second, still coming after 38 s.
        print("POSTS", channel, len(posts), [len(requests_named(post)) for post in posts])
        assert 2 <= len(posts) <= 6
        assert moves_on(posts[0]) == {"approved", "dispatched", "cancelled"}
        named = [request_id for post in posts for request_id in requests_named(post)]
        counted = sum(int(n) for post in posts for n in re.findall(more, texts(post)))
        assert len(set(named)) == len(named)
        assert len(named) + counted == 200
        for post in posts[1:]:
            headings = [
                item["text"]
                for container in post["body"]
                for item in container.get("items", [])[:1]
                if re.search(r"(Request|要請) #\d+", item["text"])
            ]
            urgent = [heading.startswith(("[URGENT]", "【至急】")) for heading in headings]
            assert headings and urgent == sorted(urgent, reverse=True)  # urgent ones first
    grouped = request_posts(connector, HQ_CHANNEL)[-1]
    assert "new supply requests" in texts(grouped)
    assert "新しい物資要請" in texts(request_posts(connector, logistics)[-1])

    view = next(a for a in execute_actions(grouped) if a["verb"] == "request_view")
    opened = await press_in_hq(bot, view, SMITH)
    assert f"#{view['data']['request_id']} " in texts(opened)
    assert moves_on(opened) == {"approved", "dispatched", "cancelled"}
