"""Forms of the training pages. They only convert what was typed into typed values; every rule
lives in :mod:`anwang.training.services`, whose errors the views attach to the field they
concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from anwang.accounts.choices import Role
from anwang.accounts.models import User
from anwang.places.models import Zone
from anwang.training.choices import CourseTopic, DrillKind, DrillStatus, FindingSeverity
from anwang.training.models import Course

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# Drill timings are compared in seconds (alarm to evacuation complete), so they take seconds.
SECONDS_WIDGET = forms.DateTimeInput(
    attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
)
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
RESULT_CHOICES = [("", _("Not assessed")), ("yes", _("Passed")), ("no", _("Failed"))]


def result_value(text: str) -> bool | None:
    """The ``passed`` value of a result choice."""
    return {"yes": True, "no": False}.get(text)


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A person, shown with display name and user name."""

    def label_from_instance(self, obj: Any) -> str:
        """Display name and user name."""
        return f"{obj.display_name or obj.username} ({obj.username})"


class PeopleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Several people, shown with display name and user name."""

    def label_from_instance(self, obj: Any) -> str:
        """Display name and user name."""
        return f"{obj.display_name or obj.username} ({obj.username})"


class CourseForm(forms.Form):
    """A course of a community."""

    title = forms.CharField(label=_("Title"), max_length=120)
    topic = forms.ChoiceField(label=_("Topic"), choices=CourseTopic.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, initial=60)
    validity_months = forms.IntegerField(
        label=_("Certificate valid for (months)"),
        min_value=1,
        required=False,
        help_text=_("Leave empty when the certificate never expires."),
    )
    required_for_roles = forms.MultipleChoiceField(
        label=_("Required for"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("People holding these roles must have a current certificate of this course."),
    )
    is_active = forms.BooleanField(label=_("Still run"), required=False, initial=True)


class SessionForm(forms.Form):
    """A session of a course."""

    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none())
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DATETIME_WIDGET)
    zone = forms.ModelChoiceField(
        label=_("Zone"), queryset=Zone.objects.none(), required=False, empty_label="—"
    )
    place = forms.CharField(
        label=_("Place"),
        max_length=200,
        required=False,
        help_text=_("Where it is held, e.g. the community hall, 2nd floor."),
    )
    trainer_name = forms.CharField(label=_("Trainer"), max_length=100, required=False)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        courses: QuerySet[Course],
        zones: QuerySet[Zone],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        course_field = self.fields["course"]
        assert isinstance(course_field, forms.ModelChoiceField)
        course_field.queryset = courses
        zone_field = self.fields["zone"]
        assert isinstance(zone_field, forms.ModelChoiceField)
        zone_field.queryset = zones
        if editing:  # a session's course cannot change: its attendance is for that course
            del self.fields["course"]


class AttendanceForm(forms.Form):
    """Marking a person present by hand."""

    user = PersonChoiceField(label=_("Person"), queryset=User.objects.none())
    passed = forms.ChoiceField(label=_("Result"), choices=RESULT_CHOICES, required=False)

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


class CertificateForm(forms.Form):
    """A certificate issued by hand."""

    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none())
    user = PersonChoiceField(label=_("Person"), queryset=User.objects.none())
    issued_on = forms.DateField(label=_("Issued on"), widget=DATE_WIDGET)
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("E.g. where the training was done."),
    )

    def __init__(
        self, *args: Any, courses: QuerySet[Course], people: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        course_field = self.fields["course"]
        assert isinstance(course_field, forms.ModelChoiceField)
        course_field.queryset = courses
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = people


class DrillForm(forms.Form):
    """A drill, its key times and who took part."""

    kind = forms.ChoiceField(label=_("Kind"), choices=DrillKind.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    zone = forms.ModelChoiceField(
        label=_("Zone"), queryset=Zone.objects.none(), required=False, empty_label="—"
    )
    planned_at = forms.DateTimeField(label=_("Planned for"), widget=DATETIME_WIDGET)
    status = forms.ChoiceField(label=_("Status"), choices=DrillStatus.choices)
    started_at = forms.DateTimeField(label=_("Started at"), widget=SECONDS_WIDGET, required=False)
    alarm_raised_at = forms.DateTimeField(
        label=_("Alarm raised at"), widget=SECONDS_WIDGET, required=False
    )
    evacuation_complete_at = forms.DateTimeField(
        label=_("Evacuation complete at"), widget=SECONDS_WIDGET, required=False
    )
    headcount_done_at = forms.DateTimeField(
        label=_("Headcount done at"), widget=SECONDS_WIDGET, required=False
    )
    ended_at = forms.DateTimeField(label=_("Ended at"), widget=SECONDS_WIDGET, required=False)
    resident_count = forms.IntegerField(
        label=_("Residents taking part"), min_value=0, initial=0, required=False
    )
    participants = PeopleChoiceField(
        label=_("Staff and volunteers taking part"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(
        self, *args: Any, zones: QuerySet[Zone], people: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        zone_field = self.fields["zone"]
        assert isinstance(zone_field, forms.ModelChoiceField)
        zone_field.queryset = zones
        people_field = self.fields["participants"]
        assert isinstance(people_field, forms.ModelMultipleChoiceField)
        people_field.queryset = people


class FindingForm(forms.Form):
    """A drill finding."""

    text = forms.CharField(label=_("Finding"), widget=forms.Textarea(attrs={"rows": 3}))
    severity = forms.ChoiceField(
        label=_("Severity"), choices=FindingSeverity.choices, initial=FindingSeverity.MEDIUM
    )
    owner = PersonChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DATE_WIDGET, required=False)
    closed = forms.BooleanField(label=_("Closed"), required=False)

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people
