"""Reads of the people domain, already scoped to what the caller may see.

Staff see residents through :attr:`Permission.VIEW_RESIDENTS`; a resident sees only the
households their own approved binding ties them to.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope
from anwang.core.crypto import blind_index
from anwang.core.dashboard import Stat
from anwang.core.errors import ServiceError
from anwang.core.inbox import WorkItem
from anwang.people.choices import BindingStatus, ResidentTag
from anwang.people.models import EmergencyContact, HouseholdBinding, HouseholdMember, Resident
from anwang.people.validation import id_number_normalise, phone_normalise
from anwang.places.models import Building, Community, Grid, Household, Unit

if TYPE_CHECKING:
    from collections.abc import Iterable

_ID_SHAPE = re.compile(r"\d{17}[\dX]|\d{14}[\dX]")
_ADDRESS_WORDS = re.compile(r"号楼|栋|幢|单元|号|室|－|—|/|\s+")


def _current_members() -> Prefetch[str, QuerySet[HouseholdMember], str]:
    """Current household memberships with the address parts, for lists and details."""
    return Prefetch(
        "memberships",
        queryset=HouseholdMember.objects.filter(until__isnull=True).select_related(
            "household__unit__building"
        ),
        to_attr="current_memberships",
    )


def address_parse(text: str) -> tuple[str, str, str] | None:
    """``1-2-301``, ``1号楼2单元301室`` or ``1栋2单元301`` → building, entrance and room."""
    parts = [part for part in _ADDRESS_WORDS.sub("-", text.strip()).split("-") if part]
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def _search(queryset: QuerySet[Resident], q: str) -> QuerySet[Resident]:
    """Name (contains), exact ID or phone number (through the blind indexes), or address."""
    q = q.strip()
    if not q:
        return queryset
    condition = Q(name__icontains=q)
    number = id_number_normalise(q)
    if _ID_SHAPE.fullmatch(number):
        condition |= Q(id_number_index=blind_index(number))
    # Not every search is a phone number: the other conditions still apply.
    with contextlib.suppress(ServiceError):
        condition |= Q(phone_index=blind_index(phone_normalise(q)))
    address = address_parse(q)
    if address is not None:
        building, unit, room = address
        condition |= Q(
            pk__in=HouseholdMember.objects.filter(
                until__isnull=True,
                household__unit__building__number=building,
                household__unit__number=unit,
                household__number=room,
            ).values("resident_id")
        )
    return queryset.filter(condition)


def residents_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    q: str = "",
    tag: str = "",
    building: int | None = None,
    grid: int | None = None,
    include_moved_out: bool = False,
) -> QuerySet[Resident]:
    """Residents the caller may see, searched and filtered, with what a list row shows."""
    residents = scope.filter(Resident.objects.all(), Permission.VIEW_RESIDENTS)
    if community_id is not None:
        residents = residents.filter(community_id=community_id)
    if not include_moved_out:
        residents = residents.filter(moved_out_at__isnull=True)
    if tag:
        residents = residents.filter(tag_links__tag=tag)
    if building is not None:
        residents = residents.filter(
            Exists(
                HouseholdMember.objects.filter(
                    resident=OuterRef("pk"),
                    until__isnull=True,
                    household__unit__building_id=building,
                )
            )
        )
    if grid is not None:
        residents = residents.filter(
            Exists(
                HouseholdMember.objects.filter(
                    resident=OuterRef("pk"),
                    until__isnull=True,
                    household__unit__building__grid_id=grid,
                )
            )
        )
    residents = _search(residents, q)
    return (
        residents.select_related("community")
        .prefetch_related("tag_links", _current_members())
        .order_by("name", "id")
    )


def resident_get(
    scope: Scope, pk: int, permission: Permission = Permission.VIEW_RESIDENTS
) -> Resident:
    """One resident, if the caller holds ``permission`` in its community; else 404."""
    resident = (
        Resident.objects.select_related("community", "user")
        .prefetch_related("tag_links", _current_members())
        .filter(pk=pk)
        .first()
    )
    if resident is None:
        raise Http404
    scope.require(permission, resident.community_id)
    return resident


def resident_history(resident: Resident) -> list[HouseholdMember]:
    """Every household membership of a resident, current first, for the detail page."""
    return list(
        resident.memberships.select_related("household__unit__building").order_by(
            "-until", "-since", "-id"
        )
    )


def emergency_contacts(resident: Resident) -> list[EmergencyContact]:
    """A resident's emergency contacts (the caller already sees the resident)."""
    return list(resident.emergency_contacts.order_by("id"))


