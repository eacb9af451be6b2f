"""Pages of the people domain: residents, their contacts and households, import and export,
household bindings and the resident's own household. Views collect input and call services;
every rule lives in the services and selectors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, is_htmx, page_scope, page_user, submit_form
from anwang.core.selectors import current_community
from anwang.people import selectors, services
from anwang.people.choices import BindingStatus, PersonalField, ResidentTag
from anwang.people.forms import (
    BindingRequestForm,
    EmergencyContactForm,
    HouseholdAddForm,
    ImportForm,
    MoveOutForm,
    RefuseForm,
    ResidentForm,
)
from anwang.people.importing import CONTENT_TYPES, RESIDENTS, ImportRejectedError, template_xlsx
from anwang.people.models import Resident
from anwang.places.models import Community

PAGE_SIZE = 50


def _list_community(request: HttpRequest, scope: Scope, permission: Permission) -> int | None:
    """The community a list shows: the current one if the permission is held there, else
    every community where it is held (``None``)."""
    community = current_community(request, scope)
    if community is not None and scope.has(permission, community.pk):
        return community.pk
    return None


def _one_community(request: HttpRequest, scope: Scope, permission: Permission) -> Community:
    """The community an action applies to: the current one, else the first permitted."""
    community_id = _list_community(request, scope, permission)
    if community_id is None:
        permitted = selectors.communities_with(scope, permission)
        if not permitted:
            raise PermissionDenied
        return permitted[0]
    return Community.objects.get(pk=community_id)


def _require_anywhere(scope: Scope, permission: Permission) -> None:
    if not scope.has_anywhere(permission):
        raise PermissionDenied


# Residents -------------------------------------------------------------------------------------


@login_required
def resident_list(request: HttpRequest) -> HttpResponse:
    """Residents of the current community: search, filters, masked phone numbers."""
    scope = page_scope(request)
    _require_anywhere(scope, Permission.VIEW_RESIDENTS)
    community_id = _list_community(request, scope, Permission.VIEW_RESIDENTS)
    tag = request.GET.get("tag", "")
    filters: dict[str, Any] = {
        "q": request.GET.get("q", "").strip(),
        "tag": tag if tag in ResidentTag.values else "",
        "building": int_param(request.GET.get("building")),
        "grid": int_param(request.GET.get("grid")),
        "include_moved_out": request.GET.get("include_moved_out") == "1",
    }
    residents = selectors.residents_list(scope, community_id=community_id, **filters)
    page = Paginator(residents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    export_query = {
        k: v for k, v in query.items() if k in {"q", "tag", "building", "grid", "include_moved_out"}
    }
    return render(
        request,
        "people/resident_list.html",
        {
            "page": page,
            "filters": filters,
            "options": selectors.filter_options(scope, community_id),
            "tags": ResidentTag.choices,
            "query": urlencode(query),
            "export_query": urlencode(export_query),
            "can_manage": scope.has_anywhere(Permission.MANAGE_RESIDENTS),
        },
    )


@login_required
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One resident: masked numbers with audited 'Show' buttons, tags, households, contacts,
    consent and the move-out action."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, pk)
    community_id = resident.community_id
    return render(
        request,
        "people/resident_detail.html",
        {
            "resident": resident,
            "history": selectors.resident_history(resident),
            "contacts": selectors.emergency_contacts(resident),
            "can_manage": scope.has(Permission.MANAGE_RESIDENTS, community_id),
            "can_reveal": scope.has(Permission.REVEAL_PERSONAL_DATA, community_id),
            "move_out_form": MoveOutForm(),
            "household_form": HouseholdAddForm(),
        },
    )


def _resident_form_communities(scope: Scope) -> list[tuple[int, str]]:
    return [(c.pk, c.name) for c in selectors.communities_with(scope, Permission.MANAGE_RESIDENTS)]


@login_required
@require_http_methods(["GET", "POST"])
def resident_create(request: HttpRequest) -> HttpResponse:
    """Register a resident, optionally in a household."""
    scope = page_scope(request)
    _require_anywhere(scope, Permission.MANAGE_RESIDENTS)
    communities = _resident_form_communities(scope)
    default = _one_community(request, scope, Permission.MANAGE_RESIDENTS)
    form = ResidentForm(
        request.POST or None, communities=communities, initial={"community": default.pk}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The form offers only communities where the person manages residents; the service
        # checks again.
        community = Community.objects.get(pk=data["community"])
        address = data["address"]
        household = None
        if address:
            household = selectors.household_by_address(community_id=community.pk, address=address)
        if address and household is None:
            form.add_error("address", _("No household at this address in this community."))
        else:
            saved = submit_form(
                request,
                form,
                lambda data: services.resident_create(
                    actor=page_user(request),
                    scope=scope,
                    community=community,
                    name=data["name"],
                    gender=data["gender"],
                    birth_date=data["birth_date"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    note=data["note"],
                    tags=data["tags"],
                    consent=data["consent"],
                    household=household,
                    relation=data["relation"],
                ),
                success=lambda resident: _("%(name)s was registered.") % {"name": resident.name},
            )
            if saved is not None:
                return redirect("people:resident_detail", pk=saved.pk)
    return render(
        request,
        "people/resident_form.html",
        {"form": form, "title": _("New resident")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def resident_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a resident. ID and phone fields start empty: left empty, the stored numbers stay."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, pk, Permission.MANAGE_RESIDENTS)
    masked = {"id_number": resident.id_number_masked, "phone": resident.phone_masked}
    initial = {
        "name": resident.name,
        "gender": resident.gender,
        "birth_date": resident.birth_date,
        "note": resident.note,
        "tags": [link.tag for link in resident.tag_links.all()],
        "consent": resident.data_consent_at is not None,
    }
    form = ResidentForm(request.POST or None, initial=initial, masked=masked)

    def save(data: dict[str, Any]) -> Resident:
        # Empty keeps the stored number; "clear" removes it.
        id_number = "" if data.get("clear_id_number") else (data["id_number"] or None)
        phone = "" if data.get("clear_phone") else (data["phone"] or None)
        return services.resident_update(
            actor=page_user(request),
            scope=scope,
            resident=resident,
            name=data["name"],
            gender=data["gender"],
            birth_date=data["birth_date"],
            id_number=id_number,
            phone=phone,
            note=data["note"],
            tags=data["tags"],
            consent=data["consent"],
        )

    if submit_form(request, form, save, success=_("The changes were saved.")) is not None:
        return redirect("people:resident_detail", pk=resident.pk)
    return render(
        request,
        "people/resident_form.html",
        {
            "form": form,
            "resident": resident,
            "title": _("Edit %(name)s") % {"name": resident.name},
        },
    )


@login_required
@require_POST
def resident_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Show one full ID or phone number (audited); 404 without the reveal permission."""
    scope = page_scope(request)
    if field not in PersonalField.values:
        raise Http404
    resident = selectors.resident_get(scope, pk)
    value = services.resident_reveal(
        actor=page_user(request), scope=scope, resident=resident, field=field
    )
    testid = "resident-id-number" if field == PersonalField.ID_NUMBER else "resident-phone"
    context = {
        "value": value,
        "testid": testid,
        "wrapper_id": f"{testid}-field",
        "label": PersonalField(field).label,
        "resident": resident,
    }
    template = "people/_revealed.html" if is_htmx(request) else "people/revealed.html"
    return render(request, template, context)


