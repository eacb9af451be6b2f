"""Writes of the emergency plans domain: plans, their drafts, approval and revision.

A plan's content lives in numbered versions. Only a draft is ever edited; approving it puts it
in force and supersedes the version in force before (which stays readable); changing an
approved plan means :func:`plan_revision_draft`, a new draft copied from it. Incidents point
at the version they started with, so approving a new one never changes a running incident.

Writing needs :attr:`Permission.MANAGE_PLANS` in the community and approving
:attr:`Permission.APPROVE_PLANS` (the community admin); others who may read plans get 403,
everyone else 404. Every change is validated with translated errors on the field concerned and
records an audit entry in the same transaction. Without ``actor`` and ``scope`` the call is
the system itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.validation import UNSET, Unset, clean_text
from anwang.facilities.models import Asset
from anwang.places.models import Community, Zone
from anwang.plans.choices import IncidentType, VersionStatus
from anwang.plans.models import EmergencyPlan, PlanContact, PlanResource, PlanStep, PlanVersion
from anwang.rosters.choices import DutyRole

MAX_STEPS = 100
MAX_CONTACTS = 50
MAX_RESOURCES = 100
MAX_TARGET_MINUTES = 7 * 24 * 60
"""A step due more than a week after the declaration is not an emergency step."""

_VERSION_FIELDS = (
    "status",
    "summary",
    "change_note",
    "assembly_latitude",
    "assembly_longitude",
    "assembly_note",
)


@dataclass(frozen=True)
class StepInput:
    """One step of a draft as written: what to do, by which duty role, within how long."""

    title: str
    duty_role: str
    target_minutes: int
    instructions: str = ""


@dataclass(frozen=True)
class ContactInput:
    """One contact of a draft as written."""

    name: str
    phone: str
    organisation: str = ""
    note: str = ""


@dataclass(frozen=True)
class ResourceInput:
    """One resource of a draft as written, optionally linked to an asset of the community."""

    description: str
    quantity: int = 1
    asset_id: int | None = None


# Checks ------------------------------------------------------------------------------------------


def _require(
    actor: User | None, scope: Scope | None, community_id: int, permission: Permission
) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=permission,
        community_id=community_id,
        visible_with=Permission.VIEW_PLANS,
    )


def _incident_type(value: Any) -> str:
    if value not in IncidentType.values:
        raise ServiceError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in IncidentType.labels)},
            field="incident_type",
        )
    return str(value)


def _require_draft(version: PlanVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise ConflictError(
            _(
                "Version %(number)d is %(status)s and can no longer be changed; "
                "revise the plan to write a new draft."
            )
            % {"number": version.number, "status": VersionStatus(version.status).label},
            field="status",
            code="not_draft",
        )


def _whole_number(value: Any, field: str, *, low: int, high: int) -> int:
    # True is 1 to Python, never to a person filling in a form; "2.5" is not a whole number.
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    else:
        raise ServiceError(_("Enter a whole number."), field=field)
    if not low <= number <= high:
        raise ServiceError(
            _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high},
            field=field,
        )
    return number


def _clean_steps(steps: Sequence[StepInput]) -> list[PlanStep]:
    if len(steps) > MAX_STEPS:
        raise ServiceError(
            _("A plan has at most %(limit)d steps.") % {"limit": MAX_STEPS}, field="steps"
        )
    cleaned: list[PlanStep] = []
    for index, step in enumerate(steps):
        prefix = f"steps.{index}"
        if step.duty_role not in DutyRole.values:
            raise ServiceError(
                _("Step %(number)d: choose one of: %(choices)s.")
                % {
                    "number": index + 1,
                    "choices": ", ".join(str(label) for label in DutyRole.labels),
                },
                field=f"{prefix}.duty_role",
            )
        cleaned.append(
            PlanStep(
                position=index + 1,
                title=clean_text(f"{prefix}.title", step.title, limit=200),
                instructions=clean_text(
                    f"{prefix}.instructions", step.instructions, limit=4000, required=False
                ),
                duty_role=step.duty_role,
                target_minutes=_whole_number(
                    step.target_minutes,
                    f"{prefix}.target_minutes",
                    low=0,
                    high=MAX_TARGET_MINUTES,
                ),
            )
        )
    return cleaned


def _clean_contacts(contacts: Sequence[ContactInput]) -> list[PlanContact]:
    if len(contacts) > MAX_CONTACTS:
        raise ServiceError(
            _("A plan has at most %(limit)d contacts.") % {"limit": MAX_CONTACTS},
            field="contacts",
        )
    cleaned: list[PlanContact] = []
    for index, contact in enumerate(contacts):
        prefix = f"contacts.{index}"
        phone = clean_text(f"{prefix}.phone", contact.phone, limit=30)
        if not any(character.isdigit() for character in phone):
            raise ServiceError(_("Enter a phone number."), field=f"{prefix}.phone")
        cleaned.append(
            PlanContact(
                position=index + 1,
                name=clean_text(f"{prefix}.name", contact.name, limit=100),
                organisation=clean_text(
                    f"{prefix}.organisation", contact.organisation, limit=100, required=False
                ),
                phone=phone,
                note=clean_text(f"{prefix}.note", contact.note, limit=200, required=False),
            )
        )
    return cleaned


def _clean_resources(community_id: int, resources: Sequence[ResourceInput]) -> list[PlanResource]:
    if len(resources) > MAX_RESOURCES:
        raise ServiceError(
            _("A plan has at most %(limit)d resources.") % {"limit": MAX_RESOURCES},
            field="resources",
        )
    asset_ids = {resource.asset_id for resource in resources if resource.asset_id is not None}
    assets = Asset.objects.filter(pk__in=asset_ids, community_id=community_id).in_bulk()
    cleaned: list[PlanResource] = []
    for index, resource in enumerate(resources):
        prefix = f"resources.{index}"
        asset = None
        if resource.asset_id is not None:
            asset = assets.get(resource.asset_id)
            if asset is None:
                raise ServiceError(
                    _("Choose an asset of this community."), field=f"{prefix}.asset_id"
                )
        description = clean_text(
            f"{prefix}.description", resource.description, limit=200, required=asset is None
        )
        cleaned.append(
            PlanResource(
                position=index + 1,
                asset=asset,
                description=description or (asset.name if asset is not None else ""),
                quantity=_whole_number(
                    resource.quantity, f"{prefix}.quantity", low=1, high=1_000_000
                ),
            )
        )
    return cleaned


def _clean_zones(community_id: int, zone_ids: Iterable[int]) -> list[Zone]:
    wanted = set(zone_ids)
    zones = list(Zone.objects.filter(pk__in=wanted, community_id=community_id))
    if len(zones) != len(wanted):
        raise ServiceError(_("Choose zones of this community."), field="evacuation_zone_ids")
    return zones


def _clean_coordinate(value: Any, field: str, limit: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ServiceError(_("Enter a number."), field=field) from None
    if not -limit <= number <= limit:
        raise ServiceError(
            _("Enter a number from %(low)s to %(high)s.") % {"low": -limit, "high": limit},
            field=field,
        )
    return number


def _snapshot(version: PlanVersion) -> dict[str, Any]:
    return snapshot(version, _VERSION_FIELDS)


def _contents(version: PlanVersion) -> dict[str, Any]:
    """The lists of a version in a form the audit log keeps."""
    return {
        "steps": [
            [step.title, step.duty_role, step.target_minutes]
            for step in version.steps.order_by("position")
        ],
        "contacts": [[contact.name, contact.phone] for contact in version.contacts.all()],
        "resources": [
            [resource.description, resource.quantity, resource.asset_id]
            for resource in version.resources.all()
        ],
        "evacuation_zones": sorted(zone.pk for zone in version.evacuation_zones.all()),
    }


def _locked_plan(plan_id: int) -> EmergencyPlan:
    """The plan row locked until the end of the transaction, so approvals and revisions of one
    plan take turns (SQLite locks the whole database on the first write anyway)."""
    return EmergencyPlan.objects.select_for_update().get(pk=plan_id)


# Plans -------------------------------------------------------------------------------------------


def plan_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    incident_type: str,
    title: str,
    summary: str = "",
) -> EmergencyPlan:
    """Start a community's plan for an incident type, with an empty version 1 draft."""
    _require(actor, scope, community.pk, Permission.MANAGE_PLANS)
    kind = _incident_type(incident_type)
    plan = EmergencyPlan(
        community=community,
        incident_type=kind,
        title=clean_text("title", title, limit=120),
    )
    summary = clean_text("summary", summary, limit=4000, required=False)
    duplicate = ConflictError(
        _("This community already has a plan for %(type)s; revise that one instead.")
        % {"type": IncidentType(kind).label},
        field="incident_type",
        code="duplicate",
    )
    if EmergencyPlan.objects.filter(community=community, incident_type=kind).exists():
        raise duplicate
    try:
        with transaction.atomic():
            plan.save()
            version = PlanVersion.objects.create(
                plan=plan,
                number=1,
                summary=summary,
                created_by=actor if actor is not None and actor.pk else None,
            )
            audit_record(
                actor=actor,
                action="emergency_plan.create",
                obj=plan,
                community_id=community.pk,
                changes={
                    "incident_type": [None, kind],
                    "title": [None, plan.title],
                    "draft": [None, version.number],
                },
            )
    except IntegrityError:
        raise duplicate from None  # created by someone else between the check and the insert
    return plan