def emergency_contact_get(
    scope: Scope, pk: int, permission: Permission = Permission.VIEW_RESIDENTS
) -> EmergencyContact:
    """One emergency contact, if the caller holds ``permission`` in its community; else 404."""
    contact = EmergencyContact.objects.select_related("resident").filter(pk=pk).first()
    if contact is None:
        raise Http404
    scope.require(permission, contact.resident.community_id)
    return contact


def household_member_get(
    scope: Scope, pk: int, permission: Permission = Permission.MANAGE_RESIDENTS
) -> HouseholdMember:
    """One household membership, if the caller holds ``permission`` there; else 404."""
    member = HouseholdMember.objects.select_related("household", "resident").filter(pk=pk).first()
    if member is None:
        raise Http404
    scope.require(permission, member.household.community_id)
    return member


def _bound_to(scope: Scope, household: Household) -> bool:
    return (
        scope.user is not None
        and HouseholdBinding.objects.filter(
            user=scope.user, household=household, status=BindingStatus.APPROVED
        ).exists()
    )


def household_visible(scope: Scope, household: Household) -> bool:
    """Whether the caller may see who lives in a household (staff, or its bound residents)."""
    return scope.has(Permission.VIEW_RESIDENTS, household.community_id) or _bound_to(
        scope, household
    )


def household_members(*, scope: Scope, household: Household) -> list[HouseholdMember]:
    """The people living in a household now, head first, for whoever may see them.

    Staff holding VIEW_RESIDENTS in the household's community and residents bound to this
    household get the list; anybody else gets an empty list (a guard can open a household page
    without seeing who lives there). Render with ``people/_household_members.html``.
    """
    if not household_visible(scope, household):
        return []
    members = (
        HouseholdMember.objects.filter(household=household, until__isnull=True)
        .select_related("resident")
        .prefetch_related("resident__tag_links")
        .order_by("id")
    )
    return sorted(members, key=lambda member: (member.relation != "head", member.pk))


def household_get_for_members(scope: Scope, pk: int) -> Household:
    """A household whose members the caller may see; else 404."""
    household = Household.objects.select_related("unit__building").filter(pk=pk).first()
    if household is None or not household_visible(scope, household):
        raise Http404
    return household


def household_by_address(*, community_id: int, address: str) -> Household | None:
    """The household at ``building-entrance-room`` in a community, if it exists."""
    parts = address_parse(address)
    if parts is None:
        return None
    building, unit, room = parts
    return (
        Household.objects.select_related("unit__building")
        .filter(
            community_id=community_id,
            unit__building__number=building,
            unit__number=unit,
            number=room,
        )
        .first()
    )


def filter_options(scope: Scope, community_id: int | None) -> dict[str, list[tuple[int, str]]]:
    """Buildings and grids for the resident list filters."""
    ids = scope.community_ids(Permission.VIEW_RESIDENTS)
    if community_id is not None:
        ids &= {community_id}
    buildings = Building.objects.filter(community_id__in=ids).order_by("community", "number")
    grids = Grid.objects.filter(community_id__in=ids).order_by("community", "name")
    return {
        "buildings": [(b.pk, b.name) for b in buildings.only("id", "name")],
        "grids": [(g.pk, g.name) for g in grids.only("id", "name")],
    }


# Bindings --------------------------------------------------------------------------------------


