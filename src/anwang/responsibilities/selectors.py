"""Reads of the responsibilities domain: who answers for a place, the matrix of a community
and its gaps.

:func:`responsible_people` is the one answer to "who answers for this place" that other apps
use (hazard triage, alarm escalation, incidents as a fallback assignee). A side of a
responsibility names a person or a duty role; a duty role is resolved through the roster
(:func:`anwang.rosters.selectors.on_duty`) at the moment asked about. Only active people who
are still staff of the community count, so a person who left answers for nothing and their
areas show up as gaps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission, Role
from anwang.accounts.models import Membership, User
from anwang.accounts.roles import COMMUNITY_STAFF_ROLES
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.facilities.choices import AssetStatus, AssetType
from anwang.places.models import Building, Community, Zone
from anwang.responsibilities.choices import AreaKind
from anwang.responsibilities.models import Responsibility
from anwang.rosters.choices import DutyRole
from anwang.rosters.selectors import OnDuty, on_duty

ANSWERING_ROLES: tuple[str, ...] = tuple(
    role.value for role in COMMUNITY_STAFF_ROLES if role != Role.AUDITOR
)
"""Community roles whose holders may answer for an area by name (the same people a hazard
may be assigned to: staff and volunteers, not auditors)."""

_SPECIFICITY: dict[str, int] = {AreaKind.ASSET_TYPE: 0, AreaKind.BUILDING: 1, AreaKind.ZONE: 2}


class GapReason:
    """Why an area counts as a gap (stable codes for the API and tests)."""

    UNASSIGNED = "unassigned"
    NOBODY_ON_DUTY = "nobody_on_duty"
    PERSON_INACTIVE = "person_inactive"
    PERSON_NOT_STAFF = "person_not_staff"


# --- resolution -------------------------------------------------------------------------


@dataclass
class _Resolver:
    """Resolves sides of responsibilities of one community at one moment, querying the
    roster and the memberships at most once each."""

    community_id: int
    at: dt.datetime
    _duties: list[OnDuty] | None = None
    _staff_ids: set[int] | None = None

    def duties(self, duty_role: str) -> list[OnDuty]:
        if self._duties is None:
            self._duties = on_duty(community_id=self.community_id, at=self.at)
        return [duty for duty in self._duties if duty.duty_role == duty_role]

    def staff_ids(self, responsibilities: Iterable[Responsibility]) -> set[int]:
        if self._staff_ids is None:
            named = {
                person_id
                for item in responsibilities
                for person_id in (item.responsible_person_id, item.deputy_person_id)
                if person_id is not None
            }
            self._staff_ids = set(
                Membership.objects.filter(
                    user_id__in=named, community_id=self.community_id, role__in=ANSWERING_ROLES
                ).values_list("user_id", flat=True)
            )
        return self._staff_ids

    def holders(self, person: User | None, duty_role: str, staff_ids: set[int]) -> list[User]:
        """The people answering for one side now: the named person if they still may, or
        whoever is on duty in the role."""
        if person is not None:
            return [person] if person.is_active and person.pk in staff_ids else []
        if duty_role:
            return [duty.person for duty in self.duties(duty_role) if duty.person.is_active]
        return []


def _specific_first(responsibilities: Iterable[Responsibility]) -> list[Responsibility]:
    return sorted(responsibilities, key=lambda item: (_SPECIFICITY[item.area_kind], item.pk))


def _with_people(queryset: QuerySet[Responsibility]) -> QuerySet[Responsibility]:
    return queryset.select_related("responsible_person", "deputy_person", "zone", "building")


def responsible_people(
    *,
    community_id: int,
    zone_id: int | None = None,
    building_id: int | None = None,
    asset_type: str = "",
    at: dt.datetime | None = None,
) -> list[User]:
    """Who answers for that place at ``at`` (default now): the most specific matching
    responsibility first (asset category, then building, then zone), responsible before
    deputy, duty roles resolved through the roster at ``at``, active users only, no
    duplicates. Empty list when nobody answers."""
    area = Q()
    if asset_type:
        area |= Q(area_kind=AreaKind.ASSET_TYPE, asset_type=asset_type)
    if building_id is not None:
        area |= Q(area_kind=AreaKind.BUILDING, building_id=building_id)
    if zone_id is not None:
        area |= Q(area_kind=AreaKind.ZONE, zone_id=zone_id)
    if not area:
        return []
    matching = _specific_first(
        Responsibility.objects.filter(area, community_id=community_id).select_related(
            "responsible_person", "deputy_person"
        )
    )
    if not matching:
        return []
    resolver = _Resolver(community_id=community_id, at=at or timezone.now())
    staff_ids = resolver.staff_ids(matching)
    people: list[User] = []
    seen: set[int] = set()
    for item in matching:
        for person, role in (
            (item.responsible_person, item.responsible_role),
            (item.deputy_person, item.deputy_role),
        ):
            for holder in resolver.holders(person, role, staff_ids):
                if holder.pk not in seen:
                    seen.add(holder.pk)
                    people.append(holder)
    return people


# --- the matrix and its gaps --------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side (responsible or deputy) of a responsibility as it stands at a moment."""

    person: User | None
    duty_role: str
    holders: list[User]

    @property
    def is_set(self) -> bool:
        return self.person is not None or bool(self.duty_role)

    @property
    def duty_role_label(self) -> str:
        return str(DutyRole(self.duty_role).label) if self.duty_role else ""


