"""Writing audit entries: sequence, links, channel and actor."""

from __future__ import annotations

import pytest

from anwang.audit.models import AuditChainHead
from anwang.audit.services import GENESIS_HASH, audit_record, entry_fields, entry_hash
from anwang.core.context import RequestMeta, acting_as

pytestmark = pytest.mark.django_db


def test_entries_link_and_move_the_head(world):
    first = audit_record(actor=world.user("auditor"), action="probe.one", obj=world.a.zone)
    second = audit_record(actor=None, action="probe.two")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.community_id == world.a.community.pk
    assert first.object_type == "places.zone"
    assert first.actor_name == "a_auditor"
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (2, second.hash)
    first.refresh_from_db()
    assert entry_hash(entry_fields(first)) == first.hash


def test_channel_and_address_come_from_the_context():
    with acting_as(RequestMeta(client_address="10.0.0.7", channel="cli")):
        event = audit_record(actor=None, action="probe.cli")
    assert event.channel == "cli"
    assert event.client_address == "10.0.0.7"


def test_entry_rolls_back_with_the_change():
    from django.db import transaction

    def failing_change() -> None:
        with transaction.atomic():
            audit_record(actor=None, action="probe.lost")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_change()
    assert AuditChainHead.objects.get(pk=1).seq == 0


def test_deleting_an_account_keeps_the_chain_valid(world):
    from anwang.audit.selectors import audit_chain_verify
    from anwang.audit.services import audit_record

    guard = world.user("guard")
    audit_record(actor=guard, action="test.write", obj=world.a.zone)
    guard.delete()
    report = audit_chain_verify()
    assert report.ok, report.reason


def test_a_batch_moves_the_head_once_and_the_chain_verifies(db, django_assert_max_num_queries):
    from django.db import transaction

    from anwang.audit.models import AuditChainHead, AuditEvent
    from anwang.audit.selectors import audit_chain_verify
    from anwang.audit.services import audit_batch, audit_record

    audit_record(actor=None, action="before.batch", object_type="test")
    with audit_batch():
        for number in range(20):
            audit_record(actor=None, action="in.batch", object_type="test", object_id=number)
        # Inside the batch the head row has not moved yet; the entries are chained in memory.
        assert AuditChainHead.objects.get().seq == 1
    assert AuditChainHead.objects.get().seq == 21
    audit_record(actor=None, action="after.batch", object_type="test")
    assert AuditEvent.objects.count() == 22
    assert audit_chain_verify().ok
    with transaction.atomic(), audit_batch(), audit_batch():  # nesting joins the outer batch
        audit_record(actor=None, action="nested", object_type="test")
    assert audit_chain_verify().ok


def test_a_batch_with_an_entry_rolled_back_alone_fails_whole(db):
    from django.db import transaction

    from anwang.audit.models import AuditChainHead, AuditEvent
    from anwang.audit.selectors import audit_chain_verify
    from anwang.audit.services import audit_batch, audit_record

    def write_with_a_gap() -> None:
        with audit_batch():
            audit_record(actor=None, action="first", object_type="test")
            try:
                with transaction.atomic():
                    audit_record(actor=None, action="rolled.back", object_type="test")
                    raise ValueError
            except ValueError:
                pass
            audit_record(actor=None, action="third", object_type="test")

    audit_record(actor=None, action="kept", object_type="test")
    with pytest.raises(RuntimeError):
        write_with_a_gap()
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["kept"]
    assert AuditChainHead.objects.get().seq == 1
    assert audit_chain_verify().ok
