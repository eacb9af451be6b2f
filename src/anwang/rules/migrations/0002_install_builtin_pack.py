"""Install the built-in rule pack in every community that existed before rules did (new
communities get it from ``community_create``). Idempotent by built-in code, like
:func:`anwang.rules.services.rules_install_builtin`, which it mirrors with the historical
models (no audit entries: the system installs the pack, as for a new community)."""

from typing import Any

from django.conf import settings
from django.db import migrations
from django.utils import translation


def install_pack(apps: Any, schema_editor: Any) -> None:
    from anwang.rules.pack import PACK

    community_model = apps.get_model("places", "Community")
    rule_model = apps.get_model("rules", "Rule")
    with translation.override(settings.LANGUAGE_CODE):
        for community in community_model.objects.all():
            rules = rule_model.objects.filter(community=community)
            codes = set(rules.exclude(builtin="").values_list("builtin", flat=True))
            taken = set(rules.values_list("name", flat=True))
            for item in PACK:
                if item.code in codes:
                    continue
                name, number = translation.gettext(item.name), 1
                candidate = name
                while candidate in taken:
                    number += 1
                    candidate = f"{name} ({number})"
                taken.add(candidate)
                rule_model.objects.create(
                    community=community,
                    name=candidate,
                    description=translation.gettext(item.description),
                    kind=item.kind,
                    condition=dict(item.condition),
                    params=dict(item.params),
                    priority=item.priority,
                    title_template=item.title_template,
                    group_by=item.group_by,
                    cooldown_seconds=item.cooldown_seconds,
                    schedule=dict(item.schedule),
                    enabled=True,
                    builtin=item.code,
                )


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0001_initial"),
        ("rules", "0001_initial"),
    ]

    operations = [migrations.RunPython(install_pack, migrations.RunPython.noop)]
