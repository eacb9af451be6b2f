from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HazardsConfig(AppConfig):
    """Hazard reports (隐患) from anyone, worked to closure; Open311 GeoReport v2."""

    name = "anwang.hazards"
    label = "hazards"
    verbose_name = _("Hazards")
