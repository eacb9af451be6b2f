"""The hash chain: intact logs verify; every kind of tampering is found at the right entry."""

from __future__ import annotations

import datetime as dt

import pytest

from anwang.accounts.selectors import scope_for
from anwang.audit.models import AuditChainHead, AuditEvent
from anwang.audit.selectors import (
    AuditFilters,
    audit_chain_verify,
    audit_event_get,
    audit_event_list,
    audit_visible_community_ids,
)
from anwang.audit.tests.helpers import forge_append, raw, write_entries

pytestmark = pytest.mark.django_db


def test_empty_log_verifies():
    report = audit_chain_verify()
    assert report.ok
    assert report.checked == 0


def test_intact_chain_verifies_every_entry():
    write_entries(6)
    report = audit_chain_verify()
    assert report.ok, report.reason
    assert report.checked == 6
    assert report.head_seq == 6
    assert report.head_hash == AuditEvent.objects.get(seq=6).hash


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "resident.reveal"),
        ("actor_name", "somebody_else"),
        ("object_id", "999"),
        ("changes", '{"n": [0, 100]}'),
        ("community_id", 12345),
        ("at", "2020-01-01 00:00:00"),
    ],
)
def test_altered_field_is_found_at_its_entry(column, value):
    write_entries(5)
    raw(f"UPDATE audit_auditevent SET {column} = %s WHERE seq = 3", [value])  # noqa: S608
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_seq == 3
    assert report.problem == "altered"
    assert report.checked == 2


def test_rehashed_alteration_breaks_the_next_link():
    write_entries(5)
    raw("UPDATE audit_auditevent SET hash = %s WHERE seq = 3", ["a" * 64])
    report = audit_chain_verify()
    assert not report.ok
    # Entry 3's own hash no longer matches its contents.
    assert report.first_broken_seq == 3


def test_deleted_middle_entry_is_found():
    write_entries(5)
    raw("DELETE FROM audit_auditevent WHERE seq = 3")
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_seq == 3
    assert report.problem == "missing"


def test_forged_entry_with_a_bad_link_is_found():
    write_entries(4)
    seq = forge_append(well_formed=False)
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_seq == seq == 5
    assert report.problem == "unlinked"


def test_well_formed_forged_entry_is_found_by_the_head():
    write_entries(4)
    seq = forge_append(well_formed=True)
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_seq == seq == 5
    assert report.problem == "extra"


def test_entries_cut_off_the_end_are_found():
    write_entries(6)
    raw("DELETE FROM audit_auditevent WHERE seq >= 5")
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_seq == 5
    assert report.problem == "truncated"


def test_altered_head_is_found():
    write_entries(3)
    AuditChainHead.objects.filter(pk=1).update(hash="b" * 64)
    report = audit_chain_verify()
    assert not report.ok
    assert report.problem == "head"
    assert report.first_broken_seq == 3


def test_new_entries_after_verification_keep_the_chain_intact():
    write_entries(3)
    assert audit_chain_verify().ok
    write_entries(2)
    report = audit_chain_verify()
    assert report.ok
    assert report.checked == 5


# --- reading, scoped -----------------------------------------------------------------------


def test_auditor_reads_only_their_communities(world):
    a_event = write_entries(1, community_id=world.a.community.pk)[0]
    b_event = write_entries(1, community_id=world.b.community.pk)[0]
    global_event = write_entries(1)[0]
    scope = scope_for(world.user("auditor"))
    seen = set(audit_event_list(scope).values_list("pk", flat=True))
    assert seen == {a_event.pk}
    assert audit_event_get(scope, a_event.pk) == a_event
    from django.http import Http404

    with pytest.raises(Http404):
        audit_event_get(scope, b_event.pk)
    with pytest.raises(Http404):
        audit_event_get(scope, global_event.pk)


def test_platform_admin_reads_everything(world):
    events = write_entries(2, community_id=world.b.community.pk) + write_entries(1)
    scope = scope_for(world.platform_admin)
    assert audit_visible_community_ids(scope) is None
    assert set(audit_event_list(scope).values_list("pk", flat=True)) == {e.pk for e in events}


def test_staff_without_the_permission_may_not_read(world):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    event = write_entries(1, community_id=world.a.community.pk)[0]
    scope = scope_for(world.user("community_admin"))
    with pytest.raises(PermissionDenied):
        audit_event_list(scope)
    with pytest.raises(Http404):
        audit_event_get(scope, event.pk)


def test_filters_narrow_the_log(world):
    community = world.a.community.pk
    write_entries(2, community_id=community, action="resident.update")
    write_entries(1, community_id=community, action="resident.reveal", object_type="people.x")
    write_entries(3, community_id=community, action="zone.create")
    scope = scope_for(world.user("auditor"))
    assert audit_event_list(scope, AuditFilters(action="resident.")).count() == 3
    assert audit_event_list(scope, AuditFilters(object_type="people.x")).count() == 1
    AuditEvent.objects.filter(action="zone.create").update(
        at=dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.UTC)
    )
    # 2025-03-01 01:00 UTC is 09:00 in Shanghai, inside the local day 2025-03-01.
    on_day = AuditFilters(date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 3, 1))
    assert audit_event_list(scope, on_day).count() == 3
    before = AuditFilters(date_to=dt.date(2025, 2, 28))
    assert audit_event_list(scope, before).count() == 0
