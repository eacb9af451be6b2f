"""Forms of the alarms pages. They only convert what was typed into typed values; every rule
(who may be dispatched, which step the alarm's state allows, limits) lives in
:mod:`anwang.alarms.services`, whose errors the views show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.patrols.selectors import Whereabouts


class NoteForm(forms.Form):
    """An optional note with a lifecycle step."""

    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RequiredNoteForm(forms.Form):
    """A note for the alarm's history."""

    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))


if TYPE_CHECKING:
    _UserChoiceField = forms.ModelChoiceField[User]
else:  # not subscriptable at run time
    _UserChoiceField = forms.ModelChoiceField


class PersonChoiceField(_UserChoiceField):
    """A person to dispatch, labelled with where the patrols app last saw them."""

    whereabouts: Mapping[int, Whereabouts] = {}
    on_duty_until: Mapping[int, dt.datetime] = {}

    def label_from_instance(self, obj: User) -> str:
        """The person's name, duty, route on patrol and last check-in."""
        return dispatch_label(obj, self.whereabouts.get(obj.pk), self.on_duty_until.get(obj.pk))


class DispatchForm(forms.Form):
    """Whom to send to the alarm."""

    assignee = PersonChoiceField(label=_("Send"), queryset=User.objects.none(), empty_label="—")
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(
        self,
        *args: Any,
        people: QuerySet[User],
        whereabouts: Mapping[int, Whereabouts] | None = None,
        on_duty_until: Mapping[int, dt.datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, PersonChoiceField)
        field.queryset = people
        field.whereabouts = whereabouts or {}
        field.on_duty_until = on_duty_until or {}


def dispatch_label(
    person: User, whereabouts: Whereabouts | None, on_duty_until: dt.datetime | None = None
) -> str:
    """A person to dispatch: whether they are on duty (and until when), and where the patrols
    app last saw them: the route they are patrolling and their last check-in."""
    parts = [str(person)]
    if on_duty_until is not None:
        until = formats.time_format(timezone.localtime(on_duty_until), "H:i")
        parts.append(gettext("on duty until %(time)s") % {"time": until})
    if whereabouts is not None and whereabouts.on_route:
        parts.append(gettext("on patrol: %(route)s") % {"route": whereabouts.on_route})
    if whereabouts is not None and whereabouts.last_check_in_at is not None:
        at = formats.time_format(timezone.localtime(whereabouts.last_check_in_at), "H:i")
        if timezone.localdate(whereabouts.last_check_in_at) != timezone.localdate():
            at = formats.date_format(
                timezone.localtime(whereabouts.last_check_in_at), "SHORT_DATETIME_FORMAT"
            )
        parts.append(
            gettext("last check-in %(at)s at %(checkpoint)s")
            % {"at": at, "checkpoint": whereabouts.last_checkpoint or "—"}
        )
    return " · ".join(parts)


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
