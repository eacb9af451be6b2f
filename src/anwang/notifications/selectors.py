"""Reads of the notifications domain: a person's inbox and unread count, their preferences,
and (for :attr:`Permission.MANAGE_CHANNELS` holders) the channel settings and delivery report
of a community. Channel settings of a community: its other staff get 403, everyone else 404."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.roles import STAFF_ROLES
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.notifications.choices import PERSONAL_CHANNELS, Channel
from anwang.notifications.models import (
    ChannelConfig,
    Delivery,
    Notification,
    NotificationPreference,
)
from anwang.places.models import Community


def inbox(user: User, *, unread_only: bool = False) -> QuerySet[Delivery]:
    """The person's inbox messages, newest first."""
    deliveries = Delivery.objects.filter(recipient=user, channel=Channel.INBOX)
    if unread_only:
        deliveries = deliveries.filter(read_at__isnull=True)
    return deliveries.select_related("notification").order_by("-notification__created_at", "-pk")


def unread_count(user: User) -> int:
    """How many inbox messages the person has not read (one indexed count)."""
    return Delivery.objects.filter(
        recipient=user, channel=Channel.INBOX, read_at__isnull=True
    ).count()


def notification_for(user: User, notification_id: int) -> Notification:
    """A message sent to the person's inbox; 404 for anyone else's."""
    notification = Notification.objects.filter(
        pk=notification_id, deliveries__recipient=user, deliveries__channel=Channel.INBOX
    ).first()
    if notification is None:
        raise Http404
    return notification


def preference_of(user: User) -> NotificationPreference:
    """The person's preferences (unsaved defaults if they never chose)."""
    from anwang.notifications.services import DEFAULT_CHANNELS

    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user, channels=list(DEFAULT_CHANNELS))


def channels_offered(scope: Scope) -> list[str]:
    """Personal channels the person may choose: the inbox, and those set up platform-wide or
    in one of their communities."""
    configured = set(
        ChannelConfig.objects.filter(
            is_enabled=True, channel__in=[c.value for c in PERSONAL_CHANNELS]
        )
        .filter(community__isnull=True)
        .values_list("channel", flat=True)
    ) | set(
        ChannelConfig.objects.filter(
            is_enabled=True,
            channel__in=[c.value for c in PERSONAL_CHANNELS],
            community_id__in=scope.community_ids(),
        ).values_list("channel", flat=True)
    )
    return [c.value for c in Channel if c == Channel.INBOX or c.value in configured]


def _may_manage(scope: Scope, community_id: int | None) -> None:
    if acts_platform_wide(scope):
        return
    if community_id is not None and scope.has(Permission.MANAGE_CHANNELS, community_id):
        return
    # Staff of the community see that it has channels but may not touch them (403);
    # residents and everyone else learn nothing (404).
    if community_id in scope.community_ids() and scope.roles(community_id) & STAFF_ROLES:
        raise PermissionDenied
    raise Http404


def community_get(scope: Scope, community_id: int) -> Community:
    """A community whose channels the caller manages (403 for other members, 404 else)."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        raise Http404
    _may_manage(scope, community.pk)
    return community


def managed_communities(scope: Scope) -> QuerySet[Community]:
    """Communities whose channels the caller manages."""
    if acts_platform_wide(scope):
        return Community.objects.order_by("name")
    return Community.objects.filter(
        pk__in=scope.community_ids(Permission.MANAGE_CHANNELS)
    ).order_by("name")


def configs_of(scope: Scope, community_id: int) -> QuerySet[ChannelConfig]:
    """A community's channel settings."""
    community_get(scope, community_id)
    return ChannelConfig.objects.filter(community_id=community_id).order_by("channel", "name", "pk")


def platform_configs(scope: Scope) -> QuerySet[ChannelConfig]:
    """Platform-wide channel settings (administrators only; empty for others)."""
    if not acts_platform_wide(scope):
        return ChannelConfig.objects.none()
    return ChannelConfig.objects.filter(community__isnull=True).order_by("channel", "name", "pk")


def config_get(scope: Scope, config_id: int) -> ChannelConfig:
    """One channel setting the caller manages."""
    config = ChannelConfig.objects.select_related("community").filter(pk=config_id).first()
    if config is None:
        raise Http404
    _may_manage(scope, config.community_id)
    return config


def deliveries_of(
    scope: Scope, community_id: int, *, status: str = "", channel: str = ""
) -> QuerySet[Delivery]:
    """The community's recent deliveries, newest first, optionally by status and channel."""
    community_get(scope, community_id)
    deliveries = Delivery.objects.filter(notification__community_id=community_id)
    if status:
        deliveries = deliveries.filter(status=status)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    return deliveries.select_related("notification", "recipient", "config").order_by(
        "-created_at", "-pk"
    )
