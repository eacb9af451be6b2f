"""Every API route, called by every kind of caller that must not get in.

Routes are discovered from the NinjaAPI itself, so a route added by any app is covered as soon
as its router is registered. For each (method, path) the test fills the path parameters by name
with objects of community A, builds a minimally valid request (query and body) from the OpenAPI
schema (a 422 for an empty body would hide an authorisation hole) and calls the route as:

* ``anonymous``: 401 (or 403) on every route that is not in ``PUBLIC_ROUTES``;
* ``resident_of_a``: a resident of community A. Their targets are a *neighbour's* records
  (household, resident, contact, binding), so an endpoint that shows residents their own data
  is not mistaken for a hole;
* ``admin_of_b``: a community admin of community B, targeting community A;
* ``token_limited_to_b``: an admin of both A and B calling with a bearer token limited to B;
* ``admin_of_a_without_csrf``: an admin of A whose session write carries no CSRF token.

Rules for the three scoped callers: a route with path parameters answers 404 (another
community's objects are not found, never forbidden) or, failing that, exactly what it answers for
an object that does not exist (a 403 for anybody without the permission reveals nothing); a route
whose path or body refers to an object of community A never answers 2xx; anything else (lists,
the caller's own things) may answer 200 but its response must contain nothing of community A.
A 5xx, or a 422 (the request was rejected before the handler ran, so authorisation was never
exercised) is also reported. Every hole of one caller is listed in one assertion message.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from conftest import SQUARE, World, make_user
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone
from ninja.utils import normalize_path

from anwang.project.api import api

API_PREFIX = "/api/v1/"

PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/health"): "liveness and database status for load balancers and monitors",
    ("GET", "/api/v1/access/passes/public-key"): (
        "the public key gate devices check visitor passes with offline; public by nature "
        "(it verifies passes, it cannot make them)"
    ),
}
"""Routes that answer without credentials by design, each with the reason."""

DEVICE_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/ingest/{adapter}"): (
        "devices send their events with their own credentials (device token, HMAC signature, "
        "HTTP Basic or Digest over TLS), checked by the handler, never a person's"
    ),
    ("POST", "/api/v1/access/devices/pass-check"): (
        "a gate's door controller checks a visitor pass online with the device's own "
        "credentials, like ingestion; only a device that drives an access point may"
    ),
}
"""Routes without user authentication that authenticate devices instead, each with the reason.
Every one must refuse requests without device credentials, and people's sessions and API
tokens, with a 401 carrying ``WWW-Authenticate``."""

DEVICE_PATH_VALUES: dict[str, tuple[str, ...]] = {"adapter": ("anwang", "hikvision")}
"""Values for path parameters of device routes that are not entity ids; each one is tried."""

_ASK_TO_JOIN = (
    "any logged-in account may ask to be bound to a household (that is how residents join); "
    "the request is pending until an approver of the household's community decides"
)
CALLER_ALLOWED: dict[tuple[str, str, str], str] = {
    ("resident_of_a", "POST", "/api/v1/bindings"): _ASK_TO_JOIN,
    ("admin_of_b", "POST", "/api/v1/bindings"): _ASK_TO_JOIN,
    ("token_limited_to_b", "POST", "/api/v1/bindings"): _ASK_TO_JOIN,
    ("resident_of_a", "POST", "/api/v1/tokens"): (
        "anyone may make an API token for themselves limited to a community they belong to, "
        "and the resident belongs to community A"
    ),
    ("resident_of_a", "POST", "/api/v1/hazards"): (
        "anyone may report a hazard in a community they belong to, and the resident belongs "
        "to community A (a building or unit in the body is of A on purpose)"
    ),
    ("resident_of_a", "POST", "/api/v1/hazards/{hazard_id}/follow"): (
        "any member may follow an open hazard report of their community instead of reporting "
        "it again; its content is public through Open311 anyway, never the reporter"
    ),
    ("resident_of_a", "POST", "/api/v1/volunteers/applications"): (
        "any member of a community may apply to volunteer there, and the resident belongs to "
        "community A; the application waits for an admin of A to decide"
    ),
}
"""(caller, method, path) that may succeed although the request refers to community A's
objects, with the reason; e.g. a resident asking to be bound to a household of their own
community. Keep it short: every entry is a decision someone has to be able to defend."""

REQUEST_OVERRIDES: dict[tuple[str, str], Callable[[Mapping[str, int]], dict[str, Any]]] = {}
"""(method, path) -> a function of the target ids returning the JSON body to send, for routes
whose body the OpenAPI-based generator cannot make valid (the test reports those as 422)."""

ENTITY_PARAMS: tuple[str, ...] = (
    "region",
    "community",
    "grid",
    "building",
    "unit",
    "household",
    "zone",
    "resident",
    "contact",
    "binding",
    "token",
    "user",
    "membership",
    "event",
    "device",
    "credential",
    "device_event",
    "dead_letter",
    "rule",
    "alarm",
    "handover",
    "checkpoint",
    "patrol_route",
    "patrol_run",
    "patrol_schedule",
    "course",
    "training_session",
    "attendance",
    "certificate",
    "drill",
    "drill_finding",
    "volunteer",
    "team",
    "shift",
    "point_entry",
    "hazard",
    "hazard_step",
    "asset",
    "checklist",
    "plan",
    "inspection",
    "pattern",
    "duty_exception",
    "responsibility",
    "emergency_plan",
    "plan_version",
    "incident",
    "incident_task",
    "action_item",
    "notification",
    "channel_config",
    "alert",
    "task",  # a door-knock visit after a safety alert
    "incoming",  # a CAP alert received from upstream
    "feed",  # an upstream CAP feed
    "access_point",
    "access_credential",  # a resident's card, QR code, plate or face reference
    "consent",
    "watch_entry",
    "visitor_pass",
    "access_finding",  # an anomaly the access detectors found
    "welfare_watch",  # a resident enrolled in welfare checks
    "welfare_check",
)
"""Path parameters are named ``{<entity>_id}``; the test knows how to fill exactly these."""

FIELD_SYNONYMS = {
    "street_office": "region",
    "emergency_contact": "contact",
    "household_binding": "binding",
    "api_token": "token",
    "audit_event": "event",
}

METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARAM_RE = re.compile(r"{(?:[^{}:]+:)?([^{}:]+)}")

MISSING_ID = 2_000_000_000  # no object has this id; still a valid 32-bit integer
NEIGHBOUR_PHONE = "13798765432"
NEIGHBOUR_PHONE_MASKED = "137****5432"


def id_number(first17: str) -> str:
    """A mainland ID number with a correct check digit (services may validate it)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


NEIGHBOUR_ID = id_number("11010119850202345")
PROBE_ID = id_number("11010119900307123")


