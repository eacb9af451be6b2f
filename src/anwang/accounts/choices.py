"""Constants of the accounts domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person does in a community (or, for a supervisor, a region)."""

    SUPERVISOR = "supervisor", _("Street-office supervisor")
    COMMUNITY_ADMIN = "community_admin", _("Community admin")
    OPERATOR = "operator", _("Operator")
    GUARD = "guard", _("Guard")
    GRID_WORKER = "grid_worker", _("Grid worker")
    VOLUNTEER = "volunteer", _("Volunteer")
    RESIDENT = "resident", _("Resident")
    AUDITOR = "auditor", _("Auditor")


class Permission(models.TextChoices):
    """Capabilities that roles grant. Checked in selectors and services, never in templates."""

    VIEW_PLACES = "view_places", _("View places and the map")
    MANAGE_PLACES = "manage_places", _("Edit places and zones")
    VIEW_RESIDENTS = "view_residents", _("View residents (masked)")
    MANAGE_RESIDENTS = "manage_residents", _("Edit and import residents")
    REVEAL_PERSONAL_DATA = "reveal_personal_data", _("Reveal full ID and phone numbers")
    APPROVE_BINDINGS = "approve_bindings", _("Approve residents' household bindings")
    MANAGE_STAFF = "manage_staff", _("Create staff accounts and memberships")
    VIEW_AUDIT = "view_audit", _("Read the audit log")
    VIEW_DASHBOARD = "view_dashboard", _("See the dashboard")
    VIEW_DEVICES = "view_devices", _("View devices")
    MANAGE_DEVICES = "manage_devices", _("Register and edit devices")
    VIEW_ALARMS = "view_alarms", _("View alarms")
    HANDLE_ALARMS = "handle_alarms", _("Acknowledge, dispatch and close alarms")
    MANAGE_RULES = "manage_rules", _("Edit alarm rules and response times")
    VIEW_PATROLS = "view_patrols", _("View patrol routes and checkpoints")
    MANAGE_PATROLS = "manage_patrols", _("Edit patrol routes and checkpoints, print their codes")
    RUN_PATROLS = "run_patrols", _("Run patrols and check in at checkpoints")
    VIEW_PATROL_RUNS = (
        "view_patrol_runs",
        _("See everyone's patrol runs: check-ins with times and positions"),
    )
    VIEW_VOLUNTEERS = "view_volunteers", _("View volunteers, teams, shifts and points")
    MANAGE_VOLUNTEERS = (
        "manage_volunteers",
        _("Approve volunteers, run teams and shifts, adjust points"),
    )
    VIEW_HAZARDS = "view_hazards", _("View hazard reports")
    MANAGE_HAZARDS = "manage_hazards", _("Triage, assign, verify and close hazard reports")
    VIEW_TRAINING = "view_training", _("View training, certificates and drills")
    MANAGE_TRAINING = "manage_training", _("Run courses, sessions and drills; issue certificates")
    VIEW_FACILITIES = "view_facilities", _("View facilities, supplies and inspections")
    MANAGE_FACILITIES = (
        "manage_facilities",
        _("Edit facilities and supplies, print their labels, plan inspections"),
    )
    INSPECT_FACILITIES = "inspect_facilities", _("Carry out inspections of facilities")
    VIEW_ROSTERS = "view_rosters", _("See duty rosters and who is on duty")
    MANAGE_ROSTERS = "manage_rosters", _("Edit duty rosters, their exceptions and swaps")
    VIEW_RESPONSIBILITIES = (
        "view_responsibilities",
        _("See who answers for each zone, building and asset category"),
    )
    MANAGE_RESPONSIBILITIES = "manage_responsibilities", _("Edit the responsibility matrix")
    VIEW_PLANS = "view_plans", _("Read emergency plans and print them")
    MANAGE_PLANS = "manage_plans", _("Write and revise drafts of emergency plans")
    APPROVE_PLANS = "approve_plans", _("Approve emergency plans, putting them in force")
    VIEW_INCIDENTS = "view_incidents", _("Follow incidents and drills")
    MANAGE_CHANNELS = (
        "manage_channels",
        _("Set up notification channels and read their delivery reports"),
    )
    MANAGE_INCIDENTS = (
        "manage_incidents",
        _("Declare incidents and drills, run them, close them and write their reviews"),
    )
    VIEW_ALERTS = (
        "view_alerts",
        _("Read safety alerts, whom they reached and who has not confirmed"),
    )
    PUBLISH_ALERTS = (
        "publish_alerts",
        _(
            "Write, send and cancel safety alerts, relay upstream CAP alerts, set up CAP feeds"
            " and send door-knock visits"
        ),
    )
    VIEW_ACCESS = (
        "view_access",
        _("See access points, credentials, access records and the gate log (audited)"),
    )
    MANAGE_ACCESS = (
        "manage_access",
        _("Manage access points, residents' credentials and the watch list"),
    )
    CHECK_PASSES = (
        "check_passes",
        _("Check visitor passes at the gate and keep the gate log"),
    )
    VIEW_WELFARE = (
        "view_welfare",
        _("See who is enrolled in welfare checks, their checks and the false-alarm report"),
    )
    MANAGE_WELFARE = (
        "manage_welfare",
        _("Enrol residents who consented in welfare checks and close any welfare check"),
    )


class PhoneCodePurpose(models.TextChoices):
    """What a texted verification code is for; also names its SMS template ``code.<purpose>``."""

    SIGN_UP = "sign_up", _("sign-up")
    PASSWORD_RESET = "password_reset", _("password reset")
