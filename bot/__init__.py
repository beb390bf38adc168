"""BCP Board: structured disaster status reports in Microsoft Teams, one shared board."""

__version__ = "0.1.0"
