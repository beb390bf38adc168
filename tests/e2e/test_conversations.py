"""Every capability, used through the Agents Playground's conversation API.

The real bot (app.py) and the real Playground run as processes; messages and card
buttons go through the Playground exactly as its web UI sends them, and what the bot
posts comes back on the Playground's WebSocket.
"""

from __future__ import annotations

import pytest

from tests.e2e.playground import (
    GROUP_CHAT,
    PERSONAL_CHAT,
    SATO,
    STATUS_CHANNEL,
    Playground,
    Post,
)
from tests.test_scenarios import inputs

pytestmark = pytest.mark.slow


def facts(card: dict) -> dict[str, str]:
    """Return the board's totals by title."""
    return {
        fact["title"]: fact["value"]
        for node in card["body"]
        if node.get("type") == "FactSet"
        for fact in node["facts"]
    }


def new_post_in_hq(besides: Post):
    """Match a new post in the HQ channel other than its board (an alert, a request)."""
    return lambda post: (
        post.conversation_id == STATUS_CHANNEL
        and post.action == "createMessage"
        and post.message_id != besides.message_id
    )


async def open_form(playground: Playground, site_name: str, **say) -> Post:
    """Type "報告 <site>": a name that matches one site opens its form directly."""
    form = await playground.say(f"報告 {site_name}", **say)
    assert site_name in form.reads() and "報告を送信" in form.reads(), form.reads()
    return form


async def test_report_in_personal_chat_is_confirmed_and_prefills_the_next(playground):
    picker = await playground.say("報告")
    assert "報告する施設を選んでください" in picker.reads()
    form = await playground.press(picker, "report_pick", {"site_id": "S001"})
    assert "中央小学校" in form.reads()
    assert "この施設の報告はまだありません" in form.reads()

    saved = await playground.press(
        form, "report_save", {"evacuees": "85", "households": "30", "care_needed": "6"}
    )
    assert "報告を受け付けました" in saved.reads()
    assert "避難者 85人・30世帯・要配慮者 6人" in saved.reads()

    # The next "報告" opens the same site's form, filled in with the last report.
    again = await playground.say("報告")
    values = {key: node.get("value") for key, node in inputs(again.card).items()}
    assert "中央小学校" in again.reads()
    assert (values["evacuees"], values["households"]) == (85, 30)
    assert "前回報告" in again.reads()


async def test_invalid_report_is_rejected_beside_its_fields_and_keeps_the_values(playground):
    form = await open_form(playground, "本町中学校")

    rejected = await playground.press(
        form, "report_save", {"evacuees": "abc", "households": "40", "needs": "毛布 20枚"}
    )
    assert "報告は送信されていません" in rejected.reads()
    assert "数字で入力してください" in rejected.reads()
    # A number field cannot show "abc": it is left empty, with the reason beside it.
    values = {key: node.get("value") for key, node in inputs(rejected.card).items()}
    assert (values["evacuees"], values["households"], values["needs"]) == (None, 40, "毛布 20枚")

    rejected = await playground.press(
        rejected, "report_save", {"evacuees": "10", "households": "40"}
    )
    assert "世帯数が避難者数を超えています" in rejected.reads()

    board = await playground.say("ボード")
    assert "まだ報告がありません" in board.reads()


async def test_board_totals_reports_from_a_personal_and_a_group_chat(playground):
    mine = await open_form(playground, "中央小学校")
    await playground.press(mine, "report_save", {"evacuees": "100", "households": "40"})
    theirs = await open_form(playground, "中央公民館", conversation_id=GROUP_CHAT, user=SATO)
    await playground.press(theirs, "report_save", {"evacuees": "50", "households": "20"}, user=SATO)

    board = await playground.say("ボード")
    totals = facts(board.card)
    assert (totals["開設避難所"], totals["避難者数"], totals["世帯数"]) == ("2", "150", "60")
    assert "中央小学校" in board.reads() and "中央公民館" in board.reads()

    # The board's own button shows it again, current, to whoever presses it.
    refreshed = await playground.press(board, "board_refresh")
    assert facts(refreshed.card)["避難者数"] == "150"


async def test_board_here_keeps_one_channel_card_current_as_reports_arrive(playground):
    board = await playground.say("ここにボード", conversation_id=STATUS_CHANNEL)
    assert board.thread_id, "the board is a new post in the channel"
    assert "報告が届くと自動で更新されます" in board.reads()
    assert facts(board.card)["避難者数"] == "0"

    def update_of_board(post: Post) -> bool:
        return post.action == "updateMessage" and post.message_id == board.message_id

    reports = [("中央小学校", "120", "120"), ("浜風市総合体育館", "300", "420")]
    for reported, (site_name, evacuees, total) in enumerate(reports, start=1):
        mark = playground.mark()
        form = await open_form(playground, site_name)
        await playground.press(form, "report_save", {"evacuees": evacuees, "households": "10"})
        updated = await playground.wait_for(
            lambda post, total=total: (
                update_of_board(post) and facts(post.card)["避難者数"] == total
            ),
            after=mark,
        )
        assert facts(updated.card)["報告済み拠点"].startswith(f"{reported} /")

    channel_posts = [p for p in playground.posts if p.conversation_id == STATUS_CHANNEL]
    assert [p.action for p in channel_posts].count("createMessage") == 1

    stopped = await playground.say("ボード解除", conversation_id=STATUS_CHANNEL)
    assert "自動更新を停止しました" in stopped.reads()


