"""Signal receivers of access control (connected in ``AccessConfig.ready``).

Erasing a resident in the people app deletes the record; their credentials, consents and
watch-list entries cascade, but access records only lose the link (``SET_NULL``) and would
stay as anonymous rows that still carry the blind index of the person's card or plate. This
receiver deletes them first."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from anwang.access.retention import erase_access_events_of
from anwang.people.models import Resident


@receiver(pre_delete, sender=Resident, dispatch_uid="access.erase_resident_access_events")
def erase_resident_access_events(sender: type[Resident], instance: Resident, **kwargs: Any) -> None:
    """Delete the access records of a resident who is being erased."""
    erase_access_events_of(instance)
