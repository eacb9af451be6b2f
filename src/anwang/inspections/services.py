"""Writes of the inspections domain: checklists, plans, and inspections carried out.

Checklists and plans need :attr:`Permission.MANAGE_FACILITIES` in the community; starting and
submitting an inspection needs :attr:`Permission.INSPECT_FACILITIES`, and only the inspector
who opened an inspection submits it. Submitting records one result per active checklist item;
each failed item reports a hazard (:func:`anwang.hazards.services.hazard_report`) in the same
transaction, linked from the result, and the asset's last check is recorded through the
facilities service. Without ``actor`` (and ``scope``) a call is the system itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.selectors import Scope, authorize, scope_for
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.errors import ConflictError, ServiceError
from anwang.core.images import clean_photo, thumbnail
from anwang.core.validation import clean_text
from anwang.facilities.choices import AssetStatus, AssetType
from anwang.facilities.models import Asset
from anwang.facilities.services import asset_mark_checked
from anwang.hazards.choices import HazardCategory
from anwang.hazards.services import hazard_report
from anwang.inspections.choices import Frequency, InspectionStatus, Outcome
from anwang.inspections.defaults import DEFAULT_CHECKLISTS
from anwang.inspections.models import (
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionPlan,
    InspectionResult,
)
from anwang.patrols.models import Checkpoint
from anwang.patrols.schedules import ScheduleError, rrule_clean
from anwang.places.models import Building, Community, Zone

NAME_MAX: Final = 100
ITEM_MAX: Final = 200
NOTE_MAX: Final = 2000
THUMBNAIL_SIZE: Final = (480, 480)
PLAN_FIELDS: Final = (
    "name",
    "checklist",
    "building",
    "zone",
    "first_start",
    "rrule",
    "checkpoint",
    "is_active",
    "note",
)

MANAGE = Permission.MANAGE_FACILITIES
INSPECT = Permission.INSPECT_FACILITIES
VIEW = Permission.VIEW_FACILITIES


@dataclass(frozen=True)
class ResultInput:
    """What the inspector said about one checklist item."""

    item_id: int
    outcome: str
    note: str = ""
    photo: UploadedFile | None = None


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _require(
    actor: User | None, scope: Scope | None, permission: Permission, community_id: int
) -> None:
    authorize(
        actor=actor,
        scope=scope,
        permission=permission,
        community_id=community_id,
        visible_with=VIEW,
    )


def _audit(
    actor: User | None, action: str, obj: Any, changes: dict[str, Any] | None = None
) -> None:
    audit_record(
        actor=actor,
        action=f"inspections.{action}",
        obj=obj,
        community_id=obj.community_id
        if hasattr(obj, "community_id")
        else obj.checklist.community_id,
        changes=changes or {},
    )


# --------------------------------------------------------------------------- checklists


def _category(value: str) -> str:
    if value not in HazardCategory.values:
        raise ServiceError(_("Choose a known hazard category."), field="hazard_category")
    return value


def _asset_type(value: str) -> str:
    if value not in AssetType.values:
        raise ServiceError(_("Choose a known asset type."), field="asset_type")
    return value


def _save_checklist(checklist: Checklist) -> None:
    try:
        with transaction.atomic():
            checklist.save()
    except IntegrityError as error:
        raise ServiceError(_("A checklist with this name already exists."), field="name") from error


@transaction.atomic
def checklists_seed_defaults(
    *, actor: User | None = None, scope: Scope | None = None, community: Community
) -> list[Checklist]:
    """Give a community the default checklists (extinguisher, fire exit, AED, hydrant,
    supplies) for the asset types it has none for yet, named in the site's language; returns
    those created. Offered to managers of a community without checklists, and run by the demo
    data (not on community creation: a community holding only defaults could not be deleted)."""
    _require(actor, scope, MANAGE, community.pk)
    created: list[Checklist] = []
    existing = set(
        Checklist.objects.filter(community=community).values_list("asset_type", flat=True)
    )
    with translation.override(settings.LANGUAGE_CODE):
        for asset_type, (name, items) in DEFAULT_CHECKLISTS.items():
            if asset_type in existing:
                continue
            checklist = Checklist.objects.create(
                community=community, asset_type=asset_type, name=_(name)
            )
            ChecklistItem.objects.bulk_create(
                ChecklistItem(checklist=checklist, order=i, text=_(text), hazard_category=cat)
                for i, (text, cat) in enumerate(items, start=1)
            )
            created.append(checklist)
    if created:
        audit_record(
            actor=actor,
            action="inspections.checklist.seed",
            obj=community,
            community_id=community.pk,
            changes={"checklists": [None, [c.name for c in created]]},
        )
    return created


@transaction.atomic
def checklist_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community,
    asset_type: str,
    name: str,
    items: Iterable[tuple[str, str]] = (),
) -> Checklist:
    """A new checklist for assets of one type, with its items (text, hazard category)."""
    _require(actor, scope, MANAGE, community.pk)
    checklist = Checklist(
        community=community,
        asset_type=_asset_type(asset_type),
        name=clean_text("name", name, limit=NAME_MAX),
    )
    _save_checklist(checklist)
    for text, category in items:
        _item_add(checklist, text, category)
    _audit(actor, "checklist.create", checklist, {"name": [None, checklist.name]})
    return checklist


@transaction.atomic
def checklist_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    checklist: Checklist,
    name: str,
    is_active: bool = True,
) -> Checklist:
    """Rename a checklist or take it out of use (plans using it keep it)."""
    _require(actor, scope, MANAGE, checklist.community_id)
    before = snapshot(checklist, ("name", "is_active"))
    checklist.name = clean_text("name", name, limit=NAME_MAX)
    checklist.is_active = bool(is_active)
    _save_checklist(checklist)
    _audit(
        actor,
        "checklist.update",
        checklist,
        diff(before, snapshot(checklist, ("name", "is_active"))),
    )
    return checklist


def _item_add(checklist: Checklist, text: str, category: str) -> ChecklistItem:
    last = checklist.items.order_by("-order").values_list("order", flat=True).first() or 0
    return ChecklistItem.objects.create(
        checklist=checklist,
        order=last + 1,
        text=clean_text("text", text, limit=ITEM_MAX),
        hazard_category=_category(category),
    )


@transaction.atomic
def checklist_item_add(
    *,
    actor: User | None,
    scope: Scope | None = None,
    checklist: Checklist,
    text: str,
    hazard_category: str = HazardCategory.OTHER,
) -> ChecklistItem:
    """Add an item at the end of a checklist."""
    _require(actor, scope, MANAGE, checklist.community_id)
    item = _item_add(checklist, text, hazard_category)
    _audit(actor, "checklist.item_add", checklist, {"item": [None, item.text]})
    return item


@transaction.atomic
def checklist_item_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    item: ChecklistItem,
    text: str,
    hazard_category: str,
    order: int | None = None,
    is_active: bool = True,
) -> ChecklistItem:
    """Change an item's wording, hazard category, place or whether it is still checked
    (removed items are kept: past results point at them)."""
    checklist = item.checklist
    _require(actor, scope, MANAGE, checklist.community_id)
    before = snapshot(item, ("text", "hazard_category", "order", "is_active"))
    item.text = clean_text("text", text, limit=ITEM_MAX)
    item.hazard_category = _category(hazard_category)
    if order is not None:
        if not 0 <= order <= 999:
            raise ServiceError(_("Use an order between 0 and 999."), field="order")
        item.order = order
    item.is_active = bool(is_active)
    item.save()
    _audit(
        actor,
        "checklist.item_update",
        checklist,
        diff(before, snapshot(item, ("text", "hazard_category", "order", "is_active"))),
    )
    return item


# --------------------------------------------------------------------------- plans


def _rule(text: str) -> str:
    try:
        rule = rrule_clean(text)
    except ScheduleError as error:
        raise ServiceError(error.message, field="rrule") from error
    frequency = dict(part.partition("=")[::2] for part in rule.split(";")).get("FREQ")
    if frequency not in Frequency.values:
        raise ServiceError(_("An inspection plan repeats daily, weekly or monthly."), field="rrule")
    return rule


def _may_inspect(user: User, community_id: int) -> bool:
    return user.is_active and scope_for(user).has(INSPECT, community_id)


@dataclass(frozen=True)
class PlanInput:
    """What a plan says: the checklist, the assets, when, and who."""

    name: str
    checklist: Checklist
    first_start: dt.datetime
    rrule: str = "FREQ=MONTHLY"
    building: Building | None = None
    zone: Zone | None = None
    assets: Sequence[Asset] = ()
    assignees: Sequence[User] = ()
    checkpoint: Checkpoint | None = None
    is_active: bool = True
    note: str = ""


def _plan_apply(plan: InspectionPlan, data: PlanInput) -> None:
    community_id = plan.community_id
    checklist = data.checklist
    if checklist.community_id != community_id:
        raise ServiceError(_("Choose a checklist of this community."), field="checklist")
    if not checklist.is_active and plan.checklist_id != checklist.pk:
        raise ServiceError(_("This checklist is no longer in use."), field="checklist")
    if data.building is not None and data.building.community_id != community_id:
        raise ServiceError(_("Choose a building of this community."), field="building")
    if data.zone is not None and data.zone.community_id != community_id:
        raise ServiceError(_("Choose a zone of this community."), field="zone")
    if data.checkpoint is not None and data.checkpoint.community_id != community_id:
        raise ServiceError(_("Choose a checkpoint of this community."), field="checkpoint")
    for asset in data.assets:
        if asset.community_id != community_id:
            raise ServiceError(_("Choose assets of this community."), field="assets")
        if asset.asset_type != checklist.asset_type:
            raise ServiceError(
                _("%(asset)s is not of the checklist's type.") % {"asset": asset},
                field="assets",
            )
    for user in data.assignees:
        if not _may_inspect(user, community_id):
            raise ServiceError(
                _("%(user)s may not inspect facilities in this community.") % {"user": user},
                field="assignees",
            )
    if data.first_start.tzinfo is None:
        raise ServiceError(_("Give the start with its time zone."), field="first_start")
    plan.name = clean_text("name", data.name, limit=NAME_MAX)
    plan.checklist = checklist
    plan.building = data.building
    plan.zone = data.zone
    plan.checkpoint = data.checkpoint
    plan.first_start = data.first_start
    plan.rrule = _rule(data.rrule)
    plan.is_active = bool(data.is_active)
    plan.note = clean_text("note", data.note, limit=NOTE_MAX, required=False)


@transaction.atomic
def plan_create(
    *, actor: User | None, scope: Scope | None = None, community: Community, data: PlanInput
) -> InspectionPlan:
    """A new recurring inspection plan."""
    _require(actor, scope, MANAGE, community.pk)
    plan = InspectionPlan(community=community)
    _plan_apply(plan, data)
    plan.save()
    plan.assets.set(data.assets)
    plan.assignees.set(data.assignees)
    _audit(actor, "plan.create", plan, diff({}, snapshot(plan, PLAN_FIELDS)))
    return plan


@transaction.atomic
def plan_update(
    *, actor: User | None, scope: Scope | None = None, plan: InspectionPlan, data: PlanInput
) -> InspectionPlan:
    """Change a plan (its past inspections stay as they were)."""
    _require(actor, scope, MANAGE, plan.community_id)
    before = snapshot(plan, PLAN_FIELDS)
    _plan_apply(plan, data)
    plan.save()
    plan.assets.set(data.assets)
    plan.assignees.set(data.assignees)
    _audit(actor, "plan.update", plan, diff(before, snapshot(plan, PLAN_FIELDS)))
    return plan


@transaction.atomic
def plan_delete(*, actor: User | None, scope: Scope | None = None, plan: InspectionPlan) -> None:
    """Remove a plan; inspections made under it are kept, without the plan."""
    _require(actor, scope, MANAGE, plan.community_id)
    _audit(actor, "plan.delete", plan, diff(snapshot(plan, PLAN_FIELDS), {}))
    plan.delete()


# --------------------------------------------------------------------------- inspections


def plan_covers(plan: InspectionPlan, asset: Asset) -> bool:
    """Whether the asset is one of the plan's."""
    if asset.community_id != plan.community_id or asset.status == AssetStatus.RETIRED:
        return False
    chosen = [a.pk for a in plan.assets.all()]
    if chosen:
        return asset.pk in chosen
    if asset.asset_type != plan.checklist.asset_type:
        return False
    if plan.building_id is not None and asset.building_id != plan.building_id:
        return False
    return plan.zone_id is None or asset.zone_id == plan.zone_id


