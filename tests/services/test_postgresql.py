"""PostgreSQL: when DATABASE_URL points at it, the suite really runs on it."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection

from tests.services.conftest import require_service

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRESQL = DATABASE_URL.startswith(("postgres://", "postgresql://"))

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="DATABASE_URL does not point at PostgreSQL (scripts/test runs the suite twice)",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def _postgresql_answers() -> None:
    """Module-scoped, so it runs before pytest-django tries to create the test database and
    an unreachable server is reported as such (a skip locally, a failure in CI)."""
    url = urlsplit(DATABASE_URL)
    require_service("PostgreSQL", url.hostname or "127.0.0.1", url.port or 5432)


def test_the_suite_runs_on_postgresql() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
        cursor.execute("SHOW server_encoding")
        (encoding,) = cursor.fetchone()
    assert version.startswith("PostgreSQL")
    assert encoding == "UTF8", "Chinese names need a UTF-8 database"
    assert connection.settings_dict["NAME"].startswith("test_"), "not the test database"


def test_chinese_text_and_json_round_trip() -> None:
    from anwang.places.models import Community, Region

    region = Region.objects.create(name="东湖街道", code="pg-check")
    community = Community.objects.create(
        region=region, name="翠苑社区", slug="pg-check", boundary={"type": "Polygon"}
    )
    stored = Community.objects.get(boundary__type="Polygon")
    assert stored == community
    assert stored.name == "翠苑社区"


def test_health_reports_postgresql(client: Any) -> None:
    body = client.get("/healthz").json()
    assert body["database"] == "ok"
    assert body["database_vendor"] == "postgresql"
