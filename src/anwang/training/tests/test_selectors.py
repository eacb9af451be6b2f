"""Training reads are scoped: people see their communities' training with the view permission
and their own attendance and certificates everywhere; the inbox and dashboard follow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from anwang.accounts.selectors import scope_for
from anwang.training import selectors, services
from anwang.training.tests.conftest import make_course, make_session

pytestmark = pytest.mark.django_db


def test_lists_are_scoped(world: Any) -> None:
    a_course = make_course(world.a)
    b_course = make_course(world.b)
    make_session(a_course)
    make_session(b_course)
    supervisor = scope_for(world.user("supervisor"))
    assert [c.pk for c in selectors.course_list(supervisor)] == [a_course.pk]
    assert selectors.session_list(supervisor).count() == 1
    platform = scope_for(world.platform_admin)
    assert selectors.course_list(platform).count() == 2
    guard = scope_for(world.user("guard"))
    assert selectors.course_list(guard).count() == 0
    with pytest.raises(Http404):
        selectors.course_get(guard, a_course.pk)
    with pytest.raises(Http404):
        selectors.course_get(supervisor, b_course.pk)


def test_own_certificates_without_permission(world: Any) -> None:
    course = make_course(world.a)
    guard = world.user("guard")
    own = services.certificate_issue(actor=None, course=course, user=guard)
    other = services.certificate_issue(actor=None, course=course, user=world.user("volunteer"))
    scope = scope_for(guard)
    assert [c.pk for c in selectors.certificate_list(scope)] == [own.pk]
    assert selectors.certificate_get(scope, own.pk) == own
    with pytest.raises(Http404):
        selectors.certificate_get(scope, other.pk)
    assert [c.pk for c in selectors.my_certificates(scope)] == [own.pk]
    admin_b = scope_for(world.user("community_admin", "b"))
    assert selectors.certificate_list(admin_b).count() == 0


def test_person_status_scoping(world: Any) -> None:
    make_course(world.a)
    guard = world.user("guard")
    community = world.a.community.pk
    _, _, rows = selectors.person_training_status(scope_for(guard), guard.pk, community)
    assert [row.state for row in rows] == ["missing"]
    with pytest.raises(Http404):
        selectors.person_training_status(scope_for(world.user("volunteer")), guard.pk, community)
    with pytest.raises(Http404):
        selectors.person_training_status(
            scope_for(world.user("community_admin", "b")), guard.pk, community
        )
    overview = selectors.staff_training_overview(
        scope_for(world.user("community_admin")), community
    )
    first = overview[0]
    assert first.user == guard
    assert first.missing == 1


def test_inbox_and_dashboard(world: Any) -> None:
    course = make_course(world.a, validity_months=1)
    guard = world.user("guard")
    issued = timezone.localdate() - dt.timedelta(days=20)
    services.certificate_issue(actor=None, course=course, user=guard, issued_on=issued)
    admin_items = selectors.certificate_work_items(scope_for(world.user("community_admin")))
    assert len(admin_items) == 1
    assert "expires soon" in admin_items[0].title
    own_items = selectors.certificate_work_items(scope_for(guard))
    assert own_items[0].title.startswith("Your")
    assert selectors.certificate_work_items(scope_for(world.user("community_admin", "b"))) == []
    stats = {
        s.key: s.value for s in selectors.training_stats(scope_for(world.user("supervisor")), None)
    }
    assert stats["training_expiring"] == 1
    assert selectors.training_stats(scope_for(world.user("resident")), None) == []
