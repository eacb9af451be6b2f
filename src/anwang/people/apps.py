"""The people app: residents, households' members, bindings and personal-data protection."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    """Residents, household membership, emergency contacts and personal-data protection."""

    name = "anwang.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        """Register the menu entries, the 'my work' source and the dashboard figures."""
        from anwang.accounts.choices import Permission, Role
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.people.selectors import binding_work_items, people_counts

        register_nav(
            NavEntry(
                key="residents",
                label=_("Residents"),
                url_name="people:resident_list",
                icon="people",
                permission=Permission.VIEW_RESIDENTS,
                order=50,
            )
        )
        register_nav(
            NavEntry(
                key="bindings",
                label=_("Household bindings"),
                url_name="people:binding_list",
                icon="link",
                permission=Permission.APPROVE_BINDINGS,
                order=55,
            )
        )
        register_nav(
            NavEntry(
                key="my_household",
                label=_("My household"),
                url_name="people:my_household",
                icon="home",
                # Residents, and people with no role yet (who come here to ask for a binding).
                visible=lambda scope: (
                    Role.RESIDENT in scope.all_roles() or not scope.community_ids()
                ),
                order=15,
            )
        )
        register_work_source("bindings", _("Household bindings to approve"), binding_work_items)
        register_stats(people_counts)
