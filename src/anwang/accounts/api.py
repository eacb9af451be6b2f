"""JSON API of the accounts domain."""

from ninja import Router

router = Router(tags=["accounts"])
