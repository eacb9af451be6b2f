"""Form of the responsibilities pages. It only shapes the input (one choice for the area and
one per side, each a person or a duty role); :mod:`anwang.responsibilities.services` checks
it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anwang.accounts.models import User
from anwang.facilities.choices import AssetType
from anwang.places.models import Building, Community, Zone
from anwang.responsibilities import selectors
from anwang.responsibilities.choices import AreaKind
from anwang.responsibilities.models import Responsibility
from anwang.rosters.choices import DutyRole

Choices = list[tuple[Any, Any]]


def area_value(item: Responsibility) -> str:
    """The area choice of an existing responsibility (``zone:3``, ``building:5``,
    ``asset_type:aed``)."""
    if item.area_kind == AreaKind.ZONE:
        return f"zone:{item.zone_id}"
    if item.area_kind == AreaKind.BUILDING:
        return f"building:{item.building_id}"
    return f"asset_type:{item.asset_type}"


def side_value(person_id: int | None, duty_role: str) -> str:
    """The choice of one side: ``person:12``, ``role:guard`` or empty."""
    if person_id is not None:
        return f"person:{person_id}"
    return f"role:{duty_role}" if duty_role else ""


class ResponsibilityForm(forms.Form):
    """Who answers for one area of the community, and who stands in."""

    area = forms.ChoiceField(label=_("Area"))
    responsible = forms.ChoiceField(
        label=_("Responsible"),
        help_text=_("A named person, or whoever is on duty in a duty role at the time."),
    )
    deputy = forms.ChoiceField(label=_("Deputy"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        self._zones = {
            str(zone.pk): zone
            for zone in Zone.objects.filter(community=community).order_by("name", "id")
        }
        self._buildings = {
            str(building.pk): building
            for building in Building.objects.filter(community=community).order_by("number", "id")
        }
        self._people = {str(user.pk): user for user in selectors.people_choices(community.pk)}
        area: Choices = [("", "—")]
        if self._zones:
            area.append(
                (_("Zones"), [(f"zone:{pk}", str(zone)) for pk, zone in self._zones.items()])
            )
        if self._buildings:
            area.append(
                (
                    _("Buildings"),
                    [(f"building:{pk}", str(item)) for pk, item in self._buildings.items()],
                )
            )
        area.append(
            (
                _("Asset categories"),
                [(f"asset_type:{value}", label) for value, label in AssetType.choices],
            )
        )
        self._choose("area", area)
        sides: Choices = [
            (
                _("Duty role (whoever is on duty)"),
                [(f"role:{value}", label) for value, label in DutyRole.choices],
            ),
            (_("People"), [(f"person:{pk}", str(user)) for pk, user in self._people.items()]),
        ]
        self._choose("responsible", [("", "—"), *sides])
        self._choose("deputy", [("", _("No deputy")), *sides])

    def _choose(self, name: str, choices: Choices) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def _side(self, value: str) -> tuple[User | None, str]:
        kind, _sep, key = value.partition(":")
        if kind == "person":
            return self._people.get(key), ""
        if kind == "role":
            return None, key
        return None, ""

    def values(self) -> dict[str, Any]:
        """The cleaned data as the responsibility services take it."""
        data = self.cleaned_data
        kind, _sep, key = data["area"].partition(":")
        responsible_person, responsible_role = self._side(data["responsible"])
        deputy_person, deputy_role = self._side(data.get("deputy") or "")
        return {
            "area_kind": kind,
            "zone": self._zones.get(key) if kind == AreaKind.ZONE else None,
            "building": self._buildings.get(key) if kind == AreaKind.BUILDING else None,
            "asset_type": key if kind == AreaKind.ASSET_TYPE else "",
            "responsible_person": responsible_person,
            "responsible_role": responsible_role,
            "deputy_person": deputy_person,
            "deputy_role": deputy_role,
            "note": data.get("note", ""),
        }
