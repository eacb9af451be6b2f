"""Reads of the emergency plans domain: plans and versions the caller may see, the version in
force for an incident type, the incident types still without one, and dashboard figures.

Plans are read by anyone holding :attr:`Permission.VIEW_PLANS` in the community; everyone else
gets 404, so another community's plans are never revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.dashboard import Stat
from anwang.places.models import Community
from anwang.plans.choices import IncidentType, VersionStatus
from anwang.plans.models import EmergencyPlan, PlanResource, PlanStep, PlanVersion

if TYPE_CHECKING:
    from anwang.incidents.selectors import DrillSummary

REQUIRED_TYPES: tuple[IncidentType, ...] = tuple(
    incident_type for incident_type in IncidentType if incident_type != IncidentType.OTHER
)
"""Incident types every community should have an approved plan for ("other" is a catch-all
that no community is expected to plan for)."""


# Who may do what -------------------------------------------------------------------------------


def may_view(scope: Scope, community_id: int) -> bool:
    """Whether the caller may read the community's plans."""
    return acts_platform_wide(scope) or scope.has(Permission.VIEW_PLANS, community_id)


def may_manage(scope: Scope, community_id: int) -> bool:
    """Whether the caller may write drafts of the community's plans."""
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_PLANS, community_id)


def may_approve(scope: Scope, community_id: int) -> bool:
    """Whether the caller may put the community's drafts in force."""
    return acts_platform_wide(scope) or scope.has(Permission.APPROVE_PLANS, community_id)


# Plans and versions ------------------------------------------------------------------------------


def plan_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose plans the caller may read."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(pk__in=scope.community_ids(Permission.VIEW_PLANS))


def community_get(scope: Scope, community_id: int) -> Community:
    """A community whose plans the caller may read; 404 otherwise."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not may_view(scope, community_id):
        raise Http404
    return community


def plans_visible(scope: Scope, community_id: int) -> QuerySet[EmergencyPlan]:
    """The community's plans, for those who may read them (404 otherwise)."""
    if not may_view(scope, community_id):
        raise Http404
    return EmergencyPlan.objects.filter(community_id=community_id).order_by("incident_type", "id")


def plan_get(scope: Scope, emergency_plan_id: int) -> EmergencyPlan:
    """One plan the caller may read (404 otherwise, also for other communities')."""
    plan = EmergencyPlan.objects.select_related("community").filter(pk=emergency_plan_id).first()
    if plan is None or not may_view(scope, plan.community_id):
        raise Http404
    return plan


def with_contents(versions: QuerySet[PlanVersion]) -> QuerySet[PlanVersion]:
    """Versions with everything a page or a PDF shows of them loaded in a few queries."""
    return versions.select_related(
        "plan", "plan__community", "based_on", "created_by", "approved_by"
    ).prefetch_related(
        Prefetch("steps", queryset=PlanStep.objects.order_by("position", "id")),
        "contacts",
        Prefetch(
            "resources",
            queryset=PlanResource.objects.select_related("asset").order_by("position", "id"),
        ),
        "evacuation_zones",
    )


def version_get(scope: Scope, plan_version_id: int) -> PlanVersion:
    """One version the caller may read, with its contents (404 otherwise)."""
    version = with_contents(PlanVersion.objects.filter(pk=plan_version_id)).first()
    if version is None or not may_view(scope, version.plan.community_id):
        raise Http404
    return version


def plan_versions(plan: EmergencyPlan) -> QuerySet[PlanVersion]:
    """Every version of a plan, newest first (old ones stay readable)."""
    return plan.versions.select_related("approved_by", "created_by").order_by("-number")


def draft_version(plan: EmergencyPlan) -> PlanVersion | None:
    """The plan's draft being written, if any."""
    return plan.versions.filter(status=VersionStatus.DRAFT).first()


