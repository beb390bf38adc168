"""Japanese and English strings for every card and message.

Strings live in ja.json and en.json beside this file, under the same keys; a test keeps
the two files in step.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

LANGUAGES = ("ja", "en")
_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def strings(lang: str) -> dict[str, str]:
    """Return every string of `lang` ("ja" or "en") by key."""
    return json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def text(lang: str, key: str, **values: object) -> str:
    """Return the string `key` in `lang`, with {name} placeholders filled from `values`."""
    template = strings(lang)[key]
    return template.format(**values) if values else template


def language_of_locale(locale: str | None) -> str:
    """Map a Teams locale ("ja-jp", "en-US", None) to "ja" or "en"."""
    return "ja" if (locale or "").lower().startswith("ja") else "en"


def format_time(moment: datetime, zone: ZoneInfo, lang: str) -> str:
    """Format an aware time in the reader's zone: "12/03 21:05" or "12月3日 21:05"."""
    local = moment.astimezone(zone)
    if lang == "ja":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%d %b %H:%M}"


def format_age(age: timedelta, lang: str) -> str:
    """Say how long ago something happened: "5 min ago", "3時間10分前"."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return text(lang, "age_now")
    if minutes < 60:
        return text(lang, "age_minutes", n=minutes)
    if minutes < 48 * 60:
        return text(lang, "age_hours", n=minutes // 60, m=minutes % 60)
    return text(lang, "age_days", n=minutes // (24 * 60))


def format_duration(span: timedelta, lang: str) -> str:
    """Say how long something lasted: "3 h 10 min", "3時間10分"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return text(lang, "duration_minutes", n=minutes)
    if minutes < 48 * 60:
        return text(lang, "duration_hours", n=minutes // 60, m=minutes % 60)
    return text(lang, "duration_days", n=minutes // (24 * 60))


def format_percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"
