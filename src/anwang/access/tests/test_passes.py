"""Visitor passes: signing and verification (valid, expired, not yet valid, revoked, forged,
replayed beyond its entries, concurrent admissions), who may register, the barrier camera's
plate and the gate log."""

from __future__ import annotations

import base64
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.http import Http404
from django.utils import timezone, translation

from anwang.access import passes
from anwang.access.choices import AccessPointKind, AccessResult, GateEntryKind
from anwang.access.models import AccessEvent, AccessPoint, GateLogEntry, VisitorPass
from anwang.accounts.models import User
from anwang.core.crypto import blind_index
from anwang.core.errors import ConflictError, ServiceError
from anwang.places.models import Household

NOW = dt.datetime(2025, 5, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages asserted on are the English source text."""
    with translation.override("en"):
        yield


def gate_of(side: Any, name: str = "北门 翠苑") -> AccessPoint:
    """A community gate of one side of the world."""
    return AccessPoint.objects.create(
        community=side.community, name=name, kind=AccessPointKind.GATE
    )


def make_pass(world: Any, **overrides: Any) -> VisitorPass:
    """A pass registered by community a's resident for their household."""
    values: dict[str, Any] = {
        "actor": world.user("resident"),
        "household": world.a.household,
        "visitor_name": "王五 翠苑",
        "visitor_phone": "13900002222",
        "valid_from": NOW - dt.timedelta(minutes=30),
        "valid_until": NOW + dt.timedelta(hours=4),
        "max_entries": 2,
        "plate": "",
        "now": NOW,
    }
    values.update(overrides)
    return passes.pass_create(**values)


# --------------------------------------------------------------------------- tokens


@pytest.mark.django_db
def test_a_token_is_short_and_verifies_offline_within_its_window(world: Any) -> None:
    visitor_pass = make_pass(world)
    token = passes.pass_token(visitor_pass)
    assert token.startswith("AWP1.")
    assert len(token) < 140
    check = passes.pass_verify_offline(token, now=NOW)
    assert check.ok
    assert check.reason == "ok"
    assert check.claims is not None
    assert check.claims.pass_id == visitor_pass.pk
    assert check.claims.community_id == world.a.community.pk
    assert check.claims.nonce == visitor_pass.nonce
    assert check.claims.valid_until == visitor_pass.valid_until


@pytest.mark.django_db
def test_offline_check_refuses_outside_the_window(world: Any) -> None:
    token = passes.pass_token(make_pass(world))
    early = passes.pass_verify_offline(token, now=NOW - dt.timedelta(hours=1))
    late = passes.pass_verify_offline(token, now=NOW + dt.timedelta(hours=5))
    assert (early.ok, early.reason) == (False, "not_yet_valid")
    assert (late.ok, late.reason) == (False, "expired")


@pytest.mark.django_db
def test_a_tampered_payload_is_forged(world: Any) -> None:
    visitor_pass = make_pass(world)
    token = passes.pass_token(visitor_pass)
    raw = bytearray(base64.urlsafe_b64decode(token[5:] + "=" * (-len(token[5:]) % 4)))
    raw[-64 - 1] ^= 0x01  # the last byte of valid_until: a longer window
    tampered = "AWP1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert passes.pass_verify_offline(tampered, now=NOW).reason == "forged"


@pytest.mark.django_db
def test_a_token_signed_with_another_key_is_forged(world: Any) -> None:
    visitor_pass = make_pass(world)
    other = passes.pass_token(visitor_pass, key=Ed25519PrivateKey.generate())
    assert passes.pass_verify_offline(other, now=NOW).reason == "forged"
    # ...and a device verifying with the published key gets the same answer.
    genuine = passes.pass_token(visitor_pass)
    assert passes.pass_verify_offline(genuine, now=NOW, key=passes.public_key()).ok


@pytest.mark.parametrize("token", ["", "hello", "AWP1.", "AWP1.!!!!", "AWP1." + "A" * 40])
def test_malformed_tokens(token: str, settings: Any, tmp_path: Any) -> None:
    settings.HOME = tmp_path
    assert passes.pass_verify_offline(token, now=NOW).reason == "malformed"


def test_the_key_is_generated_once_into_the_data_folder(settings: Any, tmp_path: Any) -> None:
    settings.HOME = tmp_path
    first = passes.public_key_pem()
    assert (tmp_path / "pass-signing.key").stat().st_mode & 0o777 == 0o600
    assert passes.public_key_pem() == first
    jwk = passes.public_key_jwk()
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32


# --------------------------------------------------------------------------- online admission


@pytest.mark.django_db
def test_admission_uses_entries_and_refuses_a_replay_beyond_them(world: Any) -> None:
    visitor_pass = make_pass(world, max_entries=2)
    point = gate_of(world.a)
    token = passes.pass_token(visitor_pass)
    guard = world.user("guard")
    first = passes.pass_admit(token, access_point=point, actor=guard, now=NOW)
    second = passes.pass_admit(token, access_point=point, actor=guard, now=NOW)
    third = passes.pass_admit(token, access_point=point, actor=guard, now=NOW)
    assert (first.ok, first.entries_left) == (True, 1)
    assert (second.ok, second.entries_left) == (True, 0)
    assert (third.ok, third.reason, third.entries_left) == (False, "used_up", 0)
    visitor_pass.refresh_from_db()
    assert visitor_pass.entries_used == 2
    events = list(AccessEvent.objects.filter(visitor_pass=visitor_pass).order_by("id"))
    assert [(e.result, e.reason, e.method) for e in events] == [
        (AccessResult.GRANTED, "ok", "pass"),
        (AccessResult.GRANTED, "ok", "pass"),
        (AccessResult.DENIED, "used_up", "pass"),
    ]
    # The guard's admissions are in the gate log; the refusal is only an access record.
    logged = GateLogEntry.objects.filter(visitor_pass=visitor_pass)
    assert logged.count() == 2
    assert {entry.kind for entry in logged} == {GateEntryKind.PASS}


@pytest.mark.django_db
def test_a_revoked_pass_is_refused_online_though_genuine(world: Any) -> None:
    visitor_pass = make_pass(world)
    token = passes.pass_token(visitor_pass)
    passes.pass_revoke(actor=world.user("resident"), visitor_pass=visitor_pass, now=NOW)
    assert passes.pass_verify_offline(token, now=NOW).ok  # a device alone cannot know
    check = passes.pass_admit(token, access_point=gate_of(world.a), now=NOW)
    assert (check.ok, check.reason) == (False, "revoked")
    assert AccessEvent.objects.get(visitor_pass=visitor_pass).result == AccessResult.DENIED
    with pytest.raises(ConflictError):
        passes.pass_revoke(actor=world.user("resident"), visitor_pass=visitor_pass, now=NOW)


@pytest.mark.django_db
def test_expired_and_forged_passes_are_refused_and_recorded(world: Any) -> None:
    visitor_pass = make_pass(world)
    point = gate_of(world.a)
    token = passes.pass_token(visitor_pass)
    late = passes.pass_admit(token, access_point=point, now=NOW + dt.timedelta(days=1))
    assert (late.ok, late.reason, late.visitor_pass) == (False, "expired", visitor_pass)
    forged = passes.pass_token(visitor_pass, key=Ed25519PrivateKey.generate())
    refused = passes.pass_admit(forged, access_point=point, now=NOW)
    assert (refused.ok, refused.reason, refused.visitor_pass) == (False, "forged", None)
    assert refused.event is not None
    assert refused.event.result == AccessResult.DENIED
    visitor_pass.refresh_from_db()
    assert visitor_pass.entries_used == 0


@pytest.mark.django_db
def test_a_pass_opens_only_its_own_community(world: Any) -> None:
    token = passes.pass_token(make_pass(world))
    check = passes.pass_admit(token, access_point=gate_of(world.b, "南门"), now=NOW)
    assert (check.ok, check.reason) == (False, "wrong_community")


@pytest.mark.django_db
def test_an_old_nonce_is_refused(world: Any) -> None:
    visitor_pass = make_pass(world)
    token = passes.pass_token(visitor_pass)
    VisitorPass.objects.filter(pk=visitor_pass.pk).update(nonce="0" * 24)
    check = passes.pass_admit(token, access_point=gate_of(world.a), now=NOW)
    assert (check.ok, check.reason) == (False, "revoked")


@pytest.mark.django_db
def test_only_pass_checkers_admit(world: Any) -> None:
    token = passes.pass_token(make_pass(world))
    point = gate_of(world.a)
    with pytest.raises(Http404):
        passes.pass_admit(token, access_point=point, actor=world.user("guard", "b"), now=NOW)
    with pytest.raises((Http404, Exception)):
        passes.pass_admit(token, access_point=point, actor=world.user("resident"), now=NOW)
    assert not AccessEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_admissions_cannot_exceed_the_entries(world: Any) -> None:
    visitor_pass = make_pass(world, max_entries=3)
    point = gate_of(world.a)
    token = passes.pass_token(visitor_pass)
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6 if connection.vendor == "postgresql" else 1)

    def scan() -> None:
        try:
            if connection.vendor == "postgresql":
                barrier.wait(timeout=10)
            results.append(passes.pass_admit(token, access_point=point, now=NOW).ok)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=scan) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        # SQLite serialises writers; the conditional UPDATE is still what stops the fourth.
        for _ in range(6):
            results.append(passes.pass_admit(token, access_point=point, now=NOW).ok)
    assert not errors
    assert sorted(results) == [False, False, False, True, True, True]
    visitor_pass.refresh_from_db()
    assert visitor_pass.entries_used == 3


