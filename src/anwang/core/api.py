"""JSON API of the core domain."""

from ninja import Router

router = Router(tags=["core"])
