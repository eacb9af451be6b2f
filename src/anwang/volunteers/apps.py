from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    """Volunteers, teams, shifts and service hours."""

    name = "anwang.volunteers"
    label = "volunteers"
    verbose_name = _("Volunteers")
