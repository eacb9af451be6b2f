"""Fixtures of the training tests: English messages, logged-in clients and small builders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from anwang.training import services
from anwang.training.models import Course, TrainingSession


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text, also once zh-hans is translated."""
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(world: Any) -> Any:
    """A logged-in test client that asks for English pages."""

    def make(role: str, side: str = "a") -> Any:
        client = world.client_for(role, side)
        client.cookies["anwang_language"] = "en"
        return client

    return make


def make_course(
    side: Any,
    title: str = "消防安全",
    *,
    topic: str = "fire_safety",
    validity_months: int | None = 12,
    roles: tuple[str, ...] = ("guard",),
) -> Course:
    """A course of ``side``'s community, added by the system."""
    return services.course_create(
        actor=None,
        community=side.community,
        title=title,
        topic=topic,
        validity_months=validity_months,
        required_for_roles=roles,
    )


def make_session(course: Course, **extra: Any) -> TrainingSession:
    """A session of ``course`` that started an hour ago and lasts two hours."""
    start = timezone.now() - dt.timedelta(hours=1)
    values: dict[str, Any] = {"starts_at": start, "ends_at": start + dt.timedelta(hours=2)}
    return services.session_create(actor=None, course=course, **(values | extra))