def bindings_list(
    scope: Scope,
    *,
    status: str = "",
    community_id: int | None = None,
    mine: bool = False,
) -> QuerySet[HouseholdBinding]:
    """Bindings the caller decides on (APPROVE_BINDINGS) and their own requests."""
    visible = Q(household__community_id__in=scope.community_ids(Permission.APPROVE_BINDINGS))
    if scope.user is not None:
        own = Q(user=scope.user)
        visible = own if mine else visible | own
    elif mine:
        return HouseholdBinding.objects.none()
    bindings = HouseholdBinding.objects.filter(visible)
    if status:
        bindings = bindings.filter(status=status)
    if community_id is not None:
        bindings = bindings.filter(household__community_id=community_id)
    return bindings.select_related(
        "user", "household__unit__building", "household__community", "resident", "decided_by"
    ).order_by("-created_at", "-id")


def bindings_to_decide(scope: Scope, community_id: int | None = None) -> QuerySet[HouseholdBinding]:
    """Pending bindings in the communities where the caller approves bindings."""
    bindings = HouseholdBinding.objects.filter(
        status=BindingStatus.PENDING,
        household__community_id__in=scope.community_ids(Permission.APPROVE_BINDINGS),
    )
    if community_id is not None:
        bindings = bindings.filter(household__community_id=community_id)
    return bindings.select_related(
        "user", "household__unit__building", "household__community"
    ).order_by("created_at", "id")


def binding_get(scope: Scope, pk: int, *, decide: bool) -> HouseholdBinding:
    """A binding the caller may decide on (``decide``) or end (approvers and its own
    requester); else 404."""
    binding = (
        HouseholdBinding.objects.select_related(
            "user", "household__unit__building", "household__community", "resident"
        )
        .filter(pk=pk)
        .first()
    )
    if binding is None:
        raise Http404
    if scope.has(Permission.APPROVE_BINDINGS, binding.household.community_id):
        return binding
    if not decide and scope.user is not None and binding.user_id == scope.user.pk:
        return binding
    raise Http404


def binding_candidates(bindings: Iterable[HouseholdBinding]) -> dict[int, list[Resident]]:
    """Per household of the given bindings, the resident records an approver may link the
    account to: current members without an account. One query for the whole page."""
    household_ids = {binding.household_id for binding in bindings}
    candidates: dict[int, list[Resident]] = {pk: [] for pk in household_ids}
    members = (
        HouseholdMember.objects.filter(
            household_id__in=household_ids, until__isnull=True, resident__user__isnull=True
        )
        .select_related("resident")
        .order_by("resident__name", "id")
    )
    for member in members:
        candidates[member.household_id].append(member.resident)
    return candidates


def bindings_decided(scope: Scope, *, limit: int = 50) -> list[HouseholdBinding]:
    """The latest decided bindings of the communities where the caller approves bindings."""
    return list(
        HouseholdBinding.objects.filter(
            household__community_id__in=scope.community_ids(Permission.APPROVE_BINDINGS)
        )
        .exclude(status=BindingStatus.PENDING)
        .select_related("user", "household__unit__building", "decided_by")
        .order_by("-updated_at", "-id")[:limit]
    )


def my_bindings(scope: Scope) -> list[HouseholdBinding]:
    """The caller's own binding requests, newest first."""
    if scope.user is None:
        return []
    return list(
        HouseholdBinding.objects.filter(user=scope.user)
        .select_related("household__unit__building", "household__community", "resident")
        .order_by("-created_at", "-id")
    )


@dataclass
class BindingChoices:
    """The choices of the binding request form, level by level, and the consistent chain of
    what was chosen so far (a building of another community is dropped, and so on)."""

    communities: list[tuple[int, str]]
    buildings: list[tuple[int, str]] = field(default_factory=list)
    units: list[tuple[int, str]] = field(default_factory=list)
    households: list[tuple[int, str]] = field(default_factory=list)
    community_id: int | None = None
    building_id: int | None = None
    unit_id: int | None = None

    def options(self) -> dict[str, list[tuple[int, str]]]:
        """The choices by level name, for the form."""
        return {
            "communities": self.communities,
            "buildings": self.buildings,
            "units": self.units,
            "households": self.households,
        }


