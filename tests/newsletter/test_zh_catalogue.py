"""The Simplified Chinese catalogue is complete: no feature lands English-only for Chinese readers.

Fails when the code holds a message the catalogue lacks (run `manage.py makemessages -l zh_Hans
-e html,txt,py,mjml`), or when an entry is untranslated or fuzzy (translate it, then compile).
"""

from __future__ import annotations

import ast
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
EXTENSIONS = ("html", "txt", "py", "mjml")
# what makemessages would read in the working tree but is not ours: tools, data, outputs
NOT_SOURCE = {"data", "test-artifacts", "locale", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstrs: tuple[str, ...]
    fuzzy: bool


def po_entries(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete `#~` ones and the header left out)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        fuzzy = False
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                fuzzy = fuzzy or "fuzzy" in line[2:].replace(" ", "").split(",")
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
            else:
                key, _space, value = line.partition(" ")
                fields[key] = ast.literal_eval(value)
        if fields.get("msgid"):
            msgstrs = tuple(value for name, value in fields.items() if name.startswith("msgstr"))
            entries.append(Entry(fields["msgid"], msgstrs, fuzzy))
    return entries


def _copy_sources(destination: Path) -> None:
    """Copy the files makemessages reads (not the venv, data or the catalogue) to `destination`."""
    for folder, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in NOT_SOURCE]
        for name in filenames:
            if name.rpartition(".")[2] in EXTENSIONS:
                source = Path(folder) / name
                target = destination / source.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


@pytest.fixture(scope="module")
def messages_in_the_code(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every msgid makemessages extracts from the code today, into a scratch catalogue."""
    tree = tmp_path_factory.mktemp("sources")
    _copy_sources(tree)
    (tree / "locale" / "zh_Hans").mkdir(parents=True)
    here = Path.cwd()
    os.chdir(tree)  # makemessages reads the current directory
    try:
        with override_settings(LOCALE_PATHS=[tree / "locale"]):
            call_command(
                "makemessages", locale=["zh_Hans"], extensions=list(EXTENSIONS), verbosity=0
            )
    finally:
        os.chdir(here)
    return {entry.msgid for entry in po_entries(tree / "locale" / "zh_Hans/LC_MESSAGES/django.po")}


def test_every_message_of_the_code_is_in_the_chinese_catalogue(messages_in_the_code):
    held = {entry.msgid for entry in po_entries(CATALOGUE)}

    missing = sorted(messages_in_the_code - held)

    assert len(messages_in_the_code) > 300  # the extraction really read the templates and code
    assert not missing, (
        f"{len(missing)} message(s) not in the zh_Hans catalogue, e.g. {missing[:5]}: run "
        "`manage.py makemessages -l zh_Hans -e html,txt,py,mjml`, translate, compilemessages"
    )


def test_the_chinese_catalogue_has_no_untranslated_or_fuzzy_entry():
    entries = po_entries(CATALOGUE)

    untranslated = [e.msgid for e in entries if not e.msgstrs or not all(e.msgstrs)]
    fuzzy = [e.msgid for e in entries if e.fuzzy]

    assert len(entries) > 300
    assert not untranslated, f"untranslated in zh_Hans: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in zh_Hans (check the guess, then drop the flag): {fuzzy[:10]}"


def test_the_parser_sees_untranslated_and_fuzzy_entries(tmp_path):
    # the two checks above are only as good as the parser: it must see both faults
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: templates/a.html:1\nmsgid "Search"\nmsgstr ""\n\n'
        '#, fuzzy, python-format\n#| msgid "Next day"\nmsgid "Next page"\nmsgstr "后一天"\n\n'
        '#, python-format\nmsgid "%(n)s paper"\nmsgid_plural "%(n)s papers"\nmsgstr[0] ""\n\n'
        'msgid ""\n"Save "\n"for later"\nmsgstr "稍后阅读"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )

    entries = {entry.msgid: entry for entry in po_entries(po)}

    assert set(entries) == {"Search", "Next page", "%(n)s paper", "Save for later"}
    assert entries["Search"].msgstrs == ("",)
    assert entries["Next page"].fuzzy and entries["Next page"].msgstrs == ("后一天",)
    assert entries["%(n)s paper"].msgstrs == ("",)
    assert not entries["Save for later"].fuzzy
    assert entries["Save for later"].msgstrs == ("稍后阅读",)
