"""Browser push pages: the VAPID public key, subscribe and unsubscribe (JSON, for ``push.js``),
and the service worker script. These are pages of the session (login and CSRF like every
form), not the token API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from anwang.core.errors import ServiceError
from anwang.notifications.channels.web_push import (
    push_subscription_delete,
    push_subscription_save,
    vapid_public_key,
)

SERVICE_WORKER_FILE = Path(__file__).parent / "static" / "notifications" / "service-worker.js"
MAX_BODY_BYTES = 4096


def _error(detail: str, code: str, status: int, field: str | None = None) -> JsonResponse:
    # The same shape as the API's errors (anwang.project.api.error_body).
    errors = [{"loc": [field], "msg": detail}] if field else []
    return JsonResponse({"detail": detail, "code": code, "errors": errors}, status=status)


def _signed_out() -> JsonResponse:
    # A JSON 401 rather than login_required's redirect: push.js calls these with fetch.
    return _error(_("Sign in first."), "not_authenticated", 401)


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    if len(request.body) > MAX_BODY_BYTES:
        return None
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


@require_GET
@never_cache
def public_key(request: HttpRequest) -> JsonResponse:
    """The ``applicationServerKey`` (made on first use, so signed-in people only)."""
    if not request.user.is_authenticated:
        return _signed_out()
    return JsonResponse({"public_key": vapid_public_key()})


@require_POST
def subscribe(request: HttpRequest) -> JsonResponse:
    """Store this browser's subscription for the signed-in person."""
    if not request.user.is_authenticated:
        return _signed_out()
    body = _json_body(request)
    if body is None:
        return _error(_("The request is not valid."), "invalid", 400)
    keys = body.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    try:
        subscription = push_subscription_save(
            user=request.user,
            endpoint=body.get("endpoint"),
            p256dh=keys.get("p256dh"),
            auth=keys.get("auth"),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except ServiceError as error:
        return _error(str(error.message), error.code, error.status, error.field)
    return JsonResponse({"subscribed": True, "id": subscription.pk}, status=201)


@require_POST
def unsubscribe(request: HttpRequest) -> JsonResponse:
    """Forget this browser's subscription (only the signed-in person's own)."""
    if not request.user.is_authenticated:
        return _signed_out()
    body = _json_body(request)
    if body is None:
        return _error(_("The request is not valid."), "invalid", 400)
    try:
        removed = push_subscription_delete(
            user=request.user,
            endpoint=body.get("endpoint"),
        )
    except ServiceError as error:
        return _error(str(error.message), error.code, error.status, error.field)
    return JsonResponse({"subscribed": False, "removed": removed})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from /push/ but allowed to control the whole site."""
    script = SERVICE_WORKER_FILE.read_text(encoding="utf-8")
    prelude = "const ANWANG_ICON_URL = {};\n".format(json.dumps(static("anwang/favicon.svg")))
    response = HttpResponse(prelude + script, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker at most daily anyway; never let a proxy pin an old one.
    response["Cache-Control"] = "no-cache"
    return response
