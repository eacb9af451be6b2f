"""Request and response bodies of the safety alerts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from anwang.alerts.alert_templates import AlertTemplate
from anwang.alerts.choices import (
    AlertState,
    CapStatus,
    Category,
    Certainty,
    Confirmation,
    KnockOutcome,
    KnockStatus,
    ResponseType,
    Severity,
    TargetGroup,
    Urgency,
)
from anwang.alerts.models import AlertRecipient, DoorKnockTask, SafetyAlert
from anwang.alerts.selectors import ALERT_CHANNELS, ReachPreview, Targeting
from anwang.alerts.services import confirm_label

_CHANNELS_HELP = (
    "Channels besides the in-app inbox (always used): "
    + ", ".join(ALERT_CHANNELS)
    + ". Residents without an account get SMS or a call on their registered number when sms "
    "or voice is chosen."
)

# --------------------------------------------------------------------------- templates


class TemplateOut(Schema):
    """A built-in starting point for an alert, its texts in the request's language."""

    key: str
    label: str
    event: str
    category: Category
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    response_type: ResponseType
    headline: str
    description: str
    instruction: str
    confirmation: Confirmation
    valid_hours: int = Field(description="How long an alert made from it is in force.")

    @staticmethod
    def of(template: AlertTemplate) -> TemplateOut:
        """The template with its texts translated."""
        return TemplateOut(
            key=template.key,
            label=str(template.label),
            event=str(template.event),
            category=Category(template.category),
            severity=Severity(template.severity),
            urgency=Urgency(template.urgency),
            certainty=Certainty(template.certainty),
            response_type=ResponseType(template.response_type),
            headline=str(template.headline),
            description=str(template.description),
            instruction=str(template.instruction),
            confirmation=Confirmation(template.confirmation),
            valid_hours=template.valid_hours,
        )


# --------------------------------------------------------------------------- alerts


class TargetingOut(Schema):
    """Whom an alert is for."""

    whole_community: bool
    building_ids: list[int]
    unit_ids: list[int]
    household_ids: list[int]
    groups: list[TargetGroup] = Field(
        description="Narrows the places to households with a resident of one of these groups."
    )

    @staticmethod
    def of(targeting: Targeting) -> TargetingOut:
        """The targeting as the API shows it."""
        return TargetingOut(
            whole_community=targeting.whole_community,
            building_ids=list(targeting.building_ids),
            unit_ids=list(targeting.unit_ids),
            household_ids=list(targeting.household_ids),
            groups=[TargetGroup(group) for group in targeting.groups],
        )


class CountsOut(Schema):
    """Households reached and how many have confirmed."""

    reached: int
    confirmed: int
    by_knock: int = Field(description="Confirmed by a door-knock that found everyone safe.")
    vulnerable_open: int = Field(description="Vulnerable households yet to confirm.")
    unconfirmed: int


class _AlertFields(Schema):
    """The fields of an alert in a list and in full."""

    id: int
    community_id: int
    identifier: str = Field(description="The CAP identifier.")
    state: AlertState
    state_label: str
    event: str
    category: Category
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    headline: str
    publish_at: datetime | None = Field(description="When a scheduled alert goes out.")
    published_at: datetime | None
    expires_at: datetime
    confirmation: Confirmation = Field(
        description="What it asks of the people it reaches: nothing, 'are you safe?' (safe) "
        "or 'have you seen this?' (seen)."
    )
    households_reached: int
    people_reached: int
    confirmed: int = Field(description="Households that have confirmed.")


class AlertOut(_AlertFields):
    """A safety alert as listed."""

    @staticmethod
    def resolve_state_label(obj: Any) -> str:
        """The state in the request's language."""
        return str(AlertState(obj.state).label)

    @staticmethod
    def resolve_confirmed(obj: Any) -> int:
        """Confirmed households (annotated by the list selector)."""
        return int(getattr(obj, "confirmed_count", 0) or 0)


