"""The built-in alert templates: what a community most often has to tell its residents, with
the CAP codes that fit and a text to adapt. The texts are translated, so a template fills the
form in the writer's language."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from anwang.alerts.choices import Category, Certainty, Confirmation, ResponseType, Severity, Urgency


@dataclass(frozen=True)
class AlertTemplate:
    """A starting point for an alert."""

    key: str
    label: str | Promise
    event: str | Promise
    category: str
    severity: str
    urgency: str
    certainty: str
    response_type: str
    headline: str | Promise
    description: str | Promise
    instruction: str | Promise
    confirmation: str = Confirmation.NONE
    valid_hours: int = 24


ALERT_TEMPLATES: tuple[AlertTemplate, ...] = (
    AlertTemplate(
        key="telecom_fraud",
        label=_("Telecom fraud"),
        event=_("Telecom fraud"),
        category=Category.SECURITY,
        severity=Severity.MODERATE,
        urgency=Urgency.EXPECTED,
        certainty=Certainty.LIKELY,
        response_type=ResponseType.AVOID,
        headline=_("Beware of phone and online fraud"),
        description=_(
            "Callers pretending to be police, banks, couriers or customer service are asking"
            " residents to transfer money to a 'safe account' or to share verification codes."
        ),
        instruction=_(
            "Never transfer money or give a verification code to a caller. Hang up and call"
            " 110 or the anti-fraud hotline 96110 if in doubt. Tell elderly family members."
        ),
        confirmation=Confirmation.SEEN,
        valid_hours=72,
    ),
    AlertTemplate(
        key="burglary",
        label=_("Burglary"),
        event=_("Burglary"),
        category=Category.SECURITY,
        severity=Severity.MODERATE,
        urgency=Urgency.EXPECTED,
        certainty=Certainty.LIKELY,
        response_type=ResponseType.PREPARE,
        headline=_("Burglaries reported nearby"),
        description=_(
            "Break-ins have been reported in the area. Thieves try doors and windows on low"
            " floors and follow residents through unit doors."
        ),
        instruction=_(
            "Lock doors and windows, do not let strangers follow you in, and report anyone"
            " suspicious to the security office."
        ),
        valid_hours=72,
    ),
    AlertTemplate(
        key="fire",
        label=_("Fire"),
        event=_("Fire"),
        category=Category.FIRE,
        severity=Severity.EXTREME,
        urgency=Urgency.IMMEDIATE,
        certainty=Certainty.OBSERVED,
        response_type=ResponseType.EVACUATE,
        headline=_("Fire: leave the building now"),
        description=_("A fire has been reported. Follow the instructions of the staff on site."),
        instruction=_(
            "Leave by the stairs, never the lift; cover your nose and mouth; go to the"
            " assembly point. Do not go back for belongings."
        ),
        confirmation=Confirmation.SAFE,
        valid_hours=6,
    ),
    AlertTemplate(
        key="typhoon",
        label=_("Typhoon"),
        event=_("Typhoon"),
        category=Category.MET,
        severity=Severity.SEVERE,
        urgency=Urgency.EXPECTED,
        certainty=Certainty.LIKELY,
        response_type=ResponseType.SHELTER,
        headline=_("Typhoon warning: stay indoors"),
        description=_("A typhoon is expected to bring strong winds and heavy rain to the area."),
        instruction=_(
            "Bring in flower pots and anything on balconies, close windows, stay indoors and"
            " keep away from trees and billboards. Call the duty phone if you need help."
        ),
        confirmation=Confirmation.SAFE,
        valid_hours=48,
    ),
    AlertTemplate(
        key="rainstorm",
        label=_("Rainstorm"),
        event=_("Rainstorm"),
        category=Category.MET,
        severity=Severity.SEVERE,
        urgency=Urgency.EXPECTED,
        certainty=Certainty.LIKELY,
        response_type=ResponseType.PREPARE,
        headline=_("Rainstorm warning: beware of flooding"),
        description=_("Heavy rain is expected; underground garages and low roads may flood."),
        instruction=_(
            "Move cars out of the underground garage, keep away from flooded roads, manholes"
            " and power lines, and stay indoors."
        ),
        valid_hours=24,
    ),
    AlertTemplate(
        key="missing_person",
        label=_("Missing person"),
        event=_("Missing person"),
        category=Category.RESCUE,
        severity=Severity.SEVERE,
        urgency=Urgency.IMMEDIATE,
        certainty=Certainty.OBSERVED,
        response_type=ResponseType.MONITOR,
        headline=_("Missing person: have you seen them?"),
        description=_("Describe the person: age, height, clothes, and where they were last seen."),
        instruction=_("If you see them, stay with them and call the community duty phone or 110."),
        confirmation=Confirmation.SEEN,
        valid_hours=24,
    ),
    AlertTemplate(
        key="epidemic",
        label=_("Epidemic"),
        event=_("Epidemic"),
        category=Category.HEALTH,
        severity=Severity.MODERATE,
        urgency=Urgency.EXPECTED,
        certainty=Certainty.LIKELY,
        response_type=ResponseType.PREPARE,
        headline=_("Health notice: infection is spreading"),
        description=_("Cases of an infectious disease have been reported in the area."),
        instruction=_(
            "Wear a mask in crowded places, wash hands often, and see a doctor if you have a"
            " fever. Elderly residents who need medicine delivered can call the duty phone."
        ),
        valid_hours=168,
    ),
)
"""The built-in templates, in the order the compose page offers them."""

TEMPLATES_BY_KEY: dict[str, AlertTemplate] = {
    template.key: template for template in ALERT_TEMPLATES
}
