"""Running the ``anwang`` command in a child process, as a person would from a shell."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def cli_env(home: Path | None = None, **overrides: str | None) -> dict[str, str]:
    """The test environment for a child process: SQLite in ``home`` unless a
    ``DATABASE_URL`` is given; ``None`` removes a variable."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    if home is not None:
        env["ANWANG_HOME"] = str(home)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m anwang ARGS`` to completion."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module, test arguments
        [sys.executable, "-m", "anwang", *args],
        env=dict(env or cli_env()),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Running:
    """A long-running ``anwang`` child and everything it has printed so far."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """Read output until a line matches ``pattern``; fail with the output if it never does."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        for seen in self.lines:
            if found := regex.search(seen):
                return found
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if found := regex.search(line):
                return found
        self.stop()
        raise AssertionError(f"no line matched {pattern!r}; output:\n" + "".join(self.lines))

    def stop(self, timeout: float = 30) -> int:
        """Kill the child if it still runs (cleanup only)."""
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        """Everything printed, after the child ended."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)


def start_cli(*args: str, env: Mapping[str, str]) -> Running:
    """Start ``python -m anwang ARGS`` with stdout and stderr merged and read in the
    background."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "anwang", *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    running = Running(process)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running._queue.put(line)
        running._queue.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return running
