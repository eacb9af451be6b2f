"""API schemas of the accounts domain."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from anwang.accounts.choices import Role
from anwang.accounts.models import Membership


class CommunityRolesOut(Schema):
    """The caller's roles in one community and the permissions they grant."""

    community_id: int
    name: str
    roles: list[str]
    permissions: list[str]


class MeOut(Schema):
    """The caller's account, roles per community and permissions."""

    id: int
    username: str
    display_name: str
    email: str
    preferred_language: str
    large_text: bool
    totp_enabled: bool
    is_platform_admin: bool
    is_staff_member: bool
    token_community_id: int | None = Field(
        description="Set when the request's token is limited to one community."
    )
    communities: list[CommunityRolesOut]


class MePatch(Schema):
    """Changes to the caller's own preferences; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=100)
    language: str | None = Field(
        default=None, description="`zh-hans`, `en`, or empty to follow the browser."
    )
    large_text: bool | None = None


class TokenOut(Schema):
    """An API token, without its secret."""

    id: int
    name: str
    prefix: str
    community_id: int | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    """A new API token with its secret, which is shown this one time only."""

    token: str = Field(description="The bearer token. It is not stored and cannot be shown again.")


class TokenIn(Schema):
    """A new API token."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    community_id: int | None = Field(
        default=None, description="Limit the token to one of the caller's communities."
    )


class MembershipOut(Schema):
    """A user's role in a community (or, for supervisors, a street office)."""

    id: int
    user_id: int
    username: str
    display_name: str
    role: str
    role_label: str
    community_id: int | None
    region_id: int | None
    created_at: dt.datetime

    @staticmethod
    def resolve_username(obj: Membership) -> str:
        """The member's user name."""
        return obj.user.username

    @staticmethod
    def resolve_display_name(obj: Membership) -> str:
        """The member's display name."""
        return obj.user.display_name

    @staticmethod
    def resolve_role_label(obj: Membership) -> str:
        """The role in the caller's language."""
        return str(obj.get_role_display())


class MembershipIn(Schema):
    """A staff or volunteer role for someone who already belongs to the community."""

    model_config = ConfigDict(extra="forbid")

    user_id: int
    community_id: int
    role: Role


class StaffIn(Schema):
    """A new staff or volunteer account with its role in one community."""

    model_config = ConfigDict(extra="forbid")

    community_id: int
    username: str = Field(max_length=150)
    password: str = Field(description="Initial password; validated like every password.")
    role: Role
    display_name: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=254)
