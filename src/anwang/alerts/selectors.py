"""Reads of the alerts domain: which households an alert reaches and how (the reach
preview), the follow-up list of households that have not confirmed, lists and permissions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.alerts.choices import (
    VULNERABLE_TAGS,
    AlertState,
    KnockStatus,
)
from anwang.alerts.models import (
    AlertRecipient,
    CapFeed,
    DoorKnockTask,
    IncomingAlert,
    SafetyAlert,
)
from anwang.core.dashboard import Stat
from anwang.core.inbox import WorkItem
from anwang.notifications.choices import Channel
from anwang.notifications.models import NotificationPreference, PushSubscription
from anwang.notifications.services import personal_channels_of
from anwang.people.choices import BindingStatus
from anwang.people.models import HouseholdBinding, HouseholdMember, ResidentTagLink
from anwang.places.models import Community, Household

ALERT_CHANNELS: tuple[str, ...] = (
    Channel.WEB_PUSH.value,
    Channel.SMS.value,
    Channel.WECHAT.value,
    Channel.EMAIL.value,
    Channel.VOICE.value,
)
"""Channels an alert may go out on besides the in-app inbox (always)."""


# Permissions -------------------------------------------------------------------------------


def may_view(scope: Scope, community_id: int) -> bool:
    """Whether the caller may read the community's alerts and their follow-up."""
    return acts_platform_wide(scope) or scope.has(Permission.VIEW_ALERTS, community_id)


def may_publish(scope: Scope, community_id: int) -> bool:
    """Whether the caller may write, send and cancel the community's alerts."""
    return acts_platform_wide(scope) or scope.has(Permission.PUBLISH_ALERTS, community_id)


