"""The worker checks hazard deadlines every half minute and patrols every 5 seconds, not every
tick, and survives a failing check."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from anwang.events import worker as worker_module


def _run_ticks(
    monkeypatch: pytest.MonkeyPatch, clock: list[float], check: Any, patrols: Any = lambda: 0
) -> None:
    """Run the worker's tick loop once per entry of ``clock`` (the monotonic time of each tick)."""
    times = iter(clock)
    now = [0.0]

    def monotonic() -> float:
        return now[0]

    monkeypatch.setattr(worker_module, "pipeline_tick", lambda: (0, 0))
    monkeypatch.setattr(worker_module, "patrol_runs_check", patrols)
    monkeypatch.setattr(worker_module, "hazards_overdue_check", check)
    monkeypatch.setattr(worker_module, "_drop_broken_connection", lambda: None)
    monkeypatch.setattr(time, "monotonic", monotonic)
    worker = worker_module.EventWorker(tick_seconds=0)

    async def in_db(function: Any, *args: Any) -> Any:
        return function(*args)

    worker._in_db = in_db  # type: ignore[method-assign]
    real_sleep = asyncio.sleep

    async def sleep(_seconds: float) -> None:
        try:
            now[0] = next(times)
        except StopIteration:
            raise asyncio.CancelledError from None
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)

    async def main() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await worker._ticks()

    asyncio.run(main())


def test_hazard_deadlines_are_checked_every_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ticks every second call the check at 0 s, 30 s and 60 s only."""
    called: list[int] = []

    def check() -> int:
        called.append(1)
        return 0

    _run_ticks(monkeypatch, [float(s) for s in range(1, 75)], check)
    assert len(called) == 3


def test_a_failing_hazard_check_is_counted_and_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error is reported and the next half-minute check runs again."""
    calls: list[int] = []

    def failing() -> int:
        calls.append(1)
        raise RuntimeError("database away")

    _run_ticks(monkeypatch, [float(s) for s in range(1, 40)], failing)
    assert len(calls) == 2


def test_patrols_are_checked_every_5_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[int] = []

    def check() -> int:
        called.append(1)
        return 0

    _run_ticks(monkeypatch, [float(second) for second in range(1, 12)], lambda: 0, check)
    assert len(called) == 3  # at 0, 5 and 10 s
