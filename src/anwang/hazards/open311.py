"""Open311 GeoReport v2 for hazard reports: services, service requests and tokens, in JSON and
XML, so an existing Open311 client can file and follow reports.

Reads are public by design (the spec's GET methods need no key) and never carry who reported:
only the hazard's own fields go out. Filing needs ``api_key``, an Anwang API token whose user
belongs to the jurisdiction's community; ``jurisdiction_id`` is the community's slug. The
hazard itself is made by ``hazards.services.hazard_report``, which holds the rules.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import mimetypes
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    QueryDict,
)
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from anwang.accounts.models import ApiToken
from anwang.accounts.selectors import scope_for
from anwang.accounts.services import api_token_authenticate
from anwang.core.errors import ServiceError
from anwang.hazards.choices import HazardCategory, HazardStatus, StepAction
from anwang.hazards.models import Hazard, HazardStep
from anwang.hazards.services import hazard_report
from anwang.places.models import Community

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
MAX_REQUESTS = 1000
"""The spec's default query limit: at most 1000 requests ..."""
MAX_SPAN = dt.timedelta(days=90)
"""... from at most 90 days."""
CLOSED_STATUSES = frozenset({HazardStatus.CLOSED, HazardStatus.REJECTED})
"""Hazard statuses that Open311 calls ``closed``; every other one is ``open``."""
SERVICE_TYPE = "realtime"
"""A report becomes a hazard at once, so the POST answers with its ``service_request_id``."""

# Groups and wording of the services; the service_code is the stable category value.
_FIRE = gettext_lazy("Fire safety")
_BUILDING = gettext_lazy("Buildings and doors")
_PUBLIC = gettext_lazy("Public facilities")
_OTHER = gettext_lazy("Other")
SERVICES: dict[str, tuple[Promise, Promise, Promise]] = {
    HazardCategory.FIRE_EXIT_BLOCKED: (
        _FIRE,
        gettext_lazy("Stairs, corridors or fire exits blocked by belongings, bikes or rubbish."),
        gettext_lazy("fire exit, escape route, stairs, corridor, blocked"),
    ),
    HazardCategory.EBIKE_CHARGING_INDOORS: (
        _FIRE,
        gettext_lazy("E-bikes or their batteries charged inside homes, corridors or stairwells."),
        gettext_lazy("e-bike, battery, charging, indoors, fire"),
    ),
    HazardCategory.BROKEN_LIGHT: (
        _PUBLIC,
        gettext_lazy("A street, stairwell or corridor light that is broken or off."),
        gettext_lazy("light, lamp, dark, stairwell, street"),
    ),
    HazardCategory.MISSING_MANHOLE_COVER: (
        _PUBLIC,
        gettext_lazy("A manhole or drain cover that is missing, broken or loose."),
        gettext_lazy("manhole, drain, cover, hole"),
    ),
    HazardCategory.FALLING_OBJECT_RISK: (
        _BUILDING,
        gettext_lazy("Something that could fall from a building: loose tiles, flower pots."),
        gettext_lazy("falling, window, balcony, tiles, flower pot"),
    ),
    HazardCategory.BROKEN_DOOR_OR_LOCK: (
        _BUILDING,
        gettext_lazy("A building entrance, unit door or lock that is broken or does not close."),
        gettext_lazy("door, lock, entrance, access"),
    ),
    HazardCategory.FIRE_EQUIPMENT: (
        _FIRE,
        gettext_lazy("Fire extinguishers, hydrants or alarms missing, empty or damaged."),
        gettext_lazy("extinguisher, hydrant, fire alarm, equipment"),
    ),
    HazardCategory.ELECTRICAL: (
        _FIRE,
        gettext_lazy("Exposed wires, overloaded sockets or unsafe electrical installations."),
        gettext_lazy("wiring, electricity, socket, cable"),
    ),
    HazardCategory.OTHER: (
        _OTHER,
        gettext_lazy("Any other safety hazard in the community."),
        gettext_lazy("other, hazard, safety"),
    ),
}

View = Callable[..., HttpResponseBase]