def alert_communities(scope: Scope) -> QuerySet[Community]:
    """The communities whose alerts the caller reads."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(pk__in=scope.community_ids(Permission.VIEW_ALERTS))


def publish_communities(scope: Scope) -> QuerySet[Community]:
    """The communities where the caller may send alerts."""
    communities = Community.objects.order_by("name", "id")
    if acts_platform_wide(scope):
        return communities
    return communities.filter(pk__in=scope.community_ids(Permission.PUBLISH_ALERTS))


# Targeting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targeting:
    """Whom an alert is for: the whole community or the union of buildings, units and
    households; ``groups`` (resident tags) narrows either to households with such a
    resident."""

    community_id: int
    whole_community: bool = True
    building_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    household_ids: tuple[int, ...] = ()
    groups: tuple[str, ...] = ()

    @classmethod
    def of(cls, alert: SafetyAlert) -> Targeting:
        """The targeting stored on an alert."""
        return cls(
            community_id=alert.community_id,
            whole_community=alert.whole_community,
            building_ids=tuple(alert.buildings.values_list("pk", flat=True)),
            unit_ids=tuple(alert.units.values_list("pk", flat=True)),
            household_ids=tuple(alert.households.values_list("pk", flat=True)),
            groups=tuple(alert.groups),
        )


def _active_members() -> QuerySet[HouseholdMember]:
    return HouseholdMember.objects.filter(until__isnull=True, resident__moved_out_at__isnull=True)


def target_households(targeting: Targeting) -> QuerySet[Household]:
    """The community's households the targeting reaches (with at least one person living
    there)."""
    households = Household.objects.filter(community_id=targeting.community_id)
    if not targeting.whole_community:
        place = Q(pk__in=targeting.household_ids) | Q(unit_id__in=targeting.unit_ids)
        place |= Q(unit__building_id__in=targeting.building_ids)
        households = households.filter(place)
    lived_in = _active_members().filter(household_id=OuterRef("pk"))
    households = households.filter(Exists(lived_in))
    if targeting.groups:
        tagged = _active_members().filter(
            household_id=OuterRef("pk"),
            resident__tag_links__tag__in=list(targeting.groups),
        )
        households = households.filter(Exists(tagged))
    return households.order_by("pk")


@dataclass
class HouseholdReach:
    """Who in one household an alert reaches."""

    household_id: int
    people: int = 0
    resident_ids: list[int] = field(default_factory=list)
    # Residents without an account, reachable only on their registered phone.
    phone_only_resident_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    vulnerable: bool = False


def household_reach(household_ids: Iterable[int]) -> dict[int, HouseholdReach]:
    """For each household: its people, their accounts (a resident's own account, or an
    account bound to the household), who has only a phone number, and whether someone
    vulnerable lives there."""
    ids = list(household_ids)
    reach = {household_id: HouseholdReach(household_id) for household_id in ids}
    if not ids:
        return reach
    members = _active_members().filter(household_id__in=ids)
    vulnerable_ids = set(
        ResidentTagLink.objects.filter(
            resident__in=members.values("resident_id"), tag__in=list(VULNERABLE_TAGS)
        ).values_list("resident_id", flat=True)
    )
    for household_id, resident_id, user_id, user_active, phone_index in members.values_list(
        "household_id",
        "resident_id",
        "resident__user_id",
        "resident__user__is_active",
        "resident__phone_index",
    ).order_by("household_id", "resident_id"):
        entry = reach[household_id]
        if resident_id in entry.resident_ids:
            continue
        entry.people += 1
        entry.resident_ids.append(resident_id)
        entry.vulnerable = entry.vulnerable or resident_id in vulnerable_ids
        if user_id is not None and user_active:
            entry.user_ids.append(user_id)
        elif phone_index:
            entry.phone_only_resident_ids.append(resident_id)
    for household_id, user_id in HouseholdBinding.objects.filter(
        household_id__in=ids, status=BindingStatus.APPROVED, user__is_active=True
    ).values_list("household_id", "user_id"):
        if user_id not in reach[household_id].user_ids:
            reach[household_id].user_ids.append(user_id)
    return reach


@dataclass
class ChannelReach:
    """How many households and people one channel reaches."""

    channel: str
    label: str
    households: int = 0
    people: int = 0


@dataclass
class ReachPreview:
    """What sending would reach: households, people, accounts, per channel, and who is
    reached by no channel at all (to be told another way)."""

    households: int
    people: int
    vulnerable_households: int
    accounts: int
    channels: list[ChannelReach]
    unreachable_households: int


def reach_preview(targeting: Targeting, channels: Iterable[str]) -> ReachPreview:
    """Count whom an alert with this targeting would reach on each of its channels (the inbox
    always). A person counts on a channel when they have an address there: an account for
    the inbox, a subscribed browser for push, an email address, a mobile number (in their
    preferences, or registered by the community for residents without an account) for SMS
    and calls, an OpenID for WeChat."""
    household_ids = list(target_households(targeting).values_list("pk", flat=True))
    reach = household_reach(household_ids)
    user_ids = {user_id for entry in reach.values() for user_id in entry.user_ids}
    preferences = {
        preference.user_id: preference
        for preference in NotificationPreference.objects.filter(user_id__in=user_ids)
    }
    with_push = set(
        PushSubscription.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
    )
    from anwang.accounts.models import User

    emails = set(
        User.objects.filter(pk__in=user_ids).exclude(email="").values_list("pk", flat=True)
    )

    def reachable(channel: str, user_id: int) -> bool:
        preference = preferences.get(user_id)
        if channel == Channel.INBOX:
            return True
        # Messages go only on the channels the person chose (default: inbox and push).
        if channel not in personal_channels_of(preference):
            return False
        if channel == Channel.WEB_PUSH:
            return user_id in with_push
        if channel == Channel.EMAIL:
            return user_id in emails
        if channel in (Channel.SMS, Channel.VOICE):
            return bool(preference and preference.phone)
        if channel == Channel.WECHAT:
            return bool(preference and preference.wechat_openid)
        return False

    chosen = [Channel.INBOX.value] + [c for c in ALERT_CHANNELS if c in set(channels)]
    rows: list[ChannelReach] = []
    reached_households: set[int] = set()
    for channel in chosen:
        row = ChannelReach(channel, str(Channel(channel).label))
        for entry in reach.values():
            people = sum(1 for user_id in entry.user_ids if reachable(channel, user_id))
            if channel in (Channel.SMS, Channel.VOICE):
                people += len(entry.phone_only_resident_ids)
            if people:
                row.households += 1
                row.people += people
                reached_households.add(entry.household_id)
        rows.append(row)
    return ReachPreview(
        households=len(reach),
        people=sum(entry.people for entry in reach.values()),
        vulnerable_households=sum(1 for entry in reach.values() if entry.vulnerable),
        accounts=len(user_ids),
        channels=rows,
        unreachable_households=len(reach) - len(reached_households),
    )


# Lists -------------------------------------------------------------------------------------


def alert_list(
    scope: Scope,
    *,
    community_id: int | None = None,
    state: str = "",
    since: dt.datetime | None = None,
) -> QuerySet[SafetyAlert]:
    """Alerts the caller may read, newest first, with their confirmation counts."""
    alerts = SafetyAlert.objects.filter(community__in=alert_communities(scope))
    if community_id is not None:
        alerts = alerts.filter(community_id=community_id)
    if state:
        alerts = alerts.filter(state=state)
    if since is not None:
        alerts = alerts.filter(created_at__gte=since)
    return alerts.select_related("community").annotate(
        confirmed_count=Count("recipients", filter=Q(recipients__confirmed_at__isnull=False))
    )


def follow_up(alert: SafetyAlert) -> QuerySet[AlertRecipient]:
    """Households the alert reached that have not confirmed: vulnerable ones first, then by
    building, unit and room; each with its open door-knock task, if any."""
    open_knock = DoorKnockTask.objects.filter(
        alert_id=alert.pk, household_id=OuterRef("household_id"), status=KnockStatus.OPEN
    )
    return (
        AlertRecipient.objects.filter(alert=alert, confirmed_at__isnull=True)
        .select_related("household__unit__building")
        .annotate(has_open_knock=Exists(open_knock))
        .order_by(
            "-vulnerable",
            "household__unit__building__number",
            "household__unit__number",
            "household__floor",
            "household__number",
            "pk",
        )
    )


def confirmation_counts(alert: SafetyAlert) -> dict[str, int]:
    """Households reached, confirmed (in the inbox, by a door-knock) and not yet."""
    counts = AlertRecipient.objects.filter(alert=alert).aggregate(
        reached=Count("pk"),
        confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
        by_knock=Count("pk", filter=Q(confirmed_via="door_knock")),
        vulnerable_open=Count("pk", filter=Q(confirmed_at__isnull=True, vulnerable=True)),
    )
    counts["unconfirmed"] = counts["reached"] - counts["confirmed"]
    return counts


def active_alerts(community_id: int, *, now: dt.datetime | None = None) -> QuerySet[SafetyAlert]:
    """The community's alerts in force now (sent, neither expired nor cancelled)."""
    now = now or timezone.now()
    return SafetyAlert.objects.filter(
        community_id=community_id, state=AlertState.ACTIVE, expires_at__gt=now
    ).order_by("-published_at", "-pk")


