"""Every card template, rendered by the official Adaptive Cards JavaScript renderer.

The sample cards of tests/support/samples.py (every template, both languages) are
parsed, validated and rendered in headless Chromium at phone width (390 px) with the
Teams host config; any parse or validation event fails the card. A PNG of each card is
saved in test-artifacts/cards/.
"""

from __future__ import annotations

import copy
import json
import subprocess

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.stack import ROOT
from tests.support.samples import sample_cards

pytestmark = pytest.mark.slow

RENDER = ROOT / "tests" / "e2e" / "render_cards.mjs"
CARDS = sample_cards()


def render(cards: dict[str, dict], folder, screenshots=None) -> dict[str, list[str]]:
    """Render `cards` with the JavaScript renderer; return the problems found in each."""
    source = folder / "cards.json"
    source.write_text(json.dumps(cards, ensure_ascii=False), encoding="utf-8")
    command = ["node", str(RENDER), "--cards", str(source)]
    if screenshots:
        command += ["--screenshots", str(screenshots)]
    result = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, f"{RENDER.name} failed:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def rendered(chromium, tmp_path_factory) -> dict[str, list[str]]:
    screenshots = ARTIFACTS / "cards"
    for old in screenshots.glob("*.png"):
        old.unlink()
    return render(CARDS, tmp_path_factory.mktemp("cards"), screenshots)


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_renders_in_teams_at_phone_width_without_warnings(rendered, name):
    assert rendered[name] == [], "\n".join(rendered[name])


def test_renderer_check_catches_what_teams_would_reject(chromium, tmp_path):
    card = copy.deepcopy(CARDS["report/first/en"])
    status = next(node for node in card["body"] if node.get("id") == "status")
    del status["label"], status["errorMessage"]
    card["body"] += [
        {"type": "Input.Text", "id": "status", "label": "Status again"},
        {"type": "Map", "center": "Hamakaze"},
        {"type": "TextBlock", "text": "x", "color": "Purple"},
        {
            "type": "ColumnSet",
            "columns": [
                {"type": "Column", "width": "500px", "items": [{"type": "TextBlock", "text": "x"}]}
            ],
        },
    ]

    problems = "\n".join(render({"broken": card}, tmp_path)["broken"])

    for expected in (
        "RequiredInputsShouldHaveLabel (status)",
        "RequiredInputsShouldHaveErrorMessage (status)",
        'DuplicateId (status): Duplicate Id "status"',
        'UnknownElementType: Unknown element type "Map"',
        'InvalidPropertyValue: Invalid value "Purple"',
        "px wide on a 390 px screen",
    ):
        assert expected in problems, problems