@transaction.atomic
def inspection_start(
    *,
    actor: User,
    scope: Scope | None = None,
    asset: Asset,
    plan: InspectionPlan | None = None,
    checklist: Checklist | None = None,
    at: dt.datetime | None = None,
) -> Inspection:
    """Open an inspection of an asset under a plan (or against a checklist of its type, for a
    check outside any plan). The inspector's open inspection of the same asset and plan is
    reused, so a reloaded page or a second scan does not start another."""
    _require(actor, scope, INSPECT, asset.community_id)
    if plan is not None:
        if not plan.is_active or not plan_covers(plan, asset):
            raise ServiceError(_("This asset is not part of that plan."), field="plan")
        checklist = plan.checklist
    if checklist is None:
        checklist = (
            Checklist.objects.filter(
                community_id=asset.community_id, asset_type=asset.asset_type, is_active=True
            )
            .order_by("pk")
            .first()
        )
    if checklist is None or checklist.community_id != asset.community_id:
        raise ServiceError(_("There is no checklist for this kind of asset."), field="checklist")
    if checklist.asset_type != asset.asset_type:
        raise ServiceError(_("The checklist is for another kind of asset."), field="checklist")
    if not checklist.items.filter(is_active=True).exists():
        raise ServiceError(_("The checklist has no items."), field="checklist")
    open_one = Inspection.objects.filter(
        asset=asset,
        plan=plan,
        inspector=actor,
        checklist=checklist,
        status=InspectionStatus.IN_PROGRESS,
    ).first()
    if open_one is not None:
        return open_one
    inspection = Inspection.objects.create(
        community_id=asset.community_id,
        plan=plan,
        asset=asset,
        checklist=checklist,
        inspector=actor,
        started_at=_now(at),
    )
    _audit(actor, "start", inspection)
    return inspection


