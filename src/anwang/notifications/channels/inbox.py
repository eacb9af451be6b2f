"""The in-app inbox: a message is in the person's inbox as soon as its row commits, so the
delivery is marked sent by :func:`anwang.notifications.services.notify` and this backend only
answers "sent" if the sender ever meets an inbox delivery."""

from __future__ import annotations

from anwang.notifications.channels.base import (
    ChannelSettings,
    OutgoingMessage,
    SendOutcome,
    register_backend,
)
from anwang.notifications.choices import Channel


class InboxBackend:
    """The web inbox (with unread counts); nothing to send."""

    channel = Channel.INBOX.value

    def send(self, message: OutgoingMessage, settings: ChannelSettings) -> SendOutcome:
        """Already there: the inbox is the database."""
        return SendOutcome(status="sent")


register_backend(InboxBackend())
