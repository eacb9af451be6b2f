"""Conformance tests of Open311 GeoReport v2: every endpoint in JSON and XML, the spec's
filters and errors, the public reads never naming a reporter, and a round trip as an existing
Open311 client makes it."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from PIL import Image

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership
from anwang.accounts.services import api_token_create, api_token_revoke
from anwang.hazards import open311
from anwang.hazards.choices import HazardCategory, HazardStatus, StepAction
from anwang.hazards.models import Hazard, HazardStep
from anwang.places.models import Community, Region

BASE = "/open311/v2"
LAT, LON = 30.5005, 114.3005
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}

pytestmark = pytest.mark.django_db


# --- helpers ------------------------------------------------------------------------------------


def english_client(**options: Any) -> Client:
    """A client that asks for English, as the messages asserted on are the English source."""
    return Client(headers={"accept-language": "en"}, **options)


def get(path: str, fmt: str = "json", **params: Any) -> Any:
    """GET an Open311 path as an anonymous client; returns (status, parsed body)."""
    response = english_client().get(f"{BASE}/{path}.{fmt}", params)
    return response.status_code, parse(response, fmt)


def parse(response: Any, fmt: str) -> Any:
    """The body as JSON data or as an XML element, after checking the content type."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own output


def xml_records(root: ET.Element, item: str) -> list[dict[str, str | None]]:
    """The children of an XML list as dicts of their elements' text."""
    return [{child.tag: child.text for child in element} for element in root.findall(item)]


def errors_of(status: int, body: Any, fmt: str) -> list[dict[str, Any]]:
    """The spec's error list in either format, with its codes matching the HTTP status."""
    if fmt == "xml":
        assert body.tag == "errors"
        found = [
            {"code": int(e["code"] or 0), "description": e["description"]}
            for e in xml_records(body, "error")
        ]
    else:
        found = body
    assert found
    assert all(error["code"] == status and error["description"] for error in found)
    return found


def report(world: Any, **fields: Any) -> Hazard:
    """A hazard of community a made directly (the workflow services have their own tests)."""
    values: dict[str, Any] = {
        "community": world.a.community,
        "reported_at": timezone.now() - dt.timedelta(hours=1),
        "category": HazardCategory.BROKEN_LIGHT,
        "latitude": LAT,
        "longitude": LON,
        "reporter": world.user("resident"),
        "description": "The stairwell light is out",
    }
    values.update(fields)
    return Hazard.objects.create(**values)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def api_key(user: Any, community_id: int | None = None) -> str:
    _token, raw = api_token_create(actor=None, user=user, community_id=community_id)
    return raw


def post(fmt: str = "json", files: Any = None, **data: Any) -> Any:
    """POST a service request form-encoded (multipart when a file goes with it), with CSRF
    checks on as for any outside client."""
    client = english_client(enforce_csrf_checks=True)
    if files:
        response = client.post(f"{BASE}/requests.{fmt}", {**data, **files})
    else:
        from urllib.parse import urlencode

        response = client.post(
            f"{BASE}/requests.{fmt}",
            urlencode(data),
            content_type="application/x-www-form-urlencoded; charset=utf-8",
        )
    return response.status_code, parse(response, fmt)


# --- services -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_list_has_one_service_per_category(world: Any, fmt: str) -> None:
    """Every hazard category is a realtime service without metadata, code as a string."""
    status, body = get("services", fmt, jurisdiction_id="a")
    assert status == 200
    services = body if fmt == "json" else xml_records(body, "service")
    if fmt == "xml":
        assert body.tag == "services"
    assert [s["service_code"] for s in services] == list(HazardCategory.values)
    light = next(s for s in services if s["service_code"] == "broken_light")
    assert light["service_name"] == "Broken light"
    assert light["description"]
    assert light["keywords"]
    assert light["group"] == "Public facilities"
    assert light["type"] == "realtime"
    assert light["metadata"] is False if fmt == "json" else light["metadata"] == "false"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition(world: Any, fmt: str) -> None:
    """A known code has a definition without attributes; an unknown one is the spec's 404."""
    status, body = get("services/fire_exit_blocked", fmt, jurisdiction_id="a")
    assert status == 200
    if fmt == "json":
        assert body == {"service_code": "fire_exit_blocked", "attributes": []}
    else:
        assert body.tag == "service_definition"
        assert body.findtext("service_code") == "fire_exit_blocked"
        attributes = body.find("attributes")
        assert attributes is not None
        assert len(attributes) == 0
    status, body = get("services/pothole", fmt, jurisdiction_id="a")
    assert status == 404
    assert "pothole" in errors_of(status, body, fmt)[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "path", ["services", "services/broken_light", "requests", "requests/1", "tokens/abc"]
)
def test_jurisdiction_is_required_on_a_site_with_several_communities(
    world: Any, path: str, fmt: str
) -> None:
    """Missing: 400; unknown: 404; both in the spec's error format."""
    status, body = get(path, fmt)
    assert status == 400
    assert "jurisdiction_id" in errors_of(status, body, fmt)[0]["description"]
    status, body = get(path, fmt, jurisdiction_id="nowhere")
    assert status == 404
    assert "nowhere" in errors_of(status, body, fmt)[0]["description"]


