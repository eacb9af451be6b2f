"""JSON API of the audit domain."""

from ninja import Router

router = Router(tags=["audit"])
