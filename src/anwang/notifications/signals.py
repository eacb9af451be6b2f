"""Signals of the notifications domain, for the domains whose messages ask for a reply."""

from django.dispatch import Signal

message_confirmed = Signal()
"""Sent inside the transaction when a person confirms a message in the inbox, with
``notification``, ``user`` and ``now``."""