def test_jurisdiction_may_be_left_out_with_a_single_community(db: Any) -> None:
    """On a single-community install, jurisdiction_id is optional as the spec allows."""
    region = Region.objects.create(name="街道", code="r")
    Community.objects.create(region=region, name="社区", slug="only")
    status, body = get("services")
    assert status == 200
    assert len(body) == len(HazardCategory.values)
    assert get("requests")[0] == 200


def test_no_community_at_all_is_a_404(db: Any) -> None:
    status, body = get("services")
    assert status == 404
    errors_of(status, body, "json")


# --- service requests: reading ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_requests_list_fields_and_scope(world: Any, fmt: str) -> None:
    """Only the jurisdiction's reports, with every field of the spec; ids are strings."""
    hazard = report(world, address="1号楼东侧")
    report(world, community=world.b.community)
    status, body = get("requests", fmt, jurisdiction_id="a")
    assert status == 200
    records: list[dict[str, Any]]
    if fmt == "xml":
        assert body.tag == "service_requests"
        records = xml_records(body, "request")
    else:
        records = body
    assert len(records) == 1
    record = records[0]
    assert set(record) == REQUEST_FIELDS
    assert record["service_request_id"] == str(hazard.pk)
    assert record["status"] == "open"
    assert record["service_code"] == "broken_light"
    assert record["service_name"] == "Broken light"
    assert record["description"] == "The stairwell light is out"
    assert record["address"] == "1号楼东侧"
    assert record["agency_responsible"] == world.a.community.name
    requested = dt.datetime.fromisoformat(str(record["requested_datetime"]))
    assert requested.tzinfo is not None
    assert requested == hazard.reported_at.replace(microsecond=0)
    assert record["media_url"] in (None, "")
    if fmt == "json":
        assert record["lat"] == LAT
        assert record["long"] == LON
    else:
        assert float(str(record["lat"])) == LAT