def public_alerts(community_id: int, *, now: dt.datetime | None = None) -> QuerySet[SafetyAlert]:
    """Active alerts for the whole community without a group: public, so served as CAP and in
    the Atom feed to anyone. Targeted alerts are only for the people they reached."""
    return active_alerts(community_id, now=now).filter(whole_community=True, groups=[])


def resident_alerts(user_id: int) -> QuerySet[SafetyAlert]:
    """Alerts that reached the person's households, newest first."""
    return (
        SafetyAlert.objects.filter(recipients__users__id=user_id)
        .distinct()
        .order_by("-published_at", "-pk")
    )


def may_read_alert(scope: Scope, alert: SafetyAlert) -> bool:
    """Staff of the community, the people it reached, and anyone for a public active one."""
    if scope.token_community_id not in (None, alert.community_id):
        return False  # a token limited to another community reads nothing of this one
    if may_view(scope, alert.community_id):
        return True
    if scope.user is not None and alert.recipients.filter(users__id=scope.user.pk).exists():
        return True
    return alert.state == AlertState.ACTIVE and alert.whole_community and not alert.groups


def incoming_list(scope: Scope, *, community_id: int | None = None) -> QuerySet[IncomingAlert]:
    """Alerts received from upstream the caller may read, newest first."""
    incoming = IncomingAlert.objects.filter(community__in=alert_communities(scope))
    if community_id is not None:
        incoming = incoming.filter(community_id=community_id)
    return incoming.select_related("community", "feed")


