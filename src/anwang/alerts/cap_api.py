"""JSON API of CAP 1.2: an alert's CAP document, alerts received from upstream warning
systems (list, detail, relay to residents, dismiss), the CAP POST address for upstream systems
that push, and the upstream feeds the worker fetches.

Reads are scoped to the communities whose alerts the caller reads (404 elsewhere); writes need
the send-alerts permission (403 for those who may only read alerts). A CAP document that is
not valid against the official CAP 1.2 schema is refused with 400, listing the schema's
complaints in ``errors``."""

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from anwang.alerts import cap_in, selectors, services
from anwang.alerts.cap import CAP_CONTENT_TYPE, InvalidCapError, alert_to_cap
from anwang.alerts.cap_schemas import (
    CapErrorOut,
    FeedIn,
    FeedOut,
    FeedPatch,
    FetchOut,
    IncomingDetailOut,
    IncomingOut,
    RelayIn,
    RelayOut,
)
from anwang.alerts.choices import IncomingState
from anwang.alerts.models import CapFeed, IncomingAlert, SafetyAlert
from anwang.core.api_helpers import request_actor, request_scope
from anwang.places.models import Community

router = Router(tags=["alerts"])
PAGE_SIZE = 50
CAP_BODY_TYPES = ("application/cap+xml", "application/xml", "text/xml")


def _detail(incoming: IncomingAlert) -> IncomingDetailOut:
    return IncomingDetailOut.model_validate(
        {
            **IncomingOut.of(incoming).model_dump(),
            "parsed": incoming.parsed,
            "raw": incoming.raw,
            "relayed_alert_ids": list(
                selectors.relayed_alerts(incoming).values_list("pk", flat=True)
            ),
        }
    )


# --------------------------------------------------------------------------- CAP out