@dataclass(frozen=True)
class Gap:
    """An area nobody answers for, and why."""

    area_kind: str
    area_label: str
    reason: str
    message: str | Promise
    responsibility: Responsibility | None = None
    zone_id: int | None = None
    building_id: int | None = None
    asset_type: str = ""


@dataclass
class MatrixRow:
    """One area of the community with its responsibility (or ``None``) resolved at a moment."""

    area_kind: str
    area_label: str
    responsibility: Responsibility | None
    responsible: Side | None = None
    deputy: Side | None = None
    gap: Gap | None = None
    zone_id: int | None = None
    building_id: int | None = None
    asset_type: str = ""
    is_key_area: bool = False


@dataclass
class Matrix:
    """Every zone, building and asset category of a community with who answers for it."""

    community: Community
    at: dt.datetime
    zones: list[MatrixRow] = field(default_factory=list)
    buildings: list[MatrixRow] = field(default_factory=list)
    asset_types: list[MatrixRow] = field(default_factory=list)

    @property
    def rows(self) -> list[MatrixRow]:
        return [*self.zones, *self.buildings, *self.asset_types]

    @property
    def gaps(self) -> list[Gap]:
        return [row.gap for row in self.rows if row.gap is not None]


def _gap_of(row: MatrixRow) -> Gap | None:
    item = row.responsibility

    def gap(reason: str, message: str | Promise) -> Gap:
        return Gap(
            area_kind=row.area_kind,
            area_label=row.area_label,
            reason=reason,
            message=message,
            responsibility=item,
            zone_id=row.zone_id,
            building_id=row.building_id,
            asset_type=row.asset_type,
        )

    if item is None:
        return gap(GapReason.UNASSIGNED, _("Nobody answers for it."))
    assert row.responsible is not None
    if row.responsible.holders:
        return None
    person = item.responsible_person
    if person is None:
        return gap(
            GapReason.NOBODY_ON_DUTY,
            _("Nobody is on duty as %(role)s.") % {"role": DutyRole(item.responsible_role).label},
        )
    if not person.is_active:
        return gap(
            GapReason.PERSON_INACTIVE,
            _("%(name)s's account is disabled.") % {"name": person},
        )
    return gap(
        GapReason.PERSON_NOT_STAFF,
        _("%(name)s is no longer staff of this community.") % {"name": person},
    )


def _asset_types_in_use(community_id: int) -> set[str]:
    from anwang.facilities.models import Asset

    return set(
        Asset.objects.filter(community_id=community_id)
        .exclude(status=AssetStatus.RETIRED)
        .values_list("asset_type", flat=True)
        .distinct()
    )


