"""API of the volunteers domain."""

from ninja import Router

router = Router(tags=["volunteers"])
