"""Signal receivers of welfare checks (connected in ``WelfareConfig.ready``).

Withdrawing a resident's welfare consent ends their enrolment (its open check is closed
without an outcome). Erasing a resident needs nothing here: the enrolment and its checks
cascade with the resident, and the consent they rest on cascades too."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.dispatch import receiver

from anwang.access.models import ConsentRecord
from anwang.access.signals import consent_withdrawn
from anwang.accounts.models import User


@receiver(consent_withdrawn, sender=ConsentRecord, dispatch_uid="welfare.end_on_consent_withdrawn")
def end_watch_on_consent_withdrawn(
    sender: type[ConsentRecord],
    consent: ConsentRecord,
    actor: User | None = None,
    now: dt.datetime | None = None,
    **kwargs: Any,
) -> None:
    """End the resident's welfare-check enrolment when their welfare consent is withdrawn."""
    from anwang.welfare.services import watch_end_for_withdrawn_consent

    watch_end_for_withdrawn_consent(consent=consent, actor=actor, now=now)