class Open311Error(Exception):
    """An error the spec defines: an HTTP status and a description for the client."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- Formats ------------------------------------------------------------------------------------


def w3_datetime(value: dt.datetime | None) -> str | None:
    """A date-time in the W3C profile of ISO 8601 with its offset, as the spec requires."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fill(parent: ET.Element, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, list):
            # A list field holds elements named by its singular (attributes -> attribute).
            for entry in value:
                element = ET.SubElement(child, name.removesuffix("s"))
                if isinstance(entry, dict):
                    _xml_fill(element, entry)
                else:
                    element.text = _xml_text(entry)
        else:
            child.text = _xml_text(value)


def to_xml(root: str, payload: list[dict[str, Any]] | dict[str, Any], item: str = "") -> bytes:
    """The spec's XML: a list becomes ``<root><item>…</item></root>``, a dict ``<root>…</root>``."""
    element = ET.Element(root)
    if isinstance(payload, list):
        for entry in payload:
            _xml_fill(ET.SubElement(element, item), entry)
    else:
        _xml_fill(element, payload)
    # The spec asks for the declaration with encoding="UTF-8" before the root element.
    body: bytes = ET.tostring(element, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def respond(
    fmt: str,
    payload: list[dict[str, Any]] | dict[str, Any],
    *,
    root: str,
    item: str = "",
    status: int = 200,
) -> HttpResponse:
    """The payload in the requested format."""
    if fmt == "xml":
        body = to_xml(root, payload, item)
    else:
        body = json.dumps(payload, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, errors: Iterable[Open311Error]) -> HttpResponse:
    """The spec's error list; the HTTP status is the first error's."""
    errors = list(errors)
    payload = [{"code": error.status, "description": error.description} for error in errors]
    return respond(fmt, payload, root="errors", item="error", status=errors[0].status)


def _language(code: str) -> str | None:
    try:
        return translation.get_supported_language_variant(translation.to_language(code.strip()))
    except LookupError:
        return None


def open311_endpoint(view: View) -> View:
    """Answer in the client's language (``locale``, else Accept-Language) and turn an
    :class:`Open311Error` into the spec's error list in the requested format."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponseBase:
        params = request.POST if request.method == "POST" else request.GET
        language = _language(params.get("locale", "")) or translation.get_language()
        with translation.override(language):
            try:
                response = view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                response = error_response(fmt, [error])
        response["Content-Language"] = language
        return response

    return wrapper


# --- Lookups ------------------------------------------------------------------------------------


def _echo(value: str) -> str:
    # What the client sent, named in an error; cut short so an error never balloons.
    return value if len(value) <= 100 else value[:100] + "…"


def jurisdiction(params: QueryDict) -> Community:
    """The community named by ``jurisdiction_id``, which may be left out only on a site with a
    single community."""
    slug = params.get("jurisdiction_id", "").strip()
    if not slug:
        communities = list(Community.objects.all()[:2])
        if len(communities) == 1:
            return communities[0]
        if not communities:
            raise Open311Error(404, _("There is no jurisdiction on this server."))
        raise Open311Error(400, _("jurisdiction_id was not provided."))
    community = Community.objects.filter(slug=slug).first()
    if community is None:
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found.") % {"id": _echo(slug)})
    return community


def service_category(code: str) -> HazardCategory:
    """The hazard category of a service_code; 404 as the spec says for an unknown code."""
    if code not in HazardCategory.values:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": _echo(code)})
    return HazardCategory(code)


def authenticate_api_key(raw_key: str, community: Community) -> ApiToken:
    """The API token sent as ``api_key``, if its user may report in the community (through a
    token not limited to another community); otherwise 403."""
    if not raw_key:
        raise Open311Error(403, _("api_key was not provided."))
    token = api_token_authenticate(raw_token=raw_key)
    if token is None:
        raise Open311Error(403, _("api_key is not valid."))
    if community.pk not in scope_for(token.user, token=token).community_ids():
        raise Open311Error(403, _("api_key is not valid for this jurisdiction."))
    return token


# --- Discovery ----------------------------------------------------------------------------------

CHANGESET = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
"""When the service list or a service definition last changed (clients refresh their cache
when it moves): bump it with any change to the hazard categories or their wording."""
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


@require_GET
def root(request: HttpRequest) -> HttpResponseRedirect:
    """The endpoint's base URL (the ``url`` of discovery) leads a person to the discovery file."""
    return HttpResponseRedirect(reverse("open311:discovery", kwargs={"fmt": "json"}))


@require_GET
@open311_endpoint
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Service Discovery: where the GeoReport v2 endpoint is, its formats and how to get a key."""
    changeset = CHANGESET.strftime("%Y-%m-%dT%H:%M:%SZ")
    tokens_page = request.build_absolute_uri(reverse("accounts:token_create"))
    payload = {
        "changeset": changeset,
        "contact": _("Ask your community office (the duty phone on the community's page)."),
        "key_service": _(
            "A member of the community makes an API token at %(url)s and sends it as api_key."
        )
        % {"url": tokens_page},
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri(reverse("open311:root")),
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, payload, root="discovery")


# --- Services -----------------------------------------------------------------------------------


def service_fields(category: HazardCategory) -> dict[str, Any]:
    """One hazard category as an Open311 service."""
    group, description, keywords = SERVICES[category]
    return {
        "service_code": category.value,
        "service_name": str(category.label),
        "description": str(description),
        "metadata": False,
        "type": SERVICE_TYPE,
        "keywords": str(keywords),
        "group": str(group),
    }


@require_GET
@open311_endpoint
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET Service List: one service per hazard category."""
    jurisdiction(request.GET)
    payload = [service_fields(category) for category in HazardCategory]
    return respond(fmt, payload, root="services", item="service")


@require_GET
@open311_endpoint
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """GET Service Definition: no service asks extra attributes (metadata is false)."""
    jurisdiction(request.GET)
    category = service_category(code)
    payload = {"service_code": category.value, "attributes": []}
    return respond(fmt, payload, root="service_definition")


# --- Service requests ---------------------------------------------------------------------------


def _media_key(hazard: Hazard) -> str:
    # Keyed by id plus a MAC rather than by the public token: the GET methods are public and
    # must not hand out the token, and a MAC keeps photos from being enumerated by id.
    mac = salted_hmac("anwang.hazards.open311.media", f"{hazard.pk}:{hazard.public_token}")
    return f"{hazard.pk}-{mac.hexdigest()[:20]}"


def _media_file(hazard: Hazard) -> Any:
    return hazard.photo_thumbnail or hazard.photo or None


def media_url(request: HttpRequest, hazard: Hazard) -> str | None:
    """The absolute URL of the report's photo thumbnail, if it has a photo."""
    image = _media_file(hazard)
    if image is None:
        return None
    extension = image.name.rsplit(".", 1)[-1].lower() if "." in image.name else "jpg"
    path = reverse("open311:media", kwargs={"key": _media_key(hazard), "extension": extension})
    return request.build_absolute_uri(path)


#: Steps whose notes are not about the report's status: people's comments stay off the public
#: feed (they may name someone), and following adds no note worth showing.
PRIVATE_STEP_ACTIONS = (StepAction.COMMENT, StepAction.FOLLOW)


def _noted_steps() -> QuerySet[HazardStep]:
    return (
        HazardStep.objects.exclude(action__in=PRIVATE_STEP_ACTIONS)
        .exclude(note="")
        .order_by("at", "pk")
    )


def status_notes(hazard: Hazard) -> str | None:
    """Why the report stands where it does: the rejection reason, else the latest note of a
    workflow step (triage, assignment, rectification, verification, closing)."""
    if hazard.status == HazardStatus.REJECTED and hazard.rejection_reason:
        return hazard.rejection_reason
    steps: list[HazardStep] | None = getattr(hazard, "noted_steps", None)
    if steps is None:
        steps = list(_noted_steps().filter(hazard=hazard))
    return steps[-1].note if steps else None


def location_text(hazard: Hazard) -> str | None:
    """Where the hazard is, most specific first: the address given, else building and unit."""
    if hazard.address:
        return hazard.address
    parts = []
    if hazard.unit is not None:
        parts.append(_("entrance %(number)s") % {"number": hazard.unit.number})
    if hazard.building is not None:
        parts.append(hazard.building.name)
    return ", ".join(parts) or None


def request_fields(request: HttpRequest, hazard: Hazard) -> dict[str, Any]:
    """A hazard as an Open311 service request: only the report's own fields, never who reported
    it (no reporter, assignee or other person)."""
    closed = hazard.status in CLOSED_STATUSES
    updated = hazard.closed_at if closed and hazard.closed_at else hazard.updated_at
    return {
        "service_request_id": str(hazard.pk),
        "status": "closed" if closed else "open",
        "status_notes": status_notes(hazard),
        "service_name": hazard.get_category_display(),
        "service_code": hazard.category,
        "description": hazard.description or None,
        "agency_responsible": hazard.community.name,
        "service_notice": None,
        "requested_datetime": w3_datetime(hazard.reported_at),
        "updated_datetime": w3_datetime(updated),
        "expected_datetime": None if closed else w3_datetime(hazard.deadline),
        "address": location_text(hazard),
        "address_id": None,
        "zipcode": None,
        "lat": hazard.latitude,
        "long": hazard.longitude,
        "media_url": media_url(request, hazard),
    }


def hazards_public(community: Community) -> QuerySet[Hazard]:
    """A jurisdiction's hazards with what their public form needs, in two queries."""
    return (
        Hazard.objects.filter(community=community)
        .select_related("community", "building", "unit")
        .prefetch_related(Prefetch("steps", queryset=_noted_steps(), to_attr="noted_steps"))
        .order_by("-reported_at", "-pk")
    )


def _comma_list(params: QueryDict, name: str) -> list[str]:
    # "can be declared multiple times, comma delimited": both ?a=1,2 and ?a=1&a=2.
    return [
        part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip()
    ]


_UNENCODED_OFFSET = re.compile(r"(?<=\d\d:\d\d) (\d{2}:?\d{2})$")


def parse_w3(name: str, value: str) -> dt.datetime:
    """A start_date or end_date; a date alone means its midnight, a missing offset local time."""
    # An offset "+08:00" sent without URL-encoding arrives as " 08:00".
    value = _UNENCODED_OFFSET.sub(r"+\1", value.strip())
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Open311Error(
            400,
            _("%(name)s is not a W3C date-time such as 2010-01-01T00:00:00Z.") % {"name": name},
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def date_window(params: QueryDict, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The requested_datetime range: the most recent 90 days unless given, never longer."""
    start_raw, end_raw = params.get("start_date", ""), params.get("end_date", "")
    start = parse_w3("start_date", start_raw) if start_raw.strip() else None
    end = parse_w3("end_date", end_raw) if end_raw.strip() else None
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        assert end is not None
        return end - MAX_SPAN, end
    if end is None:
        return start, start + MAX_SPAN
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    return start, end


def hazards_matching(params: QueryDict, community: Community) -> list[Hazard]:
    """The spec's filters: service_request_id overrides all others; else service_code, status
    and the date window, at most 1000, newest first."""
    hazards = hazards_public(community)
    ids = _comma_list(params, "service_request_id")
    if ids:
        wanted = [int(part) for part in ids if part.isdigit()]
        return list(hazards.filter(pk__in=wanted)[:MAX_REQUESTS])
    codes = _comma_list(params, "service_code")
    for code in codes:
        if code not in HazardCategory.values:
            raise Open311Error(
                400, _("service_code %(code)s was not found.") % {"code": _echo(code)}
            )
    if codes:
        hazards = hazards.filter(category__in=codes)
    statuses = {status.lower() for status in _comma_list(params, "status")}
    unknown = statuses - {"open", "closed"}
    if unknown:
        raise Open311Error(
            400,
            _("status must be open or closed, not %(status)s.")
            % {"status": _echo(", ".join(sorted(unknown)))},
        )
    if statuses == {"open"}:
        hazards = hazards.exclude(status__in=CLOSED_STATUSES)
    elif statuses == {"closed"}:
        hazards = hazards.filter(status__in=CLOSED_STATUSES)
    start, end = date_window(params, timezone.now())
    hazards = hazards.filter(reported_at__gte=start, reported_at__lte=end)
    return list(hazards[:MAX_REQUESTS])


def _float(params: QueryDict, name: str) -> float | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, _("%(name)s is not a number.") % {"name": name}) from None
    if not math.isfinite(value):
        raise Open311Error(400, _("%(name)s is not a number.") % {"name": name})
    return value


#: The Open311 argument behind each field the hazard service names in its errors.
SERVICE_FIELDS = {
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "photo": "media",
    "category": "service_code",
    "description": "description",
    "location": "location",
}


def _service_messages(error: ValidationError | ServiceError) -> list[str]:
    # Prefix the argument the client sent, as the service speaks of its own field names.
    if isinstance(error, ServiceError):
        field, messages = error.field, [str(error.message)]
    elif hasattr(error, "error_dict"):
        return [
            f"{SERVICE_FIELDS.get(name, name)}: {message}"
            for name, errors in error.message_dict.items()
            for message in errors
        ]
    else:
        field, messages = None, [str(message) for message in error.messages]
    if field:
        return [f"{SERVICE_FIELDS.get(field, field)}: {message}" for message in messages]
    return messages


def create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST Service Request: file a hazard as the api_key's user.

    Personal fields (email, first_name, last_name, phone, device_id, account_id) are ignored:
    the report is the token user's, and public reads never show a reporter anyway. ``media_url``
    is not fetched (a server fetching URLs clients choose is a risk); a photo may be sent as a
    multipart file named ``media`` instead.
    """
    params = request.POST
    community = jurisdiction(params)
    token = authenticate_api_key(params.get("api_key", "").strip(), community)
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code was not provided."))
    category = service_category(code)
    latitude, longitude = _float(params, "lat"), _float(params, "long")
    address = params.get("address_string", "").strip()
    if (latitude is None) != (longitude is None):
        raise Open311Error(400, _("lat and long must be sent together."))
    if latitude is None and not address:
        raise Open311Error(
            400,
            _(
                "A location is required: lat and long, or address_string "
                "(address_id is not supported)."
            ),
        )
    description = params.get("description", "")
    try:
        hazard = hazard_report(
            community=community,
            reporter=token.user,
            category=category.value,
            description=description,
            latitude=latitude,
            longitude=longitude,
            address=address,
            photo=request.FILES.get("media"),
        )
    except (ValidationError, ServiceError) as error:
        status = error.status if isinstance(error, ServiceError) else 400
        return error_response(
            fmt, [Open311Error(status, message) for message in _service_messages(error)]
        )
    except (PermissionDenied, Http404):
        # The service refuses a reporter who does not belong to the community.
        raise Open311Error(403, _("api_key may not report in this jurisdiction.")) from None
    payload = [
        {
            "service_request_id": str(hazard.pk),
            "service_notice": _(
                "Thank you. The community will check the report and assign it; "
                "follow it with its service_request_id."
            ),
            "account_id": None,
        }
    ]
    return respond(fmt, payload, root="service_requests", item="request")


@csrf_exempt  # api_key authenticates the POST; external clients have no CSRF cookie
@require_http_methods(["GET", "POST"])
@open311_endpoint
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET Service Requests (public, filtered) or POST Service Request (with api_key)."""
    if request.method == "POST":
        return create_request(request, fmt)
    community = jurisdiction(request.GET)
    payload = [
        request_fields(request, hazard) for hazard in hazards_matching(request.GET, community)
    ]
    return respond(fmt, payload, root="service_requests", item="request")


@require_GET
@open311_endpoint
def service_request(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    """GET Service Request: one report of the jurisdiction by its id."""
    community = jurisdiction(request.GET)
    hazard = (
        hazards_public(community).filter(pk=int(request_id)).first()
        if request_id.isdigit()
        else None
    )
    if hazard is None:
        raise Open311Error(
            404, _("service_request_id %(id)s was not found.") % {"id": _echo(request_id)}
        )
    return respond(fmt, [request_fields(request, hazard)], root="service_requests", item="request")


@require_GET
@open311_endpoint
def token_lookup(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """GET service_request_id from a token: the report's public token gives its id."""
    community = jurisdiction(request.GET)
    found = (
        Hazard.objects.filter(community=community, public_token=token)
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        raise Open311Error(404, _("token %(token)s was not found.") % {"token": _echo(token)})
    payload = [{"service_request_id": str(found), "token": token}]
    return respond(fmt, payload, root="service_requests", item="request")


@require_GET
def media(request: HttpRequest, key: str, extension: str) -> FileResponse:
    """The photo thumbnail behind a report's media_url, public like the report itself."""
    pk, _sep, _mac = key.partition("-")
    hazard = Hazard.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if hazard is None or not constant_time_compare(key, _media_key(hazard)):
        raise Http404
    image = _media_file(hazard)
    if image is None or not image.name.lower().endswith(f".{extension}"):
        raise Http404
    content_type = mimetypes.guess_type(image.name)[0] or "application/octet-stream"
    response = FileResponse(image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
