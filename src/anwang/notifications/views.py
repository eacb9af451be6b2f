"""Pages of notifications: the person's inbox (mark read, confirm), their preferences, and
for :attr:`Permission.MANAGE_CHANNELS` holders the community's channel settings (with a test
button) and the delivery report. Views read through selectors and write through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.errors import ServiceError
from anwang.core.pages import attach_service_error, int_param, page_scope, page_user, paginate
from anwang.core.selectors import page_community
from anwang.notifications import selectors, services
from anwang.notifications.choices import Channel, DeliveryStatus
from anwang.notifications.forms import ChannelConfigForm, PreferenceForm
from anwang.notifications.models import ChannelConfig
from anwang.places.models import Community

SETTINGS_KEYS: dict[str, str] = {
    Channel.EMAIL: "host, port, security (starttls|ssl|none), username, from_address, from_name, "
    "timeout, ca_file, verify, site_url — secret: SMTP password",
    Channel.WEB_PUSH: "public_key, subject, ttl, timeout — secret: VAPID private key",
    Channel.SMS: "url, sign_name, templates / template_id, fields, auth_header, auth_scheme, "
    "ok_field, ok_value, id_field, error_field, retry_values, timeout_seconds — secret: API key",
    Channel.VOICE: "as SMS, plus text_param, max_chars — secret: API key",
    Channel.WECOM: "url, timeout_seconds — secret: robot key (optional)",
    Channel.DINGTALK: "url, timeout_seconds — secret: signing secret (加签)",
    Channel.FEISHU: "url, timeout_seconds — secret: signing secret (签名校验)",
    Channel.WECHAT: "app_id, template_ids, fields, token_endpoint, api_base, timeout_seconds "
    "— secret: AppSecret",
    Channel.WEBHOOK: "url, timeout_seconds — secret: HMAC signing secret (optional)",
}
"""Settings keys per channel, shown on the form (docs/notifications.md has the full list)."""


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The person's messages, newest first, unread in bold."""
    user = page_user(request)
    unread_only = request.GET.get("unread") == "1"
    page, query = paginate(request, selectors.inbox(user, unread_only=unread_only))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "query": query, "unread_only": unread_only},
    )


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return "notifications:inbox"


@login_required
@require_POST
def read(request: HttpRequest) -> HttpResponse:
    """Mark one message (``delivery``) or all read."""
    delivery_id = int_param(request.POST.get("delivery"))
    ids = None if request.POST.get("all") else [delivery_id] if delivery_id else []
    services.mark_read(user=page_user(request), delivery_ids=ids)
    return redirect(_back(request))


