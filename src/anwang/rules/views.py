"""Pages of the rules domain: a community's rules with enable toggles, the rule editor with its
'test against the last 24 h' preview, YAML import and export.

Views read through :mod:`anwang.rules.selectors` and write through :mod:`anwang.rules.services`;
they hold no rules. People who see a community's alarms see its rules read-only; editing needs
the manage-rules permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from anwang.accounts.selectors import Scope
from anwang.core.errors import ServiceError
from anwang.core.pages import int_param, is_htmx, page_scope, page_user, paginate
from anwang.core.selectors import page_community
from anwang.core.tables import ImportRejectedError
from anwang.places.models import Community
from anwang.rules import selectors, services
from anwang.rules.choices import RuleKind
from anwang.rules.forms import (
    PARAM_FIELDS,
    ImportForm,
    RuleForm,
    condition_summary,
    initial_for,
    schedule_summary,
)
from anwang.rules.models import Rule
from anwang.rules.preview import preview_rule

RULE_FIELDS = (
    "name",
    "description",
    "kind",
    "priority",
    "title_template",
    "group_by",
    "cooldown_seconds",
    "enabled",
)
PARAMS = tuple(dict.fromkeys(name for names in PARAM_FIELDS.values() for name in names))
SCHEDULE_FIELDS = ("start", "end", "days", "weekdays", "holidays")


def _page_community(request: HttpRequest, scope: Scope, *, manage: bool = False) -> Community:
    """The community a list or create page works in: the one chosen in the top bar if the
    person may view (or, for ``manage``, edit) its rules there, else their first such one."""
    return page_community(
        request,
        scope,
        allowed=selectors.can_manage if manage else selectors.can_view,
        fallback=None if manage else selectors.viewable_communities(scope),
    )


def _require_manage(scope: Scope, community_id: int) -> None:
    if not selectors.can_manage(scope, community_id):
        raise PermissionDenied


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules of the current community: kind, priority, schedule and an enable toggle."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    kind = request.GET.get("kind", "")
    rules = selectors.rule_list(
        scope,
        community_id=community.pk,
        kind=kind if kind in RuleKind.values else None,
        q=request.GET.get("q") or None,
    )
    page, query = paginate(request, rules)
    rows = [
        {"rule": rule, "schedule": schedule_summary(rule.schedule)} for rule in page.object_list
    ]
    return render(
        request,
        "rules/rule_list.html",
        {
            "community": community,
            "page": page,
            "rows": rows,
            "query": query,
            "kind": kind,
            "q": request.GET.get("q", ""),
            "kinds": RuleKind.choices,
            "can_manage": selectors.can_manage(scope, community.pk),
        },
    )


def _attach(form: RuleForm, error: ServiceError) -> None:
    problems = (
        error.problems
        if isinstance(error, services.RuleInvalidError)
        else [services.FieldProblem(error.field or "", str(error.message))]
    )
    for problem in problems:
        form.add_error(form.field_for(problem.field, problem.path), problem.message)


def _editor(
    request: HttpRequest,
    form: RuleForm,
    *,
    community: Community,
    rule: Rule | None,
    can_manage: bool,
    condition: Any,
) -> HttpResponse:
    if not can_manage:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "rules/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "community": community,
            "can_manage": can_manage,
            "condition_summary": condition_summary(condition) if condition is not None else "",
            "rule_fields": [form[name] for name in RULE_FIELDS],
            "param_fields": [form[name] for name in PARAMS],
            "schedule_fields": [form[name] for name in SCHEDULE_FIELDS],
        },
        status=400 if form.errors and request.method == "POST" else 200,
    )


@login_required
def rule_create(request: HttpRequest) -> HttpResponse:
    """Write a new rule for the current community."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    form = RuleForm(request.POST or None, initial={"priority": 2, "enabled": True})
    condition: Any = {}
    if request.method == "POST" and form.is_valid():
        values = form.rule_values()
        condition = values["condition"]
        if form.is_valid():
            try:
                rule = services.rule_create(
                    actor=page_user(request), scope=scope, community=community, **values
                )
            except ServiceError as error:
                _attach(form, error)
            else:
                messages.success(request, _("Rule “%(name)s” was created.") % {"name": rule})
                return redirect("rules:rule_list")
    return _editor(
        request, form, community=community, rule=None, can_manage=True, condition=condition
    )