def test_address_falls_back_to_building_and_unit(world: Any) -> None:
    report(world, latitude=None, longitude=None, building=world.a.building, unit=world.a.unit)
    _status, body = get("requests", jurisdiction_id="a")
    assert body[0]["address"] == "entrance 1, 1号楼"
    assert body[0]["lat"] is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_reads_never_name_the_reporter(world: Any, fmt: str) -> None:
    """No reporter, assignee or follower in any public read: names, user names, emails, the
    anonymous flag and the public token stay out."""
    reporter = world.user("resident")
    reporter.email = "reporter@example.org"
    reporter.first_name = "Lin"
    reporter.last_name = "Wei"
    reporter.display_name = "林伟"
    reporter.save()
    assignee = world.user("guard")
    assignee.email = "guard@example.org"
    assignee.save()
    hazard = report(world, anonymous=False, assignee=assignee, status=HazardStatus.ASSIGNED)
    HazardStep.objects.create(
        hazard=hazard,
        at=timezone.now(),
        actor=reporter,
        status=HazardStatus.ASSIGNED,
        action=StepAction.COMMENT,
        note="林伟 here, call me on 13800001111",
    )
    client = english_client()
    bodies = [
        client.get(f"{BASE}/requests.{fmt}", {"jurisdiction_id": "a"}).content,
        client.get(f"{BASE}/requests/{hazard.pk}.{fmt}", {"jurisdiction_id": "a"}).content,
        client.get(f"{BASE}/tokens/{hazard.public_token}.{fmt}", {"jurisdiction_id": "a"}).content,
    ]
    secrets = [
        "reporter@example.org",
        "guard@example.org",
        "13800001111",
        "林伟",
        "Lin",
        "Wei",
        "anonymous",
        "reporter",
        "assignee",
        reporter.username,
        assignee.username,
    ]
    for body in bodies[:2]:
        text = body.decode()
        for secret in [*secrets, hazard.public_token]:
            assert secret not in text, secret


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_request_by_id(world: Any, fmt: str) -> None:
    """One request as a list of one; unknown, malformed and other jurisdictions' ids are 404."""
    hazard = report(world)
    other = report(world, community=world.b.community)
    status, body = get(f"requests/{hazard.pk}", fmt, jurisdiction_id="a")
    assert status == 200
    records = body if fmt == "json" else xml_records(body, "request")
    assert [r["service_request_id"] for r in records] == [str(hazard.pk)]
    for unknown in (str(other.pk), "999999", "abc"):
        status, body = get(f"requests/{unknown}", fmt, jurisdiction_id="a")
        assert status == 404
        assert unknown in errors_of(status, body, fmt)[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_token_gives_the_request_id(world: Any, fmt: str) -> None:
    hazard = report(world)
    status, body = get(f"tokens/{hazard.public_token}", fmt, jurisdiction_id="a")
    assert status == 200
    records = body if fmt == "json" else xml_records(body, "request")
    assert records == [{"service_request_id": str(hazard.pk), "token": hazard.public_token}]
    for path, jurisdiction in (("tokens/nope", "a"), (f"tokens/{hazard.public_token}", "b")):
        status, body = get(path, fmt, jurisdiction_id=jurisdiction)
        assert status == 404
        errors_of(status, body, fmt)


def test_status_mapping_and_notes(world: Any) -> None:
    """closed and rejected are closed, the rest open; notes come from the rejection reason or
    the latest workflow step, never from people's comments."""
    now = timezone.now()
    closed_at = now - dt.timedelta(minutes=5)
    open_ones = {
        s: report(world, status=s) for s in HazardStatus if s not in open311.CLOSED_STATUSES
    }
    closed = report(world, status=HazardStatus.CLOSED, closed_at=closed_at)
    rejected = report(world, status=HazardStatus.REJECTED, rejection_reason="Not in our area")
    triaged = open_ones[HazardStatus.TRIAGED]
    Hazard.objects.filter(pk=triaged.pk).update(deadline=now + dt.timedelta(days=3))
    HazardStep.objects.create(
        hazard=triaged,
        at=now - dt.timedelta(minutes=2),
        status=HazardStatus.TRIAGED,
        action=StepAction.TRIAGE,
        note="Electrician booked",
    )
    HazardStep.objects.create(
        hazard=triaged,
        at=now - dt.timedelta(minutes=1),
        status=HazardStatus.TRIAGED,
        action=StepAction.COMMENT,
        note="Still dark tonight",
    )
    _status, body = get("requests", jurisdiction_id="a")
    by_id = {r["service_request_id"]: r for r in body}
    for hazard in open_ones.values():
        assert by_id[str(hazard.pk)]["status"] == "open"
    assert by_id[str(closed.pk)]["status"] == "closed"
    assert dt.datetime.fromisoformat(
        by_id[str(closed.pk)]["updated_datetime"]
    ) == closed_at.replace(microsecond=0)
    assert by_id[str(rejected.pk)]["status"] == "closed"
    assert by_id[str(rejected.pk)]["status_notes"] == "Not in our area"
    assert by_id[str(triaged.pk)]["status_notes"] == "Electrician booked"
    assert by_id[str(triaged.pk)]["expected_datetime"] is not None
    assert by_id[str(closed.pk)]["status_notes"] is None


# --- filters ------------------------------------------------------------------------------------


def ids(body: list[dict[str, Any]]) -> set[str]:
    return {record["service_request_id"] for record in body}


def test_filters(world: Any) -> None:
    """service_code and status (comma lists or repeated), start_date/end_date, and
    service_request_id overriding all the others."""
    now = timezone.now()
    light = report(world)
    door = report(world, category=HazardCategory.BROKEN_DOOR_OR_LOCK)
    exit_closed = report(
        world, category=HazardCategory.FIRE_EXIT_BLOCKED, status=HazardStatus.CLOSED
    )
    old = report(world, reported_at=now - dt.timedelta(days=100))
    a = {"jurisdiction_id": "a"}

    def query(**params: Any) -> set[str]:
        status, body = get("requests", **a, **params)
        assert status == 200, body
        return ids(body)

    assert query() == {str(light.pk), str(door.pk), str(exit_closed.pk)}  # last 90 days
    assert query(service_code="broken_light,broken_door_or_lock") == {str(light.pk), str(door.pk)}
    client = english_client()
    repeated = client.get(
        f"{BASE}/requests.json",
        {**a, "service_code": ["broken_light", "fire_exit_blocked"]},
    ).json()
    assert ids(repeated) == {str(light.pk), str(exit_closed.pk)}
    assert query(status="closed") == {str(exit_closed.pk)}
    assert query(status="open") == {str(light.pk), str(door.pk)}
    assert query(status="open,closed") == {str(light.pk), str(door.pk), str(exit_closed.pk)}
    window = {
        "start_date": (now - dt.timedelta(days=120)).isoformat(),
        "end_date": (now - dt.timedelta(days=95)).isoformat(),
    }
    assert query(**window) == {str(old.pk)}
    assert query(start_date=(now - dt.timedelta(days=101)).strftime("%Y-%m-%dT%H:%M:%SZ")) == {
        str(old.pk)
    }
    assert query(end_date=(now - dt.timedelta(days=99)).isoformat()) == {str(old.pk)}
    assert query(start_date=(now - dt.timedelta(days=2)).date().isoformat()) == {
        str(light.pk),
        str(door.pk),
        str(exit_closed.pk),
    }
    # service_request_id overrides the others, the 90-day window included.
    assert query(service_request_id=f"{old.pk},{door.pk}", status="closed") == {
        str(old.pk),
        str(door.pk),
    }
    assert query(service_request_id="nope") == set()
    # A "+08:00" offset sent without URL-encoding arrives as a space and still parses.
    local = (now - dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    raw = english_client().get(
        f"{BASE}/requests.json?jurisdiction_id=a&start_date="
        + local.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    )
    assert ids(raw.json()) == {str(light.pk), str(door.pk), str(exit_closed.pk)}


def test_filters_are_limited_to_1000(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(open311, "MAX_REQUESTS", 2)
    newest = [
        report(world, reported_at=timezone.now() - dt.timedelta(minutes=m)) for m in (3, 2, 1)
    ]
    _status, body = get("requests", jurisdiction_id="a")
    assert [r["service_request_id"] for r in body] == [str(newest[2].pk), str(newest[1].pk)]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2010-13-45T00:00:00Z"}, "end_date"),
        ({"start_date": "2010-01-01T00:00:00Z", "end_date": "2010-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2010-02-01T00:00:00Z", "end_date": "2010-01-01T00:00:00Z"}, "before"),
        ({"status": "pending"}, "pending"),
        ({"service_code": "pothole"}, "pothole"),
    ],
)
def test_bad_filters_are_400(world: Any, fmt: str, params: dict[str, str], word: str) -> None:
    status, body = get("requests", fmt, jurisdiction_id="a", **params)
    assert status == 400
    assert word in errors_of(status, body, fmt)[0]["description"]


def test_list_query_count_does_not_grow_with_reports(world: Any) -> None:
    """A guard against one query per report (steps, building, community)."""
    for _ in range(3):
        hazard = report(world, building=world.a.building, unit=world.a.unit)
        HazardStep.objects.create(
            hazard=hazard, at=timezone.now(), status=HazardStatus.REPORTED, note="n"
        )
    client = Client()
    client.get(f"{BASE}/requests.json", {"jurisdiction_id": "a"})  # warm caches
    with CaptureQueriesContext(connection) as few:
        client.get(f"{BASE}/requests.json", {"jurisdiction_id": "a"})
    for _ in range(5):
        hazard = report(world, building=world.a.building, unit=world.a.unit)
        HazardStep.objects.create(
            hazard=hazard, at=timezone.now(), status=HazardStatus.REPORTED, note="n"
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{BASE}/requests.json", {"jurisdiction_id": "a"})
    assert len(response.json()) == 8
    assert len(many.captured_queries) == len(few.captured_queries) <= 4


# --- media --------------------------------------------------------------------------------------


def test_media_url_serves_the_thumbnail(world: Any, settings: Any, tmp_path: Any) -> None:
    """The photo's thumbnail is public at an absolute URL that neither carries the public token
    nor can be guessed from the id; a report without a photo has no media_url."""
    settings.MEDIA_ROOT = tmp_path
    hazard = report(world)
    hazard.photo.save("p.png", ContentFile(png()), save=False)
    hazard.photo_thumbnail.save("t.png", ContentFile(png()), save=True)
    _status, body = get(f"requests/{hazard.pk}", jurisdiction_id="a")
    url = body[0]["media_url"]
    assert url.startswith(f"http://testserver{BASE}/media/{hazard.pk}-")
    assert url.endswith(".png")
    assert hazard.public_token not in url
    response = Client().get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.getvalue().startswith(b"\x89PNG")
    forged = f"{BASE}/media/{hazard.pk}-{'0' * 20}.png"
    assert Client().get(forged).status_code == 404
    assert Client().get(url.removeprefix("http://testserver")[:-4] + ".jpg").status_code == 404


# --- service requests: filing -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_round_trip_as_an_open311_client(world: Any, fmt: str) -> None:
    """Services -> POST form-encoded -> service_request_id -> GET by id, as a client does;
    personal fields are accepted and ignored, and the report is the api_key user's."""
    key = api_key(world.user("resident"))
    status, body = get("services", fmt, jurisdiction_id="a")
    assert status == 200
    status, body = post(
        fmt,
        api_key=key,
        jurisdiction_id="a",
        service_code="fire_exit_blocked",
        lat=str(LAT),
        long=str(LON),
        address_string="1号楼楼梯间",
        description="Bikes block the stairs",
        email="someone@example.org",
        first_name="Zhang",
        last_name="San",
        phone="13912345678",
        device_id="dev-1",
        account_id="acc-9",
        media_url="http://example.org/p.jpg",
    )
    assert status == 200, body
    if fmt == "xml":
        assert body.tag == "service_requests"
        records = xml_records(body, "request")
    else:
        records = body
    assert len(records) == 1
    created = records[0]
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["service_notice"]
    hazard = Hazard.objects.get(pk=int(str(created["service_request_id"])))
    assert hazard.community == world.a.community
    assert hazard.reporter == world.user("resident")
    assert hazard.category == "fire_exit_blocked"
    assert (hazard.latitude, hazard.longitude) == (LAT, LON)
    assert hazard.address == "1号楼楼梯间"
    assert not hazard.photo
    status, body = get(f"requests/{created['service_request_id']}", fmt, jurisdiction_id="a")
    assert status == 200
    got = body[0] if fmt == "json" else xml_records(body, "request")[0]
    assert got["service_request_id"] == created["service_request_id"]
    assert got["status"] == "open"
    assert got["description"] == "Bikes block the stairs"
    text = json.dumps(got, ensure_ascii=False)
    for personal in ("someone@example.org", "Zhang", "13912345678", "dev-1", "acc-9"):
        assert personal not in text
    # The token a reporter is given elsewhere resolves to the same id.
    status, body = get(f"tokens/{hazard.public_token}", fmt, jurisdiction_id="a")
    assert status == 200


def test_post_with_address_only_and_a_photo(world: Any, settings: Any, tmp_path: Any) -> None:
    """address_string is a location on its own; a multipart ``media`` file becomes the photo."""
    settings.MEDIA_ROOT = tmp_path
    status, body = post(
        files={"media": SimpleUploadedFile("x.png", png(), "image/png")},
        api_key=api_key(world.user("guard")),
        jurisdiction_id="a",
        service_code="broken_light",
        address_string="北门",
    )
    assert status == 200, body
    hazard = Hazard.objects.get(pk=int(body[0]["service_request_id"]))
    assert hazard.address == "北门"
    assert hazard.photo
    _status, body = get(f"requests/{hazard.pk}", jurisdiction_id="a")
    assert body[0]["media_url"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_api_key_errors_are_403(world: Any, fmt: str) -> None:
    """Missing, unknown, revoked, another community's, and limited to another community."""
    form = {"jurisdiction_id": "a", "service_code": "broken_light", "lat": LAT, "long": LON}
    both = world.user("community_admin", "b")
    Membership.objects.create(user=both, role=Role.RESIDENT, community=world.a.community)
    revoked_token, revoked = api_token_create(actor=None, user=world.user("resident"))
    api_token_revoke(actor=None, token=revoked_token)
    for key in (
        "",
        "not-a-token",
        revoked,
        api_key(world.user("resident", "b")),
        api_key(both, world.b.community.pk),
    ):
        status, body = post(fmt, api_key=key, **form)
        assert status == 403, key
        assert "api_key" in errors_of(status, body, fmt)[0]["description"]
    assert not Hazard.objects.exists()
    status, _body = post(fmt, api_key=api_key(both, world.a.community.pk), **form)
    assert status == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("fields", "status", "word"),
    [
        ({"jurisdiction_id": ""}, 400, "jurisdiction_id"),
        ({"jurisdiction_id": "nowhere"}, 404, "nowhere"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "pothole"}, 404, "pothole"),
        ({"lat": "", "long": ""}, 400, "location"),
        ({"long": ""}, 400, "long"),
        ({"lat": "north"}, 400, "lat"),
        ({"lat": "95"}, 400, "lat: "),
        ({"description": "x" * 5000}, 400, "description: "),
    ],
)
def test_post_errors(world: Any, fmt: str, fields: dict[str, str], status: int, word: str) -> None:
    """The spec's POST errors (and bad input caught by the service) in its error format; nothing
    is saved."""
    form = {
        "api_key": api_key(world.user("resident")),
        "jurisdiction_id": "a",
        "service_code": "broken_light",
        "lat": str(LAT),
        "long": str(LON),
        **fields,
    }
    got, body = post(fmt, **form)
    assert got == status
    descriptions = " ".join(e["description"] for e in errors_of(got, body, fmt))
    assert word in descriptions
    assert not Hazard.objects.exists()


def test_post_refuses_a_file_that_is_not_a_photo(world: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    status, body = post(
        files={"media": SimpleUploadedFile("x.jpg", b"GIF89a not really", "image/jpeg")},
        api_key=api_key(world.user("resident")),
        jurisdiction_id="a",
        service_code="broken_light",
        address_string="北门",
    )
    assert status == 400
    errors_of(status, body, "json")
    assert not Hazard.objects.exists()


def test_other_methods_are_refused(world: Any) -> None:
    assert Client().put(f"{BASE}/requests.json").status_code == 405
    assert Client().post(f"{BASE}/services.json").status_code == 405
    assert Client().get(f"{BASE}/requests.csv").status_code == 404


# --- language -----------------------------------------------------------------------------------


def test_language_from_locale_or_accept_language(world: Any) -> None:
    """Names and errors in the client's language: ``locale`` first, then Accept-Language."""
    with translation.override("zh-hans"):
        chinese = str(HazardCategory.BROKEN_LIGHT.label)
    client = Client()
    by_param = client.get(f"{BASE}/services.json", {"jurisdiction_id": "a", "locale": "zh_CN"})
    by_header = client.get(
        f"{BASE}/services.json", {"jurisdiction_id": "a"}, headers={"accept-language": "zh-CN"}
    )
    english = client.get(
        f"{BASE}/services.json",
        {"jurisdiction_id": "a", "locale": "en"},
        headers={"accept-language": "zh-CN"},
    )
    for response, name, language in (
        (by_param, chinese, "zh-hans"),
        (by_header, chinese, "zh-hans"),
        (english, "Broken light", "en"),
    ):
        light = next(s for s in response.json() if s["service_code"] == "broken_light")
        assert light["service_name"] == name
        assert response["Content-Language"] == language
    assert chinese != "Broken light"


# --- discovery ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery(world: Any, fmt: str) -> None:
    """The Service Discovery file names the GeoReport v2 endpoint, its formats and the key."""
    status, body = get("discovery", fmt)
    assert status == 200
    if fmt == "json":
        endpoint = body["endpoints"][0]
        formats = endpoint["formats"]
        key_service = body["key_service"]
    else:
        assert body.tag == "discovery"
        element = body.find("endpoints/endpoint")
        assert element is not None
        endpoint = {child.tag: child.text for child in element}
        formats = [f.text for f in element.findall("formats/format")]
        key_service = body.findtext("key_service")
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"http://testserver{BASE}/"
    assert endpoint["type"] == "production"
    assert dt.datetime.fromisoformat(endpoint["changeset"]).tzinfo is not None
    assert formats == ["text/xml", "application/json"]
    assert "http://testserver/accounts/profile/tokens/" in key_service
    response = Client().get(f"{BASE}/")
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/discovery.json"
