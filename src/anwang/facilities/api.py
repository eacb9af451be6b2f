"""API of the facilities domain."""

from ninja import Router

router = Router(tags=["facilities"])
