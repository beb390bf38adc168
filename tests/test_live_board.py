"""Live boards in HQ channels, critical-need alerts and stale-site reminders (issue 3).

Scenario tests over loopback: real activities posted to the real app, the bot's posts
and updates captured by the local connector. Time is a manual clock; the tests move it
and let the scheduler run what became due, so nothing here sleeps or waits on real time.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from bot.cards import CARD_CONTENT_TYPE
from tests.support.connector import Recorded
from tests.support.teams import TeamsUser, new_submission_id
from tests.test_scenarios import execute_actions, report_values, texts

HQ_CHANNEL = "19:hq-operations@thread.tacv2"
# A channel message in a thread carries its root message id in the conversation id.
HQ_THREAD = f"{HQ_CHANNEL};messageid=1756684800000"
LOGISTICS = "19:hq-logistics@thread.tacv2"
SMITH = TeamsUser("29:smith", "Alex Smith", "aad-smith")
SATO = TeamsUser("29:sato", "佐藤 花子", "aad-sato")
REPORTERS = [
    TeamsUser(f"29:reporter-{n}", f"Reporter {n}", f"aad-reporter-{n}") for n in range(1, 6)
]
INTERVAL = 3.0  # Settings.board_interval: updates per board at most once per this.


def card_of(request: Recorded) -> dict:
    (attachment,) = request.body["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    return attachment["content"]


def personal(user: TeamsUser) -> str:
    return f"personal-{user.id}"


async def say_in_hq(bot, words: str, user: TeamsUser = SMITH, locale: str = "en-US") -> None:
    status = await bot.client.message(
        f"<at>BCP Board</at> {words}",
        user,
        locale=locale,
        conversation_id=HQ_THREAD,
        conversation_type="channel",
    )
    assert status == 201


async def press_in_hq(bot, action: dict, user: TeamsUser) -> dict:
    """Press a card's Action.Execute button in the HQ channel; return the card answered."""
    body = await bot.client.invoke(
        action["verb"],
        action["data"],
        user,
        locale="en-US",
        conversation_id=HQ_THREAD,
        conversation_type="channel",
    )
    return body["value"]


async def register_board(bot, user: TeamsUser = SMITH) -> Recorded:
    """Type "board here" in the HQ channel; return the board card's post."""
    await say_in_hq(bot, "board here", user)
    posted = [r for r in bot.connector.requests if r.method == "POST"]
    assert posted and posted[-1].conversation_id == HQ_CHANNEL
    return posted[-1]


async def register_japanese_board(bot, user: TeamsUser = SATO) -> str:
    """Make a second HQ channel a live board in Japanese; return its channel id."""
    await bot.client.message(
        "<at>BCP Board</at> ここにボード",
        user,
        locale="ja-jp",
        conversation_id=f"{LOGISTICS};messageid=1756684800001",
        conversation_type="channel",
    )
    return LOGISTICS


async def report(bot, user: TeamsUser, site_id: str, **changes) -> dict:
    """Send a shelter report from `user`'s personal chat; return the saved card."""
    data = {"site_id": site_id, "submission_id": new_submission_id(), **report_values(**changes)}
    body = await bot.client.invoke(
        "report_save", data, user, conversation_id=personal(user)
    )
    assert "Report received" in texts(body["value"]) or "報告を受け付けました" in texts(body["value"])
    return body["value"]


def board_updates(connector) -> list[Recorded]:
    return connector.updates(HQ_CHANNEL)


def alerts_in_hq(connector) -> list[dict]:
    return [
        card
        for card in connector.cards(HQ_CHANNEL)
        if any(action["verb"] == "report_view" for action in execute_actions(card))
    ]


# Coalesced updates in place


