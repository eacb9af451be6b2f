"""The one NinjaAPI at ``/api/v1/``: authentication, the error shape, and every app's router."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from anwang.accounts.api_auth import BearerTokenAuth, SessionCsrfAuth
from anwang.core.errors import ServiceError

api = NinjaAPI(
    title="Anwang API",
    version="1",
    description="Anwang (安网) community safety platform. Authenticate with a browser session "
    "or `Authorization: Bearer <token>` (create one with `anwang token create`). Every list "
    "is paginated and scoped to the caller's communities; errors have one shape: "
    "`{detail, code, errors}`.",
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionCsrfAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_body(
    detail: str, code: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The one error shape of the API."""
    return {"detail": detail, "code": code, "errors": errors or []}


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"loc": [str(part) for part in error.get("loc", [])], "msg": error.get("msg", "")}
        for error in exc.errors
    ]
    return api.create_response(
        request, error_body(_("The request is not valid."), "invalid", errors), status=422
    )


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    errors = [{"loc": [exc.field], "msg": str(exc.message)}] if exc.field else []
    return api.create_response(
        request, error_body(str(exc.message), exc.code, errors), status=exc.status
    )


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [
            {"loc": [name], "msg": message}
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"loc": [], "msg": message} for message in exc.messages]
    return api.create_response(
        request, error_body(_("The request is not valid."), "invalid", errors), status=400
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body(_("Not found."), "not_found"), status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, error_body(_("You may not do this."), "forbidden"), status=403
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, error_body(_("Log in or send an API token."), "unauthenticated"), status=401
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(
        request, error_body(str(exc.message), "error"), status=exc.status_code
    )


def _register_routers() -> None:
    from anwang.access.api import router as access_router
    from anwang.access.finding_api import router as access_finding_router
    from anwang.access.pass_api import router as access_pass_router
    from anwang.accounts.api import router as accounts_router
    from anwang.alarms.api import router as alarms_router
    from anwang.alerts.api import router as alerts_router
    from anwang.alerts.cap_api import router as alerts_cap_router
    from anwang.audit.api import router as audit_router
    from anwang.core.api import router as core_router
    from anwang.devices.api import router as devices_router
    from anwang.events.api import ingest_router
    from anwang.events.api import router as events_router
    from anwang.facilities.api import router as facilities_router
    from anwang.hazards.api import router as hazards_router
    from anwang.incidents.api import router as incidents_router
    from anwang.inspections.api import router as inspections_router
    from anwang.notifications.api import router as notifications_router
    from anwang.participation.api import router as participation_router
    from anwang.patrols.api import router as patrols_router
    from anwang.people.api import router as people_router
    from anwang.places.api import router as places_router
    from anwang.plans.api import router as plans_router
    from anwang.responsibilities.api import router as responsibilities_router
    from anwang.rosters.api import router as rosters_router
    from anwang.rules.api import router as rules_router
    from anwang.training.api import router as training_router
    from anwang.volunteers.api import router as volunteers_router
    from anwang.welfare.api import router as welfare_router

    api.add_router("/", core_router)
    api.add_router("/", accounts_router)
    api.add_router("/", places_router)
    api.add_router("/", people_router)
    api.add_router("/", audit_router)
    api.add_router("/", devices_router)
    api.add_router("/", alarms_router)
    api.add_router("/", events_router)
    api.add_router("/", ingest_router)
    api.add_router("/", rules_router)
    api.add_router("/", patrols_router)
    api.add_router("/", participation_router)
    api.add_router("/", volunteers_router)
    api.add_router("/", training_router)
    api.add_router("/", hazards_router)
    api.add_router("/", facilities_router)
    api.add_router("/", inspections_router)
    api.add_router("/", rosters_router)
    api.add_router("/", responsibilities_router)
    api.add_router("/", plans_router)
    api.add_router("/", incidents_router)
    api.add_router("/", notifications_router)
    api.add_router("/", alerts_router)
    api.add_router("/", alerts_cap_router)
    api.add_router("/", access_router)
    api.add_router("/", access_pass_router)
    api.add_router("/", access_finding_router)
    api.add_router("/", welfare_router)


_register_routers()
