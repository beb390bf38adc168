"""Parsing typed commands (bot.commands)."""

from __future__ import annotations

import pytest

from bot.commands import Command, language_named, parse_command


@pytest.mark.parametrize(
    "message, expected",
    [
        ("報告", Command("report", "", "ja")),
        ("report", Command("report", "", "en")),
        ("Report  Minato school", Command("report", "Minato school", "en")),
        ("報告 中央小学校", Command("report", "中央小学校", "ja")),
        ("報告　中央", Command("report", "中央", "ja")),
        ("ボード", Command("board", "", "ja")),
        ("<at>BCP Board</at> board", Command("board", "", "en")),
        ("<at>BCPボード</at>　ボード", Command("board", "", "ja")),
        ("ＢＯＡＲＤ", Command("board", "", "en")),
        ("ヘルプ", Command("help", "", "ja")),
        ("help!", Command("help", "", "en")),
        ("日本語", Command("language", "日本語", "ja")),
        ("English", Command("language", "english", "en")),
        ("language en", Command("language", "en", "en")),
        ("こんにちは", Command(None)),
        ("", Command(None)),
        (None, Command(None)),
    ],
)
def test_messages_parse_to_commands(message, expected):
    assert parse_command(message) == expected


def test_language_names_in_either_language():
    assert language_named("英語") == "en"
    assert language_named("Japanese") == "ja"
    assert language_named("français") is None
