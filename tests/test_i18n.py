"""Both translation catalogues are complete and compiled, and pages follow the language choice.

The catalogues live in ``src/anwang/locale/<language>/LC_MESSAGES/django.po`` and are refreshed
with ``scripts/i18n``. Until they exist these tests fail with a message that says so.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "anwang"
CATALOGUES = {"zh_Hans": PACKAGE / "locale" / "zh_Hans", "en": PACKAGE / "locale" / "en"}
HOW_TO_MAKE = "run scripts/i18n, translate what `scripts/po_tool.py untranslated` lists"
# The same makemessages options as scripts/i18n, so both see the same strings.
MAKEMESSAGES_IGNORE = ["tests/*", "*/tests/*", "static/*"]


def po_path(language: str) -> Path:
    """The PO file of a language; fails the test with instructions when it does not exist."""
    path = CATALOGUES[language] / "LC_MESSAGES" / "django.po"
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} does not exist yet: {HOW_TO_MAKE}", pytrace=False)
    return path


def live_entries(path: Path) -> list[polib.POEntry]:
    """The messages of a PO file, without the header and obsolete entries."""
    return [entry for entry in polib.pofile(str(path)) if not entry.obsolete and entry.msgid]


def is_translated(entry: polib.POEntry) -> bool:
    """Whether every form of a message has a translation."""
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def mo_catalog(path: Path) -> dict[object, str]:
    """The messages of a compiled catalogue, as Python's gettext (and so Django) reads them."""
    with path.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


def compile_po(po: Path, tmp_path: Path) -> dict[object, str]:
    """Compile a PO file the way ``compilemessages`` does and read the result back."""
    output = tmp_path / "check.mo"
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        # Without GNU gettext, polib builds the same catalogue (it leaves fuzzy entries out too).
        polib.pofile(str(po)).save_as_mofile(str(output))
        return mo_catalog(output)
    result = subprocess.run(  # noqa: S603 - a fixed tool on files of this repository
        [msgfmt, "--check-format", "-o", str(output), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"msgfmt rejects {po}:\n{result.stderr}"
    return mo_catalog(output)


def _listing(entries: list[polib.POEntry]) -> str:
    return "\n".join(f"  line {entry.linenum}: {entry.msgid!r}" for entry in entries[:50])


def test_every_configured_language_has_a_catalogue() -> None:
    assert {code for code, _name in settings.LANGUAGES} == {"zh-hans", "en"}
    for language in CATALOGUES:
        po_path(language)


@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_catalogue_has_no_fuzzy_entry(language: str) -> None:
    # makemessages marks the header fuzzy and msgfmt keeps it anyway, so only messages count.
    fuzzy = [entry for entry in live_entries(po_path(language)) if entry.fuzzy]
    if fuzzy:
        pytest.fail(
            f"{len(fuzzy)} fuzzy {language} entries (check each, then drop the flag):\n"
            f"{_listing(fuzzy)}",
            pytrace=False,
        )


@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_catalogue_translates_everything(language: str) -> None:
    entries = live_entries(po_path(language))
    assert entries, f"the {language} catalogue is empty"
    untranslated = [entry for entry in entries if not is_translated(entry)]
    if untranslated:
        pytest.fail(
            f"{len(untranslated)} untranslated {language} entries ({HOW_TO_MAKE}):\n"
            f"{_listing(untranslated)}",
            pytrace=False,
        )


@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_compiled_catalogue_matches_its_source(language: str, tmp_path: Path) -> None:
    po = po_path(language)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: run scripts/i18n"
    expected = compile_po(po, tmp_path)
    actual = mo_catalog(mo)
    stale = f"{mo.relative_to(ROOT)} is out of date with its .po: run scripts/i18n"
    missing = sorted(str(key) for key in expected.keys() - actual.keys())
    extra = sorted(str(key) for key in actual.keys() - expected.keys())
    changed = sorted(
        str(key) for key in expected.keys() & actual.keys() if expected[key] != actual[key]
    )
    assert not missing, f"{stale}; not compiled: {missing[:10]}"
    assert not extra, f"{stale}; no longer in the .po: {extra[:10]}"
    assert not changed, f"{stale}; translation changed: {changed[:10]}"


def test_catalogue_has_every_source_string(tmp_path: Path) -> None:
    """makemessages on a copy of the package finds no string missing from the catalogue: text
    added to the code without refreshing the catalogues would show up untranslated."""
    committed = {(entry.msgctxt, entry.msgid) for entry in live_entries(po_path("zh_Hans"))}
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext (xgettext) is not installed")
    copy = tmp_path / "anwang"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # Without settings makemessages writes only into ./locale of the copy, never the repo.
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    ignores = [arg for pattern in MAKEMESSAGES_IGNORE for arg in ("--ignore", pattern)]
    result = subprocess.run(  # noqa: S603 - Django's own command on a temporary copy
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            *ignores,
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    generated = live_entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = sorted(
        (e for e in generated if (e.msgctxt, e.msgid) not in committed), key=lambda e: e.msgid
    )
    if missing:
        pytest.fail(
            f"{len(missing)} translatable strings of the code are not in the catalogue "
            f"({HOW_TO_MAKE}):\n" + "\n".join(f"  {entry.msgid!r}" for entry in missing[:50]),
            pytrace=False,
        )


def _require_compiled(language: str) -> None:
    mo = CATALOGUES[language] / "LC_MESSAGES" / "django.mo"
    if not mo.exists():
        pytest.fail(f"{mo.relative_to(ROOT)} does not exist yet: {HOW_TO_MAKE}", pytrace=False)


@pytest.mark.django_db
def test_login_page_is_chinese_by_default() -> None:
    _require_compiled("zh_Hans")
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans"' in page
    assert "登录" in page
    assert "Log in" not in page


@pytest.mark.django_db
def test_login_page_follows_the_language_cookie() -> None:
    _require_compiled("en")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="en"' in page
    assert "Log in" in page
    assert "登录" not in page


@pytest.mark.django_db
def test_language_switch_sets_the_cookie() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log in" in client.get("/accounts/login/").content.decode()
