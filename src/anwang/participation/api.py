"""API of the participation domain."""

from ninja import Router

router = Router(tags=["participation"])
