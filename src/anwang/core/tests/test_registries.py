"""The inbox, navigation and dashboard registries."""

import datetime as dt

import pytest

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import scope_for
from anwang.core import inbox
from anwang.core.navigation import NavEntry, navigation_for, register_nav

pytestmark = pytest.mark.django_db


def test_my_work_merges_sources_most_urgent_first(world, monkeypatch):
    monkeypatch.setattr(inbox, "_sources", {})
    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    inbox.register_work_source(
        "late", "Late", lambda scope: [inbox.WorkItem("late", "b", "/b", priority=3, due_at=now)]
    )
    inbox.register_work_source(
        "urgent", "Urgent", lambda scope: [inbox.WorkItem("urgent", "a", "/a", priority=1)]
    )
    titles = [item.title for item in inbox.my_work(scope_for(world.user("guard")))]
    assert titles == ["a", "b"]


def test_navigation_follows_permissions(world):
    register_nav(
        NavEntry("audit-test", "Audit", "core:dashboard", permission=Permission.VIEW_AUDIT)
    )
    keys_for = {
        role: {item.key for item in navigation_for(scope_for(world.user(role)), "/")}
        for role in ("auditor", "guard")
    }
    assert "audit-test" in keys_for["auditor"]
    assert "audit-test" not in keys_for["guard"]
