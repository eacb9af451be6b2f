"""JSON API of the people domain: residents (masked), emergency contacts, audited reveals,
import and export, household members and household bindings."""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.people import selectors, services
from anwang.people.importing import ImportRejectedError
from anwang.people.models import EmergencyContact, HouseholdBinding, HouseholdMember, Resident
from anwang.people.schemas import (
    BindingApproveIn,
    BindingIn,
    BindingOut,
    BindingRefuseIn,
    ContactIn,
    ContactOut,
    ContactPatch,
    ImportCountsOut,
    ImportRejectedOut,
    MemberOut,
    MoveOutIn,
    ResidentIn,
    ResidentOut,
    ResidentPatch,
    RevealIn,
    RevealOut,
)
from anwang.places.models import Community, Household

router = Router(tags=["people"])
PAGE_SIZE = 50


def _community(scope: Scope, community_id: int | None, permission: Permission) -> Community:
    """The community a request is about: the one given (404 unless permitted), or the only
    one where the caller holds the permission."""
    if community_id is None:
        ids = scope.community_ids(permission)
        if len(ids) != 1:
            raise ServiceError(_("Choose a community."), field="community_id")
        community_id = next(iter(ids))
    scope.require(permission, community_id)
    return Community.objects.get(pk=community_id)


# Residents -------------------------------------------------------------------------------------


@router.get("/residents", response=list[ResidentOut], summary="List residents (masked)")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def resident_list(
    request: HttpRequest,
    community_id: int | None = None,
    q: str = "",
    tag: str = "",
    building_id: int | None = None,
    grid_id: int | None = None,
    include_moved_out: bool = False,
) -> QuerySet[Resident]:
    """Residents the caller may see. ``q`` matches a name, an exact ID or phone number, or an
    address like ``1-2-301``."""
    return selectors.residents_list(
        request_scope(request),
        community_id=community_id,
        q=q,
        tag=tag,
        building=building_id,
        grid=grid_id,
        include_moved_out=include_moved_out,
    )


@router.post("/residents", response={201: ResidentOut}, summary="Register a resident")
def resident_create(request: HttpRequest, payload: ResidentIn) -> Status[Resident]:
    """Register a resident, optionally in a household of the same community."""
    scope = request_scope(request)
    community = _community(scope, payload.community_id, Permission.MANAGE_RESIDENTS)
    household = None
    if payload.household_id is not None:
        household = Household.objects.filter(pk=payload.household_id, community=community).first()
        if household is None:
            raise ServiceError(_("No such household in this community."), field="household_id")
    resident = services.resident_create(
        actor=request_actor(request),
        scope=scope,
        community=community,
        name=payload.name,
        gender=payload.gender,
        birth_date=payload.birth_date,
        id_number=payload.id_number,
        phone=payload.phone,
        note=payload.note,
        tags=payload.tags,
        consent=payload.consent,
        household=household,
        relation=payload.relation,
    )
    return Status(201, selectors.resident_get(scope, resident.pk))


