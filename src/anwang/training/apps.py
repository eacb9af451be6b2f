from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    """Courses, sessions, attendance, certificates and drills."""

    name = "anwang.training"
    label = "training"
    verbose_name = _("Training")

    def ready(self) -> None:
        """Register the menu entries, dashboard figures and 'my work' items of training."""
        from anwang.accounts.choices import Permission
        from anwang.core.dashboard import register_stats
        from anwang.core.inbox import register_work_source
        from anwang.core.navigation import NavEntry, register_nav
        from anwang.training.selectors import certificate_work_items, training_stats

        register_nav(
            NavEntry(
                "training",
                _("Training"),
                "training:course_list",
                permission=Permission.VIEW_TRAINING,
                order=72,
            )
        )
        # Everyone signed in has their own training page; managers reach it from the subnav.
        register_nav(
            NavEntry(
                "my_training",
                _("My training"),
                "training:my_training",
                visible=lambda scope: (
                    scope.is_authenticated and not scope.has_anywhere(Permission.VIEW_TRAINING)
                ),
                order=73,
            )
        )
        register_stats(training_stats)
        register_work_source("training", _("Certificates to renew"), certificate_work_items)
