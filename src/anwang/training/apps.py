from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    """Courses, sessions, attendance, certificates and drills."""

    name = "anwang.training"
    label = "training"
    verbose_name = _("Training")
