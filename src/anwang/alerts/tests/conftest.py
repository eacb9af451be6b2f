"""Fixtures of the alerts tests: community a's households as alerts see them."""

from __future__ import annotations

from typing import Any

import pytest

from anwang.alerts.tests.support import AlertWorld, build_alert_world


@pytest.fixture
def alert_world(world: Any) -> AlertWorld:
    """Community a with four lived-in households in two buildings: the shared world's (a
    resident with an account, living alone), one with a resident with an account, one whose
    only resident has no account but a registered phone, one in building 2 with a bound
    account; the grid worker looks after building 1's grid."""
    return build_alert_world(world)
