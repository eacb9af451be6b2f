from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    """Inspections (巡检) of facilities: plans, checklists per asset type, results on a phone."""

    name = "anwang.inspections"
    label = "inspections"
    verbose_name = _("Inspections")
