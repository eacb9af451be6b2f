"""Writes of the notifications domain: the outbox, people's inboxes and preferences, and the
channels set up per community.

:func:`notify` only writes rows (one :class:`Notification`, one :class:`Delivery` per recipient
and channel, one per matching group robot or webhook) and must run inside the transaction of
the change that caused it: if that change rolls back, nothing is sent. The worker sends the
queued deliveries later (:mod:`anwang.notifications.sending`).

Channel settings need :attr:`Permission.MANAGE_CHANNELS` in the community (404 for everyone
else: channel settings are not visible to anyone who may not change them) and are audited;
the secret is write-only and never appears in audit entries or answers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from anwang.accounts.choices import Permission
from anwang.accounts.models import User
from anwang.accounts.roles import STAFF_ROLES
from anwang.accounts.selectors import Scope, acts_platform_wide, service_scope
from anwang.audit.services import audit_record, diff, snapshot
from anwang.core.crypto import blind_index
from anwang.core.errors import ServiceError
from anwang.core.validation import UNSET, Unset, clean_text
from anwang.notifications.choices import PERSONAL_CHANNELS, Channel, DeliveryStatus
from anwang.notifications.models import (
    ChannelConfig,
    Delivery,
    Notification,
    NotificationPreference,
)
from anwang.notifications.signals import message_confirmed
from anwang.people.models import EmergencyContact, Resident
from anwang.places.models import Community

DEFAULT_CHANNELS: tuple[str, ...] = (Channel.INBOX.value, Channel.WEB_PUSH.value)
"""Channels of a person who never chose any."""
GROUP_CHANNELS = frozenset({Channel.WECOM, Channel.DINGTALK, Channel.FEISHU, Channel.WEBHOOK})
"""Channels that post to a group or a system set up for the community, not to a person."""
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
"""A mainland China mobile number."""
TEST_KIND = "test"

_CONFIG_FIELDS = (
    "channel",
    "name",
    "is_enabled",
    "settings",
    "kinds",
    "max_priority",
    "rate_per_minute",
)


# The outbox --------------------------------------------------------------------------------


def in_quiet_hours(
    moment: dt.datetime, start: dt.time | None, end: dt.time | None
) -> dt.datetime | None:
    """When the quiet hours around ``moment`` end (aware), or ``None`` outside quiet hours.

    Quiet hours are wall-clock times in the site's time zone; ``start`` after ``end`` spans
    midnight (22:00-07:00). Equal or missing times mean no quiet hours."""
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(moment)
    wall = local.time().replace(tzinfo=None)
    tz = local.tzinfo
    if start < end:
        inside = start <= wall < end
        end_day = local.date()
    else:
        inside = wall >= start or wall < end
        end_day = local.date() + dt.timedelta(days=1) if wall >= start else local.date()
    if not inside:
        return None
    # Wall-clock end in the same zone (zoneinfo handles the offset of that day).
    return dt.datetime.combine(end_day, end, tzinfo=tz)


def _preference(user: User) -> NotificationPreference | None:
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return None


def personal_channels_of(preference: NotificationPreference | None) -> list[str]:
    """The channels a person is reached on: their choice (default inbox and browser push),
    always with the inbox first."""
    chosen = (
        list(preference.channels) if preference and preference.channels else list(DEFAULT_CHANNELS)
    )
    ordered = [Channel.INBOX.value] + [
        c for c in chosen if c != Channel.INBOX and c in {ch.value for ch in PERSONAL_CHANNELS}
    ]
    return list(dict.fromkeys(ordered))


def _group_configs(community: Community | None, kind: str, priority: int) -> list[ChannelConfig]:
    if community is None:
        return []
    configs = ChannelConfig.objects.filter(
        community=community, is_enabled=True, channel__in=[c.value for c in GROUP_CHANNELS]
    ).order_by("pk")
    return [
        config
        for config in configs
        if (not config.kinds or kind in config.kinds) and priority <= config.max_priority
    ]


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    community: Community | None = None,
    priority: int = 3,
    urgent: bool = False,
    needs_confirmation: bool = False,
    source: models.Model | None = None,
    data: Mapping[str, Any] | None = None,
    channels: Iterable[str] | None = None,
    residents_by_phone: Iterable[Resident] = (),
    contacts_by_phone: Iterable[EmergencyContact] = (),
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Notification:
    """Queue one message to people (on the channels each chose) and to the community's group
    robots and webhooks that carry this kind and priority. Call it inside the transaction of
    the change that caused the message; it only writes rows.

    ``residents_by_phone`` are residents without an account: they get the message by SMS and
    by call where ``channels`` names those channels, on their registered phone number;
    ``contacts_by_phone`` (residents' family contacts) likewise on the contact's number."""
    now = now or timezone.now()
    narrowed = None if channels is None else {str(c) for c in channels}
    notification = Notification.objects.create(
        community=community,
        kind=kind[:50],
        title=title[:200],
        body=body,
        url=url[:500],
        priority=priority,
        urgent=urgent,
        needs_confirmation=needs_confirmation,
        source_type=source._meta.label_lower[:50] if source is not None else "",
        source_id=str(source.pk) if source is not None else "",
        data=dict(data or {}),
        created_at=now,
        created_by=actor,
    )
    deliveries: list[Delivery] = []
    seen: set[int] = set()
    for person in recipients:
        if person.pk in seen:
            continue
        seen.add(person.pk)
        preference = _preference(person)
        quiet_end = None
        if not urgent and preference is not None:
            quiet_end = in_quiet_hours(now, preference.quiet_start, preference.quiet_end)
        for channel in personal_channels_of(preference):
            if narrowed is not None and channel != Channel.INBOX and channel not in narrowed:
                continue
            if channel == Channel.INBOX:
                # The inbox is the database itself: the message is there as soon as it commits.
                deliveries.append(
                    Delivery(
                        notification=notification,
                        recipient=person,
                        channel=channel,
                        status=DeliveryStatus.SENT,
                        created_at=now,
                        sent_at=now,
                    )
                )
                continue
            deliveries.append(
                Delivery(
                    notification=notification,
                    recipient=person,
                    channel=channel,
                    created_at=now,
                    next_attempt_at=quiet_end or now,
                )
            )
    phone_channels = [
        c for c in (Channel.SMS.value, Channel.VOICE.value) if narrowed and c in narrowed
    ]
    for resident in residents_by_phone:
        for channel in phone_channels:
            deliveries.append(
                Delivery(
                    notification=notification,
                    resident=resident,
                    channel=channel,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    for contact in contacts_by_phone:
        for channel in phone_channels:
            deliveries.append(
                Delivery(
                    notification=notification,
                    emergency_contact=contact,
                    channel=channel,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    for config in _group_configs(community, kind, priority):
        if narrowed is not None and config.channel not in narrowed:
            continue
        deliveries.append(
            Delivery(
                notification=notification,
                channel=config.channel,
                config=config,
                created_at=now,
                next_attempt_at=now,
            )
        )
    Delivery.objects.bulk_create(deliveries)
    return notification


# Inbox -------------------------------------------------------------------------------------


def mark_read(
    *, user: User, delivery_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Mark the person's inbox messages read (the given ones, or all); answers how many."""
    now = now or timezone.now()
    unread = Delivery.objects.filter(recipient=user, channel=Channel.INBOX, read_at__isnull=True)
    if delivery_ids is not None:
        unread = unread.filter(pk__in=list(delivery_ids))
    count = unread.update(read_at=now)
    # The status follows, except where the person has already confirmed.
    Delivery.objects.filter(
        recipient=user, channel=Channel.INBOX, read_at=now, status=DeliveryStatus.SENT
    ).update(status=DeliveryStatus.READ)
    return count


def confirm(*, user: User, notification: Notification, now: dt.datetime | None = None) -> None:
    """The person confirms a message that asks for it ("I am safe"); audited."""
    now = now or timezone.now()
    if not notification.needs_confirmation:
        raise ServiceError(_("This message does not ask for confirmation."))
    with transaction.atomic():
        updated = Delivery.objects.filter(
            notification=notification, recipient=user, channel=Channel.INBOX
        ).update(status=DeliveryStatus.CONFIRMED, confirmed_at=now)
        if not updated:
            raise ServiceError(_("This message was not sent to you."))
        Delivery.objects.filter(
            notification=notification, recipient=user, channel=Channel.INBOX, read_at__isnull=True
        ).update(read_at=now)
        audit_record(
            actor=user,
            action="notification.confirm",
            obj=notification,
            community_id=notification.community_id,
        )
        message_confirmed.send(sender=Notification, notification=notification, user=user, now=now)


# Preferences -------------------------------------------------------------------------------


def preference_set(
    *,
    user: User,
    channels: Iterable[str] | Unset = UNSET,
    phone: str | Unset = UNSET,
    wechat_openid: str | Unset = UNSET,
    quiet_start: dt.time | Unset | None = UNSET,
    quiet_end: dt.time | Unset | None = UNSET,
) -> NotificationPreference:
    """Change how the person is reached; arguments left at :data:`UNSET` keep their value."""
    preference = _preference(user) or NotificationPreference(
        user=user, channels=list(DEFAULT_CHANNELS)
    )
    if not isinstance(channels, Unset):
        chosen = [str(c) for c in channels]
        allowed = {c.value for c in PERSONAL_CHANNELS}
        wrong = [c for c in chosen if c not in allowed]
        if wrong:
            raise ServiceError(
                _("Choose among: %(choices)s.")
                % {"choices": ", ".join(str(Channel(c).label) for c in sorted(allowed))},
                field="channels",
            )
        preference.channels = personal_channels_of(
            NotificationPreference(channels=chosen or [Channel.INBOX.value])
        )
    if not isinstance(phone, Unset):
        number = re.sub(r"[\s-]", "", phone or "")
        if number.startswith("+86"):
            number = number[3:]
        if number and not MOBILE_RE.match(number):
            raise ServiceError(_("Enter a mainland mobile number (11 digits)."), field="phone")
        preference.phone = number
        preference.phone_index = blind_index(number) if number else ""
    if not isinstance(wechat_openid, Unset):
        preference.wechat_openid = clean_text(
            "wechat_openid", wechat_openid, limit=64, required=False
        )
    if not isinstance(quiet_start, Unset):
        preference.quiet_start = quiet_start
    if not isinstance(quiet_end, Unset):
        preference.quiet_end = quiet_end
    if (preference.quiet_start is None) != (preference.quiet_end is None):
        raise ServiceError(_("Give both ends of the quiet hours, or neither."), field="quiet_end")
    for needed, address, field, message in (
        (Channel.SMS, preference.phone, "phone", _("SMS and calls need a mobile number.")),
        (Channel.VOICE, preference.phone, "phone", _("SMS and calls need a mobile number.")),
        (
            Channel.WECHAT,
            preference.wechat_openid,
            "wechat_openid",
            _("WeChat messages need your OpenID."),
        ),
    ):
        if needed in preference.channels and not address:
            raise ServiceError(message, field=field)
    with transaction.atomic():
        preference.save()
        audit_record(
            actor=user,
            action="notification_preference.update",
            obj=preference,
            changes={"channels": preference.channels},
        )
    return preference


# Channel settings --------------------------------------------------------------------------


def _require_manage(actor: User | None, scope: Scope | None, community_id: int | None) -> None:
    # Staff of the community see that it has channels (403); everyone else gets 404.
    resolved = service_scope(actor, scope)
    if resolved is None or acts_platform_wide(resolved):
        return
    if resolved.has(Permission.MANAGE_CHANNELS, community_id):
        return
    if community_id in resolved.community_ids() and resolved.roles(community_id) & STAFF_ROLES:
        raise PermissionDenied
    raise Http404


def _config_snapshot(config: ChannelConfig) -> dict[str, Any]:
    values = snapshot(config, _CONFIG_FIELDS)
    # Only whether a secret is set, never the secret.
    values["secret_set"] = bool(config.secret)
    return values


def _clean_config(
    config: ChannelConfig,
    *,
    channel: str | Unset,
    name: str | Unset,
    is_enabled: bool | Unset,
    settings: Mapping[str, Any] | Unset,
    secret: str | Unset | None,
    kinds: Iterable[str] | Unset,
    max_priority: int | Unset,
    rate_per_minute: int | Unset,
) -> None:
    if not isinstance(channel, Unset):
        if channel not in Channel.values or channel == Channel.INBOX:
            raise ServiceError(_("Choose a channel that can be set up."), field="channel")
        config.channel = channel
    if not isinstance(name, Unset):
        config.name = clean_text("name", name, limit=100)
    if not isinstance(is_enabled, Unset):
        config.is_enabled = bool(is_enabled)
    if not isinstance(settings, Unset):
        if not isinstance(settings, Mapping) or not all(isinstance(k, str) for k in settings):
            raise ServiceError(_("Settings must be names with values."), field="settings")
        config.settings = dict(settings)
    # ``None`` or an empty string keeps the secret: it is write-only, forms never show it.
    if not isinstance(secret, Unset) and secret:
        config.secret = str(secret)[:500]
    if not isinstance(kinds, Unset):
        config.kinds = [clean_text("kinds", k, limit=50) for k in kinds]
    if not isinstance(max_priority, Unset):
        if not 1 <= int(max_priority) <= 4:
            raise ServiceError(_("Choose a priority from 1 to 4."), field="max_priority")
        config.max_priority = int(max_priority)
    if not isinstance(rate_per_minute, Unset):
        if not 1 <= int(rate_per_minute) <= 10000:
            raise ServiceError(
                _("Allow from 1 to 10000 messages a minute."), field="rate_per_minute"
            )
        config.rate_per_minute = int(rate_per_minute)


def channel_config_create(
    *,
    actor: User | None,
    scope: Scope | None = None,
    community: Community | None,
    channel: str,
    name: str,
    is_enabled: bool = True,
    settings: Mapping[str, Any] | None = None,
    secret: str = "",
    kinds: Iterable[str] = (),
    max_priority: int = 4,
    rate_per_minute: int = 60,
) -> ChannelConfig:
    """Set up a channel for a community (``None``: platform-wide, administrators only)."""
    _require_manage(actor, scope, community.pk if community else None)
    config = ChannelConfig(community=community)
    _clean_config(
        config,
        channel=channel,
        name=name,
        is_enabled=is_enabled,
        settings=settings or {},
        secret=secret,
        kinds=kinds,
        max_priority=max_priority,
        rate_per_minute=rate_per_minute,
    )
    with transaction.atomic():
        config.save()
        audit_record(
            actor=actor,
            action="channel_config.create",
            obj=config,
            changes=diff({}, _config_snapshot(config)),
        )
    return config


def channel_config_update(
    *,
    actor: User | None,
    scope: Scope | None = None,
    config: ChannelConfig,
    name: str | Unset = UNSET,
    is_enabled: bool | Unset = UNSET,
    settings: Mapping[str, Any] | Unset = UNSET,
    secret: str | Unset | None = UNSET,
    kinds: Iterable[str] | Unset = UNSET,
    max_priority: int | Unset = UNSET,
    rate_per_minute: int | Unset = UNSET,
) -> ChannelConfig:
    """Change a channel's settings; arguments left at :data:`UNSET` keep their value (and an
    empty secret keeps the one stored)."""
    _require_manage(actor, scope, config.community_id)
    before = _config_snapshot(config)
    _clean_config(
        config,
        channel=UNSET,
        name=name,
        is_enabled=is_enabled,
        settings=settings,
        secret=secret,
        kinds=kinds,
        max_priority=max_priority,
        rate_per_minute=rate_per_minute,
    )
    with transaction.atomic():
        config.save()
        audit_record(
            actor=actor,
            action="channel_config.update",
            obj=config,
            changes=diff(before, _config_snapshot(config)),
        )
    return config


def channel_config_delete(
    *, actor: User | None, scope: Scope | None = None, config: ChannelConfig
) -> None:
    """Remove a channel's settings (its past deliveries stay, without the link)."""
    _require_manage(actor, scope, config.community_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="channel_config.delete",
            obj=config,
            changes=diff(_config_snapshot(config), {}),
        )
        config.delete()


def channel_test(
    *,
    actor: User | None,
    scope: Scope | None = None,
    config: ChannelConfig,
    now: dt.datetime | None = None,
) -> Notification:
    """Queue a test message on one channel setting: to the group or system it posts to, or,
    for a personal channel, to the person testing it."""
    _require_manage(actor, scope, config.community_id)
    now = now or timezone.now()
    with transaction.atomic():
        notification = Notification.objects.create(
            community=config.community,
            kind=TEST_KIND,
            title=_("Test message from Anwang"),
            body=_("If you can read this, the channel “%(name)s” works.") % {"name": config.name},
            priority=4,
            created_at=now,
            created_by=actor,
        )
        personal = config.channel in {c.value for c in PERSONAL_CHANNELS}
        Delivery.objects.create(
            notification=notification,
            recipient=actor if personal else None,
            channel=config.channel,
            config=config,
            created_at=now,
            next_attempt_at=now,
        )
        audit_record(actor=actor, action="channel_config.test", obj=config)
    return notification
