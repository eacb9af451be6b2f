"""JSON API of the places domain."""

from ninja import Router

router = Router(tags=["places"])
