"""Install the rules the pack gained with access anomaly findings (impossible travel, a
restricted area outside its hours, repeated refusals) in every existing community, with the
same idempotent installer as 0002: codes a community already has are skipped."""

from importlib import import_module

from django.db import migrations

install_pack = import_module("anwang.rules.migrations.0002_install_builtin_pack").install_pack


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0002_install_builtin_pack"),
    ]

    operations = [migrations.RunPython(install_pack, migrations.RunPython.noop)]