# --- route discovery -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One (method, path) of the API and the django-ninja operation behind it."""

    method: str
    path: str
    operation: Any = field(compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """The (method, path) pair used by the allow-lists."""
        return (self.method, self.path)

    @property
    def path_params(self) -> list[str]:
        """Names of the path parameters, in order."""
        return PARAM_RE.findall(self.path)

    @property
    def is_public(self) -> bool:
        """Whether the route runs without any authentication callback."""
        return not self.operation.auth_callbacks

    @property
    def is_device_route(self) -> bool:
        """Whether devices, not people, authenticate to this route."""
        return self.key in DEVICE_ROUTES

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def path_template(path: str) -> str:
    """A path with doubled slashes collapsed and converters dropped: ``{int:x}`` -> ``{x}``."""
    return PARAM_RE.sub(r"{\1}", normalize_path(path))


def discover_routes() -> list[Route]:
    """Every route of every router mounted on the API, with its full path under /api/v1/."""
    routes: dict[tuple[str, str], Route] = {}
    # The bound routers carry the operations with the API's default auth applied; django-ninja
    # 1.7 builds them lazily, and ``_routers`` alone would miss that auth (private, but pinned).
    for bound in api._get_bound_routers():
        for sub_path, path_view in bound.path_operations.items():
            path = path_template(f"{API_PREFIX}/{bound.prefix}/{sub_path}")
            for operation in path_view.operations:
                for method in operation.methods:
                    route = Route(method.upper(), path, operation)
                    routes.setdefault(route.key, route)
    return sorted(routes.values(), key=lambda r: (METHOD_ORDER.get(r.method, 9), r.path))


ROUTES = discover_routes()


@dataclass(frozen=True)
class OpenApi:
    """The API's OpenAPI schema, indexed: operations by (method, path), and the components."""

    operations: dict[tuple[str, str], dict[str, Any]]
    components: dict[str, Any]


@cache
def openapi() -> OpenApi:
    """The API's OpenAPI schema; fails the test with the reason when it cannot be built."""
    try:
        schema = api.get_openapi_schema(path_prefix=API_PREFIX)
    except Exception as error:
        # Without the schema no valid request can be built; say why instead of a traceback.
        pytest.fail(f"the OpenAPI schema cannot be built: {type(error).__name__}: {error}", False)
    operations: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            operations[(method.upper(), path_template(path))] = operation
    return OpenApi(operations, schema.get("components", {}).get("schemas", {}))


# --- request building ------------------------------------------------------------------------


class UnfillableParameterError(LookupError):
    """A path parameter the test has no object for."""


@dataclass
class Call:
    """A concrete request for one route, and which community-A objects it refers to."""

    method: str
    url: str
    json_body: Any = None
    form: dict[str, Any] | None = None
    raw: tuple[str, bytes] | None = None  # (content type, body): an XML document, say
    body_refs: set[str] = field(default_factory=set)
    query_refs: set[str] = field(default_factory=set)


def entity_of(name: str, schema: Mapping[str, Any]) -> str | None:
    """The entity an integer field refers to by its name (``building_id``, ``zone_ids``...)."""
    stem = name.lower()
    for suffix in ("_ids", "_id"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    stem = FIELD_SYNONYMS.get(stem, stem)
    if stem not in ENTITY_PARAMS:
        return None
    return stem if "integer" in _types(schema) else None


def _types(schema: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    kind = schema.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(kind)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found |= _types(option)
    if "items" in schema:
        found |= _types(schema["items"])
    return found


class RequestBuilder:
    """Builds a plausible, schema-valid request for a route, aimed at the given target ids."""

    def __init__(self, targets: Mapping[str, int], *, need_schema: bool = True) -> None:
        self.targets = targets
        try:
            schema = openapi()
        except pytest.fail.Exception:
            if need_schema:
                raise
            # Anonymous calls are refused before the body is read, so they need no schema.
            schema = OpenApi({}, {})
        self.operations = schema.operations
        self.components = schema.components

    def build(
        self, route: Route, *, missing: bool = False, path_values: Mapping[str, str] | None = None
    ) -> Call:
        """The request to send for ``route``; with ``missing``, aimed at objects that do not
        exist; ``path_values`` fills path parameters that are not entity ids."""
        values: dict[str, Any] = {}
        for name in route.path_params:
            if path_values and name in path_values:
                values[name] = path_values[name]
                continue
            kind = name.removesuffix("_id")
            if not name.endswith("_id") or kind not in self.targets:
                raise UnfillableParameterError(name)
            values[name] = MISSING_ID if missing else self.targets[kind]
        call = Call(route.method, PARAM_RE.sub(lambda m: str(values[m.group(1)]), route.path))
        operation = self.operations.get(route.key, {})
        query: dict[str, Any] = {}
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query":
                continue
            name, schema = parameter["name"], self.resolve(parameter.get("schema", {}))
            entity = entity_of(name, schema)
            if entity is not None:
                query[name] = self.targets[entity]
                call.query_refs.add(entity)
            elif parameter.get("required"):
                query[name] = self.example(name, schema, set())
        if query:
            call.url += "?" + urlencode(query, doseq=True)
        override = REQUEST_OVERRIDES.get(route.key)
        content = operation.get("requestBody", {}).get("content", {})
        if override is not None:
            call.json_body = override(self.targets)
            call.body_refs = {e for e in ENTITY_PARAMS if _mentions(call.json_body, e)}
        elif "application/json" in content:
            schema = content["application/json"].get("schema", {})
            call.json_body = self.example("body", schema, call.body_refs)
        elif (
            content
            and self.resolve(next(iter(content.values())).get("schema", {})).get("type") == "string"
        ):
            # A document in the body (CAP XML): its example text, sent as that type.
            content_type, media = next(iter(content.items()))
            call.raw = (
                content_type,
                str(self.example("body", media.get("schema", {}), set())).encode(),
            )
        elif content:
            schema = next(iter(content.values())).get("schema", {})
            form = self.example("form", schema, call.body_refs)
            call.form = {key: _form_value(value) for key, value in dict(form or {}).items()}
        elif route.method in WRITE_METHODS - {"DELETE"}:
            call.json_body = {}
        return call

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """A schema with its ``$ref`` followed."""
        seen = 0
        while "$ref" in schema and seen < 20:
            schema = self.components.get(schema["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return schema

    def example(self, name: str, schema: Mapping[str, Any], refs: set[str], depth: int = 0) -> Any:
        """A value for field ``name`` that satisfies ``schema``; ids point at the targets."""
        schema = self.resolve(schema)
        entity = entity_of(name, schema) if depth else None
        if entity is not None:
            refs.add(entity)
            target = self.targets[entity]
            return [target] if "array" in _types(schema) else target
        if depth > 8:
            return None
        lowered = name.lower()
        if lowered in {"geometry", "footprint", "boundary"}:
            return SQUARE
        for key in ("const", "example", "default"):
            if key in schema and schema[key] is not None:
                return schema[key]
        if schema.get("examples"):
            return schema["examples"][0]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = [self.resolve(o) for o in schema.get(key, [])]
            options = [o for o in options if o.get("type") != "null"] or options
            if options:
                return self.example(name, options[0], refs, depth + 1)
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return self.example(name, merged, refs, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind == "object" or "properties" in schema:
            return {
                prop: self.example(prop, sub, refs, depth + 1)
                for prop, sub in schema.get("properties", {}).items()
            }
        if kind == "array":
            item = self.example(name.removesuffix("s"), schema.get("items", {}), refs, depth + 1)
            return [item] * max(1, int(schema.get("minItems", 1)))
        if kind == "integer":
            return int(_bounded(schema, 1))
        if kind == "number":
            if "latitude" in lowered:
                return 30.5
            if "longitude" in lowered:
                return 114.3
            return _bounded(schema, 1.0)
        if kind == "boolean":
            return False
        if schema.get("format") == "binary":
            return SimpleUploadedFile("probe.xlsx", b"probe")
        return _string_example(lowered, schema)


def _bounded(schema: Mapping[str, Any], value: float) -> float:
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema:
        value = max(value, schema["exclusiveMinimum"] + 1)
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    return value


STRING_EXAMPLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("id_number",), PROBE_ID),
    (("phone", "mobile"), "13712345678"),
    (("email",), "probe@example.com"),
    (("password",), "Unusual-Probe-Pass-9876"),
    (("username",), "probe_user"),
    (("language",), "en"),
    (("url", "link"), "https://example.com/probe"),
    (("slug", "code"), "probe"),
    (("number",), "901"),
    (("birth", "date"), "1990-03-07"),
)
FORMAT_EXAMPLES = {
    "date": "1990-03-07",
    "date-time": "2026-01-05T08:30:00+08:00",
    "time": "08:30:00",
    "email": "probe@example.com",
    "uri": "https://example.com/probe",
    "uuid": "00000000-0000-4000-8000-000000000001",
}


def _string_example(name: str, schema: Mapping[str, Any]) -> str:
    value = FORMAT_EXAMPLES.get(str(schema.get("format", "")))
    if value is None:
        value = next((v for keys, v in STRING_EXAMPLES if any(k in name for k in keys)), "probe")
    if "minLength" in schema:
        value = value.ljust(int(schema["minLength"]), "x")
    if "maxLength" in schema:
        value = value[: int(schema["maxLength"])]
    return value


def _form_value(value: Any) -> Any:
    # Multipart cannot nest: objects travel as JSON text, as a browser form would send them.
    return json.dumps(value) if isinstance(value, dict) else value


def _mentions(body: Any, entity: str) -> bool:
    text = json.dumps(body)
    return f'"{entity}"' in text or f'"{entity}_id' in text


# --- calling and judging ---------------------------------------------------------------------


def send(
    client: Client, call: Call, headers: Mapping[str, str] | None = None, *, secure: bool = False
) -> HttpResponse:
    """Send one request inside a savepoint, so a failing route cannot poison the next one;
    ``secure`` sends it as HTTPS."""
    with transaction.atomic():
        if call.json_body is not None:
            response = client.generic(
                call.method,
                call.url,
                json.dumps(call.json_body),
                content_type="application/json",
                headers=headers,
                secure=secure,
            )
        elif call.form is not None:
            response = client.generic(
                call.method,
                call.url,
                encode_multipart(BOUNDARY, call.form),
                content_type=MULTIPART_CONTENT,
                headers=headers,
                secure=secure,
            )
        elif call.raw is not None:
            response = client.generic(
                call.method,
                call.url,
                call.raw[1],
                content_type=call.raw[0],
                headers=headers,
                secure=secure,
            )
        else:
            response = client.generic(call.method, call.url, headers=headers, secure=secure)
        if response.status_code >= 500:
            transaction.set_rollback(True)
    return cast(HttpResponse, response)


@dataclass(frozen=True)
class Secrets:
    """What must never reach a caller: text of community A, and community A's id."""

    contains: tuple[str, ...]
    exact: frozenset[str] = frozenset()
    community_ids: frozenset[int] = frozenset()


def leaks(response: HttpResponse, secrets: Secrets, *, check_ids: bool = True) -> list[str]:
    """Pieces of community A found in a response."""
    try:
        data = json.loads(response.content or b"null")
    except ValueError:
        text = response.content.decode(errors="replace")
        return sorted({repr(token) for token in secrets.contains if token in text})
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                is_id = key in {"community", "community_id"} and type(value) is int
                if check_ids and is_id and value in secrets.community_ids:
                    found.add(f"{key}={value}")
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found.update(repr(token) for token in secrets.contains if token in node)
            if node in secrets.exact:
                found.add(repr(node))

    walk(data)
    return sorted(found)


def _explain(response: HttpResponse) -> str:
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        return f"{exc_info[0].__name__}: {exc_info[1]}"
    return response.content[:300].decode(errors="replace")


@dataclass
class Caller:
    """Someone who must not reach community A's objects through the API."""

    name: str
    connect: Callable[[], tuple[Client, dict[str, str]]]
    targets: dict[str, int]
    secrets: Secrets


def judge(
    caller: Caller, route: Route, call: Call, response: HttpResponse, missing_status: int | None
) -> str | None:
    """Why this answer is a hole, or ``None`` when it is acceptable. ``missing_status`` is how
    the route answers the same caller for objects that do not exist."""
    status = response.status_code
    label = f"{route} [{call.method} {call.url}] -> {status}"
    if status >= 500:
        return f"{label}: server error ({_explain(response)})"
    if status == 422:
        return (
            f"{label}: the request was rejected before the handler ran, so authorisation was "
            f"not exercised; make the schema acceptable to the generator or add the route to "
            f"REQUEST_OVERRIDES ({_explain(response)})"
        )
    guarded = bool(route.path_params or call.body_refs)
    allowed = (caller.name, route.method, route.path) in CALLER_ALLOWED
    if guarded and not allowed:
        if 200 <= status < 300:
            refs = [*route.path_params, *(f"{e} in the body" for e in sorted(call.body_refs))]
            return f"{label}: unauthorised success on community A's objects ({', '.join(refs)})"
        if route.path_params and status != 404 and status != missing_status:
            return (
                f"{label}: expected 404 for an object the caller may not see (an object that "
                f"does not exist answers {missing_status}, so this answer reveals that it exists)"
            )
    # An allowed request chose community A itself, so A's id in the answer tells nothing new;
    # names and personal data of A must still not appear.
    found = leaks(response, caller.secrets, check_ids=not allowed)
    if found:
        return f"{label}: the response contains community A data: {', '.join(found)}"
    return None


def probe_routes(caller: Caller, routes: Iterable[Route]) -> tuple[int, list[str]]:
    """Call every route as ``caller``; the number called and every hole found."""
    builder = RequestBuilder(caller.targets)
    holes: list[str] = []
    called = 0
    for route in routes:
        try:
            call = builder.build(route)
        except UnfillableParameterError as error:
            holes.append(f"{route}: cannot fill path parameter {{{error}}}")
            continue
        client, headers = caller.connect()
        response = send(client, call, headers)
        called += 1
        missing_status = None
        if route.path_params and response.status_code not in {200, 201, 204, 404}:
            # A refusal other than 404 is fine only if a missing object gets the same one.
            client, headers = caller.connect()
            missing_status = send(client, builder.build(route, missing=True), headers).status_code
        problem = judge(caller, route, call, response, missing_status)
        if problem:
            holes.append(problem)
    return called, holes


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Argon2 makes the two-community world take seconds; these tests never check hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Probe:
    """The world plus a neighbour of the resident, an API token, an audit entry, and the
    targets and secrets of community A for each kind of caller."""

    world: World
    staff_targets: dict[str, int]
    resident_targets: dict[str, int]
    staff_secrets: Secrets
    resident_secrets: Secrets


@pytest.fixture
def probe(world: World) -> Probe:
    """Community A made recognisable, with something behind every kind of path parameter."""
    from anwang.accounts.choices import Role
    from anwang.accounts.models import Membership
    from anwang.accounts.services import api_token_create
    from anwang.audit.services import audit_record
    from anwang.devices.choices import CredentialKind, DeviceKind, Protocol
    from anwang.devices.models import Device, DeviceCredential
    from anwang.events.models import DeadLetter, DeviceEvent
    from anwang.people.choices import BindingStatus, Relation
    from anwang.people.models import EmergencyContact, HouseholdBinding, HouseholdMember, Resident
    from anwang.places.models import Building, Household, Zone
    from anwang.rules.models import Rule

    a = world.a
    # Zone and building names are the same in both communities of the shared world; give A's
    # unique ones so that finding them in an answer to a B caller means a leak.
    Zone.objects.filter(pk=a.zone.pk).update(name="翠苑北门")
    Building.objects.filter(pk=a.building.pk).update(name="翠苑1号楼")
    admin_a = world.user("community_admin")

    neighbour = make_user("a_neighbour")
    Membership.objects.create(user=neighbour, role=Role.RESIDENT, community=a.community)
    household = Household.objects.create(community=a.community, unit=a.unit, floor=3, number="302")
    resident = Resident.objects.create(
        community=a.community,
        name="a王五",
        id_number=NEIGHBOUR_ID,
        phone=NEIGHBOUR_PHONE,
        user=neighbour,
    )
    HouseholdMember.objects.create(household=household, resident=resident, relation=Relation.HEAD)
    contact = EmergencyContact.objects.create(
        resident=resident, name="a赵六", relation="女儿", phone="13700002222"
    )
    binding = HouseholdBinding.objects.create(
        user=neighbour,
        household=household,
        resident=resident,
        status=BindingStatus.APPROVED,
        relation=Relation.HEAD,
    )
    own_binding = HouseholdBinding.objects.get(user=world.user("resident"), household=a.household)
    token, _raw = api_token_create(
        actor=admin_a, user=admin_a, name="probe", community_id=a.community.pk
    )
    membership = Membership.objects.get(
        user=admin_a, community=a.community, role=Role.COMMUNITY_ADMIN
    )
    event = audit_record(actor=admin_a, action="probe.view", obj=a.zone)
    device = Device.objects.create(
        community=a.community,
        zone=a.zone,
        name="翠苑北门摄像头",
        kind=DeviceKind.CAMERA,
        protocol=Protocol.FRIGATE,
        source_id="a_north_gate",
    )
    credential = DeviceCredential.objects.create(
        device=device, kind=CredentialKind.HTTP_DIGEST, username="a_cam", secret="a-secret"
    )
    # A device event and a dead letter of community A (the ingestion pipeline's rows).
    device_event = DeviceEvent.objects.create(
        community=a.community,
        device=device,
        kind="object_detected",
        edge_key="a_probe:new",
        dedup_key=f"{device.pk}:a_probe:new",
        received_at=device.created_at,
        data={"camera": "a_north_gate"},
    )
    dead_letter = DeadLetter.objects.create(
        community=a.community,
        transport="mqtt",
        topic="frigate/events",
        payload=b'{"camera": "a_north_gate"}',
        payload_preview='{"camera": "a_north_gate"}',
        reason="Unknown device a_north_gate.",
        received_at=device.created_at,
    )

    rule = Rule.objects.create(
        community=a.community,
        name="翠苑夜间探针规则",
        kind="immediate",
        condition={"field": "kind", "op": "eq", "value": "smoke"},
        priority=1,
        title_template="Smoke at {device}",
    )
    from anwang.alarms.models import Alarm, AlarmEvent

    # An alarm of community A, raised by that rule from that device event.
    alarm = Alarm.objects.create(
        community=a.community,
        rule=rule,
        priority=1,
        title="翠苑北门烟感告警",
        device=device,
        zone_id=a.zone.pk,
        group_key=f"device:{device.pk}",
        raised_at=device.created_at,
        last_fired_at=device.created_at,
    )
    AlarmEvent.objects.create(alarm=alarm, device_event=device_event)
    from anwang.alarms.models import ShiftHandover

    # A pending shift handover of community A, written by A's operator.
    handover = ShiftHandover.objects.create(
        community=a.community,
        from_user=world.user("operator"),
        note="翠苑交班记录",
        snapshot={"alarms": [{"id": alarm.pk, "state": "raised", "title": alarm.title}]},
        created_at=device.created_at,
    )

    from anwang.patrols.models import Checkpoint, PatrolRoute, PatrolRun, RouteStop

    # A checkpoint of community A on a patrol route of community A.
    checkpoint = Checkpoint.objects.create(
        community=a.community,
        name="翠苑北门巡更点",
        placement="zone",
        zone=a.zone,
        code_salt="a-probe-salt",
    )
    patrol_route = PatrolRoute.objects.create(community=a.community, name="翠苑夜巡路线")
    RouteStop.objects.create(route=patrol_route, checkpoint=checkpoint, order=1)
    patrol_run = PatrolRun.objects.create(
        community=a.community,
        route=patrol_route,
        route_name=patrol_route.name,
        guard=world.user("guard"),
        plan=[{"checkpoint": checkpoint.pk, "name": checkpoint.name}],
        started_at=device.created_at,
    )
    from anwang.patrols.models import PatrolSchedule

    # A patrol schedule of community A on A's route, assigned to A's guard.
    patrol_schedule = PatrolSchedule.objects.create(
        community=a.community,
        route=patrol_route,
        name="翠苑夜班",
        first_start=device.created_at,
        duration=dt.timedelta(hours=2),
        rrule="FREQ=DAILY",
    )
    patrol_schedule.guards.add(world.user("guard"))

    from anwang.training.models import (
        Attendance,
        Certificate,
        Course,
        Drill,
        DrillFinding,
        TrainingSession,
    )

    # A course of community A with a session, an attendance and a certificate of A's guard; a
    # drill of A with a finding.
    course = Course.objects.create(
        community=a.community,
        title="翠苑消防培训",
        topic="fire_safety",
        validity_months=12,
        required_for_roles=["guard"],
    )
    training_session = TrainingSession.objects.create(
        community=a.community,
        course=course,
        starts_at=device.created_at,
        ends_at=device.created_at + dt.timedelta(hours=1),
        place="翠苑活动室",
    )
    attendance = Attendance.objects.create(
        session=training_session,
        user=world.user("guard"),
        method="manual",
        recorded_at=device.created_at,
    )
    certificate = Certificate.objects.create(
        community=a.community,
        course=course,
        user=world.user("guard"),
        session=training_session,
        source="session",
        issued_on=device.created_at.date(),
        expires_on=device.created_at.date() + dt.timedelta(days=365),
    )
    drill = Drill.objects.create(
        community=a.community,
        kind="fire_evacuation",
        title="翠苑消防疏散演练",
        planned_at=device.created_at,
    )
    drill_finding = DrillFinding.objects.create(
        drill=drill, community=a.community, text="翠苑演练发现"
    )

    from anwang.participation.models import PointEntry
    from anwang.volunteers.models import Shift, Team, Volunteer

    # An approved volunteer of A in a team of A with a shift, and a points entry of A.
    volunteer = Volunteer.objects.create(
        community=a.community,
        user=world.user("volunteer"),
        status="approved",
        applied_at=device.created_at,
        motivation="翠苑志愿者申请",
    )
    team = Team.objects.create(community=a.community, name="翠苑志愿巡逻队", leader=volunteer)
    team.members.add(volunteer)
    shift_start = device.created_at + dt.timedelta(days=1)
    shift = Shift.objects.create(
        community=a.community,
        team=team,
        title="翠苑志愿夜巡",
        starts_at=shift_start,
        ends_at=shift_start + dt.timedelta(hours=3),
        capacity=5,
    )
    point_entry = PointEntry.objects.create(
        community=a.community,
        user=world.user("volunteer"),
        kind="award",
        source_kind="volunteer_hour",
        source_key="shift:probe",
        quantity=1,
        points=10,
        occurred_at=device.created_at,
        day=device.created_at.date(),
        reason="翠苑志愿积分",
    )

    from anwang.hazards.models import Hazard, HazardStep

    # A hazard report of A by A's guard, with its first step.
    hazard = Hazard.objects.create(
        community=a.community,
        reported_at=device.created_at,
        category="broken_light",
        description="翠苑隐患探针",
        reporter=world.user("guard"),
        building=a.building,
    )
    hazard_step = HazardStep.objects.create(
        hazard=hazard, at=device.created_at, status="reported", action="report"
    )

    from anwang.facilities.models import Asset, AssetEvent

    # An extinguisher of A, placed on the map, with a history entry.
    asset = Asset.objects.create(
        community=a.community,
        asset_type="fire_extinguisher",
        name="翠苑灭火器探针",
        code="CY-PROBE-1",
        building=a.building,
        latitude=30.5005,
        longitude=114.3005,
        location_note="翠苑设施位置",
    )
    AssetEvent.objects.create(
        asset=asset, at=device.created_at, kind="created", note="翠苑设施历史"
    )

    from anwang.inspections.models import Checklist, ChecklistItem, Inspection, InspectionPlan

    # Inspections of A: a checklist, a monthly plan at A's checkpoint, and an inspection of A's
    # extinguisher opened by A's guard.
    checklist = Checklist.objects.create(
        community=a.community, asset_type="fire_extinguisher", name="翠苑灭火器检查表"
    )
    ChecklistItem.objects.create(checklist=checklist, order=1, text="翠苑压力表检查项")
    plan = InspectionPlan.objects.create(
        community=a.community,
        name="翠苑月度巡检计划",
        checklist=checklist,
        first_start=device.created_at,
        rrule="FREQ=MONTHLY",
        checkpoint=checkpoint,
    )
    inspection = Inspection.objects.create(
        community=a.community,
        plan=plan,
        asset=asset,
        checklist=checklist,
        inspector=world.user("guard"),
        started_at=device.created_at,
    )

    from anwang.rosters.models import DutyPattern

    # A daily guard duty of A that is on now, so the on-duty and roster answers name someone.
    duty_pattern = DutyPattern.objects.create(
        community=a.community,
        duty_role="guard",
        person=world.user("guard"),
        first_start=device.created_at - dt.timedelta(hours=1),
        duration=dt.timedelta(hours=12),
        rrule="FREQ=DAILY",
        note="翠苑值班探针",
    )

    from anwang.rosters.models import DutyException

    # Tomorrow's shift of that duty is cancelled: today's stays on, and the list has a row.
    duty_exception = DutyException.objects.create(
        community=a.community,
        pattern=duty_pattern,
        person=duty_pattern.person,
        duty_role=duty_pattern.duty_role,
        shift_key=timezone.localtime(duty_pattern.first_start + dt.timedelta(days=1)).strftime(
            "%Y%m%dT%H%M"
        ),
        kind="off",
        reason="翠苑调班探针",
        created_by=admin_a,
    )

    from anwang.responsibilities.models import Responsibility

    # A's zone answered for by A's grid worker, with the guard on duty standing in.
    responsibility = Responsibility.objects.create(
        community=a.community,
        area_kind="zone",
        zone=a.zone,
        responsible_person=world.user("grid_worker"),
        deputy_role="guard",
        note="翠苑责任探针",
    )

    from anwang.plans.models import EmergencyPlan, PlanContact, PlanStep, PlanVersion

    # A fire plan of A: version 1 approved, version 2 a draft (the target, so that a write
    # that got through would succeed: edit, approve, discard).
    emergency_plan = EmergencyPlan.objects.create(
        community=a.community, incident_type="fire", title="翠苑火灾应急预案"
    )
    approved_version = PlanVersion.objects.create(
        plan=emergency_plan,
        number=1,
        status="approved",
        summary="翠苑预案范围",
        assembly_note="翠苑集合点",
        approved_at=device.created_at,
    )
    plan_version = PlanVersion.objects.create(
        plan=emergency_plan, number=2, status="draft", based_on=approved_version
    )
    for version in (approved_version, plan_version):
        PlanStep.objects.create(
            version=version, position=1, title="翠苑预案步骤", duty_role="guard", target_minutes=5
        )
        PlanContact.objects.create(
            version=version, position=1, name="翠苑预案联系人", phone="13600001111"
        )
        version.evacuation_zones.add(a.zone)

    from anwang.incidents.models import (
        ActionItem,
        AfterActionReview,
        Incident,
        IncidentLogEntry,
        IncidentTask,
    )

    # An open fire incident of A linked to its alarm, with a guard's task, a timeline line, a
    # review and an action item (made directly: the probe needs every kind of object at once).
    incident = Incident.objects.create(
        community=a.community,
        incident_type="fire",
        title="翠苑火情探针",
        description="翠苑事件描述",
        zone=a.zone,
        plan_version=approved_version,
        declared_at=device.created_at,
        declared_by=world.user("operator"),
    )
    incident.alarms.add(alarm, through_defaults={"linked_at": device.created_at})
    incident_task = IncidentTask.objects.create(
        incident=incident,
        position=1,
        title="翠苑疏散任务",
        duty_role="guard",
        assignee=world.user("guard"),
        due_at=device.created_at + dt.timedelta(minutes=10),
    )
    IncidentLogEntry.objects.create(
        incident=incident, at=device.created_at, kind="note", text="翠苑时间线记录"
    )
    review = AfterActionReview.objects.create(
        incident=incident, what_worked="翠苑复盘记录", written_at=device.created_at
    )
    action_item = ActionItem.objects.create(
        review=review, description="翠苑整改事项", owner=world.user("guard")
    )

    from anwang.notifications.models import ChannelConfig
    from anwang.notifications.services import notify

    # A group robot of A (its secret must never show) and a message to A's guard in the inbox.
    channel_config = ChannelConfig.objects.create(
        community=a.community,
        channel="wecom",
        name="翠苑值班群机器人",
        settings={"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"},
        secret="翠苑机器人密钥",
    )
    notification = notify(
        recipients=[world.user("guard")],
        kind="hazard.assigned",
        title="翠苑通知探针",
        body="翠苑通知正文",
        community=a.community,
        needs_confirmation=True,
        channels=["inbox"],
    )

    from anwang.alerts.cap_in import feed_create, incoming_ingest
    from anwang.alerts.models import DoorKnockTask
    from anwang.alerts.services import alert_create, alert_publish
    from anwang.alerts.tests.cap_support import chinese_cap

    # A safety alert sent to the neighbour's household only (not public, and not to the
    # resident of A), a door-knock visit for A's grid worker, an alert received from upstream
    # and an upstream feed.
    safety_alert = alert_create(
        actor=admin_a,
        community=a.community,
        event="台风",
        category="Met",
        severity="Severe",
        urgency="Expected",
        certainty="Likely",
        headline="翠苑台风探针",
        description="翠苑预警正文",
        whole_community=False,
        household_ids=[household.pk],
        confirmation="safe",
    )
    safety_alert = alert_publish(actor=admin_a, alert=safety_alert)
    door_knock = DoorKnockTask.objects.create(
        alert=safety_alert,
        household=household,
        assignee=world.user("grid_worker"),
        created_at=safety_alert.created_at,
    )
    incoming, _created = incoming_ingest(
        community=a.community,
        xml=chinese_cap("翠苑-PROBE").replace("暴雨橙色预警".encode(), "翠苑上游预警探针".encode()),
    )
    cap_feed = feed_create(
        actor=admin_a,
        community=a.community,
        name="翠苑气象台订阅",
        url="http://127.0.0.1:9/cap.xml",
    )

    from anwang.access import passes as access_passes
    from anwang.access import services as access_services

    # The neighbour's card and face consent, a gate, a barred person and the neighbour's
    # visitor: none of them the resident of A's own.
    access_point = access_services.access_point_create(
        actor=admin_a, community=a.community, name="翠苑北门门禁", kind="gate"
    )
    access_credential = access_services.credential_create(
        actor=admin_a, resident=resident, kind="card", value="3954678211", label="翠苑门禁卡"
    )
    consent = access_services.consent_record(
        actor=admin_a, resident=resident, kind="face", how="翠苑书面同意书"
    )
    watch_entry = access_services.watch_add(
        actor=admin_a,
        community=a.community,
        kind="person",
        description="翠苑闯入者",
        reason="翠苑门禁探针",
    )
    visitor_pass = access_passes.pass_create(
        actor=neighbour,
        household=household,
        visitor_name="翠苑访客",
        visitor_phone="13600003333",
        valid_from=timezone.now(),
        valid_until=timezone.now() + dt.timedelta(hours=4),
    )
    from anwang.access.models import AccessFinding, ConsentRecord
    from anwang.welfare.models import WelfareCheck, WelfareWatch

    probe_now = timezone.now()
    access_finding = AccessFinding.objects.create(
        community=a.community,
        detector="outside_hours",
        at=probe_now,
        access_point=access_point,
        credential=access_credential,
        resident=resident,
        explanation={"local_time": "02:13", "permitted_from": "08:00", "permitted_until": "18:00"},
        key=f"outside_hours:{int(probe_now.timestamp())}:{access_point.pk}:0:{resident.pk}",
        found_at=probe_now,
    )
    welfare_consent = ConsentRecord.objects.create(
        resident=resident, kind="welfare", given_at=probe_now, how="翠苑关爱探访同意书"
    )
    welfare_watch = WelfareWatch.objects.create(
        community=a.community,
        resident=resident,
        consent=welfare_consent,
        enrolled_at=probe_now - dt.timedelta(days=3),
        family_contact=contact,
    )
    welfare_check = WelfareCheck.objects.create(
        watch=welfare_watch,
        community=a.community,
        household=household,
        opened_at=probe_now,
        quiet_since=probe_now - dt.timedelta(hours=25),
        threshold_hours=24,
        escalate_at=probe_now + dt.timedelta(hours=2),
        note="翠苑关爱探访探针",
    )

    staff_targets = {
        "region": a.region.pk,
        "community": a.community.pk,
        "grid": a.grid.pk,
        "building": a.building.pk,
        "unit": a.unit.pk,
        "household": a.household.pk,
        "zone": a.zone.pk,
        "resident": a.resident.pk,
        "contact": a.contact.pk,
        "binding": own_binding.pk,
        "token": token.pk,
        "user": admin_a.pk,
        "membership": membership.pk,
        "event": event.pk,
        "device": device.pk,
        "credential": credential.pk,
        "device_event": device_event.pk,
        "dead_letter": dead_letter.pk,
        "rule": rule.pk,
        "alarm": alarm.pk,
        "handover": handover.pk,
        "checkpoint": checkpoint.pk,
        "patrol_route": patrol_route.pk,
        "patrol_run": patrol_run.pk,
        "patrol_schedule": patrol_schedule.pk,
        "course": course.pk,
        "training_session": training_session.pk,
        "attendance": attendance.pk,
        "certificate": certificate.pk,
        "drill": drill.pk,
        "drill_finding": drill_finding.pk,
        "volunteer": volunteer.pk,
        "team": team.pk,
        "shift": shift.pk,
        "point_entry": point_entry.pk,
        "hazard": hazard.pk,
        "hazard_step": hazard_step.pk,
        "asset": asset.pk,
        "checklist": checklist.pk,
        "plan": plan.pk,
        "inspection": inspection.pk,
        "pattern": duty_pattern.pk,
        "duty_exception": duty_exception.pk,
        "responsibility": responsibility.pk,
        "emergency_plan": emergency_plan.pk,
        "plan_version": plan_version.pk,
        "incident": incident.pk,
        "incident_task": incident_task.pk,
        "action_item": action_item.pk,
        "notification": notification.pk,
        "channel_config": channel_config.pk,
        "alert": safety_alert.pk,
        "task": door_knock.pk,
        "incoming": incoming.pk,
        "feed": cap_feed.pk,
        "access_point": access_point.pk,
        "access_credential": access_credential.pk,
        "consent": consent.pk,
        "watch_entry": watch_entry.pk,
        "visitor_pass": visitor_pass.pk,
        "access_finding": access_finding.pk,
        "welfare_watch": welfare_watch.pk,
        "welfare_check": welfare_check.pk,
    }
    resident_targets = staff_targets | {
        "household": household.pk,
        "resident": resident.pk,
        "contact": contact.pk,
        "binding": binding.pk,
    }
    neighbour_text = ("a王五", "a赵六", NEIGHBOUR_PHONE, NEIGHBOUR_PHONE_MASKED, NEIGHBOUR_ID)
    staff_secrets = Secrets(
        contains=(
            a.region.name,
            a.community.name,
            a.grid.name,
            "翠苑北门",
            "翠苑1号楼",
            "翠苑北门摄像头",
            "a_north_gate",
            "翠苑夜间探针规则",
            "翠苑北门烟感告警",
            "翠苑交班记录",
            "翠苑北门巡更点",
            "翠苑夜巡路线",
            "翠苑消防培训",
            "翠苑活动室",
            "翠苑消防疏散演练",
            "翠苑演练发现",
            "翠苑志愿者申请",
            "翠苑志愿巡逻队",
            "翠苑志愿夜巡",
            "翠苑志愿积分",
            "翠苑隐患探针",
            "翠苑灭火器探针",
            "翠苑设施位置",
            "翠苑设施历史",
            "翠苑灭火器检查表",
            "翠苑压力表检查项",
            "翠苑月度巡检计划",
            "翠苑值班探针",
            "翠苑调班探针",
            "翠苑责任探针",
            "翠苑火灾应急预案",
            "翠苑预案范围",
            "翠苑集合点",
            "翠苑预案步骤",
            "翠苑预案联系人",
            "翠苑火情探针",
            "翠苑事件描述",
            "翠苑疏散任务",
            "翠苑时间线记录",
            "翠苑复盘记录",
            "翠苑整改事项",
            "翠苑值班群机器人",
            "翠苑机器人密钥",
            "翠苑通知探针",
            "翠苑通知正文",
            "翠苑台风探针",
            "翠苑预警正文",
            "翠苑上游预警探针",
            "翠苑气象台订阅",
            "翠苑北门门禁",
            "翠苑门禁卡",
            "3954678211",
            "翠苑书面同意书",
            "翠苑闯入者",
            "翠苑门禁探针",
            "翠苑访客",
            a.resident.name,
            a.contact.name,
            *neighbour_text,
        ),
        exact=frozenset({*(u.username for u in a.users.values()), "a_neighbour", a.region.code}),
        community_ids=frozenset({a.community.pk}),
    )
    resident_secrets = Secrets(contains=neighbour_text, exact=frozenset({"a_neighbour"}))
    return Probe(world, staff_targets, resident_targets, staff_secrets, resident_secrets)


def session(user: Any, *, csrf_checks: bool = False) -> Callable[[], tuple[Client, dict[str, str]]]:
    """A fresh logged-in client per request, so a route that ends the session hides nothing."""

    def connect() -> tuple[Client, dict[str, str]]:
        client = Client(raise_request_exception=False, enforce_csrf_checks=csrf_checks)
        client.force_login(user)
        return client, {}

    return connect


def bearer(user: Any, community_id: int) -> Callable[[], tuple[Client, dict[str, str]]]:
    """A fresh token limited to one community per request."""
    from anwang.accounts.services import api_token_create

    def connect() -> tuple[Client, dict[str, str]]:
        _token, raw = api_token_create(
            actor=None, user=user, name="probe", community_id=community_id
        )
        return Client(raise_request_exception=False), {"Authorization": f"Bearer {raw}"}

    return connect


def make_caller(name: str, probe: Probe) -> Caller:
    """The scoped caller called ``name``."""
    world = probe.world
    if name == "resident_of_a":
        return Caller(
            name, session(world.user("resident")), probe.resident_targets, probe.resident_secrets
        )
    if name == "admin_of_b":
        return Caller(
            name,
            session(world.user("community_admin", "b")),
            probe.staff_targets,
            probe.staff_secrets,
        )
    if name == "token_limited_to_b":
        from anwang.accounts.choices import Role
        from anwang.accounts.models import Membership

        both = make_user("probe_token_admin")
        for side in (world.a, world.b):
            Membership.objects.create(
                user=both, role=Role.COMMUNITY_ADMIN, community=side.community
            )
        return Caller(
            name, bearer(both, world.b.community.pk), probe.staff_targets, probe.staff_secrets
        )
    raise AssertionError(name)


# --- the tests -------------------------------------------------------------------------------


def _ids(route: Route) -> str:
    return str(route)


def test_routes_are_discovered() -> None:
    keys = {route.key for route in ROUTES}
    assert ("GET", "/api/v1/health") in keys, sorted(keys)
    assert any(not route.is_public for route in ROUTES)


def test_public_routes_are_exactly_the_unauthenticated_ones() -> None:
    unauthenticated = {route.key for route in ROUTES if route.is_public} - DEVICE_ROUTES.keys()
    unlisted = sorted(unauthenticated - PUBLIC_ROUTES.keys())
    stale = sorted(PUBLIC_ROUTES.keys() - unauthenticated)
    assert not unlisted, f"routes without authentication missing from PUBLIC_ROUTES: {unlisted}"
    assert not stale, f"PUBLIC_ROUTES lists routes that do not exist or need auth: {stale}"
    assert all(reason.strip() for reason in PUBLIC_ROUTES.values())


def test_device_routes_exist_and_take_no_user_authentication() -> None:
    routes = {route.key: route for route in ROUTES}
    stale = sorted(DEVICE_ROUTES.keys() - routes.keys())
    assert not stale, f"DEVICE_ROUTES lists routes that do not exist: {stale}"
    with_user_auth = sorted(key for key in DEVICE_ROUTES if not routes[key].is_public)
    assert not with_user_auth, f"device routes must authenticate devices only: {with_user_auth}"
    assert all(reason.strip() for reason in DEVICE_ROUTES.values())


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
def test_every_path_parameter_can_be_filled(route: Route) -> None:
    unknown = [
        name
        for name in route.path_params
        if (not name.endswith("_id") or name.removesuffix("_id") not in ENTITY_PARAMS)
        and not (route.is_device_route and name in DEVICE_PATH_VALUES)
    ]
    assert not unknown, (
        f"{route}: path parameter(s) {unknown} are not named by entity "
        f"({', '.join('{' + e + '_id}' for e in ENTITY_PARAMS)}); the authorisation test "
        "cannot fill them, so rename them or teach tests/test_authorization.py the new entity"
    )


def test_openapi_schema_builds() -> None:
    listed = set(openapi().operations)
    hidden = {route.key for route in ROUTES if not route.operation.include_in_schema}
    missing = sorted({route.key for route in ROUTES} - listed - hidden)
    assert not missing, f"routes missing from the OpenAPI schema: {missing}"


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
def test_every_route_is_documented(route: Route) -> None:
    assert route.operation.tags, f"{route} has no OpenAPI tag (give its Router tags=[...])"
    assert (route.operation.summary or "").strip(), f"{route} has no summary"
    assert (route.operation.description or "").strip(), (
        f"{route} has no description (write a docstring on the handler)"
    )


def device_calls(builder: RequestBuilder, route: Route) -> list[Call]:
    """A request of a device route for every combination of its non-entity path values."""
    names = [name for name in route.path_params if name in DEVICE_PATH_VALUES]
    combinations: list[dict[str, str]] = [{}]
    for name in names:
        combinations = [c | {name: v} for c in combinations for v in DEVICE_PATH_VALUES[name]]
    return [builder.build(route, path_values=values) for values in combinations]


def test_anonymous_callers_are_refused(probe: Probe) -> None:
    builder = RequestBuilder(probe.staff_targets, need_schema=False)
    holes: list[str] = []
    device_calls_made = 0
    for route in ROUTES:
        if route.is_device_route:
            for call in device_calls(builder, route):
                for secure in (False, True):
                    response = send(Client(raise_request_exception=False), call, secure=secure)
                    device_calls_made += 1
                    if response.status_code != 401 or "WWW-Authenticate" not in response:
                        holes.append(
                            f"{route} [{call.url}, secure={secure}] -> "
                            f"{response.status_code}: expected 401 with WWW-Authenticate "
                            "without device credentials"
                        )
            continue
        try:
            call = builder.build(route)
        except UnfillableParameterError as error:
            holes.append(f"{route}: cannot fill path parameter {{{error}}}")
            continue
        response = send(Client(raise_request_exception=False), call)
        if response.status_code >= 500:
            holes.append(f"{route} -> {response.status_code}: {_explain(response)}")
        elif not route.is_public and response.status_code not in {401, 403}:
            holes.append(f"{route} -> {response.status_code}: expected 401 without credentials")
    assert device_calls_made or not DEVICE_ROUTES
    if holes:
        pytest.fail(
            f"{len(holes)} problem(s) for anonymous callers:\n" + "\n".join(holes), pytrace=False
        )


@pytest.mark.parametrize("caller_name", ["resident_of_a", "admin_of_b", "token_limited_to_b"])
def test_scoped_callers_never_reach_community_a(probe: Probe, caller_name: str) -> None:
    caller = make_caller(caller_name, probe)
    routes = [route for route in ROUTES if not route.is_public]
    called, holes = probe_routes(caller, routes)
    assert called or not routes
    if holes:
        pytest.fail(
            f"{len(holes)} hole(s) in {called} route(s) called as {caller_name}:\n"
            + "\n".join(holes),
            pytrace=False,
        )


def test_session_writes_need_the_csrf_token(probe: Probe) -> None:
    admin = probe.world.user("community_admin")
    connect = session(admin, csrf_checks=True)
    builder = RequestBuilder(probe.staff_targets, need_schema=False)
    holes: list[str] = []
    for route in ROUTES:
        if route.is_public or route.method not in WRITE_METHODS:
            continue
        call = builder.build(route)
        client, _headers = connect()
        response = send(client, call)
        if response.status_code not in {401, 403}:
            holes.append(f"{route} -> {response.status_code}: expected 403 without a CSRF token")
    if holes:
        pytest.fail("\n".join(holes), pytrace=False)


@pytest.mark.parametrize("caller_name", ["admin_of_a_session", "admin_of_a_token"])
def test_device_routes_refuse_people(probe: Probe, caller_name: str) -> None:
    """A person's session or API token is not a device credential, however powerful."""
    from anwang.events.models import DeviceEvent

    admin = probe.world.user("community_admin")
    if caller_name == "admin_of_a_session":
        connect = session(admin)
    else:
        connect = bearer(admin, probe.world.a.community.pk)
    builder = RequestBuilder(probe.staff_targets)
    before = DeviceEvent.objects.count()
    holes: list[str] = []
    called = 0
    for route in ROUTES:
        if not route.is_device_route:
            continue
        for call in device_calls(builder, route):
            for secure in (False, True):
                client, headers = connect()
                response = send(client, call, headers, secure=secure)
                called += 1
                if response.status_code != 401:
                    holes.append(
                        f"{route} [{call.url}, secure={secure}] -> {response.status_code}: "
                        "expected 401"
                    )
    assert called or not DEVICE_ROUTES
    assert DeviceEvent.objects.count() == before
    if holes:
        pytest.fail("\n".join(holes), pytrace=False)


def test_the_probe_detects_a_leak(probe: Probe) -> None:
    """Guards the guard: a response echoing a community-A name must count as a leak."""
    leaky = HttpResponse(json.dumps({"items": [{"name": probe.world.a.resident.name}]}))
    assert leaks(leaky, probe.staff_secrets)
    assert leaks(
        HttpResponse(json.dumps({"community_id": probe.world.a.community.pk})), probe.staff_secrets
    )
    assert not leaks(HttpResponse(json.dumps({"items": [{"name": "b张三"}]})), probe.staff_secrets)


OPEN311_PUBLIC_READS: dict[str, str] = {
    "/open311/v2/discovery.{fmt}": "the GeoReport v2 discovery document",
    "/open311/v2/services.{fmt}": "the hazard categories as Open311 services",
    "/open311/v2/services/{code}.{fmt}": "one service's definition",
    "/open311/v2/requests.{fmt}": "hazard reports, without anyone's identity",
    "/open311/v2/requests/{id}.{fmt}": "one hazard report, without anyone's identity",
    "/open311/v2/tokens/{token}.{fmt}": "which report a filing token became",
}
"""Open311 GeoReport v2 reads: public by design (an existing Open311 client follows reports
without an account), plain Django views outside the NinjaAPI, so listed here. They never carry
the reporter's or anyone else's identity; filing (POST) needs an ``api_key``
(``src/anwang/hazards/tests/test_open311.py`` covers both in depth)."""


@pytest.mark.parametrize("path", sorted(OPEN311_PUBLIC_READS))
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_reads_are_public_and_name_nobody(world: World, path: str, fmt: str) -> None:
    from anwang.hazards.models import Hazard

    reporter = world.user("resident")
    reporter.email = "hazard-reporter@example.org"
    reporter.save()
    hazard = Hazard.objects.create(
        community=world.a.community,
        reported_at=dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC),
        category="broken_light",
        description="楼道灯坏了",
        reporter=reporter,
        assignee=world.user("guard"),
        building=world.a.building,
    )
    url = (
        path.format(fmt=fmt, code="broken_light", id=hazard.pk, token=hazard.public_token)
        + f"?jurisdiction_id={world.a.community.slug}"
    )
    response = Client().get(url)
    assert response.status_code == 200, (url, response.content[:300])
    body = response.content.decode()
    for secret in (
        reporter.username,
        reporter.email,
        str(reporter),
        world.user("guard").username,
        str(world.user("guard")),
    ):
        assert secret not in body, (url, secret)