# --------------------------------------------------------------------------- registering


@pytest.mark.django_db
def test_registration_cleans_and_encrypts(world: Any) -> None:
    visitor_pass = make_pass(world, visitor_phone="+86 139-0000-2222", plate="浙a·123 45")
    visitor_pass.refresh_from_db()
    assert visitor_pass.visitor_phone == "13900002222"
    assert visitor_pass.plate == "浙A12345"
    assert visitor_pass.plate_index == blind_index("浙A12345")
    assert visitor_pass.host == world.user("resident")
    assert len(visitor_pass.nonce) == 24
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT visitor_phone, plate FROM access_visitorpass WHERE id = %s",
            [visitor_pass.pk],
        )
        stored = cursor.fetchone()
    assert "13900002222" not in stored[0]
    assert "12345" not in stored[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"visitor_name": ""}, "visitor_name"),
        ({"visitor_phone": "12345"}, "visitor_phone"),
        ({"visitor_phone": ""}, "visitor_phone"),
        ({"valid_until": NOW - dt.timedelta(hours=1)}, "valid_until"),
        ({"valid_until": NOW + dt.timedelta(days=8)}, "valid_until"),
        ({"valid_from": NOW - dt.timedelta(days=1)}, "valid_from"),
        (
            {"valid_from": NOW + dt.timedelta(days=40), "valid_until": NOW + dt.timedelta(days=41)},
            "valid_from",
        ),
        ({"valid_from": NOW.replace(tzinfo=None)}, "valid_from"),
        ({"max_entries": 0}, "max_entries"),
        ({"max_entries": 21}, "max_entries"),
        ({"plate": "!!"}, "plate"),
    ],
)
def test_registration_refuses_bad_input(world: Any, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ServiceError) as caught:
        make_pass(world, **overrides)
    assert caught.value.field == field


