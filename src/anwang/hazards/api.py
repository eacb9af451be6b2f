"""JSON API of the hazards domain: report (multipart, with a photo), nearby open reports of the
same kind, the staff list with filters, the caller's own reports, a report with its timeline,
each workflow action, following and commenting, photos, and statistics.

Reads are scoped: a report the caller may not see is 404 (hazard staff see their communities'
reports; anyone else only those they reported, follow or must rectify). Writes go through
:mod:`anwang.hazards.services`: triage, assignment, verification, closing and rejection need
the manage-hazards permission (403 for those who may only see hazards). A step the report's
status forbids is 409; bad input 400 with the field in ``errors``.
"""

import datetime as dt
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.api_helpers import request_actor, request_scope
from anwang.hazards import selectors, services
from anwang.hazards.choices import HazardCategory, HazardSeverity, HazardStatus
from anwang.hazards.models import Hazard
from anwang.hazards.schemas import (
    PHOTO_FIELDS,
    AssignIn,
    FollowOut,
    HazardDetailOut,
    HazardNoteIn,
    HazardOut,
    HazardReportIn,
    RejectIn,
    StatisticsOut,
    TriageIn,
    VerifyIn,
)
from anwang.places.models import Building, Community, Unit

router = Router(tags=["hazards"])
PAGE_SIZE = 50


def _community(scope: Scope, community_id: int) -> Community:
    """A community the caller belongs to (and so may report in); 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        raise Http404
    if not acts_platform_wide(scope) and community_id not in scope.community_ids():
        raise Http404
    return community


def _detail(request: HttpRequest, hazard: Hazard) -> Hazard:
    return selectors.hazard_get(request_scope(request), hazard.pk)


# --------------------------------------------------------------------------- reads


@router.get("/hazards", response=list[HazardOut], summary="List hazard reports")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def hazard_list(
    request: HttpRequest,
    community_id: int | None = None,
    status: HazardStatus | None = None,
    category: HazardCategory | None = None,
    severity: HazardSeverity | None = None,
    building_id: int | None = None,
    zone_id: int | None = None,
    overdue: bool = False,
    assigned_to_me: bool = False,
    open_only: bool = False,
    q: str | None = None,
) -> QuerySet[Hazard]:
    """Reports of the caller's communities (for hazard staff), newest first."""
    scope = request_scope(request)
    return selectors.hazard_list(
        scope,
        community_id=community_id,
        status=status,
        category=category,
        severity=severity,
        building_id=building_id,
        zone_id=zone_id,
        overdue=overdue,
        assigned_to_me=assigned_to_me,
        open_only=open_only,
        q=q,
    )


@router.get("/hazards/mine", response=list[HazardOut], summary="My hazard reports")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def hazard_mine(request: HttpRequest) -> QuerySet[Hazard]:
    """The caller's own reports and those they follow, newest first."""
    return selectors.hazards_mine(request_scope(request))


@router.get("/hazards/nearby", response=list[HazardOut], summary="Open reports nearby")
def hazard_nearby(
    request: HttpRequest,
    community_id: int,
    category: HazardCategory,
    latitude: float,
    longitude: float,
) -> list[Hazard]:
    """Open reports of the same category within 50 m from the last 30 days, nearest first,
    to follow instead of reporting the same hazard again."""
    scope = request_scope(request)
    found = selectors.hazards_nearby(
        scope=scope,
        community_id=community_id,
        category=category,
        latitude=latitude,
        longitude=longitude,
    )
    return found[:20]


@router.get("/hazards/statistics", response=StatisticsOut, summary="Hazard statistics")
def hazard_statistics(
    request: HttpRequest, community_id: int | None = None, days: int = 90
) -> selectors.HazardStatistics:
    """Time to close, overdue counts, and counts by category, building and zone of the reports
    of the last ``days`` days in the caller's communities."""
    scope = request_scope(request)
    if community_id is not None and not selectors.can_view(scope, community_id):
        raise Http404
    return selectors.hazard_statistics(
        scope, community_id=community_id, days=max(1, min(days, 3650))
    )


@router.get("/hazards/{hazard_id}", response=HazardDetailOut, summary="A hazard report")
def hazard_get(request: HttpRequest, hazard_id: int) -> Hazard:
    """A report with its timeline."""
    return selectors.hazard_get(request_scope(request), hazard_id)