def write_sites(path, count: int):
    lines = ["id,kind,name_ja,name_en,kana,capacity,address,latitude,longitude"]
    lines += [f"B{n:03},shelter,避難所{n:03},Shelter {n:03},,1000,,," for n in range(1, count + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_a_burst_of_200_reports_makes_a_few_updates_and_the_last_shows_all(
    start_bot, connector, tmp_path
):
    bot = await start_bot(sites=write_sites(tmp_path / "sites.csv", 200))
    board = await register_board(bot)

    # Ten rounds of twenty concurrent reports, one second apart: one site each, and
    # site n reports n evacuees, so only a board that saw every report totals 20,100.
    async def send(n: int) -> None:
        reporter = REPORTERS[n % len(REPORTERS)]
        await report(bot, reporter, f"B{n:03}", evacuees=str(n), households="1", care_needed="0", capacity="")

    for first in range(1, 201, 20):
        await asyncio.gather(*(send(n) for n in range(first, first + 20)))
        bot.clock.advance(1)
    await bot.advance(INTERVAL)

    updates = board_updates(connector)
    # 13 seconds of reports at one update per 3 seconds, whatever the report count.
    assert 1 <= len(updates) <= 5
    assert {update.activity_id for update in updates} == {board.answered_id}
    last = texts(card_of(updates[-1]))
    assert "20,100" in last
    assert "200 / 200" in last
    assert connector.requests[-1] is updates[-1]
    assert len(connector.sent(HQ_CHANNEL)) == 1


async def test_board_here_posts_the_live_board_at_the_top_of_the_channel(start_bot, connector):
    bot = await start_bot()
    await report(bot, SATO, "S001", evacuees="140", households="50")

    board = await register_board(bot)

    card = card_of(board)
    assert board.conversation_id == HQ_CHANNEL
    assert "Updates automatically as reports arrive" in texts(card)
    assert "140" in texts(card)
    assert card["refresh"]["action"]["verb"] == "board_refresh"
    assert card["refresh"]["userIds"] == [SMITH.id]


# Teams refusing an update


async def test_throttled_update_waits_for_retry_after_then_lands(start_bot, connector):
    bot = await start_bot()
    board = await register_board(bot)
    connector.fail("PUT", 429, {"Retry-After": "30"}, conversation_id=HQ_CHANNEL)

    await report(bot, SATO, "S001", evacuees="250", households="90")
    await bot.advance(INTERVAL)
    assert [r.status for r in connector.refused] == [429]

    await bot.advance(29)
    assert len(connector.refused) == 1
    assert board_updates(connector) == []

    await bot.advance(1)
    (update,) = board_updates(connector)
    assert update.activity_id == board.answered_id
    assert "250" in texts(card_of(update))


async def test_deleted_board_card_is_posted_again_and_updated_under_its_new_id(
    start_bot, connector
):
    bot = await start_bot()
    first = await register_board(bot)
    connector.fail("PUT", 404, conversation_id=HQ_CHANNEL)

    await report(bot, SATO, "S001", evacuees="180", households="60")
    await bot.advance(INTERVAL)

    (refused,) = connector.refused
    assert (refused.method, refused.activity_id) == ("PUT", first.answered_id)
    reposted = connector.sent(HQ_CHANNEL)
    assert len(reposted) == 2
    assert "180" in texts(reposted[-1])
    second = [r for r in connector.requests if r.method == "POST"][-1]
    assert second.answered_id != first.answered_id

    await report(bot, SATO, "S001", evacuees="190", households="60")
    await bot.advance(INTERVAL)
    (update,) = board_updates(connector)
    assert update.activity_id == second.answered_id
    assert "190" in texts(card_of(update))


async def test_board_in_a_conversation_that_refuses_the_bot_stops(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)
    connector.fail("PUT", 403, conversation_id=HQ_CHANNEL)

    await report(bot, SATO, "S001")
    await bot.advance(INTERVAL)
    await report(bot, SATO, "S002")
    await bot.advance(INTERVAL * 10)

    assert len(connector.refused) == 1
    assert board_updates(connector) == []
    boards = (await bot.health())["details"]["boards"]
    assert (boards["boards"], boards["stopped"], boards["pending"]) == (1, 1, 0)


async def test_health_shows_pending_updates_retries_and_last_success(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)
    registered_at = bot.clock.now()

    boards = (await bot.health())["details"]["boards"]
    assert (boards["boards"], boards["pending"], boards["retries"]) == (1, 0, 0)
    assert boards["last_success"] == registered_at.isoformat()

    # A 503 without Retry-After backs off; until it lands the update is pending.
    connector.fail("PUT", 503, conversation_id=HQ_CHANNEL)
    await report(bot, SATO, "S001")
    await bot.advance(INTERVAL)
    boards = (await bot.health())["details"]["boards"]
    assert (boards["pending"], boards["retries"], boards["failures"]) == (1, 1, 1)
    assert boards["last_success"] == registered_at.isoformat()
    assert boards["next_attempt"] > bot.clock.now().isoformat()

    await bot.advance(INTERVAL)
    boards = (await bot.health())["details"]["boards"]
    assert (boards["pending"], boards["retries"], boards["updates"]) == (0, 1, 2)
    assert boards["last_success"] == bot.clock.now().isoformat()


# Registration


async def test_board_registration_survives_a_restart(start_bot, connector):
    bot = await start_bot()
    board = await register_board(bot)

    await bot.restart()
    await bot.settle()
    await report(bot, SATO, "S001", evacuees="321", households="100")
    await bot.advance(INTERVAL)

    updates = board_updates(connector)
    assert updates and {u.activity_id for u in updates} == {board.answered_id}
    assert "321" in texts(card_of(updates[-1]))
    assert len(connector.sent(HQ_CHANNEL)) == 1


async def test_only_hq_members_can_register_or_remove_a_board(start_bot, connector):
    # Listing HQ users turns roles on in local anonymous mode too (bot/roles.py).
    bot = await start_bot(hq_users=frozenset({SATO.aad_object_id}))

    await say_in_hq(bot, "board here", SMITH)
    # The answer stays in the thread it was asked in; no card reaches the channel.
    (refusal,) = connector.sent(HQ_THREAD)
    assert "Only HQ members and administrators" in refusal["text"]
    assert connector.sent(HQ_CHANNEL) == []
    assert (await bot.health())["details"]["boards"]["boards"] == 0

    await say_in_hq(bot, "ここにボード", SATO, locale="ja-jp")
    assert "自動で更新" in texts(connector.cards(HQ_CHANNEL)[-1])

    await say_in_hq(bot, "board off", SMITH)
    assert "Only HQ members" in connector.sent(HQ_THREAD)[-1]["text"]
    assert (await bot.health())["details"]["boards"]["boards"] == 1


async def test_board_refresh_answers_the_current_live_board(start_bot, connector):
    bot = await start_bot()
    board = await register_board(bot)
    await report(bot, SATO, "S001", evacuees="275", households="95")

    body = await bot.client.invoke(
        "board_refresh",
        {"lang": "en", "page": "1"},
        SATO,
        locale="en-US",
        conversation_id=HQ_THREAD,
        conversation_type="channel",
        replyToId=board.answered_id,
    )

    card = body["value"]
    assert body["type"] == CARD_CONTENT_TYPE
    assert "275" in texts(card)
    assert "Updates automatically as reports arrive" in texts(card)
    # Whoever used the card now has a copy that refreshes itself.
    assert card["refresh"]["userIds"] == [SATO.id, SMITH.id]


async def test_board_off_stops_updates_in_that_conversation(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)

    await say_in_hq(bot, "ボード解除", SATO, locale="ja-jp")
    assert "自動更新を停止しました" in connector.sent(HQ_THREAD)[-1]["text"]
    await report(bot, SATO, "S001")
    await bot.advance(INTERVAL)
    assert board_updates(connector) == []
    assert (await bot.health())["details"]["boards"]["boards"] == 0

    await say_in_hq(bot, "board off")
    assert connector.sent(HQ_THREAD)[-1]["text"] == "There is no live board in this conversation."


# Critical-need alerts


async def test_critical_change_alerts_hq_once_not_once_per_report(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)

    await report(bot, SATO, "S001", supply_water="out")
    await bot.advance(INTERVAL)
    (alert,) = alerts_in_hq(connector)
    assert "Critical change: Chuo Elementary School" in texts(alert)
    assert "Out of stock: Drinking water" in texts(alert)
    assert connector.sent(HQ_CHANNEL)[-1]["summary"] == "Critical change: Chuo Elementary School"

    await report(bot, SATO, "S001", supply_water="out", evacuees="130", households="50")
    await bot.advance(INTERVAL)
    await report(bot, SMITH, "S001", supply_water="out", evacuees="135", households="50")
    await bot.advance(INTERVAL)
    assert len(alerts_in_hq(connector)) == 1


async def test_after_a_restart_a_report_is_judged_against_the_one_before_it(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)
    await report(bot, SATO, "S001", supply_water="out")
    await bot.advance(INTERVAL)
    assert len(alerts_in_hq(connector)) == 1

    await bot.restart()
    await report(bot, SATO, "S001", supply_water="out", evacuees="140", households="50")
    await bot.advance(INTERVAL)
    assert len(alerts_in_hq(connector)) == 1  # still out: nothing new to tell

    await report(bot, SMITH, "S001", supply_water="ok", evacuees="140", households="50")
    await report(bot, SMITH, "S001", supply_water="out", evacuees="145", households="50")
    await bot.advance(INTERVAL)
    await report(bot, SMITH, "S001", supply_water="out", evacuees="150", households="50")
    await bot.advance(INTERVAL)
    assert len(alerts_in_hq(connector)) == 2  # out again after a refill, once


async def test_alerts_are_grouped_per_site_and_open_the_report(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)

    await report(bot, SATO, "S001", status="full")
    await report(bot, SMITH, "S001", status="full", lifeline_power="down")
    await report(bot, REPORTERS[0], "S002", status="full")
    await bot.advance(INTERVAL)
    await bot.advance(1)  # posts to one conversation are spaced a second apart

    by_site = {("Chuo Elementary" in texts(a)): a for a in alerts_in_hq(connector)}
    assert len(alerts_in_hq(connector)) == 2
    chuo = texts(by_site[True])
    assert "Now full" in chuo and "Power is down" in chuo
    assert "Honmachi Junior High School" in texts(by_site[False])

    view = next(a for a in execute_actions(by_site[True]) if a["verb"] == "report_view")
    shown = texts(await press_in_hq(bot, view, SATO))
    assert "Chuo Elementary School" in shown
    assert "Alex Smith" in shown


async def test_change_undone_within_the_window_does_not_alert(start_bot, connector):
    bot = await start_bot()
    await register_board(bot)

    await report(bot, SATO, "S001", supply_food="out")
    await report(bot, SATO, "S001", supply_food="low")
    await bot.advance(INTERVAL)

    assert alerts_in_hq(connector) == []


async def test_a_burst_of_300_critical_reports_makes_few_alert_posts_that_name_or_count_every_site(
    start_bot, connector, tmp_path
):
    bot = await start_bot(sites=write_sites(tmp_path / "sites.csv", 300))
    await register_board(bot)
    logistics = await register_japanese_board(bot)

    # Thirty shelters a second for ten seconds report that they are full.
    async def send(n: int) -> None:
        await report(bot, REPORTERS[n % len(REPORTERS)], f"B{n:03}", status="full")

    for first in range(1, 301, 30):
        await asyncio.gather(*(send(n) for n in range(first, first + 30)))
        await bot.advance(1)
    for _ in range(30):
        await bot.advance(1)

    for channel in (HQ_CHANNEL, logistics):
        posts = [
            card
            for card in connector.cards(channel)
            if any(action["verb"] == "report_view" for action in execute_actions(card))
        ]
        # Without grouping: 300 posts, one a second, still coming after 40 s.
        print("POSTS", len(posts))
        assert 2 <= len(posts) <= 15
        named = [
            action["data"]["report_id"]
            for post in posts
            for action in execute_actions(post)
            if action["verb"] == "report_view"
        ]
        counted = sum(
            int(found) for post in posts for found in re.findall(r"(?:And |ほか)(\d+)", texts(post))
        )
        assert len(set(named)) == len(named)
        assert len(named) + counted == 300
    assert "critical alerts" in texts(connector.cards(HQ_CHANNEL)[-1])
    assert "緊急：" in texts(connector.cards(logistics)[-1])


async def test_alerts_join_a_post_held_by_retry_after_and_a_site_in_it_is_brought_up_to_date(
    start_bot, connector
):
    bot = await start_bot()
    await register_board(bot)
    connector.fail("POST", 429, {"Retry-After": "20"}, conversation_id=HQ_CHANNEL)

    await report(bot, SATO, "S001", supply_water="out")
    await bot.advance(INTERVAL)
    assert [r.status for r in connector.refused] == [429]

    await report(bot, SATO, "S002", status="full")
    await report(bot, SMITH, "S001", supply_water="out", supply_food="out")
    await bot.advance(INTERVAL)
    await report(bot, REPORTERS[0], "S001", supply_food="out", lifeline_power="down")
    await bot.advance(INTERVAL)
    assert alerts_in_hq(connector) == []

    await bot.advance(20)
    (grouped,) = alerts_in_hq(connector)
    shown = texts(grouped)
    assert "2 critical alerts" in shown
    assert "Honmachi Junior High School" in shown and "Now full" in shown
    assert "Out of stock: Food" in shown and "Power is down" in shown
    assert "Out of stock: Drinking water" not in shown  # restocked before the post left
    assert connector.sent(HQ_CHANNEL)[-1]["summary"].startswith("2 critical alerts: ")
    views = [a for a in execute_actions(grouped) if a["verb"] == "report_view"]
    assert len(views) == 2


# Stale-site reminders


async def test_silent_site_reminds_its_latest_reporters_once_per_interval(start_bot, connector):
    bot = await start_bot(stale_after=timedelta(hours=3))
    await register_board(bot)
    # Four people report for S001 a minute apart; the earliest is not among the last three.
    for reporter in REPORTERS[:4]:
        await report(bot, reporter, "S001")
        bot.clock.advance(60)
    await report(
        bot, REPORTERS[4], "S002", status="closed", evacuees="0", households="0", care_needed="0"
    )
    last_report = bot.clock.now()

    def reminded() -> dict[str, int]:
        return {r.name: len(connector.cards(personal(r))) for r in REPORTERS}

    await bot.advance(3 * 3600 - 60)  # silent for 2 h 59 min: not yet
    assert sum(reminded().values()) == 0

    await bot.advance(120)
    assert reminded() == {
        "Reporter 1": 0, "Reporter 2": 1, "Reporter 3": 1, "Reporter 4": 1, "Reporter 5": 0
    }
    reminder = connector.cards(personal(REPORTERS[3]))[0]
    assert "中央小学校" in texts(reminder)
    (button,) = execute_actions(reminder)
    assert (button["verb"], button["data"]["site_id"]) == ("report", "S001")
    # The board flags the silent site as well.
    assert "No report for" in texts(card_of(board_updates(connector)[-1]))

    await bot.advance(60)
    await bot.advance(3 * 3600 - 120)  # 2 h 59 min after the first reminders
    assert sum(reminded().values()) == 3

    await bot.advance(60)
    assert bot.clock.now() - last_report > timedelta(hours=6)
    assert reminded()["Reporter 4"] == 2
    assert sum(reminded().values()) == 6


async def test_site_that_reports_again_is_not_reminded(start_bot, connector):
    bot = await start_bot(stale_after=timedelta(hours=3))
    await report(bot, SATO, "S001")

    await bot.advance(2 * 3600)
    await report(bot, SATO, "S001", evacuees="150", households="55")
    await bot.advance(2 * 3600)

    assert connector.cards(personal(SATO)) == []


async def test_reporter_who_refused_a_reminder_is_reminded_again_after_reporting_again(
    start_bot, connector
):
    bot = await start_bot(stale_after=timedelta(hours=3))
    await report(bot, SATO, "S001")
    connector.fail("POST", 403, conversation_id=personal(SATO))
    await bot.advance(3 * 3600 + 60)
    assert [(r.conversation_id, r.status) for r in connector.refused] == [(personal(SATO), 403)]

    # Reporting again, from the same chat, shows the bot may write there again.
    await report(bot, SATO, "S001", evacuees="110", households="40")
    await bot.advance(3 * 3600 + 60)

    (reminder,) = connector.cards(personal(SATO))
    assert "中央小学校" in texts(reminder)
