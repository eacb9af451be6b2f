"""JSON API of visitor passes and the gate log.

Residents register visitors for households they live in (``/access/passes``); guards,
operators and gate apps holding CHECK_PASSES check passes (``/access/passes/check``) and
keep the gate log. Gate devices check passes as themselves (``/access/devices/pass-check``,
authenticated the way HTTP ingestion authenticates devices) and verify them offline with
the public key (``/access/passes/public-key``, no authentication). See docs/visitors.md.
"""

import datetime as dt

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.access import passes
from anwang.access.models import AccessPoint
from anwang.access.pass_schemas import (
    DevicePassCheckIn,
    GateLogIn,
    GateLogOut,
    PassCheckIn,
    PassCheckOut,
    PassDetailOut,
    PassIn,
    PassOut,
    PublicKeyOut,
)
from anwang.accounts.choices import Permission
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.devices import http_auth
from anwang.devices import services as device_services
from anwang.events.schemas import IngestErrorOut
from anwang.places.models import Household

router = Router(tags=["access"])
PAGE_SIZE = 50
TOKEN_FORMAT = "AWP1.<base64url(payload[29] || ed25519_signature[64])>; see docs/visitors.md"  # noqa: S105
GATE_LOG_DAYS = 31
"""How far back the gate log list reaches by default."""


def _household(household_id: int) -> Household:
    household = Household.objects.filter(pk=household_id).first()
    if household is None:
        raise ServiceError(_("Choose one of your households."), field="household_id")
    return household


@router.get(
    "/access/passes/public-key",
    response=PublicKeyOut,
    auth=None,
    summary="The public key gate devices verify passes with",
)
def pass_public_key(request: HttpRequest) -> PublicKeyOut:
    """The Ed25519 key passes are signed with (PEM and JWK): a device checks a pass's
    signature and window offline with it. Revocation and entries left need the server."""
    return PublicKeyOut(
        key_id=passes.public_key_id(),
        pem=passes.public_key_pem(),
        jwk=passes.public_key_jwk(),
        token_format=TOKEN_FORMAT,
    )


@router.get("/access/passes", response=list[PassOut], summary="My visitors")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def pass_list(request: HttpRequest) -> list[PassOut]:
    """The visitors of the caller's households, newest first."""
    return [PassOut.of(found) for found in passes.my_passes(request_scope(request))]


@router.post("/access/passes", response={201: PassDetailOut}, summary="Register a visitor")
def pass_create(request: HttpRequest, payload: PassIn) -> Status[PassDetailOut]:
    """Register a visitor for a household the caller lives in; the answer carries the signed
    token for the QR code."""
    scope = request_scope(request)
    created = passes.pass_create(
        actor=request_actor(request),
        scope=scope,
        household=_household(payload.household_id),
        visitor_name=payload.visitor_name,
        visitor_phone=payload.visitor_phone,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        max_entries=payload.max_entries,
        plate=payload.plate,
    )
    return Status(201, PassDetailOut.of_detail(passes.pass_get(scope, created.pk)))


@router.post("/access/passes/check", response=PassCheckOut, summary="Check a pass at a gate")
def pass_check(request: HttpRequest, payload: PassCheckIn) -> PassCheckOut:
    """Check a scanned pass at an access point and, when valid, use one of its entries. A
    refusal is a 200 with ``ok`` false and the reason; it is recorded like an admission."""
    scope = request_scope(request)
    point = passes.gate_point_get(scope, payload.access_point_id)
    check = passes.pass_admit(
        payload.token, access_point=point, actor=request_actor(request), scope=scope
    )
    return PassCheckOut.of(check)


@router.get("/access/passes/{visitor_pass_id}", response=PassDetailOut, summary="A visitor pass")
def pass_get(request: HttpRequest, visitor_pass_id: int) -> PassDetailOut:
    """A pass with its entries: for its household's residents and the community's staff."""
    return PassDetailOut.of_detail(passes.pass_get(request_scope(request), visitor_pass_id))


