"""Signals of access control, for the domains that rely on a resident's consent."""

from django.dispatch import Signal

consent_withdrawn = Signal()
"""Sent inside the transaction when a consent is withdrawn, with ``consent``, ``actor`` and
``now`` (welfare checks end the resident's enrolment on it)."""
