"""API of the rosters domain."""

from ninja import Router

router = Router(tags=["rosters"])
