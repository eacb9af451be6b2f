"""API of the hazards domain."""

from ninja import Router

router = Router(tags=["hazards"])