@login_required
@require_POST
def confirm(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Confirm a message that asks for it."""
    user = page_user(request)
    try:
        services.confirm(user=user, notification=selectors.notification_for(user, notification_id))
        messages.success(request, _("Thank you, your confirmation was recorded."))
    except ServiceError as error:
        messages.error(request, str(error.message))
    return redirect(_back(request))


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """How the person is reached: channels, mobile number, WeChat OpenID, quiet hours."""
    user = page_user(request)
    preference = selectors.preference_of(user)
    offered = selectors.channels_offered(page_scope(request))
    form = PreferenceForm(
        request.POST or None,
        offered=offered,
        initial={
            "channels": [c for c in preference.channels if c in offered],
            "phone": preference.phone,
            "wechat_openid": preference.wechat_openid,
            "quiet_start": preference.quiet_start,
            "quiet_end": preference.quiet_end,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_set(user=user, **form.cleaned_data)
            messages.success(request, _("Your preferences were saved."))
            return redirect("notifications:preferences")
        except ServiceError as error:
            attach_service_error(form, error)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)


def _may_manage(scope: Scope, community_id: int) -> bool:
    return acts_platform_wide(scope) or scope.has(Permission.MANAGE_CHANNELS, community_id)


def _community(request: HttpRequest, scope: Scope) -> Community:
    return page_community(
        request, scope, allowed=_may_manage, fallback=selectors.managed_communities(scope)
    )


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    """The community's channel settings (and the platform's, for administrators)."""
    scope = page_scope(request)
    community = _community(request, scope)
    return render(
        request,
        "notifications/channel_list.html",
        {
            "community": community,
            "configs": selectors.configs_of(scope, community.pk),
            "platform_configs": selectors.platform_configs(scope),
        },
    )


def _config_values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    values.pop("channel", None)
    return values


def _channel_page(
    request: HttpRequest, scope: Scope, community: Community, config: ChannelConfig | None
) -> HttpResponse:
    initial: dict[str, Any] = {"is_enabled": True, "max_priority": 4, "rate_per_minute": 60}
    if config is not None:
        import json

        initial = {
            "channel": config.channel,
            "name": config.name,
            "is_enabled": config.is_enabled,
            "settings": json.dumps(config.settings, ensure_ascii=False, indent=1),
            "kinds": ", ".join(config.kinds),
            "max_priority": config.max_priority,
            "rate_per_minute": config.rate_per_minute,
        }
    form = ChannelConfigForm(request.POST or None, initial=initial, editing=config is not None)
    if request.method == "POST" and form.is_valid():
        actor = page_user(request)
        try:
            if config is None:
                services.channel_config_create(
                    actor=actor, scope=scope, community=community, **form.cleaned_data
                )
                messages.success(request, _("The channel was set up."))
            else:
                services.channel_config_update(
                    actor=actor, scope=scope, config=config, **_config_values(form.cleaned_data)
                )
                messages.success(request, _("The changes were saved."))
            return redirect("notifications:channels")
        except ServiceError as error:
            attach_service_error(form, error)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "notifications/channel_form.html",
        {
            "form": form,
            "community": community,
            "config": config,
            "secret_set": bool(config and config.secret),
            "settings_keys": [(Channel(k).label, v) for k, v in SETTINGS_KEYS.items()],
            "title": _("Set up a channel") if config is None else _("Edit a channel"),
        },
        status=status,
    )


@login_required
def channel_create(request: HttpRequest) -> HttpResponse:
    """Set up a channel for the current community."""
    scope = page_scope(request)
    community = _community(request, scope)
    return _channel_page(request, scope, community, None)


def _config(request: HttpRequest, config_id: int) -> tuple[Scope, ChannelConfig]:
    scope = page_scope(request)
    config = selectors.config_get(scope, config_id)
    return scope, config


@login_required
def channel_edit(request: HttpRequest, config_id: int) -> HttpResponse:
    """Change a channel setting."""
    scope, config = _config(request, config_id)
    if config.community is None:
        # Platform-wide settings belong to administrators, who also use the admin site.
        if not acts_platform_wide(scope):
            raise PermissionDenied
        return _channel_page(request, scope, _community(request, scope), config)
    return _channel_page(request, scope, config.community, config)


@login_required
@require_POST
def channel_delete(request: HttpRequest, config_id: int) -> HttpResponse:
    """Remove a channel setting."""
    scope, config = _config(request, config_id)
    services.channel_config_delete(actor=page_user(request), scope=scope, config=config)
    messages.success(request, _("The channel was removed."))
    return redirect("notifications:channels")


@login_required
@require_POST
def channel_test(request: HttpRequest, config_id: int) -> HttpResponse:
    """Queue a test message on a channel."""
    scope, config = _config(request, config_id)
    services.channel_test(actor=page_user(request), scope=scope, config=config)
    messages.success(
        request, _("A test message was queued; see the delivery report in a few seconds.")
    )
    return redirect("notifications:channels")


@login_required
def delivery_report(request: HttpRequest) -> HttpResponse:
    """Recent deliveries of the community with status, attempts and last error."""
    scope = page_scope(request)
    community = _community(request, scope)
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    status = status if status in DeliveryStatus.values else ""
    channel = channel if channel in Channel.values else ""
    page, query = paginate(
        request, selectors.deliveries_of(scope, community.pk, status=status, channel=channel)
    )
    return render(
        request,
        "notifications/deliveries.html",
        {
            "community": community,
            "page": page,
            "query": query,
            "status": status,
            "channel": channel,
            "statuses": DeliveryStatus.choices,
            "channels": Channel.choices,
        },
    )
