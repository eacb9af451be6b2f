"""API of the inspections domain."""

from ninja import Router

router = Router(tags=["inspections"])
