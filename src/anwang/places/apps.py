from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    """Regions, communities, grids, buildings, units, households and zones."""

    name = "anwang.places"
    label = "places"
    verbose_name = _("Places")