@router.get(
    "/alerts/{alert_id}/cap",
    response={200: None},
    summary="An alert as a CAP 1.2 document",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The CAP 1.2 XML document.",
                "content": {"application/cap+xml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def alert_cap(request: HttpRequest, alert_id: int) -> HttpResponse:
    """The alert as a CAP 1.2 XML document (``application/cap+xml``), valid against the
    official OASIS schema: a cancelled alert is a ``Cancel`` referring to it."""
    alert = (
        SafetyAlert.objects.select_related("community", "references", "relayed_from")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or not selectors.may_read_alert(request_scope(request), alert):
        raise Http404
    return HttpResponse(
        alert_to_cap(alert, base_url=request.build_absolute_uri("/")),
        content_type=CAP_CONTENT_TYPE,
    )


# --------------------------------------------------------------------------- received alerts


@router.get("/alerts/incoming", response=list[IncomingOut], summary="List received CAP alerts")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def incoming_list(
    request: HttpRequest,
    community_id: int | None = None,
    state: IncomingState | None = None,
) -> QuerySet[IncomingAlert]:
    """CAP alerts received from upstream warning systems, newest sent first."""
    incoming = selectors.incoming_list(request_scope(request), community_id=community_id)
    if state:
        incoming = incoming.filter(state=state)
    return incoming


@router.get(
    "/alerts/incoming/{incoming_id}",
    response=IncomingDetailOut,
    summary="A received CAP alert",
)
def incoming_get(request: HttpRequest, incoming_id: int) -> IncomingDetailOut:
    """A received alert with every info block parsed and the document as received."""
    return _detail(selectors.incoming_get(request_scope(request), incoming_id))


@router.post(
    "/alerts/incoming/{incoming_id}/relay",
    response={201: RelayOut},
    summary="Relay a received CAP alert to residents",
)
def incoming_relay(request: HttpRequest, incoming_id: int, payload: RelayIn) -> Status[RelayOut]:
    """Make a safety alert of the received one (its CAP fields, codes outside CAP's lists as
    Other or Unknown) and send it at once (``publish``: false keeps a draft); 409 when it was
    relayed already, is a cancellation or has expired."""
    scope = request_scope(request)
    incoming = selectors.incoming_get(scope, incoming_id)
    alert = cap_in.incoming_relay(
        actor=request_actor(request),
        scope=scope,
        incoming=incoming,
        channels=payload.channels,
        confirmation=payload.confirmation,
        whole_community=payload.whole_community,
        building_ids=payload.building_ids,
        unit_ids=payload.unit_ids,
        household_ids=payload.household_ids,
        groups=payload.groups,
        publish=payload.publish,
    )
    incoming = selectors.incoming_get(scope, incoming_id)
    return Status(
        201,
        RelayOut(
            alert_id=alert.pk,
            state=alert.state,
            households_reached=alert.households_reached,
            incoming=IncomingOut.of(incoming),
        ),
    )


@router.post(
    "/alerts/incoming/{incoming_id}/dismiss",
    response=IncomingOut,
    summary="Dismiss a received CAP alert",
)
def incoming_dismiss(request: HttpRequest, incoming_id: int) -> IncomingOut:
    """Mark a received alert as not for the residents; 409 when it was relayed."""
    scope = request_scope(request)
    incoming = selectors.incoming_get(scope, incoming_id)
    done = cap_in.incoming_dismiss(actor=request_actor(request), scope=scope, incoming=incoming)
    return IncomingOut.of(done)


@router.post(
    "/alerts/cap-in/{community_id}",
    response={200: IncomingDetailOut, 201: IncomingDetailOut, 400: CapErrorOut},
    summary="Receive a CAP alert from an upstream system",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "One CAP 1.2 alert as XML.",
            "content": {kind: {"schema": {"type": "string"}} for kind in CAP_BODY_TYPES},
        }
    },
)
def cap_receive(
    request: HttpRequest, community_id: int
) -> HttpResponse | Status[IncomingDetailOut]:
    """Store a CAP 1.2 alert an upstream warning system sends for the community (an API token
    with the send-alerts permission): 201 with the stored alert, 200 when it was received
    before (same sender and identifier), 400 listing the schema's complaints."""
    scope = request_scope(request)
    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        raise Http404
    # Who may send comes first: an outsider learns nothing from the answer.
    services.require_publisher(request_actor(request), scope, community.pk)
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in CAP_BODY_TYPES:
        raise HttpError(415, _("Send the CAP document as application/cap+xml or application/xml."))
    try:
        incoming, created = cap_in.incoming_ingest(
            community=community, xml=request.body, actor=request_actor(request), scope=scope
        )
    except InvalidCapError as error:
        from anwang.project.api import api, error_body

        return api.create_response(
            request,
            error_body(
                str(error.message),
                error.code,
                [{"loc": ["body"], "msg": message} for message in error.errors],
            ),
            status=400,
        )
    return Status(201 if created else 200, _detail(incoming))


# --------------------------------------------------------------------------- feeds


@router.get("/alerts/cap-feeds", response=list[FeedOut], summary="List upstream CAP feeds")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def feed_list(request: HttpRequest, community_id: int | None = None) -> QuerySet[CapFeed]:
    """The upstream CAP feeds of the communities whose alerts the caller reads."""
    return selectors.feed_list(request_scope(request), community_id=community_id)


@router.post("/alerts/cap-feeds", response={201: FeedOut}, summary="Add an upstream CAP feed")
def feed_create(request: HttpRequest, payload: FeedIn) -> Status[FeedOut]:
    """Add a CAP document or Atom/RSS feed for the worker to fetch every ``poll_minutes``."""
    community = Community.objects.filter(pk=payload.community_id).first()
    if community is None:
        raise Http404
    feed = cap_in.feed_create(
        actor=request_actor(request),
        scope=request_scope(request),
        community=community,
        name=payload.name,
        url=payload.url,
        poll_minutes=payload.poll_minutes,
        is_enabled=payload.is_enabled,
    )
    return Status(201, FeedOut.of(feed))


@router.get("/alerts/cap-feeds/{feed_id}", response=FeedOut, summary="An upstream CAP feed")
def feed_get(request: HttpRequest, feed_id: int) -> FeedOut:
    """One feed, with when it was last fetched and what went wrong."""
    return FeedOut.of(selectors.feed_get(request_scope(request), feed_id))


@router.patch(
    "/alerts/cap-feeds/{feed_id}", response=FeedOut, summary="Change an upstream CAP feed"
)
def feed_update(request: HttpRequest, feed_id: int, payload: FeedPatch) -> FeedOut:
    """Change a feed; fields left out keep their value."""
    scope = request_scope(request)
    feed = selectors.feed_get(scope, feed_id)
    changes = payload.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise HttpError(400, _("Leave out the fields to keep; none may be null."))
    feed = cap_in.feed_update(actor=request_actor(request), scope=scope, feed=feed, changes=changes)
    return FeedOut.of(feed)


@router.delete(
    "/alerts/cap-feeds/{feed_id}", response={204: None}, summary="Remove an upstream CAP feed"
)
def feed_delete(request: HttpRequest, feed_id: int) -> Status[None]:
    """Remove a feed; the alerts received through it stay."""
    scope = request_scope(request)
    feed = selectors.feed_get(scope, feed_id)
    cap_in.feed_delete(actor=request_actor(request), scope=scope, feed=feed)
    return Status(204, None)


@router.post("/alerts/cap-feeds/{feed_id}/fetch", response=FetchOut, summary="Fetch a CAP feed now")
def feed_fetch(request: HttpRequest, feed_id: int) -> FetchOut:
    """Fetch the feed at once; what went wrong is in the feed's ``last_error``."""
    scope = request_scope(request)
    feed = selectors.feed_get(scope, feed_id)
    stored = cap_in.feed_fetch_now(actor=request_actor(request), scope=scope, feed=feed)
    feed.refresh_from_db()
    return FetchOut(stored=stored, feed=FeedOut.of(feed))