def responsibility_matrix(community: Community, *, at: dt.datetime | None = None) -> Matrix:
    """Every zone, every building and every asset category with assets in the community
    (or with a responsibility), each with its responsibility or ``None``, resolved at ``at``
    (default now). Not scoped: callers check :func:`may_view` first."""
    moment = at or timezone.now()
    responsibilities = list(_with_people(Responsibility.objects.filter(community_id=community.pk)))
    resolver = _Resolver(community_id=community.pk, at=moment)
    staff_ids = resolver.staff_ids(responsibilities)
    by_zone = {item.zone_id: item for item in responsibilities if item.area_kind == AreaKind.ZONE}
    by_building = {
        item.building_id: item for item in responsibilities if item.area_kind == AreaKind.BUILDING
    }
    by_type = {
        item.asset_type: item for item in responsibilities if item.area_kind == AreaKind.ASSET_TYPE
    }
    matrix = Matrix(community=community, at=moment)

    def finish(row: MatrixRow) -> MatrixRow:
        item = row.responsibility
        if item is not None:
            row.responsible = Side(
                item.responsible_person,
                item.responsible_role,
                resolver.holders(item.responsible_person, item.responsible_role, staff_ids),
            )
            row.deputy = Side(
                item.deputy_person,
                item.deputy_role,
                resolver.holders(item.deputy_person, item.deputy_role, staff_ids),
            )
        row.gap = _gap_of(row)
        return row

    for zone in Zone.objects.filter(community_id=community.pk).order_by("name", "id"):
        matrix.zones.append(
            finish(
                MatrixRow(
                    area_kind=AreaKind.ZONE,
                    area_label=str(zone),
                    responsibility=by_zone.get(zone.pk),
                    zone_id=zone.pk,
                    is_key_area=zone.is_key_area,
                )
            )
        )
    for building in Building.objects.filter(community_id=community.pk).order_by("number", "id"):
        matrix.buildings.append(
            finish(
                MatrixRow(
                    area_kind=AreaKind.BUILDING,
                    area_label=str(building),
                    responsibility=by_building.get(building.pk),
                    building_id=building.pk,
                )
            )
        )
    in_use = _asset_types_in_use(community.pk) | set(by_type)
    for asset_type in AssetType:
        if asset_type.value in in_use:
            matrix.asset_types.append(
                finish(
                    MatrixRow(
                        area_kind=AreaKind.ASSET_TYPE,
                        area_label=str(asset_type.label),
                        responsibility=by_type.get(asset_type.value),
                        asset_type=asset_type.value,
                    )
                )
            )
    return matrix


def responsibility_gaps(community: Community, at: dt.datetime | None = None) -> list[Gap]:
    """The community's areas nobody answers for at ``at`` (default now): those without a
    responsibility, and those whose responsible side resolves to nobody (a duty role with
    nobody on duty, a disabled account, a person no longer staff). Each gap says why."""
    return responsibility_matrix(community, at=at).gaps


# --- scoping ------------------------------------------------------------------------------


def may_view(scope: Scope, community_id: int) -> bool:
    """Whether the caller may see the community's responsibility matrix."""
    return acts_platform_wide(scope) or scope.has(Permission.VIEW_RESPONSIBILITIES, community_id)


def may_manage(scope: Scope, community_id: int) -> bool:
    """Whether the caller may change the community's responsibility matrix."""
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_RESPONSIBILITIES, community_id)


def community_get(scope: Scope, community_id: int) -> Community:
    """A community whose matrix the caller may see; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not may_view(scope, community_id):
        raise Http404
    return community


def responsibility_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose matrix the caller may see."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(pk__in=scope.community_ids(Permission.VIEW_RESPONSIBILITIES))


def responsibilities_visible(scope: Scope, community_id: int) -> QuerySet[Responsibility]:
    """The community's responsibilities, for those who may see them (404 otherwise)."""
    if not may_view(scope, community_id):
        raise Http404
    return _with_people(Responsibility.objects.filter(community_id=community_id)).order_by(
        "area_kind", "id"
    )


def responsibility_get(scope: Scope, responsibility_id: int) -> Responsibility:
    """One responsibility the caller may see (404 otherwise, also for other communities')."""
    item = (
        _with_people(Responsibility.objects.filter(pk=responsibility_id))
        .select_related("community")
        .first()
    )
    if item is None or not may_view(scope, item.community_id):
        raise Http404
    return item


def people_choices(community_id: int) -> QuerySet[User]:
    """Active staff and volunteers of the community, who may answer for an area by name."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__community_id=community_id,
            memberships__role__in=ANSWERING_ROLES,
        )
        .distinct()
        .order_by("display_name", "username")
    )


def responsibility_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figure: how many areas nobody answers for right now (in the community, or
    in all those whose matrix the caller sees)."""
    if community is not None:
        communities = [community] if may_view(scope, community.pk) else []
    else:
        communities = list(responsibility_communities(scope))
    if not communities:
        return []
    moment = timezone.now()
    count = sum(len(responsibility_gaps(item, at=moment)) for item in communities)
    return [
        Stat(
            key="responsibility_gaps",
            label=_("Areas nobody answers for"),
            value=count,
            url=reverse("responsibilities:gaps"),
            tone="warn" if count else "",
        )
    ]
