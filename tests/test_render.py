"""The card template language (bot.cards.render) and the locale files."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta

from bot.cards import render
from bot.cards.render import CARDS_DIR, _fill
from bot.locales import format_age, strings


def fill(node, data):
    return _fill(node, ({"t": {}, **data},))


def test_whole_expression_keeps_the_value_type_and_parts_become_text():
    out = fill({"a": "${n}", "b": "n=${n}", "c": "${flag}"}, {"n": 3, "flag": True})
    assert out == {"a": 3, "b": "n=3", "c": True}


def test_missing_or_none_drops_the_property():
    assert fill({"a": "${missing}", "b": "${none}", "c": "x"}, {"none": None}) == {"c": "x"}


def test_data_repeats_with_item_then_root_scope():
    template = [{"$data": "${items}", "v": "${name}", "root": "${$root.label}"}]
    out = fill(template, {"items": [{"name": "a"}, {"name": "b"}], "label": "L"})
    assert out == [{"v": "a", "root": "L"}, {"v": "b", "root": "L"}]


def test_when_keeps_or_drops_an_element():
    template = [{"$when": "${yes}", "k": 1}, {"$when": "${no}", "k": 2}, {"$when": "${!no}", "k": 3}]
    assert fill(template, {"yes": [1], "no": ""}) == [{"k": 1}, {"k": 3}]


def test_a_rendered_card_shares_nothing_with_its_template(tmp_path, monkeypatch):
    template = {"body": [{"type": "TextBlock", "text": "${label}", "items": [{"k": 1}]}]}
    (tmp_path / "shared.json").write_text(json.dumps(template), encoding="utf-8")
    templates = importlib.import_module("bot.cards.render")  # the package names a function so
    monkeypatch.setattr(templates, "CARDS_DIR", tmp_path)
    templates.load_template.cache_clear()
    try:
        first = templates.render("shared", "en", {"label": "a"})
        first["body"][0]["items"][0]["k"] = 99
        first["body"].append({"type": "Image"})
        second = templates.render("shared", "en", {"label": "b"})
    finally:
        templates.load_template.cache_clear()
    assert second == {"body": [{"type": "TextBlock", "text": "b", "items": [{"k": 1}]}]}


def test_templates_are_read_relative_to_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert render("help", "en")["version"] == "1.5"
    assert (CARDS_DIR / "help.json").exists()


def test_locale_files_have_the_same_keys_and_placeholders():
    ja, en = strings("ja"), strings("en")
    assert set(ja) == set(en)
    for key in ja:
        fields = lambda s: sorted(part.split("}")[0] for part in s.split("{")[1:])  # noqa: E731
        assert fields(ja[key]) == fields(en[key]), key


def test_ages_read_naturally():
    assert format_age(timedelta(seconds=20), "ja") == "たった今"
    assert format_age(timedelta(minutes=5), "en") == "5 min ago"
    assert format_age(timedelta(hours=3, minutes=10), "ja") == "3時間10分前"
    assert format_age(timedelta(days=3), "en") == "3 days ago"