def _hazard_for(
    *, inspection: Inspection, item: ChecklistItem, note: str, photo: bytes | None, ext: str
) -> Any:
    asset = inspection.asset
    description = _("Inspection of %(asset)s failed: %(item)s.") % {
        "asset": f"{asset.code} {asset.name}",
        "item": item.text,
    }
    if note:
        description = f"{description} {note}"
    where = asset.location_note or f"{asset.code} {asset.name}"
    upload = SimpleUploadedFile(f"inspection.{ext}", photo) if photo is not None else None
    has_pin = asset.latitude is not None and asset.longitude is not None
    return hazard_report(
        community=asset.community,
        reporter=inspection.inspector,
        category=item.hazard_category,
        description=description[:2000],
        latitude=asset.latitude if has_pin else None,
        longitude=asset.longitude if has_pin else None,
        building=asset.building if asset.unit_id is None else None,
        unit=asset.unit,
        address=where[:200],
        photo=upload,
        at=inspection.submitted_at,
    )


def _mark_checked(
    *, actor: User, scope: Scope | None, asset: Asset, at: dt.datetime, note: str
) -> None:
    """Record the check on the asset (its last check and history) through facilities."""
    asset_mark_checked(asset=asset, at=at, by=actor, note=note, scope=scope)


@transaction.atomic
def inspection_submit(
    *,
    actor: User,
    scope: Scope | None = None,
    inspection: Inspection,
    results: Sequence[ResultInput],
    note: str = "",
    at: dt.datetime | None = None,
) -> Inspection:
    """Record the outcome of every active checklist item; each failed item reports a hazard
    (with the item's note and photo, at the asset's place) linked from its result."""
    _require(actor, scope, INSPECT, inspection.community_id)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    if inspection.status != InspectionStatus.IN_PROGRESS:
        raise ConflictError(_("This inspection has already been submitted."), code="submitted")
    if inspection.inspector_id != actor.pk:
        raise ConflictError(_("Only the inspector who opened it submits an inspection."))
    at = _now(at)
    text = clean_text("note", note, limit=NOTE_MAX, required=False)
    items = {item.pk: item for item in inspection.checklist.items.filter(is_active=True)}
    given: dict[int, ResultInput] = {}
    for result in results:
        if result.item_id not in items:
            raise ServiceError(_("An item is not on this checklist."), field="results")
        if result.item_id in given:
            raise ServiceError(_("Give each item once."), field="results")
        if result.outcome not in Outcome.values:
            raise ServiceError(
                _("Choose pass, fail or not applicable."), field=f"item_{result.item_id}"
            )
        given[result.item_id] = result
    missing = [item for pk, item in items.items() if pk not in given]
    if missing:
        raise ServiceError(
            _("Tick every item: %(item)s is missing.") % {"item": missing[0].text},
            field=f"item_{missing[0].pk}",
        )
    # Photos are checked before anything is written, so a bad one loses nothing.
    photos: dict[int, tuple[bytes, str]] = {}
    notes: dict[int, str] = {}
    for pk, result in given.items():
        notes[pk] = clean_text(f"note_{pk}", result.note, limit=NOTE_MAX, required=False)
        if result.outcome == Outcome.FAIL and not notes[pk] and result.photo is None:
            raise ServiceError(
                _("Say what is wrong, or add a photo, for a failed item."), field=f"note_{pk}"
            )
        if result.photo is not None:
            photos[pk] = clean_photo(result.photo, field=f"photo_{pk}")
    inspection.submitted_at = at
    inspection.status = InspectionStatus.SUBMITTED
    inspection.note = text
    inspection.passed = all(r.outcome != Outcome.FAIL for r in given.values())
    inspection.save()
    for pk, result in sorted(given.items(), key=lambda pair: (items[pair[0]].order, pair[0])):
        item = items[pk]
        row = InspectionResult(
            inspection=inspection,
            item=item,
            item_text=item.text,
            outcome=result.outcome,
            note=notes[pk],
        )
        picture = photos.get(pk)
        if picture is not None:
            content, extension = picture
            row.photo.save(f"item-{pk}.{extension}", ContentFile(content), save=False)
            row.photo_thumbnail.save(
                f"item-{pk}-thumb.{extension}",
                ContentFile(thumbnail(content, THUMBNAIL_SIZE)),
                save=False,
            )
        if result.outcome == Outcome.FAIL:
            row.hazard = _hazard_for(
                inspection=inspection,
                item=item,
                note=notes[pk],
                photo=picture[0] if picture else None,
                ext=picture[1] if picture else "jpg",
            )
        row.save()
    _mark_checked(
        actor=actor,
        scope=scope,
        asset=inspection.asset,
        at=at,
        note=_("Inspection passed") if inspection.passed else _("Inspection found faults"),
    )
    _audit(actor, "submit", inspection, {"passed": [None, inspection.passed]})
    return inspection


def inspection_abandon(*, actor: User, scope: Scope | None = None, inspection: Inspection) -> None:
    """Drop an inspection opened by mistake (nothing was recorded yet)."""
    _require(actor, scope, INSPECT, inspection.community_id)
    with transaction.atomic():
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if locked.status != InspectionStatus.IN_PROGRESS or locked.inspector_id != actor.pk:
            raise ConflictError(_("Only your own open inspection can be dropped."))
        _audit(actor, "abandon", locked)
        locked.delete()
