"""Constants of the notifications domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """A way a message reaches a person or a system; each is one module behind
    :class:`anwang.notifications.channels.base.ChannelBackend`."""

    INBOX = "inbox", _("In-app inbox")
    WEB_PUSH = "web_push", _("Browser push")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    FEISHU = "feishu", _("Feishu group robot")
    WECHAT = "wechat", _("WeChat Official Account")
    WEBHOOK = "webhook", _("Webhook")


PERSONAL_CHANNELS = frozenset(
    {Channel.INBOX, Channel.WEB_PUSH, Channel.EMAIL, Channel.SMS, Channel.VOICE, Channel.WECHAT}
)
"""Channels that reach one person at their own address; the others post to a group or a
system configured for the community (:class:`ChannelConfig`)."""


class DeliveryStatus(models.TextChoices):
    """Where one message to one recipient on one channel stands."""

    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    CONFIRMED = "confirmed", _("Confirmed")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")