def plan_update(
    *, actor: User | None, scope: Scope | None = None, plan: EmergencyPlan, title: str
) -> EmergencyPlan:
    """Rename a plan (its title is not part of a version)."""
    _require(actor, scope, plan.community_id, Permission.MANAGE_PLANS)
    before = snapshot(plan, ["title"])
    plan.title = clean_text("title", title, limit=120)
    with transaction.atomic():
        plan.save(update_fields=["title", "updated_at"])
        audit_record(
            actor=actor,
            action="emergency_plan.update",
            obj=plan,
            community_id=plan.community_id,
            changes=diff(before, snapshot(plan, ["title"])),
        )
    return plan


# Drafts ------------------------------------------------------------------------------------------


def plan_version_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    version: PlanVersion,
    summary: str | Unset = UNSET,
    change_note: str | Unset = UNSET,
    steps: Sequence[StepInput] | Unset = UNSET,
    contacts: Sequence[ContactInput] | Unset = UNSET,
    resources: Sequence[ResourceInput] | Unset = UNSET,
    evacuation_zone_ids: Iterable[int] | Unset = UNSET,
    assembly_latitude: float | Unset | None = UNSET,
    assembly_longitude: float | Unset | None = UNSET,
    assembly_note: str | Unset = UNSET,
) -> PlanVersion:
    """Change a draft. Lists (steps in order, contacts, resources, zones) are replaced as a
    whole when given; arguments left at :data:`UNSET` keep their value. Nothing is saved when
    any part is invalid."""
    community_id = version.plan.community_id
    _require(actor, scope, community_id, Permission.MANAGE_PLANS)
    _require_draft(version)
    before = {**_snapshot(version), **_contents(version)}
    if summary is not UNSET:
        version.summary = clean_text("summary", summary, limit=4000, required=False)
    if change_note is not UNSET:
        version.change_note = clean_text("change_note", change_note, limit=2000, required=False)
    if assembly_latitude is not UNSET:
        version.assembly_latitude = _clean_coordinate(assembly_latitude, "assembly_latitude", 90)
    if assembly_longitude is not UNSET:
        version.assembly_longitude = _clean_coordinate(
            assembly_longitude, "assembly_longitude", 180
        )
    if (version.assembly_latitude is None) != (version.assembly_longitude is None):
        raise ServiceError(
            _("Give both the latitude and the longitude of the assembly point, or neither."),
            field="assembly_latitude",
        )
    if assembly_note is not UNSET:
        version.assembly_note = clean_text(
            "assembly_note", assembly_note, limit=200, required=False
        )
    new_steps = _clean_steps(steps) if not isinstance(steps, Unset) else None
    new_contacts = _clean_contacts(contacts) if not isinstance(contacts, Unset) else None
    new_resources = (
        _clean_resources(community_id, resources) if not isinstance(resources, Unset) else None
    )
    new_zones = (
        _clean_zones(community_id, evacuation_zone_ids)
        if not isinstance(evacuation_zone_ids, Unset)
        else None
    )
    with transaction.atomic():
        # Re-read the status under the plan's lock: an approval may have just taken the draft.
        _locked_plan(version.plan_id)
        fresh = PlanVersion.objects.get(pk=version.pk)
        _require_draft(fresh)
        version.save()
        if new_steps is not None:
            version.steps.all().delete()
            for step in new_steps:
                step.version = version
            PlanStep.objects.bulk_create(new_steps)
        if new_contacts is not None:
            version.contacts.all().delete()
            for contact in new_contacts:
                contact.version = version
            PlanContact.objects.bulk_create(new_contacts)
        if new_resources is not None:
            version.resources.all().delete()
            for resource in new_resources:
                resource.version = version
            PlanResource.objects.bulk_create(new_resources)
        if new_zones is not None:
            version.evacuation_zones.set(new_zones)
        audit_record(
            actor=actor,
            action="plan_version.update",
            obj=version,
            community_id=community_id,
            changes=diff(before, {**_snapshot(version), **_contents(version)}),
        )
    _forget_prefetched(version)
    return version


