"""The end-to-end stack itself: a Playground that cannot start is reported with its reason."""

from __future__ import annotations

import pytest

from tests.e2e.stack import PLAYGROUND_CONFIG, Stack, StackError

pytestmark = pytest.mark.slow


def test_playground_with_an_invalid_config_fails_with_its_reason(tmp_path):
    config = tmp_path / "invalid.yml"
    lines = PLAYGROUND_CONFIG.read_text(encoding="utf-8").splitlines(keepends=True)
    config.write_text("".join(line for line in lines if not line.startswith("tenantId:")), "utf-8")
    stack = Stack(tmp_path / "stack", playground_config=config)

    try:
        with pytest.raises(StackError, match="the Agents Playground exited with 1") as error:
            stack.start()
    finally:
        stack.stop()
    assert "must have required property 'tenantId'" in str(error.value)
