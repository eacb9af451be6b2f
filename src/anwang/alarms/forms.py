"""Forms of the alarms pages. They only convert what was typed into typed values; every rule
(who may be dispatched, which step the alarm's state allows, limits) lives in
:mod:`anwang.alarms.services`, whose errors the views show."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User


class NoteForm(forms.Form):
    """An optional note with a lifecycle step."""

    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RequiredNoteForm(forms.Form):
    """A note for the alarm's history."""

    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(forms.Form):
    """Whom to send to the alarm."""

    assignee = forms.ModelChoiceField(
        label=_("Send"), queryset=User.objects.none(), empty_label="—"
    )
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


class FalseAlarmForm(forms.Form):
    """Why the alarm was false."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required: it is how noisy devices and rules are found."),
    )


class PhotoForm(forms.Form):
    """A photo to attach."""

    image = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG, PNG or WebP, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class ResponseTimeForm(forms.Form):
    """The response time of one priority (prefixed with it on the settings page)."""

    acknowledge_seconds = forms.IntegerField(label=_("Acknowledge within (seconds)"), min_value=1)
    on_scene_seconds = forms.IntegerField(label=_("On scene within (seconds)"), min_value=1)
    raise_priority = forms.BooleanField(label=_("Raise the priority on a breach"), required=False)
