"""Request and response bodies of the inspections API."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from anwang.facilities.choices import AssetType
from anwang.hazards.choices import HazardCategory
from anwang.inspections.choices import DueStatus, InspectionStatus, Outcome


class ChecklistItemOut(Schema):
    """One item of a checklist."""

    id: int
    order: int
    text: str
    hazard_category: HazardCategory
    is_active: bool


class ChecklistOut(Schema):
    """A checklist with its items."""

    id: int
    community_id: int
    asset_type: AssetType
    name: str
    is_active: bool
    items: list[ChecklistItemOut]


class ChecklistItemIn(Schema):
    """An item to add, or the new state of an existing one (with ``id``)."""

    id: int | None = Field(None, description="An existing item of this checklist to change.")
    text: str
    hazard_category: HazardCategory = HazardCategory.OTHER
    is_active: bool = True


class ChecklistIn(Schema):
    """A new checklist."""

    community_id: int
    asset_type: AssetType
    name: str
    items: list[ChecklistItemIn] = []


class InspectionChecklistDefaultsIn(Schema):
    """The community to add the default checklists to."""

    community_id: int


class ChecklistUpdateIn(Schema):
    """A checklist's name, whether it is in use, and items to change or add."""

    name: str
    is_active: bool = True
    items: list[ChecklistItemIn] = Field(
        [], description="Items with an id are changed, without one added; others stay."
    )


class InspectionPlanIn(Schema):
    """An inspection plan."""

    community_id: int | None = Field(None, description="Required when creating.")
    name: str
    checklist_id: int
    rrule: str = Field("FREQ=MONTHLY", description="FREQ=DAILY, WEEKLY or MONTHLY, with BY...")
    first_start: datetime = Field(description="When the first period starts (with time zone).")
    building_id: int | None = None
    zone_id: int | None = None
    asset_ids: list[int] = Field([], description="Only these assets (empty: all of the type).")
    assignee_ids: list[int] = Field([], description="Inspectors (empty: anyone who inspects).")
    checkpoint_id: int | None = Field(None, description="Offered at this patrol checkpoint.")
    is_active: bool = True
    note: str = ""


class InspectionPlanOut(Schema):
    """An inspection plan."""

    id: int
    community_id: int
    name: str
    checklist_id: int
    rrule: str
    first_start: datetime
    building_id: int | None
    zone_id: int | None
    asset_ids: list[int]
    assignee_ids: list[int]
    checkpoint_id: int | None
    is_active: bool
    note: str

    @staticmethod
    def resolve_asset_ids(obj: object) -> list[int]:
        return [asset.pk for asset in obj.assets.all()]  # type: ignore[attr-defined]

    @staticmethod
    def resolve_assignee_ids(obj: object) -> list[int]:
        return [user.pk for user in obj.assignees.all()]  # type: ignore[attr-defined]


class InspectionDueOut(Schema):
    """One asset to inspect under one plan."""

    plan_id: int
    plan_name: str
    asset_id: int
    asset_code: str
    asset_name: str
    status: DueStatus
    period_start: datetime | None
    due_by: datetime | None
    last_done: datetime | None


class InspectionStartIn(Schema):
    """Which asset of the plan is inspected."""

    asset_id: int


class InspectionResultIn(Schema):
    """The outcome of one checklist item."""

    item_id: int
    outcome: Outcome
    note: str = ""


class InspectionSubmitIn(Schema):
    """Every active item's outcome, and an overall note."""

    results: list[InspectionResultIn]
    note: str = ""


class InspectionResultOut(Schema):
    """The outcome of one item, and the hazard a failure reported."""

    id: int
    item_id: int
    item_text: str
    outcome: Outcome
    note: str
    hazard_id: int | None
    has_photo: bool

    @staticmethod
    def resolve_has_photo(obj: object) -> bool:
        return bool(obj.photo)  # type: ignore[attr-defined]


class InspectionOut(Schema):
    """An inspection record."""

    id: int
    community_id: int
    plan_id: int | None
    asset_id: int
    checklist_id: int
    inspector_id: int | None
    status: InspectionStatus
    started_at: datetime
    submitted_at: datetime | None
    passed: bool | None
    note: str


class InspectionDetailOut(InspectionOut):
    """An inspection with its checklist items and results."""

    items: list[ChecklistItemOut]
    results: list[InspectionResultOut]


class InspectionPlanFiguresOut(Schema):
    """How far a plan's current period is done."""

    plan_id: int
    plan_name: str
    assets: int
    done: int
    overdue: int
    rate: int


class InspectionItemFailuresOut(Schema):
    """How often an item failed."""

    item_text: str
    checklist: str
    failures: int
    checked: int


class InspectionStatisticsOut(Schema):
    """Completion per plan and failures per item."""

    plans: list[InspectionPlanFiguresOut]
    items: list[InspectionItemFailuresOut]
