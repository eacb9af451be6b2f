"""Forms of the notifications pages: a person's preferences and a channel setting."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.notifications.choices import Channel


class PreferenceForm(forms.Form):
    """Channels, addresses and quiet hours of the person."""

    channels = forms.MultipleChoiceField(
        label=_("Channels"), widget=forms.CheckboxSelectMultiple, required=False
    )
    phone = forms.CharField(label=_("Mobile number for SMS and calls"), required=False)
    wechat_openid = forms.CharField(label=_("WeChat OpenID"), required=False, max_length=64)
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )

    def __init__(self, *args: Any, offered: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channels"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c, Channel(c).label) for c in offered]
        field.help_text = _("The in-app inbox always receives every message.")


class ChannelConfigForm(forms.Form):
    """A channel setting; the secret is write-only (left empty, the stored one stays)."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(c.value, c.label) for c in Channel if c != Channel.INBOX],
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    settings = forms.CharField(
        label=_("Settings (JSON)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_('Names and values, for example {"webhook_url": "https://..."}.'),
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted and never shown again; leave empty to keep the current one."),
    )
    kinds = forms.CharField(
        label=_("Kinds of message"),
        required=False,
        help_text=_("Comma-separated; empty carries every kind."),
    )
    max_priority = forms.IntegerField(
        label=_("Up to priority"), min_value=1, max_value=4, initial=4
    )
    rate_per_minute = forms.IntegerField(
        label=_("Most messages a minute"), min_value=1, max_value=10000, initial=60
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The channel of a setting never changes; a new setting is made instead.
            self.fields["channel"].disabled = True

    def clean_settings(self) -> dict[str, Any]:
        """The settings as a JSON object."""
        text = (self.cleaned_data.get("settings") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(_("Enter valid JSON.")) from error
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Enter a JSON object of names and values."))
        return value

    def clean_kinds(self) -> list[str]:
        """The kinds as a list."""
        text = self.cleaned_data.get("kinds") or ""
        return [part.strip() for part in text.split(",") if part.strip()]
