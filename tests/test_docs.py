"""Documentation pages that restate the code must not drift from it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from anwang.accounts.choices import Permission, Role
from anwang.accounts.roles import ROLE_PERMISSIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def role_table() -> dict[str, dict[str, bool]]:
    """The role x permission table of docs/roles-and-permissions.md: permission -> role -> ✓."""
    text = (DOCS / "roles-and-permissions.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- role-table:start -->\n(.*?)<!-- role-table:end -->", text, re.S)
    assert match, "docs/roles-and-permissions.md lost its role-table markers"
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in match.group(1).splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    header, body = rows[0], rows[1:]
    roles = [cell.strip("`") for cell in header[1:]]
    table: dict[str, dict[str, bool]] = {}
    for row in body:
        permission = re.match(r"`([a-z_]+)`", row[0])
        assert permission, f"cannot read the permission of row {row}"
        table[permission.group(1)] = {
            role: cell == "✓" for role, cell in zip(roles, row[1:], strict=True)
        }
    return table


def test_role_table_matches_the_code() -> None:
    table = role_table()
    assert set(table) == set(Permission.values), "permissions listed differ from the code"
    for permission, marks in table.items():
        assert set(marks) == set(Role.values), f"roles of {permission} differ from the code"
        for role, granted in marks.items():
            expected = Permission(permission) in ROLE_PERMISSIONS[Role(role)]
            assert granted == expected, (
                f"docs/roles-and-permissions.md says {role} {'has' if granted else 'lacks'} "
                f"{permission}; anwang.accounts.roles says the opposite"
            )


def test_every_role_is_described() -> None:
    text = (DOCS / "roles-and-permissions.md").read_text(encoding="utf-8")
    for role in Role.values:
        assert f"| `{role}` |" in text, f"role {role} has no row in the roles table"


def test_every_dependency_is_explained() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    text = (DOCS / "development" / "dependencies.md").read_text(encoding="utf-8")
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    names = [re.split(r"[\[<>=!~ ]", line, maxsplit=1)[0] for line in requirements]
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, f"docs/development/dependencies.md does not explain {missing}"