@login_required
@require_POST
def resident_move_out(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the resident moved out."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, pk, Permission.MANAGE_RESIDENTS)
    form = MoveOutForm(request.POST)
    day = form.cleaned_data["date"] if form.is_valid() else None
    try:
        services.resident_move_out(actor=page_user(request), scope=scope, resident=resident, on=day)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("%(name)s was recorded as moved out.") % {"name": resident})
    return redirect("people:resident_detail", pk=pk)


@login_required
@require_POST
def resident_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """Record or withdraw the resident's consent to data processing."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, pk, Permission.MANAGE_RESIDENTS)
    consented = request.POST.get("consented") == "1"
    services.resident_consent_record(
        actor=page_user(request), scope=scope, resident=resident, consented=consented
    )
    messages.success(
        request,
        _("The consent was recorded.") if consented else _("The consent was withdrawn."),
    )
    return redirect("people:resident_detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def resident_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Erase a resident's personal data on their request, after confirmation."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, pk, Permission.MANAGE_RESIDENTS)
    if request.method == "POST":
        services.resident_erase(actor=page_user(request), scope=scope, resident=resident)
        messages.success(request, _("The resident's personal data was erased."))
        return redirect("people:resident_list")
    return render(request, "people/resident_erase.html", {"resident": resident})


@login_required
@require_POST
def household_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the resident to a household given by its address."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, pk, Permission.MANAGE_RESIDENTS)
    form = HouseholdAddForm(request.POST)
    if form.is_valid():
        household = selectors.household_by_address(
            community_id=resident.community_id, address=form.cleaned_data["address"]
        )
        if household is None:
            messages.error(request, _("No household at this address in this community."))
        else:
            try:
                services.household_member_add(
                    actor=page_user(request),
                    scope=scope,
                    household=household,
                    resident=resident,
                    relation=form.cleaned_data["relation"],
                )
            except ServiceError as error:
                messages.error(request, str(error.message))
            else:
                messages.success(
                    request, _("Added to household %(address)s.") % {"address": household}
                )
    else:
        messages.error(request, _("Give the address as building-entrance-room, e.g. 1-2-301."))
    return redirect("people:resident_detail", pk=pk)


@login_required
@require_POST
def household_member_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a household membership (the resident no longer lives there)."""
    scope = page_scope(request)
    member = selectors.household_member_get(scope, pk)
    try:
        services.household_member_end(actor=page_user(request), scope=scope, member=member)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The household membership was ended."))
    return redirect("people:resident_detail", pk=member.resident_id)


