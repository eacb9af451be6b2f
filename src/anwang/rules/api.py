"""JSON API of the rules domain: alarm rules, the built-in pack, YAML import and export, and the
'last 24 h' preview.

Reads are scoped: a rule of a community whose rules the caller cannot see is 404. Writes and
previews need the manage-rules permission in the rule's community (403 when the caller can see
the rules but not edit them). A rule that the engine or the record refuses answers 400 with one
entry per field in ``errors``.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anwang.accounts.selectors import Scope
from anwang.core.api_helpers import request_actor, request_scope
from anwang.core.errors import ServiceError
from anwang.core.tables import ImportRejectedError
from anwang.places.models import Community
from anwang.rules import selectors, services
from anwang.rules.choices import RuleKind
from anwang.rules.models import Rule
from anwang.rules.pack import PACK
from anwang.rules.preview import Preview, preview_rule
from anwang.rules.schemas import (
    ImportOut,
    PackRuleOut,
    PreviewOut,
    RuleIn,
    RuleOut,
    RulePatch,
    RulesRejectedOut,
)

router = Router(tags=["rules"])
PAGE_SIZE = 50
MAX_IMPORT_BYTES = 1024 * 1024
YAML_CONTENT_TYPE = "application/yaml; charset=utf-8"


def _community(scope: Scope, community_id: int | None, *, manage: bool) -> Community:
    """The community given (404 unless its rules are visible, 403 if they may not be edited
    when ``manage``), or the only one whose rules the caller may see."""
    if community_id is None:
        ids = selectors.visible_community_ids(scope)
        if len(ids) != 1:
            raise ServiceError(_("Choose a community."), field="community_id")
        community_id = next(iter(ids))
    if not selectors.can_view(scope, community_id):
        raise Http404
    if manage and not selectors.can_manage(scope, community_id):
        raise PermissionDenied
    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        raise Http404
    return community


def _require_manage(scope: Scope, rule: Rule) -> None:
    if not selectors.can_manage(scope, rule.community_id):
        raise PermissionDenied


def _rejected(error: services.RuleInvalidError) -> Status[dict[str, Any]]:
    return Status(
        400,
        {
            "detail": str(error.message),
            "code": "invalid",
            "errors": [
                {"loc": [problem.field], "msg": problem.message, "field": problem.field}
                for problem in error.problems
            ],
        },
    )


def _import_rejected(error: ImportRejectedError) -> Status[dict[str, Any]]:
    return Status(
        400,
        {
            "detail": str(error.message),
            "code": "import_rejected",
            "errors": [
                {
                    "loc": ["rules", problem.row, problem.column],
                    "msg": problem.message,
                    "rule": problem.row,
                    "field": problem.column,
                }
                for problem in error.errors
            ],
        },
    )


def _preview_body(preview: Preview) -> dict[str, Any]:
    return {
        "since": preview.since,
        "until": preview.until,
        "events_checked": preview.events_checked,
        "firing_count": preview.firing_count,
        "alarm_count": preview.alarm_count,
        "truncated": preview.truncated,
        "firings": [
            {
                "at": firing.at,
                "trigger_key": firing.trigger_key,
                "group_key": firing.group_key,
                "group": firing.group,
                "title": firing.title,
                "why": firing.why,
                "event_ids": list(firing.event_ids),
                "new_alarm": firing.new_alarm,
            }
            for firing in preview.firings
        ],
    }


@router.get("/rules", response=list[RuleOut], summary="List alarm rules")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def rule_list(
    request: HttpRequest,
    community_id: int | None = None,
    kind: RuleKind | None = None,
    enabled: bool | None = None,
    builtin: bool | None = None,
    q: str | None = None,
) -> QuerySet[Rule]:
    """Rules of the communities whose alarms (or rules) the caller may see."""
    return selectors.rule_list(
        request_scope(request),
        community_id=community_id,
        kind=kind,
        enabled=enabled,
        builtin=builtin,
        q=q,
    )


@router.post(
    "/rules", response={201: RuleOut, 400: RulesRejectedOut}, summary="Create an alarm rule"
)
def rule_create(request: HttpRequest, payload: RuleIn) -> Status[Any]:
    """Add a rule to a community; every problem is reported on its field."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = _community(scope, values.pop("community_id"), manage=True)
    try:
        rule = services.rule_create(
            actor=request_actor(request), scope=scope, community=community, **values
        )
    except services.RuleInvalidError as error:
        return _rejected(error)
    return Status(201, rule)


@router.get("/rules/pack", response=list[PackRuleOut], summary="The built-in rule pack")
def rule_pack(request: HttpRequest) -> list[dict[str, Any]]:
    """The definitions of the built-in rules that new communities start with (names and
    descriptions in the caller's language, title templates as the English source)."""
    return [
        item.as_data() | {"name": _(item.name), "description": _(item.description)} for item in PACK
    ]


