"""Forms of the points pages; they only convert input, the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User


class ReasonForm(forms.Form):
    """Why an entry is reversed."""

    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AdjustForm(forms.Form):
    """A manual adjustment of one person's points."""

    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    points = forms.IntegerField(
        label=_("Points"), help_text=_("Positive to add, negative to take away.")
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


class RuleForm(forms.Form):
    """One source's rule (one form per source, told apart by its prefix)."""

    points_per_unit = forms.IntegerField(label=_("Points per unit"), min_value=0)
    daily_cap = forms.IntegerField(label=_("Daily cap per person"), min_value=0, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)
