"""Small helpers the card builders share: choices from an enum, text clipped to fit."""

from __future__ import annotations

from enum import Enum
from typing import Mapping


def choices(words: Mapping[str, str], prefix: str, kind: type[Enum]) -> list[dict]:
    """Return a ChoiceSet's choices: every member of `kind`, titled by "<prefix>_<value>"."""
    return [{"title": words[f"{prefix}_{member.value}"], "value": member.value} for member in kind]


def clip(value: str, limit: int) -> str:
    """Return `value` on one line, cut to `limit` characters with an ellipsis."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
