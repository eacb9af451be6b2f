from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    """Residents, household membership, emergency contacts and personal-data protection."""

    name = "anwang.people"
    label = "people"
    verbose_name = _("People")
