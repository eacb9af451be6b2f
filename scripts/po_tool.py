"""Catalogue chores: list untranslated Chinese entries, apply translations, fill English.

python scripts/po_tool.py untranslated > todo.json    # {msgid: ""} (plural: msgid_plural too)
python scripts/po_tool.py apply done.json             # {msgid: msgstr or [singular, plural]}
python scripts/po_tool.py fill-en                     # English msgstr = msgid
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "src" / "anwang" / "locale"
ZH = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
EN = LOCALE / "en" / "LC_MESSAGES" / "django.po"


def _key(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def untranslated() -> None:
    catalogue = polib.pofile(str(ZH))
    todo: dict[str, str] = {}
    for entry in catalogue:
        if entry.obsolete:
            continue
        done = entry.msgstr_plural.get(0) if entry.msgid_plural else entry.msgstr
        if not done or "fuzzy" in entry.flags:
            todo[_key(entry)] = entry.msgid_plural or ""
    json.dump(todo, sys.stdout, ensure_ascii=False, indent=1)


def apply(path: str) -> None:
    translations: dict[str, str | list[str]] = json.loads(Path(path).read_text("utf-8"))
    catalogue = polib.pofile(str(ZH))
    applied = 0
    for entry in catalogue:
        value = translations.get(_key(entry))
        if not value:
            continue
        if entry.msgid_plural:
            text = value[0] if isinstance(value, list) else value
            entry.msgstr_plural = {0: text}
        else:
            entry.msgstr = value if isinstance(value, str) else value[0]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        applied += 1
    catalogue.save()
    print(f"applied {applied} of {len(translations)}")


def fill_en() -> None:
    catalogue = polib.pofile(str(EN))
    for entry in catalogue:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    catalogue.save()


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "untranslated":
        untranslated()
    elif command == "apply" and len(sys.argv) == 3:
        apply(sys.argv[2])
    elif command == "fill-en":
        fill_en()
    else:
        sys.exit(__doc__)
