"""Tests of the hazard model and its choices."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from anwang.hazards.choices import OPEN_STATUSES, HazardSeverity, HazardStatus, deadline_for
from anwang.hazards.models import Hazard, HazardStep


def test_deadlines_shrink_with_severity() -> None:
    """A more serious hazard gets less time to be rectified."""
    order = [
        HazardSeverity.LOW,
        HazardSeverity.MEDIUM,
        HazardSeverity.HIGH,
        HazardSeverity.CRITICAL,
    ]
    spans = [deadline_for(s) for s in order]
    assert spans == sorted(spans, reverse=True)
    assert deadline_for("critical") == timedelta(hours=4)


def test_closed_and_rejected_are_not_open() -> None:
    """Only unfinished reports may be followed instead of duplicated."""
    assert HazardStatus.CLOSED not in OPEN_STATUSES
    assert HazardStatus.REJECTED not in OPEN_STATUSES
    assert HazardStatus.REPORTED in OPEN_STATUSES


@pytest.mark.django_db
def test_a_report_keeps_its_steps_and_a_unique_token(world: Any) -> None:
    """Each report gets its own public token; its steps come back in time order."""
    now = timezone.now()
    first = Hazard.objects.create(
        community=world.a.community,
        reported_at=now,
        category="broken_light",
        reporter=world.user("resident"),
        anonymous=True,
        latitude=31.2,
        longitude=121.4,
    )
    second = Hazard.objects.create(community=world.a.community, reported_at=now, category="other")
    assert first.public_token
    assert first.public_token != second.public_token
    HazardStep.objects.create(hazard=first, at=now + timedelta(minutes=5), status="triaged")
    HazardStep.objects.create(hazard=first, at=now, status="reported")
    assert [s.status for s in first.steps.all()] == ["reported", "triaged"]
    assert str(first) == f"Broken light #{first.pk}"