def door_knocks_of(user_id: int, *, open_only: bool = True) -> QuerySet[DoorKnockTask]:
    """The person's door-knock visits, soonest due first."""
    tasks = DoorKnockTask.objects.filter(assignee_id=user_id)
    if open_only:
        tasks = tasks.filter(status=KnockStatus.OPEN)
    return tasks.select_related("alert", "household__unit__building").order_by(
        "status", "due_at", "pk"
    )


def door_knock_work_items(scope: Scope) -> list[WorkItem]:
    """'My work': the person's open door-knock visits, vulnerable households first."""
    if scope.user is None:
        return []
    vulnerable = set(
        AlertRecipient.objects.filter(
            alert__door_knocks__assignee_id=scope.user.pk,
            alert__door_knocks__status=KnockStatus.OPEN,
            vulnerable=True,
        ).values_list("alert_id", "household_id")
    )
    items = []
    for task in door_knocks_of(scope.user.pk)[:50]:
        items.append(
            WorkItem(
                source="alerts",
                title=_("Door-knock: %(household)s") % {"household": str(task.household)},
                url=reverse("alerts:knock", args=[task.pk]),
                community_id=task.alert.community_id,
                due_at=task.due_at,
                priority=1 if (task.alert_id, task.household_id) in vulnerable else 2,
                detail=task.alert.headline,
            )
        )
    return items


def alert_stats(scope: Scope, community: Community | None) -> list[Stat]:
    """Dashboard figures: alerts in force and households that have not confirmed them."""
    if community is not None:
        ids = [community.pk] if may_view(scope, community.pk) else []
    else:
        ids = list(alert_communities(scope).values_list("pk", flat=True))
    if not ids:
        return []
    now = timezone.now()
    active = SafetyAlert.objects.filter(
        community_id__in=ids, state=AlertState.ACTIVE, expires_at__gt=now
    )
    unconfirmed = AlertRecipient.objects.filter(
        alert__in=active.exclude(confirmation="none"), confirmed_at__isnull=True
    ).count()
    url = reverse("alerts:list")
    return [
        Stat(
            key="alerts_active",
            label=_("Safety alerts in force"),
            value=active.count(),
            url=f"{url}?state=active",
        ),
        Stat(
            key="alerts_unconfirmed",
            label=_("Households yet to confirm an alert"),
            value=unconfirmed,
            url=f"{url}?state=active",
            tone="key" if unconfirmed else "",
        ),
    ]


def households_by_grid_worker(household_ids: Iterable[int]) -> dict[int, int | None]:
    """Each household's grid worker (through its building's grid), or ``None``."""
    rows = Household.objects.filter(pk__in=list(household_ids)).values_list(
        "pk", "unit__building__grid__grid_worker_id"
    )
    return dict(rows)


# CAP in ------------------------------------------------------------------------------------


def incoming_get(scope: Scope, incoming_id: int) -> IncomingAlert:
    """A received alert the caller may read; 404 otherwise."""
    found = (
        IncomingAlert.objects.filter(pk=incoming_id, community__in=alert_communities(scope))
        .select_related("community", "feed", "handled_by")
        .first()
    )
    if found is None:
        raise Http404
    return found


def feed_list(scope: Scope, *, community_id: int | None = None) -> QuerySet[CapFeed]:
    """The CAP feeds of the communities whose alerts the caller reads."""
    feeds = CapFeed.objects.filter(community__in=alert_communities(scope))
    if community_id is not None:
        feeds = feeds.filter(community_id=community_id)
    return feeds.select_related("community").order_by("community__name", "name", "pk")


def feed_get(scope: Scope, feed_id: int) -> CapFeed:
    """A CAP feed the caller may read; 404 otherwise."""
    found = feed_list(scope).filter(pk=feed_id).first()
    if found is None:
        raise Http404
    return found


def relayed_alerts(incoming: IncomingAlert) -> QuerySet[SafetyAlert]:
    """The safety alerts made from a received alert."""
    return SafetyAlert.objects.filter(relayed_from=incoming).order_by("-pk")
