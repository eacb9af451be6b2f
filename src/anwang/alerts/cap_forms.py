"""Forms of the CAP pages (received alerts, relaying, upstream feeds). They only turn what was
typed into values; the rules live in :mod:`anwang.alerts.cap_in`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.alerts.cap_in import POLL_MINUTES_MAX, POLL_MINUTES_MIN
from anwang.alerts.choices import Confirmation, IncomingState
from anwang.alerts.selectors import ALERT_CHANNELS
from anwang.notifications.choices import Channel
from anwang.places.models import Community


def _community_choices(communities: Iterable[Community]) -> list[tuple[int, str]]:
    return [(community.pk, community.name) for community in communities]


class IncomingFilterForm(forms.Form):
    """Filters of the received alerts list."""

    community = forms.TypedChoiceField(
        label=_("Community"), coerce=int, required=False, empty_value=None
    )
    state = forms.ChoiceField(label=_("State"), required=False)

    def __init__(self, *args: Any, communities: Iterable[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("All")), *_community_choices(communities)]  # type: ignore[attr-defined]
        self.fields["state"].choices = [("", _("All")), *IncomingState.choices]  # type: ignore[attr-defined]


class RelayForm(forms.Form):
    """Relay a received alert to every household of the community."""

    channels = forms.MultipleChoiceField(
        label=_("Also send by"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every household's accounts get it in their inbox in any case."),
    )
    confirmation = forms.ChoiceField(
        label=_("Ask residents"),
        choices=Confirmation.choices,
        initial=Confirmation.NONE,
        widget=forms.RadioSelect,
    )
    publish = forms.BooleanField(
        label=_("Send at once"),
        required=False,
        initial=True,
        help_text=_("Untick to keep it as a draft to check and send from its page."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [  # type: ignore[attr-defined]
            (channel, Channel(channel).label) for channel in ALERT_CHANNELS
        ]


class FeedForm(forms.Form):
    """Add or change an upstream CAP feed."""

    community = forms.TypedChoiceField(label=_("Community"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        widget=forms.URLInput,
        help_text=_("A CAP 1.2 document, or an Atom or RSS feed whose entries link to them."),
    )
    poll_minutes = forms.IntegerField(
        label=_("Fetch every (minutes)"),
        min_value=POLL_MINUTES_MIN,
        max_value=POLL_MINUTES_MAX,
        initial=5,
    )
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        communities: Iterable[Community],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = _community_choices(communities)
        self.fields["community"].choices = choices  # type: ignore[attr-defined]
        if editing:
            # A feed stays with its community.
            del self.fields["community"]
        elif len(choices) == 1:
            self.fields["community"].widget = forms.HiddenInput()
            self.fields["community"].initial = choices[0][0]
