"""Staff check-ins end to end: real activities posted to the real app over loopback."""

from __future__ import annotations

import sqlite3

from tests.support.teams import TeamsUser
from tests.test_live_board import HQ_CHANNEL, HQ_THREAD, INTERVAL, register_board
from tests.test_scenarios import CARD, execute_actions, inputs, texts

TANAKA = TeamsUser("29:tanaka", "田中 健", "aad-tanaka")
SMITH = TeamsUser("29:smith", "Alex Smith", "aad-smith")


def check_in_values(**changes) -> dict:
    values = {
        "safety": "safe",
        "whereabouts": "home",
        "availability": "later",
        "arrival": "09:30",
        "note": "",
    }
    return {**values, **changes}


async def open_check_in(bot, user, locale="ja-jp") -> dict:
    body = await bot.client.invoke("checkin", {}, user, locale=locale)
    assert body["type"] == CARD
    return body["value"]


async def check_in(bot, user, form: dict | None = None, locale="ja-jp", **changes) -> dict:
    form = form or await open_check_in(bot, user, locale)
    action = next(a for a in execute_actions(form) if a["verb"] == "checkin_save")
    body = await bot.client.invoke(
        "checkin_save", {**action["data"], **check_in_values(**changes)}, user, locale=locale
    )
    assert body["statusCode"] == 200 and body["type"] == CARD
    return body["value"]


def check_ins_in(bot) -> int:
    with sqlite3.connect(bot.settings.database) as db:
        return db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0]


def help_alerts(connector) -> list[dict]:
    return [
        card
        for card in connector.cards(HQ_CHANNEL)
        if any(action["verb"] == "checkin_view" for action in execute_actions(card))
    ]


async def test_japanese_command_opens_the_check_in_form(running_bot, connector):
    assert await running_bot.client.message("安否", TANAKA) == 201
    (card,) = connector.cards()
    assert "職員安否・参集報告" in texts(card)
    assert set(inputs(card)) == {"safety", "whereabouts", "availability", "arrival", "note"}


async def test_check_in_is_recorded_and_counted_on_the_board(running_bot, connector):
    saved = await check_in(running_bot, TANAKA)
    assert "安否報告を受け付けました" in texts(saved)
    assert "遅れて参集できる（09:30到着見込み）" in texts(saved)
    assert check_ins_in(running_bot) == 1

    await running_bot.client.message("board", SMITH, locale="en-US")
    board = texts(connector.cards()[-1])
    assert "Staff checked in" in board
    assert "now 0 · later 1 · cannot 0" in board


async def test_invalid_check_in_keeps_input_and_records_nothing(running_bot):
    card = await check_in(running_bot, TANAKA, safety="need_help", arrival="9時半", note="")
    shown = inputs(card)
    assert shown["safety"]["value"] == "need_help"
    assert shown["arrival"]["value"] == "9時半"
    assert "時刻を 9:30 のように入力してください。" in texts(card)
    assert "必要な支援と居場所を入力してください" in texts(card)
    assert check_ins_in(running_bot) == 0


async def test_same_check_in_posted_twice_is_recorded_once(running_bot):
    form = await open_check_in(running_bot, TANAKA)
    first = await check_in(running_bot, TANAKA, form)
    again = await check_in(running_bot, TANAKA, form)
    assert first == again
    assert check_ins_in(running_bot) == 1


async def test_form_is_prefilled_from_the_last_check_in_and_survives_a_restart(running_bot):
    await check_in(running_bot, TANAKA, whereabouts="shelter", availability="now", arrival="")
    await running_bot.restart()

    form = await open_check_in(running_bot, TANAKA)
    assert inputs(form)["whereabouts"]["value"] == "shelter"
    assert inputs(form)["availability"]["value"] == "now"
    assert "前回の報告" in texts(form)


async def test_need_help_alerts_hq_once_per_change_and_opens_the_check_in(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)

    await check_in(bot, TANAKA, safety="need_help", note="自宅が倒壊、足を負傷。中央区本町2-3")
    await check_in(bot, TANAKA, safety="need_help", note="まだ救助を待っています")
    await bot.advance(INTERVAL)
    (alert,) = help_alerts(connector)
    assert "Help needed: 田中 健" in texts(alert)
    assert "まだ救助を待っています" in texts(alert)

    await check_in(bot, TANAKA, safety="need_help", note="同じ場所にいます")
    await bot.advance(INTERVAL)
    assert len(help_alerts(connector)) == 1

    await check_in(bot, TANAKA, safety="injured", note="救助されました")
    await check_in(bot, TANAKA, safety="need_help", note="避難先で容体が悪化")
    await bot.advance(INTERVAL)
    assert len(help_alerts(connector)) == 2

    view = next(a for a in execute_actions(alert) if a["verb"] == "checkin_view")
    body = await bot.client.invoke(
        "checkin_view", view["data"], SMITH, conversation_id=HQ_THREAD, conversation_type="channel"
    )
    shown = texts(body["value"])
    assert "まだ救助を待っています" in shown
    assert "A newer check-in exists" in shown or "この後に新しい報告があります" in shown


async def test_live_board_names_who_needs_help(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)
    await check_in(bot, TANAKA, safety="need_help", note="自宅2階に取り残されています")
    await bot.advance(INTERVAL)

    latest = connector.updates(HQ_CHANNEL)[-1].body["attachments"][0]["content"]
    assert "Needs help: 田中 健" in texts(latest)


async def test_only_hq_sees_who_needs_help(start_bot, connector):
    bot = await start_bot(hq_users=frozenset({SMITH.aad_object_id}))
    saved = await check_in(bot, TANAKA, safety="need_help", note="自宅2階に取り残されています")
    assert "本部に救助・支援の要請を伝えました" in texts(saved)

    await bot.client.message("ボード", TANAKA)
    staff_view = texts(connector.cards()[-1])
    assert "要支援 1" in staff_view and "田中 健" not in staff_view

    await bot.client.message("board", SMITH, locale="en-US")
    assert "Needs help: 田中 健" in texts(connector.cards()[-1])

    body = await bot.client.invoke("checkin_view", {"checkin_id": "1"}, TANAKA)
    assert "自宅2階" not in texts(body["value"])


async def test_check_in_works_in_english(running_bot, connector):
    await running_bot.client.message("checkin", SMITH, locale="en-US")
    form = connector.cards()[-1]
    assert "Staff safety check-in" in texts(form)
    saved = await check_in(running_bot, SMITH, form, locale="en-US", availability="now", arrival="")
    assert "Check-in received" in texts(saved)
    assert "Can come now" in texts(saved)