class AlertDetailOut(_AlertFields):
    """A safety alert with everything it says, whom it is for and, for staff of its community,
    how many have confirmed."""

    template: str
    cap_status: CapStatus
    msg_type: str
    response_type: ResponseType | None
    description: str
    instruction: str
    language: str = Field(description="BCP 47 tag of the texts (zh-CN, en-US).")
    area_description: str
    polygon: dict[str, Any] | None = Field(description="GeoJSON Polygon of the area.")
    web: str
    channels: list[str] = Field(description=_CHANNELS_HELP)
    confirm_label: str = Field(
        description="The text of the confirm button, in the request's language."
    )
    cancelled_at: datetime | None
    cancel_reason: str
    created_by_id: int | None
    published_by_id: int | None
    relayed_from_id: int | None = Field(description="The upstream CAP alert it relays.")
    targeting: TargetingOut | None = Field(description="Null for callers who are not staff.")
    counts: CountsOut | None = Field(
        description="Households reached, confirmed and not; null for callers who are not staff."
    )
    your_confirmed_at: datetime | None = Field(
        description="When the caller's household confirmed it (for the people it reached)."
    )
    you_may_confirm: bool = Field(
        description="It reached the caller, asks for confirmation, is in force and is not yet "
        "confirmed."
    )

    @staticmethod
    def of(
        alert: SafetyAlert,
        *,
        staff: bool,
        counts: dict[str, int] | None,
        confirmed: int,
        mine: AlertRecipient | None,
    ) -> AlertDetailOut:
        """The alert as the API shows it to the caller."""
        return AlertDetailOut(
            id=alert.pk,
            community_id=alert.community_id,
            identifier=alert.identifier,
            state=AlertState(alert.state),
            state_label=str(AlertState(alert.state).label),
            event=alert.event,
            category=Category(alert.category),
            severity=Severity(alert.severity),
            urgency=Urgency(alert.urgency),
            certainty=Certainty(alert.certainty),
            headline=alert.headline,
            publish_at=alert.publish_at,
            published_at=alert.published_at,
            expires_at=alert.expires_at,
            confirmation=Confirmation(alert.confirmation),
            households_reached=alert.households_reached,
            people_reached=alert.people_reached,
            confirmed=confirmed,
            template=alert.template,
            cap_status=CapStatus(alert.cap_status),
            msg_type=alert.msg_type,
            response_type=ResponseType(alert.response_type) if alert.response_type else None,
            description=alert.description,
            instruction=alert.instruction,
            language=alert.language,
            area_description=alert.area_description,
            polygon=alert.polygon,
            web=alert.web,
            channels=list(alert.channels),
            confirm_label=confirm_label(alert.confirmation),
            cancelled_at=alert.cancelled_at,
            cancel_reason=alert.cancel_reason,
            created_by_id=alert.created_by_id,
            published_by_id=alert.published_by_id,
            relayed_from_id=alert.relayed_from_id,
            targeting=TargetingOut.of(Targeting.of(alert)) if staff else None,
            counts=CountsOut(**counts) if counts is not None else None,
            your_confirmed_at=mine.confirmed_at if mine is not None else None,
            you_may_confirm=(
                mine is not None
                and mine.confirmed_at is None
                and alert.state == AlertState.ACTIVE
                and alert.confirmation != Confirmation.NONE
            ),
        )


class MyAlertOut(Schema):
    """An alert that reached one of the caller's households."""

    id: int
    community_id: int
    state: AlertState
    state_label: str
    event: str
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    response_type: str
    headline: str
    description: str
    instruction: str
    area_description: str
    published_at: datetime | None
    expires_at: datetime
    confirmation: Confirmation
    confirm_label: str
    confirmed_at: datetime | None = Field(description="When the caller's household confirmed.")

    @staticmethod
    def resolve_state_label(obj: Any) -> str:
        """The state in the request's language."""
        return str(AlertState(obj.state).label)

    @staticmethod
    def resolve_confirm_label(obj: Any) -> str:
        """The text of the confirm button."""
        return confirm_label(obj.confirmation)

    @staticmethod
    def resolve_confirmed_at(obj: Any) -> datetime | None:
        """Annotated by the API's query."""
        value: datetime | None = getattr(obj, "your_confirmed_at", None)
        return value


class TargetingIn(Schema):
    """Whom an alert is for: the whole community, or the union of buildings, units and
    households; groups narrow either to households with a resident of one of the groups."""

    whole_community: bool = True
    building_ids: list[int] = []
    unit_ids: list[int] = []
    household_ids: list[int] = []
    groups: list[TargetGroup] = []


class AlertIn(TargetingIn):
    """A new alert. With ``template``, fields left out are taken from that template (its texts
    in the request's language, expiry after its ``valid_hours``)."""

    community_id: int
    template: str = Field("", description="Key of a built-in template (GET /alerts/templates).")
    event: str | None = None
    category: Category | None = None
    severity: Severity | None = None
    urgency: Urgency | None = None
    certainty: Certainty | None = None
    response_type: ResponseType | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    area_description: str = Field("", description="Defaults to the targeted places' names.")
    polygon: dict[str, Any] | None = Field(
        None, description="GeoJSON Polygon; defaults to the community's boundary."
    )
    web: str = ""
    channels: list[str] = Field([], description=_CHANNELS_HELP)
    confirmation: Confirmation | None = None
    publish_at: datetime | None = Field(
        None, description="Send at this time (with time zone); empty: when published."
    )
    expires_at: datetime | None = Field(
        None, description="Defaults to 24 hours (or the template's validity) after sending."
    )
    cap_status: CapStatus = CapStatus.ACTUAL
    language: str | None = Field(
        None, description="BCP 47 tag of the texts; defaults to the request's language."
    )
    send: bool = Field(False, description="Publish at once (or schedule, with publish_at).")


