from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    """Facilities and emergency supplies (物防): the asset register, labels, stock, expiry."""

    name = "anwang.facilities"
    label = "facilities"
    verbose_name = _("Facilities")

    def ready(self) -> None:
        """Register the menu entry, dashboard figures and 'my work' items of facilities."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.facilities.selectors import facilities_stats, facilities_work

        register_nav(
            NavEntry(
                "facilities",
                _("Facilities"),
                "facilities:list",
                permission=Permission.VIEW_FACILITIES,
                order=76,
            )
        )
        register_stats(facilities_stats)
        register_work_source("facilities", _("Facilities and supplies"), facilities_work)