@router.post(
    "/access/passes/{visitor_pass_id}/revoke",
    response=PassDetailOut,
    summary="Revoke a visitor pass",
)
def pass_revoke(request: HttpRequest, visitor_pass_id: int) -> PassDetailOut:
    """Revoke a pass at once (409 when it already was)."""
    scope = request_scope(request)
    found = passes.pass_get(scope, visitor_pass_id)
    passes.pass_revoke(actor=request_actor(request), scope=scope, visitor_pass=found)
    return PassDetailOut.of_detail(passes.pass_get(scope, visitor_pass_id))


_DEVICE_ERRORS = dict.fromkeys((400, 401, 403, 404, 413), IngestErrorOut)


def _device_error(request: HttpRequest, detail: str, code: str, status: int) -> HttpResponse:
    from anwang.project.api import api, error_body

    return api.create_response(request, error_body(detail, code), status=status)


@router.post(
    "/access/devices/pass-check",
    response={200: PassCheckOut, **_DEVICE_ERRORS},
    auth=None,
    summary="A gate device checks a pass",
)
def device_pass_check(
    request: HttpRequest, payload: DevicePassCheckIn
) -> HttpResponse | PassCheckOut:
    """A gate device asks whether to open for a scanned pass. The device authenticates as it
    does for HTTP ingestion (a device token, an ``X-Anwang-Signature`` over this body, or
    Basic/Digest over HTTPS) and must drive an access point (``door_no`` picks one of a
    controller's doors). The check is recorded at that access point."""
    now = timezone.now()
    attempt = device_services.HttpAttempt(
        method=request.method or "POST",
        path=request.get_full_path(),
        headers=request.headers,
        secure=request.is_secure(),
        body=request.body,
        now=now,
    )
    try:
        device = device_services.device_authenticate_http(attempt=attempt)
    except device_services.DeviceAuthError as error:
        response = _device_error(request, str(error.message), error.code, error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = http_auth.challenges(
                now.timestamp(), passwords=attempt.secure, stale=error.stale
            )
        return response
    points = AccessPoint.objects.filter(device=device).select_related("community")
    if payload.door_no is not None:
        points = points.filter(Q(door_no=payload.door_no) | Q(door_no__isnull=True))
    point = points.order_by("door_no", "pk").first()
    if point is None:
        return _device_error(
            request,
            _("This device drives no access point."),
            "not_an_access_point",
            403,
        )
    return PassCheckOut.of(passes.pass_admit(payload.token, access_point=point, now=now))


@router.get("/access/gate-log", response=list[GateLogOut], summary="The gate log")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def gate_log_list(
    request: HttpRequest, community_id: int | None = None, since: dt.datetime | None = None
) -> list[GateLogOut]:
    """The gate log of the caller's communities, newest first (the last 31 days unless
    ``since`` says otherwise)."""
    since = since or timezone.now() - dt.timedelta(days=GATE_LOG_DAYS)
    entries = passes.gate_log_list(request_scope(request), community_id=community_id, since=since)
    return [GateLogOut.of(entry) for entry in entries[:1000]]


@router.post("/access/gate-log", response={201: GateLogOut}, summary="Write in the gate log")
def gate_log_add(request: HttpRequest, payload: GateLogIn) -> Status[GateLogOut]:
    """A walk-in visitor, a delivery or someone refused; recorded as an access too."""
    scope = request_scope(request)
    if not scope.has(Permission.CHECK_PASSES, payload.community_id):
        raise Http404
    point = None
    if payload.access_point_id is not None:
        point = AccessPoint.objects.filter(
            pk=payload.access_point_id, community_id=payload.community_id
        ).first()
        if point is None:
            raise ServiceError(_("Choose a gate of this community."), field="access_point_id")
    household = None
    if payload.household_id is not None:
        household = Household.objects.filter(
            pk=payload.household_id, community_id=payload.community_id
        ).first()
        if household is None:
            raise ServiceError(_("Choose a household of this community."), field="household_id")
    entry = passes.gate_log_add(
        actor=request_actor(request),
        scope=scope,
        community_id=payload.community_id,
        kind=payload.kind,
        access_point=point,
        visitor_name=payload.visitor_name,
        visitor_phone=payload.visitor_phone,
        plate=payload.plate,
        household=household,
        note=payload.note,
    )
    return Status(201, GateLogOut.of(entry))