def current_version(plan: EmergencyPlan) -> PlanVersion | None:
    """The plan's version in force, if any."""
    return plan.versions.filter(status=VersionStatus.APPROVED).first()


def approved_version(community_id: int, incident_type: str) -> PlanVersion | None:
    """The version in force for that incident type in the community, with steps prefetched."""
    return (
        PlanVersion.objects.filter(
            plan__community_id=community_id,
            plan__incident_type=incident_type,
            status=VersionStatus.APPROVED,
        )
        .select_related("plan")
        .prefetch_related(Prefetch("steps", queryset=PlanStep.objects.order_by("position", "id")))
        .first()
    )


def missing_incident_types(community_id: int) -> list[IncidentType]:
    """Incident types the community has no plan in force for (the gap list)."""
    covered = set(
        PlanVersion.objects.filter(
            plan__community_id=community_id, status=VersionStatus.APPROVED
        ).values_list("plan__incident_type", flat=True)
    )
    return [incident_type for incident_type in REQUIRED_TYPES if incident_type not in covered]


def plan_last_drill(plan: EmergencyPlan) -> DrillSummary | None:
    """The plan's last drill as the incidents app reports it (``None`` when never drilled, or
    while the incidents app does not offer it yet)."""
    try:
        from anwang.incidents.selectors import last_drill
    except ImportError:  # written by the incidents app; a plan page must not break without it
        return None
    return last_drill(plan)


@dataclass(frozen=True)
class PlanRow:
    """One line of a community's plan list: an incident type and where its plan stands."""

    incident_type: str
    label: str
    plan: EmergencyPlan | None
    approved: PlanVersion | None
    draft: PlanVersion | None
    last_drill: Any  # DrillSummary | None; Any so the row works before the incidents app has it

    @property
    def is_gap(self) -> bool:
        """Whether this incident type lacks a plan in force although it should have one."""
        return self.approved is None and self.incident_type in REQUIRED_TYPES


def plan_rows(community_id: int) -> list[PlanRow]:
    """The community's plan list: one row per incident type with a plan or expected to have
    one, in the order of :class:`IncidentType`."""
    plans = {
        plan.incident_type: plan
        for plan in EmergencyPlan.objects.filter(community_id=community_id).prefetch_related(
            Prefetch(
                "versions",
                queryset=PlanVersion.objects.filter(
                    status__in=[VersionStatus.APPROVED, VersionStatus.DRAFT]
                ),
                to_attr="open_versions",
            )
        )
    }
    rows: list[PlanRow] = []
    for incident_type in IncidentType:
        plan = plans.get(incident_type.value)
        if plan is None and incident_type not in REQUIRED_TYPES:
            continue
        versions: list[PlanVersion] = getattr(plan, "open_versions", [])
        by_status = {version.status: version for version in versions}
        rows.append(
            PlanRow(
                incident_type=incident_type.value,
                label=str(incident_type.label),
                plan=plan,
                approved=by_status.get(VersionStatus.APPROVED),
                draft=by_status.get(VersionStatus.DRAFT),
                last_drill=plan_last_drill(plan) if plan is not None else None,
            )
        )
    return rows


