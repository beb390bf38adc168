"""Cards: the templates in cards/ filled with data, one builder per card.

`render` fills a template; the builders here and in the sibling modules turn domain
objects into the data a template needs, already formatted for the reader's language.
"""

from bot.cards.render import CARD_CONTENT_TYPE, attachment, render, template_names

__all__ = [
    "CARD_CONTENT_TYPE",
    "attachment",
    "create_help_card",
    "create_welcome_card",
    "render",
    "template_names",
]


def create_help_card(lang: str) -> dict:
    return render("help", lang)


def create_welcome_card(lang: str) -> dict:
    return render("welcome", lang)