def binding_request_options(
    *, community_id: int | None, building_id: int | None, unit_id: int | None
) -> BindingChoices:
    """The choices of the binding request form.

    Deliberately not scoped: someone asking to join a household has no role anywhere yet.
    Only names and numbers of places are listed, never who lives there.
    """
    choices = BindingChoices(
        communities=[(c.pk, c.name) for c in Community.objects.only("id", "name")]
    )
    if community_id not in {pk for pk, _name in choices.communities}:
        return choices
    choices.community_id = community_id
    choices.buildings = [
        (b.pk, b.name)
        for b in Building.objects.filter(community_id=community_id).only("id", "name")
    ]
    if building_id not in {pk for pk, _name in choices.buildings}:
        return choices
    choices.building_id = building_id
    choices.units = [
        (u.pk, _("Entrance %(number)s") % {"number": u.number})
        for u in Unit.objects.filter(building_id=building_id).only("id", "number")
    ]
    if unit_id not in {pk for pk, _name in choices.units}:
        return choices
    choices.unit_id = unit_id
    choices.households = [
        (h.pk, h.number)
        for h in Household.objects.filter(unit_id=unit_id)
        .only("id", "number")
        .order_by("floor", "number")
    ]
    return choices


def household_for_binding(*, unit_id: int | None, pk: int | None) -> Household | None:
    """The household chosen in the request form, if it is in the chosen entrance."""
    if pk is None or unit_id is None:
        return None
    return (
        Household.objects.select_related("unit__building", "community")
        .filter(pk=pk, unit_id=unit_id)
        .first()
    )


# Dashboard and inbox ---------------------------------------------------------------------------


def people_counts(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: residents, elderly living alone, bindings waiting for approval."""
    stats: list[Stat] = []
    view_ids = scope.community_ids(Permission.VIEW_RESIDENTS)
    approve_ids = scope.community_ids(Permission.APPROVE_BINDINGS)
    if community is not None:
        view_ids &= {community.pk}
        approve_ids &= {community.pk}
    if view_ids:
        counts = Resident.objects.filter(
            community_id__in=view_ids, moved_out_at__isnull=True
        ).aggregate(
            residents=Count("id", distinct=True),
            alone=Count("id", filter=Q(tag_links__tag=ResidentTag.LIVING_ALONE), distinct=True),
        )
        url = reverse("people:resident_list")
        stats.append(Stat("residents", _("Residents"), counts["residents"], url))
        stats.append(
            Stat(
                "living_alone",
                ResidentTag.LIVING_ALONE.label,
                counts["alone"],
                f"{url}?tag={ResidentTag.LIVING_ALONE.value}",
                tone="key",
            )
        )
    if approve_ids:
        pending = HouseholdBinding.objects.filter(
            status=BindingStatus.PENDING, household__community_id__in=approve_ids
        ).count()
        stats.append(
            Stat(
                "pending_bindings",
                _("Household bindings to approve"),
                pending,
                reverse("people:binding_list"),
                tone="warn" if pending else "",
            )
        )
    return stats


def binding_work_items(scope: Scope) -> list[WorkItem]:
    """'My work' items: pending bindings the person may approve, oldest first."""
    url = reverse("people:binding_list")
    return [
        WorkItem(
            source="bindings",
            title=_("%(account)s asks to be bound to %(address)s")
            % {"account": binding.user, "address": binding.household.address},
            url=f"{url}#binding-{binding.pk}",
            community_id=binding.household.community_id,
            priority=3,
            detail=binding.household.community.name,
        )
        for binding in bindings_to_decide(scope)[:50]
    ]


def communities_with(scope: Scope, permission: Permission) -> list[Community]:
    """Communities where the caller holds a permission, by name."""
    return list(Community.objects.filter(id__in=scope.community_ids(permission)).order_by("name"))