@pytest.mark.django_db
def test_only_residents_of_the_household_or_access_managers_register(world: Any) -> None:
    other = Household.objects.create(
        community=world.a.community, unit=world.a.unit, floor=4, number="401"
    )
    with pytest.raises(Http404):
        make_pass(world, household=other)
    with pytest.raises(Http404):
        make_pass(world, actor=world.user("resident", "b"))
    stranger = User.objects.create(username="stranger")
    with pytest.raises(Http404):
        make_pass(world, actor=stranger)
    # An access manager registers for a resident who phoned.
    assert make_pass(world, actor=world.user("community_admin"), household=other).pk


@pytest.mark.django_db
def test_residents_see_their_households_visitors_and_entries(world: Any) -> None:
    from anwang.accounts.selectors import scope_for

    visitor_pass = make_pass(world)
    passes.pass_admit(passes.pass_token(visitor_pass), access_point=gate_of(world.a), now=NOW)
    mine = list(passes.my_passes(scope_for(world.user("resident"))))
    assert mine == [visitor_pass]
    assert [e.result for e in passes.pass_entries(mine[0])] == [AccessResult.GRANTED]
    assert list(passes.my_passes(scope_for(world.user("resident", "b")))) == []
    with pytest.raises(Http404):
        passes.pass_get(scope_for(world.user("resident", "b")), visitor_pass.pk)
    assert passes.pass_get(scope_for(world.user("guard")), visitor_pass.pk) == visitor_pass


