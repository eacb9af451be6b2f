"""Signal receivers of the alerts domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.dispatch import receiver

from anwang.accounts.models import User
from anwang.notifications.models import Notification
from anwang.notifications.signals import message_confirmed


@receiver(message_confirmed, dispatch_uid="alerts.message_confirmed")
def alert_message_confirmed(
    sender: Any, *, notification: Notification, user: User, now: dt.datetime, **kwargs: Any
) -> None:
    """A confirmation in the inbox of an alert's message confirms the household."""
    from anwang.alerts.services import on_message_confirmed

    on_message_confirmed(notification, user, now)
