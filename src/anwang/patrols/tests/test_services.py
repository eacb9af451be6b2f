"""Checkpoint and route services: validation, permissions, audit, and code verification."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from anwang.accounts.selectors import scope_for
from anwang.audit.models import AuditEvent
from anwang.core.errors import ConflictError, ServiceError
from anwang.devices.models import Device
from anwang.patrols import codes, services
from anwang.patrols.models import Checkpoint, RouteStop
from anwang.patrols.services import StopSpec
from anwang.patrols.tests.conftest import POINT, make_checkpoint

pytestmark = pytest.mark.django_db


def as_user(world: Any, role: str, side: str = "a") -> dict[str, Any]:
    user = world.user(role, side)
    return {"actor": user, "scope": scope_for(user)}


def test_create_at_each_placement(world):
    admin = as_user(world, "community_admin")
    a = world.a
    door = Device.objects.create(
        community=a.community,
        name="北门门禁",
        kind="access_reader",
        protocol="anwang",
        source_id="d1",
    )
    at_zone = services.checkpoint_create(
        **admin, community=a.community, name="z", placement="zone", zone=a.zone, point=None
    )
    at_building = services.checkpoint_create(
        **admin, community=a.community, name="b", placement="building", building=a.building
    )
    at_door = services.checkpoint_create(
        **admin, community=a.community, name="d", placement="door", device=door
    )
    at_point = services.checkpoint_create(
        **admin, community=a.community, name="p", placement="point", point=POINT, nfc_tag_id="04:A2"
    )
    assert at_zone.zone == a.zone
    assert at_zone.position() is not None
    assert at_building.building == a.building
    assert at_building.position() is not None
    assert at_door.device == door
    assert at_point.position() == (114.3005, 30.5005)
    assert at_point.code_version == 1
    assert len(at_point.code_salt) == 32
    assert AuditEvent.objects.filter(action="checkpoint.create").count() == 4


def test_placement_is_validated(world):
    a, b = world.a, world.b
    with pytest.raises(ServiceError) as error:
        make_checkpoint(a, placement="zone")
    assert error.value.field == "zone"
    with pytest.raises(ServiceError) as error:
        make_checkpoint(a, placement="zone", zone=b.zone)
    assert "this community" in str(error.value.message)
    with pytest.raises(ServiceError) as error:
        make_checkpoint(a, placement="point", point=None)
    assert error.value.field == "point"
    with pytest.raises(ServiceError) as error:
        make_checkpoint(a, point={"type": "Point", "coordinates": [200, 30]})
    assert error.value.field == "point"
    with pytest.raises(ServiceError):
        make_checkpoint(a, point={"type": "Polygon", "coordinates": []})
    camera = Device.objects.create(
        community=a.community, name="cam", kind="camera", protocol="frigate", source_id="c"
    )
    with pytest.raises(ServiceError) as error:
        make_checkpoint(a, placement="door", device=camera)
    assert error.value.field == "device"


def test_names_and_nfc_tags_are_unique_among_checkpoints_in_use(world):
    first = make_checkpoint(world.a, nfc_tag_id="tag-1")
    with pytest.raises(ServiceError) as error:
        make_checkpoint(world.a)
    assert error.value.field == "name"
    with pytest.raises(ServiceError) as error:
        make_checkpoint(world.a, name="other", nfc_tag_id="tag-1")
    assert error.value.field == "nfc_tag_id"
    make_checkpoint(world.b)  # another community may use the same name
    services.checkpoint_retire(actor=None, checkpoint=first)
    make_checkpoint(world.a, nfc_tag_id="tag-1")


def test_permissions(world):
    with pytest.raises(PermissionDenied):
        make_checkpoint_as(world, "guard", "a")
    with pytest.raises(Http404):
        make_checkpoint_as(world, "community_admin", "b")
    with pytest.raises(Http404):
        make_checkpoint_as(world, "grid_worker", "a")
    assert make_checkpoint_as(world, "supervisor", "a").pk


def make_checkpoint_as(world: Any, role: str, side: str) -> Checkpoint:
    return services.checkpoint_create(
        **as_user(world, role, side),
        community=world.a.community,
        name="x",
        placement="point",
        point=POINT,
    )


def test_update_keeps_the_code_and_refuses_retired(world):
    checkpoint = make_checkpoint(world.a)
    code = checkpoint.code
    services.checkpoint_update(
        actor=None,
        checkpoint=checkpoint,
        name="东门岗",
        placement="zone",
        zone=world.a.zone,
        point=None,
    )
    checkpoint.refresh_from_db()
    assert checkpoint.name == "东门岗"
    assert checkpoint.zone == world.a.zone
    assert checkpoint.point is None
    assert checkpoint.code == code
    services.checkpoint_retire(actor=None, checkpoint=checkpoint)
    with pytest.raises(ConflictError):
        services.checkpoint_update(actor=None, checkpoint=checkpoint, name="again")


def verify(world: Any, code: str, side: str = "a", role: str = "guard") -> Checkpoint:
    return services.checkpoint_code_verify(
        **as_user(world, role, side), community=getattr(world, side).community, code=code
    )


def test_verify_valid_code_typed_or_scanned(world):
    checkpoint = make_checkpoint(world.a)
    assert verify(world, checkpoint.code) == checkpoint
    assert verify(world, checkpoint.code.lower().replace("-", " ")) == checkpoint


def rejection(world: Any, code: str, side: str = "a") -> str:
    with pytest.raises(ServiceError) as error:
        verify(world, code, side)
    assert error.value.field == "code"
    return error.value.code


def test_verify_rejections(world):
    checkpoint = make_checkpoint(world.a)
    good = checkpoint.code
    assert rejection(world, "not a code") == "malformed"
    # A typing mistake is caught by the check character, not reported as forged.
    clean = codes.normalise(good)
    typo = clean[:3] + ("A" if clean[3] != "A" else "B") + clean[4:]
    assert rejection(world, typo) == "malformed"
    # Signed with the right layout but the wrong key (or the salt of another database).
    forged = codes.encode(
        community_id=world.a.community.pk, checkpoint_id=checkpoint.pk, version=1, salt="guess"
    )
    assert rejection(world, forged) == "forged"
    unknown = codes.encode(
        community_id=world.a.community.pk, checkpoint_id=999999, version=1, salt="x"
    )
    assert rejection(world, unknown) == "forged"
    future = codes.encode(
        community_id=world.a.community.pk,
        checkpoint_id=checkpoint.pk,
        version=5,
        salt=checkpoint.code_salt,
    )
    assert rejection(world, future) == "forged"
    # A genuine code of community A, scanned by a guard of community B.
    assert rejection(world, good, side="b") == "other_community"


def test_reissue_invalidates_the_old_code(world):
    checkpoint = make_checkpoint(world.a)
    old = checkpoint.code
    services.checkpoint_code_reissue(**as_user(world, "community_admin"), checkpoint=checkpoint)
    assert checkpoint.code_version == 2
    assert checkpoint.code != old
    assert rejection(world, old) == "reissued"
    assert verify(world, checkpoint.code) == checkpoint
    assert AuditEvent.objects.filter(action="checkpoint.reissue_code").count() == 1
    with pytest.raises(PermissionDenied):
        services.checkpoint_code_reissue(**as_user(world, "guard"), checkpoint=checkpoint)


def test_retired_checkpoint_code_is_refused(world):
    checkpoint = make_checkpoint(world.a)
    services.checkpoint_retire(actor=None, checkpoint=checkpoint)
    assert rejection(world, checkpoint.code) == "retired"


def test_verify_needs_view_patrols(world):
    checkpoint = make_checkpoint(world.a)
    with pytest.raises(Http404):
        verify(world, checkpoint.code, role="resident")
    assert verify(world, checkpoint.code, role="volunteer") == checkpoint


def test_route_with_ordered_stops(world):
    gate = make_checkpoint(world.a, "北门")
    yard = make_checkpoint(world.a, "花园")
    admin = as_user(world, "community_admin")
    route = services.patrol_route_create(
        **admin,
        community=world.a.community,
        name="夜巡",
        stops=[StopSpec(gate, 30, 600), StopSpec(yard), StopSpec(gate, 30, 0)],
    )
    orders = list(
        route.stops.order_by("order").values_list("order", "checkpoint__name", "dwell_seconds")
    )
    assert orders == [(1, "北门", 30), (2, "花园", 60), (3, "北门", 30)]
    services.patrol_route_set_stops(**admin, route=route, stops=[StopSpec(yard), StopSpec(gate)])
    assert list(route.stops.order_by("order").values_list("checkpoint__name", flat=True)) == [
        "花园",
        "北门",
    ]
    entry = AuditEvent.objects.get(action="patrol_route.set_stops")
    assert len(entry.changes["stops"][0]) == 3
    assert len(entry.changes["stops"][1]) == 2


def test_route_stops_are_validated(world):
    route = services.patrol_route_create(actor=None, community=world.a.community, name="r")
    foreign = make_checkpoint(world.b)
    with pytest.raises(ServiceError):
        services.patrol_route_set_stops(actor=None, route=route, stops=[StopSpec(foreign)])
    mine = make_checkpoint(world.a)
    with pytest.raises(ServiceError) as error:
        services.patrol_route_set_stops(actor=None, route=route, stops=[StopSpec(mine, -1)])
    assert error.value.field == "dwell_seconds"
    services.checkpoint_retire(actor=None, checkpoint=mine)
    with pytest.raises(ServiceError):
        services.patrol_route_set_stops(actor=None, route=route, stops=[StopSpec(mine)])
    assert RouteStop.objects.count() == 0


def test_route_names_update_and_delete(world):
    route = services.patrol_route_create(actor=None, community=world.a.community, name="r")
    with pytest.raises(ServiceError):
        services.patrol_route_create(actor=None, community=world.a.community, name="r")
    services.patrol_route_update(**as_user(world, "community_admin"), route=route, is_active=False)
    route.refresh_from_db()
    assert route.is_active is False
    with pytest.raises(PermissionDenied):
        services.patrol_route_delete(**as_user(world, "guard"), route=route)
    checkpoint = make_checkpoint(world.a)
    services.patrol_route_set_stops(actor=None, route=route, stops=[StopSpec(checkpoint)])
    services.patrol_route_delete(**as_user(world, "community_admin"), route=route)
    assert Checkpoint.objects.filter(pk=checkpoint.pk).exists()
    assert AuditEvent.objects.filter(action="patrol_route.delete").count() == 1
