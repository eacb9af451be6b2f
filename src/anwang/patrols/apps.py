from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from anwang.accounts.selectors import Scope
    from anwang.core.inbox import WorkItem


def _patrol_in_progress(scope: Scope) -> list[WorkItem]:
    """The caller's patrol run in progress, to be continued."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from anwang.core.inbox import WorkItem
    from anwang.patrols.selectors import current_run

    run = current_run(scope)
    if run is None:
        return []
    return [
        WorkItem(
            source="patrol_runs",
            title=gettext("Patrol in progress: %(route)s") % {"route": run.route_name},
            url=reverse("patrols:run_go", args=[run.pk]),
            community_id=run.community_id,
            priority=2,
        )
    ]


class PatrolsConfig(AppConfig):
    """Patrol routes and checkpoints with signed QR codes; patrol runs with check-ins."""

    name = "anwang.patrols"
    label = "patrols"
    verbose_name = _("Patrols")

    def ready(self) -> None:
        """Register the menu entries of the patrols domain and the guard's run in progress as
        work in the 'my work' inbox."""
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "patrols",
                _("Patrols"),
                "patrols:checkpoint_list",
                permission=Permission.VIEW_PATROLS,
                order=65,
            )
        )
        register_nav(
            NavEntry(
                "patrol_runs",
                _("Patrol runs"),
                "patrols:run_list",
                permission=Permission.VIEW_PATROLS,
                order=66,
            )
        )
        register_nav(
            NavEntry(
                "patrol_shifts",
                _("My shifts"),
                "patrols:my_shifts",
                permission=Permission.RUN_PATROLS,
                order=67,
            )
        )
        from anwang.core.inbox import register_work_source

        register_work_source("patrol_runs", _("Patrols"), _patrol_in_progress)
