"""JSON API of the notifications domain: the caller's inbox and preferences (everyone signed
in), and channel settings and delivery reports (:attr:`Permission.MANAGE_CHANNELS`; 403 for
other staff of the community, 404 for everyone else)."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.validation import UNSET
from anwang.notifications import selectors, services
from anwang.notifications.models import ChannelConfig, Delivery
from anwang.notifications.schemas import (
    ChannelConfigIn,
    ChannelConfigOut,
    ChannelConfigPatch,
    DeliveryOut,
    InboxItemOut,
    PreferenceIn,
    PreferenceOut,
    ReadIn,
    ReadOut,
    TestOut,
    UnreadCountOut,
)

router = Router(tags=["notifications"])

PAGE_SIZE = 50


@router.get("/notifications", response=list[InboxItemOut], summary="My inbox")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def inbox(request: HttpRequest, unread_only: bool = False) -> list[dict[str, Any]]:
    """The caller's messages, newest first."""
    deliveries = selectors.inbox(request_actor(request), unread_only=unread_only)
    return _LazyItems(deliveries)  # type: ignore[return-value]


class _LazyItems:
    """Inbox rows turned into answers only for the page asked for."""

    def __init__(self, deliveries: QuerySet[Delivery]) -> None:
        self.deliveries = deliveries

    def __len__(self) -> int:
        return self.deliveries.count()

    def count(self) -> int:
        """Total rows, for the paginator."""
        return self.deliveries.count()

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        return [InboxItemOut.of(delivery) for delivery in self.deliveries[window]]


@router.get("/notifications/unread-count", response=UnreadCountOut, summary="My unread count")
def unread(request: HttpRequest) -> dict[str, int]:
    """How many of the caller's inbox messages are unread."""
    return {"unread": selectors.unread_count(request_actor(request))}


@router.post("/notifications/read", response=ReadOut, summary="Mark messages read")
def read(request: HttpRequest, payload: ReadIn) -> dict[str, int]:
    """Mark the given inbox messages (by delivery id), or all, read."""
    ids = None if payload.all else payload.ids
    return {"marked": services.mark_read(user=request_actor(request), delivery_ids=ids)}


@router.post(
    "/notifications/{notification_id}/confirm", response={204: None}, summary="Confirm a message"
)
def confirm(request: HttpRequest, notification_id: int) -> Status[None]:
    """Confirm a message that asks for it ("I am safe")."""
    user = request_actor(request)
    services.confirm(user=user, notification=selectors.notification_for(user, notification_id))
    return Status(204, None)


def _preference_out(request: HttpRequest) -> dict[str, Any]:
    preference = selectors.preference_of(request_actor(request))
    return {
        "channels": list(preference.channels),
        "phone": preference.phone,
        "wechat_openid": preference.wechat_openid,
        "quiet_start": preference.quiet_start,
        "quiet_end": preference.quiet_end,
        "channels_offered": selectors.channels_offered(request_scope(request)),
    }


@router.get("/notification-preferences", response=PreferenceOut, summary="My preferences")
def preference_get(request: HttpRequest) -> dict[str, Any]:
    """How the caller is reached: channels, addresses, quiet hours."""
    return _preference_out(request)


@router.put("/notification-preferences", response=PreferenceOut, summary="Change my preferences")
def preference_put(request: HttpRequest, payload: PreferenceIn) -> dict[str, Any]:
    """Change channels, addresses or quiet hours; fields left out keep their value."""
    given = payload.model_dump(exclude_unset=True)
    services.preference_set(
        user=request_actor(request),
        channels=given["channels"] if given.get("channels") is not None else UNSET,
        phone=given["phone"] if given.get("phone") is not None else UNSET,
        wechat_openid=(given["wechat_openid"] if given.get("wechat_openid") is not None else UNSET),
        quiet_start=given.get("quiet_start", UNSET),
        quiet_end=given.get("quiet_end", UNSET),
    )
    return _preference_out(request)


@router.get(
    "/communities/{community_id}/channel-configs",
    response=list[ChannelConfigOut],
    summary="List channel settings",
)
def config_list(request: HttpRequest, community_id: int) -> QuerySet[ChannelConfig]:
    """The community's channel settings."""
    return selectors.configs_of(request_scope(request), community_id)


@router.post(
    "/communities/{community_id}/channel-configs",
    response={201: ChannelConfigOut},
    summary="Set up a channel",
)
def config_create(
    request: HttpRequest, community_id: int, payload: ChannelConfigIn
) -> Status[ChannelConfig]:
    """Set up a channel for the community; the secret is stored and never shown again."""
    scope = request_scope(request)
    community = selectors.community_get(scope, community_id)
    config = services.channel_config_create(
        actor=request_actor(request), scope=scope, community=community, **payload.model_dump()
    )
    return Status(201, config)


@router.get(
    "/channel-configs/{channel_config_id}", response=ChannelConfigOut, summary="Get a channel"
)
def config_get(request: HttpRequest, channel_config_id: int) -> ChannelConfig:
    """One channel setting."""
    return selectors.config_get(request_scope(request), channel_config_id)


@router.patch(
    "/channel-configs/{channel_config_id}", response=ChannelConfigOut, summary="Change a channel"
)
def config_update(
    request: HttpRequest, channel_config_id: int, payload: ChannelConfigPatch
) -> ChannelConfig:
    """Change a channel setting; fields left out keep their value."""
    scope = request_scope(request)
    config = selectors.config_get(scope, channel_config_id)
    values = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return services.channel_config_update(
        actor=request_actor(request), scope=scope, config=config, **values
    )


@router.delete(
    "/channel-configs/{channel_config_id}", response={204: None}, summary="Remove a channel"
)
def config_delete(request: HttpRequest, channel_config_id: int) -> Status[None]:
    """Remove a channel setting."""
    scope = request_scope(request)
    config = selectors.config_get(scope, channel_config_id)
    services.channel_config_delete(actor=request_actor(request), scope=scope, config=config)
    return Status(204, None)


@router.post(
    "/channel-configs/{channel_config_id}/test",
    response={202: TestOut},
    summary="Send a test message",
)
def config_test(request: HttpRequest, channel_config_id: int) -> Status[dict[str, Any]]:
    """Queue a test message on the channel (the worker sends it within seconds)."""
    scope = request_scope(request)
    config = selectors.config_get(scope, channel_config_id)
    notification = services.channel_test(actor=request_actor(request), scope=scope, config=config)
    return Status(
        202,
        {
            "notification_id": notification.pk,
            "delivery_ids": list(notification.deliveries.values_list("pk", flat=True)),
        },
    )


@router.get(
    "/communities/{community_id}/deliveries",
    response=list[DeliveryOut],
    summary="Delivery report",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def deliveries(
    request: HttpRequest, community_id: int, status: str = "", channel: str = ""
) -> QuerySet[Delivery]:
    """The community's deliveries, newest first, by status and channel."""
    return selectors.deliveries_of(
        request_scope(request), community_id, status=status, channel=channel
    )