def plan_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figure: incident types without a plan in force (in the community, or in all
    those whose plans the caller reads)."""
    if community is not None:
        ids = [community.pk] if may_view(scope, community.pk) else []
    else:
        ids = list(plan_communities(scope).values_list("pk", flat=True))
    if not ids:
        return []
    covered = set(
        PlanVersion.objects.filter(
            plan__community_id__in=ids, status=VersionStatus.APPROVED
        ).values_list("plan__community_id", "plan__incident_type")
    )
    gaps = sum(
        1
        for community_id in ids
        for incident_type in REQUIRED_TYPES
        if (community_id, incident_type.value) not in covered
    )
    return [
        Stat(
            key="plans_missing",
            label=_("Incident types without an approved plan"),
            value=gaps,
            url=reverse("plans:list"),
            tone="warn" if gaps else "",
        )
    ]


def version_zone_features(version: PlanVersion) -> dict[str, Any]:
    """The zones to evacuate as GeoJSON, drawn as key areas so they stand out on the map."""
    features = []
    for zone in version.evacuation_zones.all():
        feature = zone.as_feature()
        feature["properties"]["is_key_area"] = True
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def version_assembly_features(version: PlanVersion) -> dict[str, Any]:
    """The assembly point as a GeoJSON point (none when it has no coordinates)."""
    if version.assembly_latitude is None or version.assembly_longitude is None:
        return {"type": "FeatureCollection", "features": []}
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"assembly-{version.pk}",
                "geometry": {
                    "type": "Point",
                    "coordinates": [version.assembly_longitude, version.assembly_latitude],
                },
                "properties": {
                    "kind": "assembly_point",
                    "name": version.assembly_note or _("Assembly point"),
                    "kind_label": _("Assembly point"),
                    "status": "online",
                },
            }
        ],
    }


@dataclass(frozen=True)
class LineChange:
    """One line of a comparison: what it was in the older version and what it is now
    (``""`` when absent on that side)."""

    before: str
    after: str

    @property
    def changed(self) -> bool:
        """Whether the two sides differ."""
        return self.before != self.after


@dataclass(frozen=True)
class VersionComparison:
    """A version beside the one it was based on, section by section."""

    older: PlanVersion
    newer: PlanVersion
    sections: list[tuple[str, list[LineChange]]]

    @property
    def change_count(self) -> int:
        """How many lines differ."""
        return sum(1 for _title, lines in self.sections for line in lines if line.changed)


def _step_lines(version: PlanVersion) -> list[str]:
    from anwang.rosters.choices import DutyRole

    return [
        _("%(position)d. %(title)s · %(role)s · within %(minutes)d min")
        % {
            "position": step.position,
            "title": step.title,
            "role": DutyRole(step.duty_role).label,
            "minutes": step.target_minutes,
        }
        + (f"\n{step.instructions}" if step.instructions else "")
        for step in version.steps.all()
    ]


def _pair(before: list[str], after: list[str]) -> list[LineChange]:
    """Lines side by side by position (steps are numbered, so position is what matters)."""
    length = max(len(before), len(after))
    return [
        LineChange(
            before[index] if index < len(before) else "",
            after[index] if index < len(after) else "",
        )
        for index in range(length)
    ]


def version_comparison(version: PlanVersion) -> VersionComparison | None:
    """The version beside the one it was based on (``None`` for a first version)."""
    if version.based_on_id is None:
        return None
    older = with_contents(PlanVersion.objects.filter(pk=version.based_on_id)).first()
    if older is None:
        return None

    def assembly(v: PlanVersion) -> list[str]:
        where = v.assembly_note
        if v.assembly_latitude is not None:
            where += f" ({v.assembly_latitude:.5f}, {v.assembly_longitude:.5f})"
        return [where.strip()] if where.strip() else []

    def sections(v: PlanVersion) -> list[tuple[str, list[str]]]:
        return [
            (_("Purpose and scope"), [v.summary] if v.summary else []),
            (_("Steps"), _step_lines(v)),
            (
                _("Contacts"),
                [
                    " · ".join(part for part in (c.name, c.organisation, c.phone, c.note) if part)
                    for c in v.contacts.all()
                ],
            ),
            (
                _("Resources"),
                [f"{r.description} × {r.quantity}" for r in v.resources.all()],
            ),
            (_("Zones to evacuate"), sorted(zone.name for zone in v.evacuation_zones.all())),
            (_("Assembly point"), assembly(v)),
        ]

    return VersionComparison(
        older=older,
        newer=version,
        sections=[
            (title, _pair(old_lines, new_lines))
            for (title, old_lines), (_title, new_lines) in zip(
                sections(older), sections(version), strict=True
            )
        ],
    )
