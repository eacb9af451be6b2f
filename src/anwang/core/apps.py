from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Cross-cutting pieces: base models, request context, registries, the 'my work' inbox."""

    name = "anwang.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from anwang.accounts.choices import Permission
        from anwang.core.navigation import NavEntry, register_nav

        register_nav(
            NavEntry(
                "dashboard",
                _("Dashboard"),
                "core:dashboard",
                permission=Permission.VIEW_DASHBOARD,
                order=10,
            )
        )
        register_nav(NavEntry("my_work", _("My work"), "core:my_work", order=20))
