"""The checklists every new community starts with, one per common asset type.

Each item names the hazard category a failure is reported under, so a blocked fire exit found
on an inspection lands in the hazards list as 'fire exit blocked', as if a resident reported it.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from anwang.facilities.choices import AssetType
from anwang.hazards.choices import HazardCategory as H

_FIRE = H.FIRE_EQUIPMENT

DEFAULT_CHECKLISTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    AssetType.FIRE_EXTINGUISHER: (
        gettext_noop("Fire extinguisher check"),
        [
            (gettext_noop("Pressure gauge in the green"), _FIRE),
            (gettext_noop("Safety pin and seal intact"), _FIRE),
            (gettext_noop("No damage, rust or leaks"), _FIRE),
            (gettext_noop("In its place and easy to reach"), H.FIRE_EXIT_BLOCKED),
            (gettext_noop("Label and instructions legible"), _FIRE),
        ],
    ),
    AssetType.FIRE_DOOR: (
        gettext_noop("Fire exit check"),
        [
            (gettext_noop("Exit and escape route not blocked"), H.FIRE_EXIT_BLOCKED),
            (gettext_noop("Door closes and latches by itself"), H.BROKEN_DOOR_OR_LOCK),
            (gettext_noop("Exit sign lit"), H.BROKEN_LIGHT),
        ],
    ),
    AssetType.AED: (
        gettext_noop("AED check"),
        [
            (gettext_noop("Status light shows ready"), _FIRE),
            (gettext_noop("Pads and battery not expired"), _FIRE),
            (gettext_noop("Cabinet accessible and signposted"), _FIRE),
        ],
    ),
    AssetType.HYDRANT: (
        gettext_noop("Fire hydrant check"),
        [
            (gettext_noop("Nothing parked or piled in front"), H.FIRE_EXIT_BLOCKED),
            (gettext_noop("Hose, nozzle and valve present and undamaged"), _FIRE),
            (gettext_noop("Water pressure present"), _FIRE),
        ],
    ),
    AssetType.EMERGENCY_SUPPLY: (
        gettext_noop("Emergency supplies check"),
        [
            (gettext_noop("Quantity at least the minimum stock"), H.OTHER),
            (gettext_noop("Nothing expired"), H.OTHER),
            (gettext_noop("Stored dry and accessible"), H.OTHER),
        ],
    ),
}