def _forget_prefetched(version: PlanVersion) -> None:
    """Drop lists prefetched before a change, so the caller reads the new ones."""
    cache = getattr(version, "_prefetched_objects_cache", None)
    if cache:
        cache.clear()


def plan_revision_draft(
    *,
    actor: User | None,
    scope: Scope | None = None,
    version: PlanVersion,
    change_note: str,
) -> PlanVersion:
    """A new draft of version.plan copied from ``version`` (summary, steps, contacts,
    resources, evacuation zones, assembly point; based_on=version; number = max+1), or when
    the plan already has a draft, that draft with ``change_note`` appended to its change note.
    Needs MANAGE_PLANS in the community. Audited."""
    plan = version.plan
    _require(actor, scope, plan.community_id, Permission.MANAGE_PLANS)
    note = clean_text("change_note", change_note, limit=2000, required=False)
    with transaction.atomic():
        _locked_plan(plan.pk)
        existing = PlanVersion.objects.filter(plan=plan, status=VersionStatus.DRAFT).first()
        if existing is not None:
            if note:
                before = _snapshot(existing)
                existing.change_note = "\n".join(
                    part for part in (existing.change_note, note) if part
                )[:2000]
                existing.save(update_fields=["change_note", "updated_at"])
                audit_record(
                    actor=actor,
                    action="plan_version.update",
                    obj=existing,
                    community_id=plan.community_id,
                    changes=diff(before, _snapshot(existing)),
                )
            return existing
        number = (plan.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        draft = PlanVersion.objects.create(
            plan=plan,
            number=number,
            status=VersionStatus.DRAFT,
            summary=version.summary,
            change_note=note,
            based_on=version,
            assembly_latitude=version.assembly_latitude,
            assembly_longitude=version.assembly_longitude,
            assembly_note=version.assembly_note,
            created_by=actor if actor is not None and actor.pk else None,
        )
        PlanStep.objects.bulk_create(
            PlanStep(
                version=draft,
                position=step.position,
                title=step.title,
                instructions=step.instructions,
                duty_role=step.duty_role,
                target_minutes=step.target_minutes,
            )
            for step in version.steps.order_by("position")
        )
        PlanContact.objects.bulk_create(
            PlanContact(
                version=draft,
                position=contact.position,
                name=contact.name,
                organisation=contact.organisation,
                phone=contact.phone,
                note=contact.note,
            )
            for contact in version.contacts.order_by("position", "id")
        )
        PlanResource.objects.bulk_create(
            PlanResource(
                version=draft,
                position=resource.position,
                asset_id=resource.asset_id,
                description=resource.description,
                quantity=resource.quantity,
            )
            for resource in version.resources.order_by("position", "id")
        )
        draft.evacuation_zones.set(version.evacuation_zones.all())
        audit_record(
            actor=actor,
            action="plan_version.revise",
            obj=draft,
            community_id=plan.community_id,
            changes={
                "number": [None, number],
                "based_on": [None, version.number],
                "change_note": [None, note],
            },
        )
    return draft


def plan_version_approve(
    *,
    actor: User | None,
    scope: Scope | None = None,
    version: PlanVersion,
    now: dt.datetime | None = None,
) -> PlanVersion:
    """Put a draft in force. The version in force before is superseded (and stays readable);
    incidents already running keep the version they started with."""
    plan = version.plan
    _require(actor, scope, plan.community_id, Permission.APPROVE_PLANS)
    moment = now or timezone.now()
    with transaction.atomic():
        _locked_plan(plan.pk)
        # Under the lock: a second approval waiting here sees the first one's result.
        fresh = PlanVersion.objects.get(pk=version.pk)
        _require_draft(fresh)
        if not fresh.steps.exists():
            raise ServiceError(
                _("A plan needs at least one step before it can be approved."), field="steps"
            )
        previous = PlanVersion.objects.filter(plan=plan, status=VersionStatus.APPROVED).first()
        if previous is not None:
            previous.status = VersionStatus.SUPERSEDED
            previous.superseded_at = moment
            previous.save(update_fields=["status", "superseded_at", "updated_at"])
        version.status = VersionStatus.APPROVED
        version.approved_by = actor if actor is not None and actor.pk else None
        version.approved_at = moment
        version.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        audit_record(
            actor=actor,
            action="plan_version.approve",
            obj=version,
            community_id=plan.community_id,
            changes={
                "status": [VersionStatus.DRAFT.value, VersionStatus.APPROVED.value],
                "supersedes": [None, previous.number if previous is not None else None],
            },
        )
    return version


def plan_version_discard(
    *, actor: User | None, scope: Scope | None = None, version: PlanVersion
) -> PlanVersion:
    """Give up a draft; it stays readable as discarded and the version in force is unchanged."""
    plan = version.plan
    _require(actor, scope, plan.community_id, Permission.MANAGE_PLANS)
    with transaction.atomic():
        _locked_plan(plan.pk)
        fresh = PlanVersion.objects.get(pk=version.pk)
        _require_draft(fresh)
        version.status = VersionStatus.DISCARDED
        version.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="plan_version.discard",
            obj=version,
            community_id=plan.community_id,
            changes={"status": [VersionStatus.DRAFT.value, VersionStatus.DISCARDED.value]},
        )
    return version
