from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    """Facilities and emergency supplies (物防): the asset register, labels, stock, expiry."""

    name = "anwang.facilities"
    label = "facilities"
    verbose_name = _("Facilities")
