"""JSON API of the people domain."""

from ninja import Router

router = Router(tags=["people"])
