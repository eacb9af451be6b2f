"""Which role may do what. One table, read by the scope in :mod:`anwang.accounts.selectors`."""

from __future__ import annotations

from anwang.accounts.choices import Permission as P  # noqa: N817 - keeps the table readable
from anwang.accounts.choices import Role

ROLE_PERMISSIONS: dict[Role, frozenset[P]] = {
    Role.SUPERVISOR: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_PLACES,
            P.VIEW_RESIDENTS,
            P.VIEW_DEVICES,
            P.VIEW_ALARMS,
            P.VIEW_PATROLS,
            P.MANAGE_PATROLS,
            P.VIEW_PATROL_RUNS,
            P.VIEW_HAZARDS,
            P.VIEW_ROSTERS,
            P.MANAGE_ROSTERS,
            P.VIEW_FACILITIES,
            P.MANAGE_FACILITIES,
            P.INSPECT_FACILITIES,
            P.VIEW_VOLUNTEERS,
            P.VIEW_TRAINING,
            P.VIEW_RESPONSIBILITIES,
            P.MANAGE_RESPONSIBILITIES,
            P.VIEW_PLANS,
            P.MANAGE_PLANS,
            P.VIEW_INCIDENTS,
            P.VIEW_ALERTS,
            P.PUBLISH_ALERTS,
            P.VIEW_WELFARE,
        }
    ),
    Role.COMMUNITY_ADMIN: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_PLACES,
            P.MANAGE_PLACES,
            P.VIEW_RESIDENTS,
            P.MANAGE_RESIDENTS,
            P.REVEAL_PERSONAL_DATA,
            P.APPROVE_BINDINGS,
            P.MANAGE_STAFF,
            P.VIEW_DEVICES,
            P.MANAGE_DEVICES,
            P.VIEW_ALARMS,
            P.HANDLE_ALARMS,
            P.MANAGE_RULES,
            P.VIEW_PATROLS,
            P.MANAGE_PATROLS,
            P.VIEW_PATROL_RUNS,
            P.VIEW_HAZARDS,
            P.VIEW_ROSTERS,
            P.MANAGE_ROSTERS,
            P.VIEW_FACILITIES,
            P.MANAGE_FACILITIES,
            P.INSPECT_FACILITIES,
            P.MANAGE_HAZARDS,
            P.VIEW_VOLUNTEERS,
            P.MANAGE_VOLUNTEERS,
            P.VIEW_TRAINING,
            P.MANAGE_TRAINING,
            P.VIEW_RESPONSIBILITIES,
            P.MANAGE_RESPONSIBILITIES,
            P.VIEW_PLANS,
            P.MANAGE_PLANS,
            P.APPROVE_PLANS,
            P.MANAGE_CHANNELS,
            P.VIEW_INCIDENTS,
            P.MANAGE_INCIDENTS,
            P.VIEW_ALERTS,
            P.PUBLISH_ALERTS,
            P.VIEW_ACCESS,
            P.MANAGE_ACCESS,
            P.CHECK_PASSES,
            P.VIEW_WELFARE,
            P.MANAGE_WELFARE,
        }
    ),
    Role.OPERATOR: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_PLACES,
            P.VIEW_RESIDENTS,
            P.VIEW_DEVICES,
            P.VIEW_ALARMS,
            P.HANDLE_ALARMS,
            P.VIEW_PATROLS,
            P.VIEW_PATROL_RUNS,
            P.VIEW_HAZARDS,
            P.VIEW_ROSTERS,
            P.VIEW_FACILITIES,
            P.VIEW_RESPONSIBILITIES,
            P.VIEW_PLANS,
            P.VIEW_INCIDENTS,
            P.MANAGE_INCIDENTS,
            P.VIEW_ALERTS,
            P.PUBLISH_ALERTS,
            P.VIEW_ACCESS,
            P.CHECK_PASSES,
        }
    ),
    Role.GUARD: frozenset(
        {
            P.CHECK_PASSES,
            P.VIEW_DASHBOARD,
            P.VIEW_PLACES,
            P.VIEW_DEVICES,
            P.VIEW_ALARMS,
            P.HANDLE_ALARMS,
            P.VIEW_PATROLS,
            P.RUN_PATROLS,
            P.VIEW_HAZARDS,
            P.VIEW_ROSTERS,
            P.VIEW_FACILITIES,
            P.INSPECT_FACILITIES,
            P.VIEW_RESPONSIBILITIES,
            P.VIEW_PLANS,
            P.VIEW_INCIDENTS,
        }
    ),
    Role.GRID_WORKER: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_PLACES,
            P.VIEW_RESIDENTS,
            P.MANAGE_RESIDENTS,
            P.REVEAL_PERSONAL_DATA,
            P.VIEW_VOLUNTEERS,
            P.VIEW_HAZARDS,
            P.VIEW_ROSTERS,
            P.VIEW_FACILITIES,
            P.INSPECT_FACILITIES,
            P.MANAGE_HAZARDS,
            P.VIEW_RESPONSIBILITIES,
            P.VIEW_PLANS,
            P.VIEW_INCIDENTS,
            P.VIEW_ALERTS,
            P.VIEW_WELFARE,
            P.MANAGE_WELFARE,
        }
    ),
    Role.VOLUNTEER: frozenset({P.VIEW_PLACES, P.VIEW_PATROLS, P.RUN_PATROLS}),
    Role.RESIDENT: frozenset(),
    Role.AUDITOR: frozenset({P.VIEW_DASHBOARD, P.VIEW_AUDIT}),
}

STAFF_ROLES: frozenset[Role] = frozenset(
    {
        Role.SUPERVISOR,
        Role.COMMUNITY_ADMIN,
        Role.OPERATOR,
        Role.GUARD,
        Role.GRID_WORKER,
        Role.AUDITOR,
    }
)
"""Roles that count as staff: two-factor login is offered to them."""


def permissions_of(role: str) -> frozenset[P]:
    """The permissions a role grants."""
    return ROLE_PERMISSIONS.get(Role(role), frozenset())


COMMUNITY_STAFF_ROLES: tuple[Role, ...] = (
    Role.COMMUNITY_ADMIN,
    Role.OPERATOR,
    Role.GUARD,
    Role.GRID_WORKER,
    Role.AUDITOR,
    Role.VOLUNTEER,
)
"""Roles a community admin grants on the staff page. Supervisors hold a region, which only the
platform admin assigns; residents join through a household binding."""