# Emergency contacts ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an emergency contact to a resident."""
    scope = page_scope(request)
    resident = selectors.resident_get(scope, pk, Permission.MANAGE_RESIDENTS)
    form = EmergencyContactForm(request.POST or None)
    saved = submit_form(
        request,
        form,
        lambda data: services.emergency_contact_create(
            actor=page_user(request),
            scope=scope,
            resident=resident,
            name=data["name"],
            relation=data["relation"],
            phone=data["phone"],
        ),
        success=_("The emergency contact was added."),
    )
    if saved is not None:
        return redirect("people:resident_detail", pk=resident.pk)
    return render(
        request,
        "people/contact_form.html",
        {"form": form, "resident": resident, "title": _("New emergency contact")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an emergency contact; an empty phone keeps the stored number."""
    scope = page_scope(request)
    contact = selectors.emergency_contact_get(scope, pk, Permission.MANAGE_RESIDENTS)
    form = EmergencyContactForm(
        request.POST or None,
        initial={"name": contact.name, "relation": contact.relation},
        masked_phone=contact.phone_masked,
    )
    saved = submit_form(
        request,
        form,
        lambda data: services.emergency_contact_update(
            actor=page_user(request),
            scope=scope,
            contact=contact,
            name=data["name"],
            relation=data["relation"],
            phone=data["phone"] or None,
        ),
        success=_("The changes were saved."),
    )
    if saved is not None:
        return redirect("people:resident_detail", pk=contact.resident_id)
    return render(
        request,
        "people/contact_form.html",
        {
            "form": form,
            "resident": contact.resident,
            "title": _("Edit emergency contact %(name)s") % {"name": contact.name},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an emergency contact, after confirmation."""
    scope = page_scope(request)
    contact = selectors.emergency_contact_get(scope, pk, Permission.MANAGE_RESIDENTS)
    if request.method == "POST":
        services.emergency_contact_delete(actor=page_user(request), scope=scope, contact=contact)
        messages.success(request, _("The emergency contact was removed."))
        return redirect("people:resident_detail", pk=contact.resident_id)
    return render(request, "people/contact_delete.html", {"contact": contact})


@login_required
@require_POST
def contact_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an emergency contact's full phone number (audited); 404 without permission."""
    scope = page_scope(request)
    contact = selectors.emergency_contact_get(scope, pk)
    value = services.emergency_contact_reveal(
        actor=page_user(request), scope=scope, contact=contact
    )
    testid = "contact-phone"
    context = {
        "value": value,
        "testid": testid,
        "wrapper_id": f"contact-{contact.pk}-phone-field",
        "label": PersonalField.PHONE.label,
        "resident": contact.resident,
    }
    template = "people/_revealed.html" if is_htmx(request) else "people/revealed.html"
    return render(request, template, context)


# Import and export -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def resident_import(request: HttpRequest) -> HttpResponse:
    """Upload a file; every row is checked and nothing is imported if any row fails."""
    scope = page_scope(request)
    _require_anywhere(scope, Permission.MANAGE_RESIDENTS)
    default = _one_community(request, scope, Permission.MANAGE_RESIDENTS)
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        communities=_resident_form_communities(scope),
        initial={"community": default.pk},
    )
    errors: list[Any] = []
    if request.method == "POST" and form.is_valid():
        # The form offers only communities where the person manages residents; the service
        # checks again.
        community = Community.objects.get(pk=form.cleaned_data["community"])
        upload = form.cleaned_data["file"]
        try:
            result = services.resident_import(
                actor=page_user(request),
                scope=scope,
                community=community,
                file_name=upload.name or "",
                content=upload.read(),
            )
        except ImportRejectedError as rejected:
            errors = RESIDENTS.labelled(rejected.errors)
            form.add_error(None, str(rejected.message))
        else:
            messages.success(
                request,
                _(
                    "Imported %(rows)s rows: %(created)s new residents, %(updated)s updated, "
                    "%(households)s new households, %(units)s new entrances."
                )
                % {
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "households": result.households_created,
                    "units": result.units_created,
                },
            )
            return redirect("people:resident_list")
    return render(request, "people/resident_import.html", {"form": form, "errors": errors})


@login_required
def resident_export(request: HttpRequest) -> HttpResponse:
    """Download the current community's residents as .xlsx or .csv (masked unless the person
    may reveal personal data; audited either way)."""
    scope = page_scope(request)
    _require_anywhere(scope, Permission.VIEW_RESIDENTS)
    file_format = request.GET.get("format", "xlsx")
    if file_format not in CONTENT_TYPES:
        raise Http404
    community = _one_community(request, scope, Permission.VIEW_RESIDENTS)
    residents = selectors.residents_list(
        scope,
        community_id=community.pk,
        q=request.GET.get("q", ""),
        tag=request.GET.get("tag", ""),
        building=int_param(request.GET.get("building")),
        grid=int_param(request.GET.get("grid")),
        include_moved_out=request.GET.get("include_moved_out") == "1",
    )
    content, file_name, content_type = services.resident_export(
        actor=page_user(request),
        scope=scope,
        community=community,
        residents=residents,
        file_format=file_format,
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    """An empty import workbook with the headers and instructions."""
    _require_anywhere(page_scope(request), Permission.MANAGE_RESIDENTS)
    response = HttpResponse(template_xlsx(), content_type=CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = 'attachment; filename="residents-template.xlsx"'
    return response


# Bindings --------------------------------------------------------------------------------------


@login_required
def binding_list(request: HttpRequest) -> HttpResponse:
    """Pending binding requests to approve or refuse, and the latest decisions."""
    scope = page_scope(request)
    _require_anywhere(scope, Permission.APPROVE_BINDINGS)
    pending = list(selectors.bindings_to_decide(scope))
    candidates = selectors.binding_candidates(pending)
    return render(
        request,
        "people/binding_list.html",
        {
            "pending": [(binding, candidates[binding.household_id]) for binding in pending],
            "decided": selectors.bindings_decided(scope),
            "refuse_form": RefuseForm(),
        },
    )


@login_required
@require_POST
def binding_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a binding, optionally linking an existing resident record."""
    scope = page_scope(request)
    binding = selectors.binding_get(scope, pk, decide=True)
    resident_id = int_param(request.POST.get("resident"))
    resident = (
        selectors.resident_get(scope, resident_id, Permission.APPROVE_BINDINGS)
        if resident_id
        else None
    )
    try:
        services.binding_approve(
            actor=page_user(request), scope=scope, binding=binding, resident=resident
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(account)s is now bound to %(address)s.")
            % {"account": binding.user, "address": binding.household},
        )
    return redirect("people:binding_list")


@login_required
@require_POST
def binding_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    """Refuse a binding with a reason."""
    scope = page_scope(request)
    binding = selectors.binding_get(scope, pk, decide=True)
    form = RefuseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.binding_refuse(actor=page_user(request), scope=scope, binding=binding, note=note)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The request was refused."))
    return redirect("people:binding_list")


@login_required
@require_POST
def binding_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a binding (moved out) or withdraw a pending request."""
    scope = page_scope(request)
    binding = selectors.binding_get(scope, pk, decide=False)
    try:
        services.binding_end(actor=page_user(request), scope=scope, binding=binding)
    except ServiceError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The binding was ended."))
    if binding.user_id == request.user.pk:
        return redirect("people:my_household")
    return redirect("people:binding_list")


@login_required
@require_http_methods(["GET", "POST"])
def binding_request(request: HttpRequest) -> HttpResponse:
    """Ask to be bound to a household: community, building, entrance, room, chosen in turn
    (htmx refreshes the choices; without JavaScript the 'Next' button does)."""
    source = request.POST if request.method == "POST" else request.GET
    choices = selectors.binding_request_options(
        community_id=int_param(source.get("community")),
        building_id=int_param(source.get("building")),
        unit_id=int_param(source.get("unit")),
    )
    options = choices.options()
    if request.method == "POST":
        form = BindingRequestForm(request.POST, options=options)
    else:
        # Choosing level by level is not a submission: an unbound form shows no errors.
        initial = {
            "community": choices.community_id,
            "building": choices.building_id,
            "unit": choices.unit_id,
        }
        form = BindingRequestForm(initial=initial, options=options)
    if request.method == "POST" and form.is_valid():
        household = selectors.household_for_binding(
            unit_id=choices.unit_id, pk=form.cleaned_data["household"]
        )
        if household is None:
            form.add_error("household", _("Choose your room."))
        else:
            saved = submit_form(
                request,
                form,
                lambda data: services.binding_request(
                    actor=page_user(request),
                    scope=page_scope(request),
                    household=household,
                    relation=data["relation"],
                    message=data["message"],
                ),
                success=lambda binding: (
                    _("Your request was sent to %(community)s.")
                    % {"community": household.community.name}
                ),
            )
            if saved is not None:
                return redirect("people:my_household")
    context = {"form": form, "ready": choices.unit_id is not None}
    if is_htmx(request) and request.method == "GET":
        return render(request, "people/_binding_request_form.html", context)
    return render(request, "people/binding_request.html", context)


@login_required
def my_household(request: HttpRequest) -> HttpResponse:
    """The resident's own household(s): members (masked), binding status, 'moved out'."""
    scope = page_scope(request)
    bindings = selectors.my_bindings(scope)
    households = [
        (binding, selectors.household_members(scope=scope, household=binding.household))
        for binding in bindings
        if binding.status == BindingStatus.APPROVED
    ]
    others = [binding for binding in bindings if binding.status != BindingStatus.APPROVED]
    return render(
        request,
        "people/my_household.html",
        {"households": households, "others": others},
    )
