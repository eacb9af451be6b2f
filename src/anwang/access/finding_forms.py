"""Forms of the anomaly-finding pages: the list's filters and the review. They only turn what
was typed into typed values; the rules (who may review, a note to dismiss) live in
:mod:`anwang.access.anomalies`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.access.choices import AnomalyDetector, FindingStatus
from anwang.access.forms import DATE
from anwang.places.models import Community


class FindingFilterForm(forms.Form):
    """Filters of the finding list."""

    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), required=False
    )
    detector = forms.ChoiceField(
        label=_("Detector"), choices=[("", "—"), *AnomalyDetector.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *FindingStatus.choices], required=False
    )
    date = forms.DateField(label=_("Date"), required=False, widget=DATE)

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["community"].queryset = communities
        if len(communities) < 2:
            del self.fields["community"]


class FindingReviewForm(forms.Form):
    """Confirm or dismiss a finding, with a note (needed to dismiss)."""

    status = forms.ChoiceField(
        label=_("Review"),
        choices=[
            (FindingStatus.CONFIRMED.value, _("Confirm: it was a real problem")),
            (FindingStatus.DISMISSED.value, _("Dismiss: it was not a problem")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to dismiss: say why it was not a problem."),
    )
