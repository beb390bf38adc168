"""A shelter worker reports from a phone through the Agents Playground's web UI.

tests/e2e/shelter_worker.mjs drives the Playground in headless Chromium at 390 x 844
and saves a screenshot of each step in test-artifacts/e2e/<this test>/.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.stack import ROOT

pytestmark = pytest.mark.slow

DRIVER = ROOT / "tests" / "e2e" / "shelter_worker.mjs"
STEPS = ["welcome", "site-picker", "form", "filled", "confirmation", "board"]


def test_shelter_worker_reports_on_a_phone_and_sees_the_board(chromium, stack, artifacts):
    result = subprocess.run(
        [
            "node",
            str(DRIVER),
            "--playground",
            stack.playground_url,
            "--screenshots",
            str(artifacts),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    failed = [line for line in lines if "failed" in line]
    assert result.returncode == 0 and not failed, (
        f"{DRIVER.name} stopped at {failed[0]['failed'] if failed else '?'}: "
        f"{failed[0]['error'] if failed else result.stderr[-2000:]}\n"
        f"see {artifacts / 'failed.png'}"
    )

    steps = {line["step"]: line for line in lines}
    assert list(steps) == STEPS
    for line in lines:
        assert (artifacts / line["screenshot"]).exists()

    confirmation = steps["confirmation"]["text"]
    assert "報告を受け付けました" in confirmation
    assert "避難者 85人・30世帯・要配慮者 6人" in confirmation
    assert "飲料水 200本" in confirmation

    board = steps["board"]["text"].split("\n")
    totals = dict(zip(board, board[2:]))
    assert (totals["開設避難所"], totals["避難者数"], totals["世帯数"]) == ("1", "85", "30")
    assert "中央小学校" in board and "不足：飲料水(不足)" in board
