"""Errors that services raise for bad input or a state that forbids an action.

Views show them next to the form; the API turns them into its one error shape with a 400 or 409.
"""

from __future__ import annotations

from django.utils.functional import Promise


class ServiceError(Exception):
    """A request that cannot be carried out as asked; ``message`` is translatable."""

    status = 400

    def __init__(
        self, message: str | Promise, *, field: str | None = None, code: str = "invalid"
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code


class ThrottledError(ServiceError):
    """Too many requests of this kind from one person or address; try again later."""

    status = 429


class ConflictError(ServiceError):
    """The object's current state forbids the action (already decided, duplicate, ...)."""

    status = 409
