"""Request and response bodies of the participation (points) API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Schema

from anwang.participation.choices import EntryKind, PointSource


class PointEntryOut(Schema):
    """One ledger entry; ``capped_points`` are what a daily cap withheld."""

    id: int
    community: int = Field(alias="community_id")
    user: int = Field(alias="user_id")
    kind: EntryKind
    source_kind: PointSource
    source_key: str
    quantity: Decimal
    points_per_unit: int
    points: int
    capped_points: int
    occurred_at: datetime
    day: date
    reason: str
    reverses: int | None = Field(alias="reverses_id")
    reversed_by: int | None = Field(None, description="The reversal of this entry, if any.")
    created_by: int | None = Field(alias="created_by_id")

    @staticmethod
    def resolve_reversed_by(obj: object) -> int | None:
        """The id of the entry that reversed this one."""
        reversal = getattr(obj, "reversal", None)
        return None if reversal is None else int(reversal.pk)


class BalanceOut(Schema):
    """A person's points in one community."""

    community: int
    user: int
    total: int
    by_source: dict[str, int]


class LeaderOut(Schema):
    """One row of a community's leaderboard."""

    rank: int
    user: int
    name: str
    points: int


class PointRuleOut(Schema):
    """A source's rule in a community (``stored`` false: the default applies)."""

    community: int
    source_kind: PointSource
    points_per_unit: int
    daily_cap: int | None
    is_active: bool
    stored: bool


class PointRuleIn(Schema):
    """New values of one source's rule in a community."""

    community_id: int = Field(alias="community")
    source_kind: PointSource
    points_per_unit: int = Field(ge=0)
    daily_cap: int | None = Field(None, ge=0, description="Empty for no daily cap.")
    is_active: bool = True


class ReverseIn(Schema):
    """Why an entry is reversed."""

    reason: str


class AdjustIn(Schema):
    """A manual adjustment of a person's points."""

    community_id: int = Field(alias="community")
    user_id: int = Field(alias="user")
    points: int = Field(description="Positive to add, negative to take away; not 0.")
    reason: str