@router.get(
    "/rules/export",
    summary="Export a community's rules as YAML",
    openapi_extra={
        "responses": {
            "200": {
                "description": "Every rule of the community as a YAML file the import reads.",
                "content": {"application/yaml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def rule_export(request: HttpRequest, community_id: int | None = None) -> HttpResponse:
    """Every rule of one community (the caller's only one if not given) as YAML."""
    scope = request_scope(request)
    community = _community(scope, community_id, manage=False)
    response = HttpResponse(
        selectors.rules_export_yaml(scope, community), content_type=YAML_CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="rules-{community.slug}.yaml"'
    return response


@router.post(
    "/rules/import",
    response={200: ImportOut, 400: RulesRejectedOut},
    summary="Import rules from YAML (all or nothing)",
)
def rule_import(
    request: HttpRequest,
    file: File[UploadedFile | None] = None,
    text: Form[str] = "",
    community_id: Form[int | None] = None,
    replace: Form[bool] = False,
) -> Status[Any]:
    """Create or update the rules of a YAML file (uploaded as ``file``, or sent as ``text``):
    a rule replaces the community's rule of the same built-in code, else of the same name.
    With ``replace`` the community's rules missing from the file are deleted (built-in ones
    disabled). Any problem rejects the whole file, listing each rule and field."""
    scope = request_scope(request)
    community = _community(scope, community_id, manage=True)
    if file is not None:
        if (file.size or 0) > MAX_IMPORT_BYTES:
            raise ServiceError(
                _("The file is larger than %(limit)d bytes.") % {"limit": MAX_IMPORT_BYTES},
                field="file",
            )
        content = file.read()
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ServiceError(_("The file must be UTF-8 text."), field="file") from error
    if not text.strip():
        raise ServiceError(_("Upload a YAML file or paste its text."), field="file")
    try:
        rules = services.rules_import_yaml(
            actor=request_actor(request),
            scope=scope,
            community=community,
            text=text,
            replace=replace,
        )
    except ImportRejectedError as error:
        return _import_rejected(error)
    return Status(200, {"rules": len(rules), "ids": [rule.pk for rule in rules]})


@router.post(
    "/rules/preview",
    response={200: PreviewOut, 400: RulesRejectedOut},
    summary="Preview an unsaved rule against the last 24 h",
)
def rule_preview_unsaved(request: HttpRequest, payload: RuleIn) -> Status[Any]:
    """What a rule not saved yet would have fired on its community's events of the last 24
    hours (nothing is saved)."""
    scope = request_scope(request)
    values = payload.model_dump()
    community = _community(scope, values.pop("community_id"), manage=True)
    checked, problems = services.check_rule(values)
    if checked is None:
        return _rejected(services.RuleInvalidError(problems))
    return Status(200, _preview_body(preview_rule(community_id=community.pk, values=checked)))


@router.get("/rules/{rule_id}", response=RuleOut, summary="Get an alarm rule")
def rule_get(request: HttpRequest, rule_id: int) -> Rule:
    """One rule."""
    return selectors.rule_get(request_scope(request), rule_id)


@router.patch(
    "/rules/{rule_id}", response={200: RuleOut, 400: RulesRejectedOut}, summary="Change a rule"
)
def rule_update(request: HttpRequest, rule_id: int, payload: RulePatch) -> Status[Any]:
    """Change a rule, built-in ones too; omitted fields keep their value."""
    scope = request_scope(request)
    rule = selectors.rule_get(scope, rule_id)
    values: dict[str, Any] = payload.model_dump(exclude_unset=True)
    for key, value in values.items():
        if value is None:
            raise ServiceError(_("This field may not be null."), field=key)
    try:
        services.rule_update(actor=request_actor(request), scope=scope, rule=rule, **values)
    except services.RuleInvalidError as error:
        return _rejected(error)
    return Status(200, rule)


@router.delete("/rules/{rule_id}", response={204: None}, summary="Delete a rule")
def rule_delete(request: HttpRequest, rule_id: int) -> Status[None]:
    """Delete a rule that is not built in (409 for a built-in one: disable it instead); its
    alarms stay."""
    scope = request_scope(request)
    rule = selectors.rule_get(scope, rule_id)
    services.rule_delete(actor=request_actor(request), scope=scope, rule=rule)
    return Status(204, None)


@router.post(
    "/rules/{rule_id}/preview",
    response=PreviewOut,
    summary="Preview a rule against the last 24 h",
)
def rule_preview(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    """What the rule, as saved, would have fired on its community's events of the last 24
    hours: the time, group, title and why of each firing, and whether it would have raised an
    alarm or joined the previous one."""
    scope = request_scope(request)
    rule = selectors.rule_get(scope, rule_id)
    _require_manage(scope, rule)
    checked, problems = services.check_rule(
        {key: getattr(rule, key) for key in services.EDITABLE_FIELDS}
    )
    if checked is None:
        raise services.RuleInvalidError(problems)
    return _preview_body(
        preview_rule(community_id=rule.community_id, values=checked, rule_id=rule.pk)
    )
