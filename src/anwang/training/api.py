"""API of the training domain."""

from ninja import Router

router = Router(tags=["training"])
