"""Render the Adaptive Card templates in cards/ with data and locale strings.

Templates are JSON files written in a small subset of the Adaptive Card Templating
language, which has no official Python SDK:

- "${path}" as a whole string is replaced by the value itself (a number, a list...),
  and the property is left out when the value is None or missing; inside a longer
  string it is replaced by the value's text.
- "$data": "${path}" on an object inside an array repeats it for each item of the list;
  inside it, paths resolve against the item first, then against the root ("$root.x").
- "$when": "${path}" (or "${!path}") keeps the object only when the value is truthy.

Paths are dotted names (`site.name`, `t.report_title`); `t` holds the locale strings.
Anything more (formatting, sorting, choosing) is done in Python before rendering.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from bot.locales import strings

CARDS_DIR = Path(__file__).resolve().parents[2] / "cards"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

_WHOLE = re.compile(r"^\$\{(!?)([\w.$]+)\}$")
_PART = re.compile(r"\$\{([\w.$]+)\}")
_MISSING = object()


@lru_cache(maxsize=None)
def load_template(name: str) -> dict:
    """Return the parsed template cards/<name>.json (cached; never mutate it)."""
    return json.loads((CARDS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def template_names() -> list[str]:
    return sorted(path.stem for path in CARDS_DIR.glob("*.json"))


def render(name: str, lang: str, data: Mapping[str, Any] | None = None) -> dict:
    """Render template `name` in `lang` ("ja" or "en") with `data`.

    Returns:
        The Adaptive Card as a dict, ready to attach or return from an invoke.
    """
    root = {"t": strings(lang), "lang": lang, **(data or {})}
    # _fill builds every list and dict anew, so the cached template is never shared.
    return _fill(load_template(name), (root,))


def attachment(card: dict) -> dict:
    """Wrap a card as a message attachment."""
    return {"contentType": CARD_CONTENT_TYPE, "content": card}


def _fill(node: Any, scopes: tuple) -> Any:
    if isinstance(node, str):
        return _substitute(node, scopes)
    if isinstance(node, list):
        result = []
        for item in node:
            if isinstance(item, dict) and "$data" in item:
                for element in _resolve(item["$data"], scopes) or ():
                    filled = _fill_object(item, (element, *scopes))
                    if filled is not None:
                        result.append(filled)
                continue
            filled = _fill(item, scopes)
            if filled is not None and filled is not _MISSING:
                result.append(filled)
        return result
    if isinstance(node, dict):
        return _fill_object(node, scopes)
    return node


def _fill_object(node: dict, scopes: tuple) -> dict | None:
    if "$when" in node and not _resolve(node["$when"], scopes):
        return None
    filled = {}
    for key, value in node.items():
        if key in ("$data", "$when"):
            continue
        value = _fill(value, scopes)
        if value is not _MISSING:
            filled[key] = value
    return filled


def _resolve(expression: str, scopes: tuple) -> Any:
    match = _WHOLE.match(expression)
    if not match:
        raise ValueError(f"not a template expression: {expression!r}")
    value = _lookup(match.group(2), scopes)
    value = None if value is _MISSING else value
    return (not value) if match.group(1) else value


def _substitute(value: str, scopes: tuple) -> Any:
    if "${" not in value:
        return value
    whole = _WHOLE.match(value)
    if whole and not whole.group(1):
        found = _lookup(whole.group(2), scopes)
        return _MISSING if found is None else found
    return _PART.sub(lambda m: _as_text(_lookup(m.group(1), scopes)), value)


def _as_text(value: Any) -> str:
    return "" if value is _MISSING or value is None else str(value)


def _lookup(path: str, scopes: tuple) -> Any:
    parts = path.split(".")
    if parts[0] == "$root":
        scopes, parts = scopes[-1:], parts[1:]
    for scope in scopes:
        value = _walk(scope, parts)
        if value is not _MISSING:
            return value
    return _MISSING


def _walk(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value