@router.get(
    "/hazards/{hazard_id}/photo",
    url_name="hazard_photo",
    summary="A report's photo",
    response={200: None},
)
def hazard_photo(
    request: HttpRequest,
    hazard_id: int,
    kind: Literal["photo", "thumbnail", "after", "after-thumbnail"] = "photo",
) -> FileResponse:
    """The photo (``kind=photo``, the default), its ``thumbnail``, or the photo ``after``
    rectification (and its ``after-thumbnail``)."""
    hazard = selectors.hazard_get(request_scope(request), hazard_id)
    field = getattr(hazard, PHOTO_FIELDS[kind])
    if not field:
        raise Http404
    response = FileResponse(field.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


@router.get(
    "/hazards/steps/{hazard_step_id}/photo",
    url_name="hazard_step_photo",
    summary="A timeline step's photo",
    response={200: None},
)
def hazard_step_photo(request: HttpRequest, hazard_step_id: int) -> FileResponse:
    """The photo added to a step of a report's timeline."""
    step = selectors.step_get(request_scope(request), hazard_step_id)
    if not step.photo:
        raise Http404
    response = FileResponse(step.photo.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --------------------------------------------------------------------------- writes


@router.post("/hazards", response={201: HazardDetailOut}, summary="Report a hazard")
def hazard_report(
    request: HttpRequest,
    payload: Form[HazardReportIn],
    photo: File[UploadedFile | None] = None,
) -> Status[Hazard]:
    """Report a hazard (multipart form; ``photo`` optional: JPEG, PNG or WebP of at most
    10 MB, stored without its EXIF and GPS data)."""
    scope = request_scope(request)
    community = _community(scope, payload.community_id)
    building = unit = None
    if payload.building_id is not None:
        building = Building.objects.filter(pk=payload.building_id).first()
        if building is None:
            raise services.HazardInputError(
                _("Choose a building of this community."), field="building"
            )
    if payload.unit_id is not None:
        unit = Unit.objects.filter(pk=payload.unit_id).select_related("building").first()
        if unit is None:
            raise services.HazardInputError(
                _("Choose an entrance of this community."), field="unit"
            )
    hazard = services.hazard_report(
        community=community,
        reporter=request_actor(request),
        category=payload.category,
        description=payload.description,
        latitude=payload.latitude,
        longitude=payload.longitude,
        building=building,
        unit=unit,
        address=payload.address,
        photo=photo,
        anonymous=payload.anonymous,
    )
    return Status(201, _detail(request, hazard))


@router.post("/hazards/{hazard_id}/triage", response=HazardDetailOut, summary="Triage")
def hazard_triage(request: HttpRequest, hazard_id: int, payload: TriageIn) -> Hazard:
    """Set the severity; the deadline follows from it."""
    scope = request_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    services.hazard_triage(
        actor=request_actor(request),
        scope=scope,
        hazard=hazard,
        severity=payload.severity,
        note=payload.note,
    )
    return _detail(request, hazard)


@router.post("/hazards/{hazard_id}/assign", response=HazardDetailOut, summary="Assign")
def hazard_assign(request: HttpRequest, hazard_id: int, payload: AssignIn) -> Hazard:
    """Make a member of the community responsible, by a deadline (default: the severity's)."""
    scope = request_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    assignee = None
    if payload.assignee_id is not None:
        assignee = User.objects.filter(pk=payload.assignee_id).first()
    if payload.assignee_id is not None and assignee is None:
        raise services.HazardInputError(
            _("Choose a member of this community as the responsible person."),
            field="assignee",
        )
    deadline: dt.datetime | None = payload.deadline
    services.hazard_assign(
        actor=request_actor(request),
        scope=scope,
        hazard=hazard,
        assignee=assignee,
        deadline=deadline,
        note=payload.note,
    )
    return _detail(request, hazard)


@router.post("/hazards/{hazard_id}/rectify", response=HazardDetailOut, summary="Rectified")
def hazard_rectify(
    request: HttpRequest,
    hazard_id: int,
    payload: Form[HazardNoteIn],
    after_photo: File[UploadedFile | None] = None,
) -> Hazard:
    """Say the hazard is fixed (multipart form; ``after_photo`` required), by the responsible
    person or a hazard manager."""
    scope = request_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    services.hazard_rectify(
        actor=request_actor(request),
        scope=scope,
        hazard=hazard,
        after_photo=after_photo,
        note=payload.note,
    )
    return _detail(request, hazard)


@router.post("/hazards/{hazard_id}/verify", response=HazardDetailOut, summary="Verify")
def hazard_verify(request: HttpRequest, hazard_id: int, payload: VerifyIn) -> Hazard:
    """Check the rectification (not by who rectified it: 409 ``same_person``); a failed check
    sends it back to the responsible person."""
    scope = request_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    services.hazard_verify(
        actor=request_actor(request),
        scope=scope,
        hazard=hazard,
        passed=payload.passed,
        note=payload.note,
    )
    return _detail(request, hazard)


@router.post("/hazards/{hazard_id}/close", response=HazardDetailOut, summary="Close")
def hazard_close(request: HttpRequest, hazard_id: int, payload: HazardNoteIn) -> Hazard:
    """Close a verified report."""
    scope = request_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    services.hazard_close(
        actor=request_actor(request), scope=scope, hazard=hazard, note=payload.note
    )
    return _detail(request, hazard)


@router.post("/hazards/{hazard_id}/reject", response=HazardDetailOut, summary="Reject")
def hazard_reject(request: HttpRequest, hazard_id: int, payload: RejectIn) -> Hazard:
    """Turn a report down with a reason (before it is rectified)."""
    scope = request_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    services.hazard_reject(
        actor=request_actor(request), scope=scope, hazard=hazard, reason=payload.reason
    )
    return _detail(request, hazard)


@router.post(
    "/hazards/{hazard_id}/comments", response={201: HazardDetailOut}, summary="Add a comment"
)
def hazard_comment(
    request: HttpRequest,
    hazard_id: int,
    payload: Form[HazardNoteIn],
    photo: File[UploadedFile | None] = None,
) -> Status[Hazard]:
    """Add a comment and/or a photo to the timeline (multipart form): the reporter, followers,
    the responsible person and hazard staff."""
    scope = request_scope(request)
    hazard = selectors.hazard_get(scope, hazard_id)
    services.hazard_comment(
        actor=request_actor(request), scope=scope, hazard=hazard, note=payload.note, photo=photo
    )
    return Status(201, _detail(request, hazard))


@router.post("/hazards/{hazard_id}/follow", response=FollowOut, summary="Follow a report")
def hazard_follow(request: HttpRequest, hazard_id: int) -> dict[str, Any]:
    """Follow an open report of one's community instead of reporting it again."""
    scope = request_scope(request)
    hazard = selectors.hazard_to_follow(scope, hazard_id)
    follower = services.hazard_follow(actor=request_actor(request), scope=scope, hazard=hazard)
    return {"hazard_id": hazard.pk, "followed_at": follower.followed_at}
