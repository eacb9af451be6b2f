from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RostersConfig(AppConfig):
    """Duty rosters (值班排班): who is on duty when, by duty role, and who is on duty now."""

    name = "anwang.rosters"
    label = "rosters"
    verbose_name = _("Duty rosters")
