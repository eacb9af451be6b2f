"""The worker checks open incidents' tasks every 10 seconds, not every tick."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from anwang.events import worker as worker_module


def _run_ticks(monkeypatch: pytest.MonkeyPatch, clock: list[float], check: Any) -> None:
    """Run the worker's tick loop once per entry of ``clock`` (the monotonic time of each tick)."""
    times = iter(clock)
    now = [0.0]
    monkeypatch.setattr(worker_module, "pipeline_tick", lambda: (0, 0))
    monkeypatch.setattr(worker_module, "patrol_runs_check", lambda: 0)
    monkeypatch.setattr(worker_module, "hazards_overdue_check", lambda: 0)
    monkeypatch.setattr(worker_module, "incident_tasks_check", check)
    monkeypatch.setattr(worker_module, "_drop_broken_connection", lambda: None)
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
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


def test_incident_tasks_are_checked_every_10_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[int] = []

    def check() -> int:
        called.append(1)
        return 0

    _run_ticks(monkeypatch, [float(second) for second in range(1, 25)], check)
    assert len(called) == 3  # at 0, 10 and 20 s


def test_a_failing_incident_check_is_counted_and_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def failing() -> int:
        calls.append(1)
        raise RuntimeError("database away")

    _run_ticks(monkeypatch, [float(second) for second in range(1, 15)], failing)
    assert len(calls) == 2