@login_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A rule in the editor (read-only for people who may not edit rules)."""
    scope = page_scope(request)
    rule = selectors.rule_get(scope, pk)
    can_manage = selectors.can_manage(scope, rule.community_id)
    if request.method == "POST":
        _require_manage(scope, rule.community_id)
    stored = {key: getattr(rule, key) for key in services.EDITABLE_FIELDS}
    form = RuleForm(request.POST or None, initial=initial_for(stored))
    condition: Any = rule.condition
    if request.method == "POST" and form.is_valid():
        values = form.rule_values()
        condition = values["condition"]
        if form.is_valid():
            try:
                services.rule_update(actor=page_user(request), scope=scope, rule=rule, **values)
            except ServiceError as error:
                _attach(form, error)
            else:
                messages.success(request, _("The changes were saved."))
                return redirect("rules:rule_list")
    return _editor(
        request,
        form,
        community=rule.community,
        rule=rule,
        can_manage=can_manage,
        condition=condition,
    )


@login_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Enable or disable a rule; htmx gets the toggle back, others the list."""
    scope = page_scope(request)
    rule = selectors.rule_get(scope, pk)
    _require_manage(scope, rule.community_id)
    if rule.enabled:
        services.rule_disable(actor=page_user(request), scope=scope, rule=rule)
    else:
        services.rule_enable(actor=page_user(request), scope=scope, rule=rule)
    if is_htmx(request):
        return render(request, "rules/_toggle.html", {"rule": rule, "can_manage": True})
    return redirect("rules:rule_list")


@login_required
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask before deleting a rule; on POST delete it (built-in rules cannot be deleted)."""
    scope = page_scope(request)
    rule = selectors.rule_get(scope, pk)
    _require_manage(scope, rule.community_id)
    error = ""
    if request.method == "POST":
        try:
            services.rule_delete(actor=page_user(request), scope=scope, rule=rule)
        except ServiceError as refused:
            error = str(refused.message)
        else:
            messages.success(request, _("“%(name)s” was deleted.") % {"name": rule.name})
            return redirect("rules:rule_list")
    return render(
        request,
        "rules/confirm_delete.html",
        {"rule": rule, "error": error},
        status=409 if error else 200,
    )


@login_required
@require_POST
def rule_preview(request: HttpRequest) -> HttpResponse:
    """The editor's values tested against the last 24 h of the community's events (an htmx
    fragment; nothing is saved)."""
    scope = page_scope(request)
    rule_id = int_param(request.POST.get("rule_id"))
    if rule_id is not None:
        community = selectors.rule_get(scope, rule_id).community
        _require_manage(scope, community.pk)
    else:
        community = _page_community(request, scope, manage=True)
    form = RuleForm(request.POST)
    problems: list[str] = []
    preview = None
    if form.is_valid():
        values = form.rule_values()
    if form.is_valid():
        checked, found = services.check_rule(values)
        if checked is None:
            problems = [problem.message for problem in found]
        else:
            preview = preview_rule(community_id=community.pk, values=checked, rule_id=rule_id)
    else:
        problems = [
            f"{form.fields[name].label if name in form.fields else ''} {message}".strip()
            for name, messages_ in form.errors.items()
            for message in messages_
        ]
    return render(
        request,
        "rules/_preview.html",
        {"preview": preview, "problems": problems, "community": community},
    )


@login_required
def rule_import(request: HttpRequest) -> HttpResponse:
    """Upload or paste a YAML file; every rule is checked and nothing is imported if any
    rule has a problem."""
    scope = page_scope(request)
    community = _page_community(request, scope, manage=True)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        text = form.cleaned_data.get("text") or ""
        if upload is not None:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", _("The file must be UTF-8 text."))
        if not text.strip() and not form.errors:
            form.add_error(None, _("Upload a YAML file or paste its text."))
        if not form.errors:
            try:
                rules = services.rules_import_yaml(
                    actor=page_user(request),
                    scope=scope,
                    community=community,
                    text=text,
                    replace=form.cleaned_data.get("replace", False),
                )
            except ImportRejectedError as rejected:
                errors = rejected.errors
                form.add_error(None, str(rejected.message))
            else:
                messages.success(request, _("Imported %(count)d rules.") % {"count": len(rules)})
                return redirect("rules:rule_list")
    return render(
        request,
        "rules/rule_import.html",
        {"form": form, "errors": errors, "community": community},
        status=400 if errors else 200,
    )


@login_required
@require_GET
def rule_export(request: HttpRequest) -> HttpResponse:
    """Download the current community's rules as YAML (the import reads it again)."""
    scope = page_scope(request)
    community = _page_community(request, scope)
    response = HttpResponse(
        selectors.rules_export_yaml(scope, community),
        content_type="application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="rules-{community.slug}.yaml"'
    return response