# --------------------------------------------------------------------------- plates, gate log


@pytest.mark.django_db
def test_a_registered_plate_opens_the_barrier_within_the_window(world: Any) -> None:
    visitor_pass = make_pass(world, plate="浙A12345", max_entries=1)
    barrier = AccessPoint.objects.create(
        community=world.a.community, name="车库道闸", kind=AccessPointKind.GARAGE_BARRIER
    )
    index = blind_index("浙A12345")
    assert passes.pass_admit_plate(blind_index("浙B99999"), barrier, NOW) is None
    early = passes.pass_admit_plate(index, barrier, NOW - dt.timedelta(hours=2))
    assert early is not None
    assert (early.ok, early.reason) == (False, "not_yet_valid")
    admitted = passes.pass_admit_plate(index, barrier, NOW)
    assert admitted is not None
    assert admitted.ok
    assert admitted.visitor_pass == visitor_pass
    again = passes.pass_admit_plate(index, barrier, NOW)
    assert again is not None
    assert (again.ok, again.reason) == (False, "used_up")
    other = passes.pass_admit_plate(index, gate_of(world.b, "南门"), NOW)
    assert other is None


@pytest.mark.django_db
def test_the_gate_log_records_walk_ins_and_refusals(world: Any) -> None:
    guard = world.user("guard")
    point = gate_of(world.a)
    entry = passes.gate_log_add(
        actor=guard,
        community_id=world.a.community.pk,
        kind=GateEntryKind.WALK_IN,
        access_point=point,
        visitor_name="赵六",
        visitor_phone="13900003333",
        plate="浙A 54321",
        household=world.a.household,
        now=NOW,
    )
    assert (entry.guard, entry.plate) == (guard, "浙A54321")
    event = AccessEvent.objects.get()
    assert (event.result, event.presented_index) == ("granted", blind_index("浙A54321"))
    passes.gate_log_add(
        actor=guard,
        community_id=world.a.community.pk,
        kind=GateEntryKind.REFUSED,
        visitor_name="钱七",
        now=NOW,
    )
    assert AccessEvent.objects.filter(result="denied").count() == 1
    with pytest.raises(Http404):
        passes.gate_log_add(
            actor=world.user("resident"),
            community_id=world.a.community.pk,
            kind=GateEntryKind.WALK_IN,
            visitor_name="x",
        )
    with pytest.raises(ServiceError):
        passes.gate_log_add(
            actor=guard,
            community_id=world.a.community.pk,
            kind=GateEntryKind.WALK_IN,
            household=world.b.household,
            visitor_name="x",
        )
    from anwang.accounts.selectors import scope_for

    assert len(passes.gate_log_list(scope_for(guard))) == 2
    assert len(passes.gate_log_list(scope_for(world.user("guard", "b")))) == 0


def test_statuses() -> None:
    visitor_pass = VisitorPass(
        valid_from=NOW, valid_until=NOW + dt.timedelta(hours=1), max_entries=1, entries_used=0
    )
    assert passes.pass_status(visitor_pass, NOW) == "active"
    assert passes.pass_status(visitor_pass, NOW - dt.timedelta(minutes=1)) == "upcoming"
    assert passes.pass_status(visitor_pass, NOW + dt.timedelta(hours=2)) == "expired"
    visitor_pass.entries_used = 1
    assert passes.pass_status(visitor_pass, NOW) == "used_up"
    visitor_pass.revoked_at = timezone.now()
    assert passes.pass_status(visitor_pass, NOW) == "revoked"
