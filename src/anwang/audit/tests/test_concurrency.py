"""Concurrent writers never fork the chain: every entry gets its own seq and links to the one
before it, on a SQLite file (the embedded default) and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from anwang.audit.tests.concurrent_writers import run

THREADS, PER_THREAD = 4, 25


def test_concurrent_writers_on_a_sqlite_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ANWANG_HOME"] = str(tmp_path)
    result = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [
            sys.executable,
            "-m",
            "anwang.audit.tests.concurrent_writers",
            str(THREADS),
            str(PER_THREAD),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["ok"], report["reason"]
    assert report["checked"] == THREADS * PER_THREAD
    assert report["contiguous"]
    assert report["distinct_objects"] == THREADS * PER_THREAD


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL (DATABASE_URL=postgres://...)")
    report = run(THREADS, PER_THREAD)
    assert report["errors"] == []
    assert report["ok"], report["reason"]
    assert report["checked"] == THREADS * PER_THREAD
    assert report["contiguous"]
