"""Text commands: what a typed message asks for. Pure.

Commands work in either language whatever the user's language setting; the language a
command was typed in is returned so a first-time user gets an answer in that language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Command word -> (command, language it is written in).
WORDS = {
    "help": ("help", "en"),
    "?": ("help", "en"),
    "ヘルプ": ("help", "ja"),
    "使い方": ("help", "ja"),
    "report": ("report", "en"),
    "報告": ("report", "ja"),
    "board": ("board", "en"),
    "ボード": ("board", "ja"),
    "掲示板": ("board", "ja"),
    "ここにボード": ("board_here", "ja"),
    "ボード解除": ("board_off", "ja"),
    "checkin": ("checkin", "en"),
    "check-in": ("checkin", "en"),
    "safety": ("checkin", "en"),
    "安否": ("checkin", "ja"),
    "安否報告": ("checkin", "ja"),
    "参集": ("checkin", "ja"),
    "request": ("request", "en"),
    "要請": ("request", "ja"),
    "物資要請": ("request", "ja"),
    "requests": ("request_list", "en"),
    "要請一覧": ("request_list", "ja"),
    "language": ("language", "en"),
    "言語": ("language", "ja"),
    "日本語": ("language", "ja"),
    "japanese": ("language", "ja"),
    "english": ("language", "en"),
    "英語": ("language", "en"),
}
LANGUAGE_NAMES = {
    "ja": "ja",
    "日本語": "ja",
    "japanese": "ja",
    "en": "en",
    "english": "en",
    "英語": "en",
}
# "board here", "ボード 解除": the board command followed by what to do with it here.
BOARD_ACTIONS = {"here": "board_here", "off": "board_off", "ここ": "board_here", "解除": "board_off"}
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    """A parsed message: the command (None when unrecognised), its argument, its language."""

    name: str | None
    argument: str = ""
    lang: str | None = None


def parse_command(message: str | None) -> Command:
    """Parse a message typed to the bot, with any @mention of the bot removed."""
    cleaned = unicodedata.normalize("NFKC", _MENTION.sub(" ", message or "")).strip()
    if not cleaned:
        return Command(None)

    first, _, rest = cleaned.partition(" ")
    key = first.lower().rstrip(".!。")
    if key not in WORDS:
        return Command(None)
    name, lang = WORDS[key]
    argument = rest.strip()

    if name == "board" and argument.lower() in BOARD_ACTIONS:
        return Command(BOARD_ACTIONS[argument.lower()], "", lang)

    # "日本語" and "English" alone choose that language.
    if name == "language" and not argument and key not in ("language", "言語"):
        argument = key
    return Command(name, argument, lang)


def language_named(argument: str) -> str | None:
    """Return "ja" or "en" for a language name in either language, else None."""
    return LANGUAGE_NAMES.get(unicodedata.normalize("NFKC", argument).strip().lower())