async def test_help_language_and_unknown_words(playground):
    help_card = await playground.say("ヘルプ")
    assert "報告" in help_card.reads() and "ボード" in help_card.reads()

    unknown = await playground.say("こんにちは")
    assert unknown.card == help_card.card

    english = await playground.say("English")
    assert "Language set to English" in english.reads()
    board = await playground.say("board")
    assert "No reports yet" in board.reads()

    japanese = await playground.say("日本語")
    assert "表示言語を日本語にしました" in japanese.reads()
    board = await playground.say("board")
    assert "まだ報告がありません" in board.reads()


async def test_check_ins_are_confirmed_checked_and_counted_on_the_board(playground):
    form = await playground.say("安否")
    assert "ご自身の安否と、参集できるかどうかを本部に知らせてください" in form.reads()

    rejected = await playground.press(
        form, "checkin_save", {"availability": "later", "arrival": "25:99"}
    )
    assert "時刻を 9:30 のように入力してください" in rejected.reads()
    saved = await playground.press(rejected, "checkin_save", {"arrival": "10:30"})
    assert "安否報告を受け付けました" in saved.reads()
    assert "10:30到着見込み" in saved.reads()

    theirs = await playground.say("安否", conversation_id=GROUP_CHAT, user=SATO)
    await playground.press(
        theirs, "checkin_save", {"safety": "injured", "availability": "unavailable"}, user=SATO
    )

    board = await playground.say("ボード")
    totals = facts(board.card)
    assert totals["報告済み職員"] == "2"
    assert totals["安否"] == "無事 1・負傷 1・要支援 0"
    assert totals["参集"] == "すぐ 0・遅れて 1・不可 1"


async def test_critical_needs_and_calls_for_help_alert_the_hq_channel(playground):
    board = await playground.say("ここにボード", conversation_id=STATUS_CHANNEL)

    alert_in_hq = new_post_in_hq(besides=board)

    mark = playground.mark()
    form = await open_form(playground, "中央小学校")
    await playground.press(
        form, "report_save", {"evacuees": "90", "households": "30", "supply_water": "out"}
    )
    alert = await playground.wait_for(alert_in_hq, after=mark)
    assert "中央小学校" in alert.reads() and "飲料水" in alert.reads()
    report = await playground.press(alert, "report_view")
    assert "90" in report.reads() and "中央小学校" in report.reads()

    mark = playground.mark()
    theirs = await playground.say("安否", conversation_id=GROUP_CHAT, user=SATO)
    saved = await playground.press(
        theirs, "checkin_save", {"safety": "need_help", "note": "足をけがしました"}, user=SATO
    )
    assert "本部に救助・支援の要請を伝えました" in saved.reads()
    alert = await playground.wait_for(alert_in_hq, after=mark)
    assert "佐藤 健二" in alert.reads()
    check_in = await playground.press(alert, "checkin_view")
    assert "足をけがしました" in check_in.reads()


async def test_supply_request_goes_from_site_to_hq_and_back_until_delivered(playground):
    board = await playground.say("ここにボード", conversation_id=STATUS_CHANNEL)

    def in_personal_chat(post: Post) -> bool:
        return post.conversation_id == PERSONAL_CHAT and post.action == "createMessage"

    form = await playground.say("要請 中央小学校")
    assert inputs(form.card)["site_id"]["value"] == "S001"
    rejected = await playground.press(form, "request_save", {"items": ""})
    assert "要請は送信されていません" in rejected.reads()

    mark = playground.mark()
    sent = await playground.press(
        rejected, "request_save", {"items": "飲料水 500本", "priority": "urgent"}
    )
    assert "要請を送信しました" in sent.reads()
    request = await playground.wait_for(new_post_in_hq(besides=board), after=mark)
    assert "【至急】 要請 #1 中央小学校" in request.reads() and "飲料水 500本" in request.reads()

    # HQ (Sato, in the HQ team) approves and dispatches; the requester hears of each.
    moves = [("approved", "承認済み", ""), ("dispatched", "発送済み", "明日10時 到着予定")]
    for target, state, note in moves:
        mark = playground.mark()
        moved = await playground.press(
            request, "request_move", {"state": target, "hq_note": note}, user=SATO
        )
        assert f"「{state}」にしました" in moved.reads()
        notice = await playground.wait_for(in_personal_chat, after=mark)
        assert f"「{state}」になりました" in notice.reads()
        request = moved
    assert "明日10時 到着予定" in notice.reads()

    delivered = await playground.press(notice, "request_move", {"state": "delivered"})
    assert "「到着済み」にしました" in delivered.reads()
    open_requests = await playground.say("要請一覧")
    assert "未完了の要請はありません" in open_requests.reads()
