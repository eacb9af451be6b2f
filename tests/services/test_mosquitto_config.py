"""The shipped production Mosquitto configuration starts a real broker, with its ACL file."""

from __future__ import annotations

import os
from pathlib import Path

from tests.services.mosquitto import broker_for_test


def test_shipped_configuration_runs_a_broker(tmp_path: Path) -> None:
    with broker_for_test(tmp_path) as broker:
        # Still running after start-up: a bad option makes mosquitto exit right after binding.
        os.kill(broker.pid, 0)
        config = (tmp_path / "mosquitto.conf").read_text(encoding="utf-8")
        assert "max_queued_messages 200000" in config
        assert f"listener {broker.port} 127.0.0.1" in config
