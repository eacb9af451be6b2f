from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    """Inspections (巡检) of facilities: plans, checklists per asset type, results on a phone."""

    name = "anwang.inspections"
    label = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        """Register the menu entry, dashboard figures and 'my work' items of inspections."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.inspections.selectors import inspection_stats, inspection_work_items

        register_nav(
            NavEntry(
                "inspections",
                _("Inspections"),
                "inspections:due",
                visible=lambda scope: (
                    scope.is_platform_admin
                    or scope.has_anywhere(Permission.VIEW_FACILITIES)
                    or scope.has_anywhere(Permission.INSPECT_FACILITIES)
                ),
                order=77,
            )
        )
        register_stats(inspection_stats)
        register_work_source("inspections", _("Inspections due"), inspection_work_items)