class AlertPatch(Schema):
    """Changes to a draft or scheduled alert; fields left out keep their value. Any targeting
    field given replaces only that part of the targeting."""

    event: str | None = None
    category: Category | None = None
    severity: Severity | None = None
    urgency: Urgency | None = None
    certainty: Certainty | None = None
    response_type: ResponseType | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    area_description: str | None = None
    polygon: dict[str, Any] | None = None
    web: str | None = None
    channels: list[str] | None = Field(None, description=_CHANNELS_HELP)
    confirmation: Confirmation | None = None
    publish_at: datetime | None = Field(None, description="null: send when published.")
    expires_at: datetime | None = None
    cap_status: CapStatus | None = None
    whole_community: bool | None = None
    building_ids: list[int] | None = None
    unit_ids: list[int] | None = None
    household_ids: list[int] | None = None
    groups: list[TargetGroup] | None = None


class CancelIn(Schema):
    """Why an alert is withdrawn (told to the households it reached)."""

    reason: str


# --------------------------------------------------------------------------- reach


class PreviewIn(TargetingIn):
    """A targeting and channels to count the reach of, before sending."""

    community_id: int
    channels: list[str] = Field([], description=_CHANNELS_HELP)


class ChannelReachOut(Schema):
    """How many households and people one channel reaches."""

    channel: str
    label: str
    households: int
    people: int


class ReachPreviewOut(Schema):
    """Whom sending would reach, in all and per channel (the inbox always first)."""

    households: int
    people: int
    vulnerable_households: int
    accounts: int = Field(description="Accounts whose inbox gets it.")
    channels: list[ChannelReachOut]
    unreachable_households: int = Field(
        description="Households no chosen channel reaches: tell them another way."
    )

    @staticmethod
    def of(preview: ReachPreview) -> ReachPreviewOut:
        """The preview as the API shows it."""
        return ReachPreviewOut(
            households=preview.households,
            people=preview.people,
            vulnerable_households=preview.vulnerable_households,
            accounts=preview.accounts,
            channels=[
                ChannelReachOut(
                    channel=row.channel,
                    label=row.label,
                    households=row.households,
                    people=row.people,
                )
                for row in preview.channels
            ],
            unreachable_households=preview.unreachable_households,
        )


# --------------------------------------------------------------------------- confirmation


class ConfirmOut(Schema):
    """A household's confirmation."""

    alert_id: int
    household_id: int
    confirmed_at: datetime | None
    confirmed_via: str


class FollowUpRowOut(Schema):
    """A household that has not confirmed."""

    household_id: int
    address: str
    people: int
    vulnerable: bool
    has_open_knock: bool = Field(description="A door-knock visit is already on its way.")

    @staticmethod
    def of(recipient: AlertRecipient) -> FollowUpRowOut:
        """The row as the API shows it."""
        return FollowUpRowOut(
            household_id=recipient.household_id,
            address=recipient.household.address,
            people=recipient.people,
            vulnerable=recipient.vulnerable,
            has_open_knock=bool(getattr(recipient, "has_open_knock", False)),
        )


class FollowUpOut(Schema):
    """The follow-up list: counts, and the households yet to confirm (vulnerable first)."""

    counts: CountsOut
    households: list[FollowUpRowOut]


# --------------------------------------------------------------------------- door-knocks


class DoorKnocksIn(Schema):
    """Door-knock visits to make for households that have not confirmed."""

    household_ids: list[int] | None = Field(
        None, description="Which unconfirmed households; null: all of them."
    )
    assignee_id: int | None = Field(
        None,
        description="A grid worker or volunteer of the community; null: each household's "
        "grid worker.",
    )
    due_at: datetime | None = Field(None, description="Defaults to two hours from now.")


class DoorKnockOut(Schema):
    """A door-knock visit."""

    id: int
    alert_id: int
    alert_headline: str
    community_id: int
    household_id: int
    address: str
    assignee_id: int
    assignee_name: str
    status: KnockStatus
    status_label: str
    outcome: KnockOutcome | None
    note: str
    due_at: datetime | None
    created_at: datetime
    done_at: datetime | None

    @staticmethod
    def resolve_alert_headline(obj: DoorKnockTask) -> str:
        """The alert's headline."""
        return obj.alert.headline

    @staticmethod
    def resolve_community_id(obj: DoorKnockTask) -> int:
        """The alert's community."""
        return obj.alert.community_id

    @staticmethod
    def resolve_address(obj: DoorKnockTask) -> str:
        """Building, unit and room."""
        return obj.household.address

    @staticmethod
    def resolve_assignee_name(obj: DoorKnockTask) -> str:
        """Who visits."""
        return obj.assignee.display_name or obj.assignee.username

    @staticmethod
    def resolve_status_label(obj: DoorKnockTask) -> str:
        """The status in the request's language."""
        return str(KnockStatus(obj.status).label)

    @staticmethod
    def resolve_outcome(obj: DoorKnockTask) -> str | None:
        """What the visitor found (null while open)."""
        return obj.outcome or None


class DoorKnocksOut(Schema):
    """The visits made, and households left without a visitor (no grid worker)."""

    tasks: list[DoorKnockOut]
    without_visitor: list[int] = Field(
        description="Households whose building has no grid worker: choose a visitor for them."
    )


class KnockRecordIn(Schema):
    """What the visitor found; a note is required when someone needs help."""

    outcome: KnockOutcome
    note: str = ""