@router.get("/residents/export", summary="Export residents as .xlsx or .csv")
def resident_export(
    request: HttpRequest,
    community_id: int | None = None,
    format: Literal["xlsx", "csv"] = "xlsx",
    q: str = "",
    tag: str = "",
    building_id: int | None = None,
    grid_id: int | None = None,
    include_moved_out: bool = False,
) -> HttpResponse:
    """The residents the same filters as the list select. Full ID and phone numbers only for
    holders of the reveal permission; audited with the row count."""
    scope = request_scope(request)
    community = _community(scope, community_id, Permission.VIEW_RESIDENTS)
    residents = selectors.residents_list(
        scope,
        community_id=community.pk,
        q=q,
        tag=tag,
        building=building_id,
        grid=grid_id,
        include_moved_out=include_moved_out,
    )
    content, file_name, content_type = services.resident_export(
        actor=request_actor(request),
        scope=scope,
        community=community,
        residents=residents,
        file_format=format,
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@router.post(
    "/residents/import",
    response={200: ImportCountsOut, 400: ImportRejectedOut},
    summary="Import residents from .xlsx or .csv (all or nothing)",
)
def resident_import(
    request: HttpRequest, file: File[UploadedFile], community_id: Form[int | None] = None
) -> Status[Any]:
    """Every row is checked; if any row has a problem nothing is imported and the response
    lists each problem with its row and column."""
    scope = request_scope(request)
    community = _community(scope, community_id, Permission.MANAGE_RESIDENTS)
    try:
        result = services.resident_import(
            actor=request_actor(request),
            scope=scope,
            community=community,
            file_name=file.name or "",
            content=file.read(),
        )
    except ImportRejectedError as rejected:
        return Status(
            400,
            {
                "detail": str(rejected.message),
                "code": "import_rejected",
                "errors": [
                    {
                        "loc": ["row", error.row, error.column],
                        "msg": error.message,
                        "row": error.row,
                        "column": error.column,
                    }
                    for error in rejected.errors
                ],
            },
        )
    return Status(200, result)


@router.get("/residents/{resident_id}", response=ResidentOut, summary="One resident (masked)")
def resident_detail(request: HttpRequest, resident_id: int) -> Resident:
    """A resident of a community where the caller may view residents; else 404."""
    return selectors.resident_get(request_scope(request), resident_id)


@router.patch("/residents/{resident_id}", response=ResidentOut, summary="Change a resident")
def resident_update(request: HttpRequest, resident_id: int, payload: ResidentPatch) -> Resident:
    """Omitted fields stay as they are; ``""`` removes an ID or phone number."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id, Permission.MANAGE_RESIDENTS)
    given = payload.model_fields_set
    kwargs: dict[str, Any] = {}
    for name in ("name", "gender", "note"):
        value = getattr(payload, name)
        if name in given and value is not None:
            kwargs[name] = value
    if "birth_date" in given:
        kwargs["birth_date"] = payload.birth_date
    for name in ("id_number", "phone", "tags", "consent"):
        if name in given:
            kwargs[name] = getattr(payload, name)
    services.resident_update(actor=request_actor(request), scope=scope, resident=resident, **kwargs)
    return selectors.resident_get(scope, resident_id)


@router.delete("/residents/{resident_id}", response={204: None}, summary="Erase a resident's data")
def resident_erase(request: HttpRequest, resident_id: int) -> Status[None]:
    """Erase on the person's request: the record, tags, memberships and emergency contacts are
    deleted; an audit entry (without personal data) remains."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id, Permission.MANAGE_RESIDENTS)
    services.resident_erase(actor=request_actor(request), scope=scope, resident=resident)
    return Status(204, None)


@router.post(
    "/residents/{resident_id}/reveal",
    response=RevealOut,
    summary="Reveal a full ID or phone number (audited)",
)
def resident_reveal(request: HttpRequest, resident_id: int, payload: RevealIn) -> RevealOut:
    """Needs the reveal permission in the resident's community (else 404); every call is
    written to the audit log."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id)
    value = services.resident_reveal(
        actor=request_actor(request), scope=scope, resident=resident, field=payload.field
    )
    return RevealOut(value=value)


@router.post("/residents/{resident_id}/move-out", response=ResidentOut, summary="Record a move-out")
def resident_move_out(request: HttpRequest, resident_id: int, payload: MoveOutIn) -> Resident:
    """Ends the resident's household memberships and account bindings."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id, Permission.MANAGE_RESIDENTS)
    services.resident_move_out(
        actor=request_actor(request), scope=scope, resident=resident, on=payload.date
    )
    return selectors.resident_get(scope, resident_id)


# Emergency contacts ----------------------------------------------------------------------------


@router.get(
    "/residents/{resident_id}/emergency-contacts",
    response=list[ContactOut],
    summary="A resident's emergency contacts (masked)",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def contact_list(request: HttpRequest, resident_id: int) -> QuerySet[EmergencyContact]:
    """The people to call for a resident."""
    resident = selectors.resident_get(request_scope(request), resident_id)
    return resident.emergency_contacts.order_by("id")


@router.post(
    "/residents/{resident_id}/emergency-contacts",
    response={201: ContactOut},
    summary="Add an emergency contact",
)
def contact_create(
    request: HttpRequest, resident_id: int, payload: ContactIn
) -> Status[EmergencyContact]:
    """Add someone to call for a resident."""
    scope = request_scope(request)
    resident = selectors.resident_get(scope, resident_id, Permission.MANAGE_RESIDENTS)
    contact = services.emergency_contact_create(
        actor=request_actor(request),
        scope=scope,
        resident=resident,
        name=payload.name,
        relation=payload.relation,
        phone=payload.phone,
    )
    return Status(201, contact)


@router.patch(
    "/emergency-contacts/{contact_id}", response=ContactOut, summary="Change an emergency contact"
)
def contact_update(
    request: HttpRequest, contact_id: int, payload: ContactPatch
) -> EmergencyContact:
    """Omitted fields stay as they are."""
    scope = request_scope(request)
    contact = selectors.emergency_contact_get(scope, contact_id, Permission.MANAGE_RESIDENTS)
    kwargs: dict[str, Any] = {
        name: getattr(payload, name)
        for name in ("name", "relation", "phone")
        if name in payload.model_fields_set and getattr(payload, name) is not None
    }
    return services.emergency_contact_update(
        actor=request_actor(request), scope=scope, contact=contact, **kwargs
    )


@router.delete(
    "/emergency-contacts/{contact_id}",
    response={204: None},
    summary="Remove an emergency contact",
)
def contact_delete(request: HttpRequest, contact_id: int) -> Status[None]:
    """Remove an emergency contact."""
    scope = request_scope(request)
    contact = selectors.emergency_contact_get(scope, contact_id, Permission.MANAGE_RESIDENTS)
    services.emergency_contact_delete(actor=request_actor(request), scope=scope, contact=contact)
    return Status(204, None)


@router.post(
    "/emergency-contacts/{contact_id}/reveal",
    response=RevealOut,
    summary="Reveal an emergency contact's phone number (audited)",
)
def contact_reveal(request: HttpRequest, contact_id: int) -> RevealOut:
    """Needs the reveal permission in the resident's community (else 404); audited."""
    scope = request_scope(request)
    contact = selectors.emergency_contact_get(scope, contact_id)
    value = services.emergency_contact_reveal(
        actor=request_actor(request), scope=scope, contact=contact
    )
    return RevealOut(value=value)


# Households ------------------------------------------------------------------------------------


@router.get(
    "/households/{household_id}/members",
    response=list[MemberOut],
    summary="Who lives in a household (masked)",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def household_members(request: HttpRequest, household_id: int) -> list[HouseholdMember]:
    """Staff who may view residents, and residents bound to this household, see its members."""
    scope = request_scope(request)
    household = selectors.household_get_for_members(scope, household_id)
    return selectors.household_members(scope=scope, household=household)


# Bindings --------------------------------------------------------------------------------------


@router.get("/bindings", response=list[BindingOut], summary="Household bindings")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def binding_list(
    request: HttpRequest, status: str = "", community_id: int | None = None, mine: bool = False
) -> QuerySet[HouseholdBinding]:
    """Bindings the caller decides on, and the caller's own requests (``mine`` for only
    those)."""
    return selectors.bindings_list(
        request_scope(request), status=status, community_id=community_id, mine=mine
    )


@router.post("/bindings", response={201: BindingOut}, summary="Ask to be bound to a household")
def binding_request(request: HttpRequest, payload: BindingIn) -> Status[HouseholdBinding]:
    """Any logged-in account may ask; an approver of the community decides."""
    household = (
        Household.objects.select_related("unit__building").filter(pk=payload.household_id).first()
    )
    if household is None:
        raise ServiceError(_("No such household."), field="household_id")
    binding = services.binding_request(
        actor=request_actor(request),
        scope=request_scope(request),
        household=household,
        relation=payload.relation,
        message=payload.message,
    )
    return Status(201, binding)


@router.post("/bindings/{binding_id}/approve", response=BindingOut, summary="Approve a binding")
def binding_approve(
    request: HttpRequest, binding_id: int, payload: BindingApproveIn
) -> HouseholdBinding:
    """Links (or creates) the resident record and grants the resident role."""
    scope = request_scope(request)
    binding = selectors.binding_get(scope, binding_id, decide=True)
    resident = None
    if payload.resident_id is not None:
        resident = selectors.resident_get(scope, payload.resident_id, Permission.APPROVE_BINDINGS)
    return services.binding_approve(
        actor=request_actor(request), scope=scope, binding=binding, resident=resident
    )


@router.post("/bindings/{binding_id}/refuse", response=BindingOut, summary="Refuse a binding")
def binding_refuse(
    request: HttpRequest, binding_id: int, payload: BindingRefuseIn
) -> HouseholdBinding:
    """Refuse with a reason the requester sees."""
    scope = request_scope(request)
    binding = selectors.binding_get(scope, binding_id, decide=True)
    return services.binding_refuse(
        actor=request_actor(request), scope=scope, binding=binding, note=payload.note
    )


@router.post("/bindings/{binding_id}/end", response=BindingOut, summary="End a binding (moved out)")
def binding_end(request: HttpRequest, binding_id: int) -> HouseholdBinding:
    """The bound resident or an approver ends a binding; a pending one is withdrawn."""
    scope = request_scope(request)
    binding = selectors.binding_get(scope, binding_id, decide=False)
    return services.binding_end(actor=request_actor(request), scope=scope, binding=binding)
