"""The translation catalogues of the young person's pages and emails: every message of
the templates and of the code is in every catalogue, translated, not fuzzy, with the same
placeholders, and what the pages use is what the .po files say (compiled from them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from service import i18n
from service.settings import ROOT

TRANSLATED = sorted(set(i18n.LANGUAGES) - {i18n.DEFAULT})
_PLACEHOLDER = re.compile(r"%\([a-zA-Z_]+\)s|\{[a-z_]+\}|<[^>]+>")


def _catalog(path: Path):
    with path.open("rb") as po:
        return read_po(po)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """What `pybabel extract` finds today in the templates and the code."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    config = str(ROOT / "babel.cfg")
    CommandLineInterface().run(
        ["pybabel", "--quiet", "extract", "-F", config, "--no-location", "-o", str(pot), str(ROOT)]
    )
    return {m.id for m in _catalog(pot) if m.id}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_and_nothing_is_fuzzy(lang, extracted):
    catalog = _catalog(i18n.LOCALES / lang / "LC_MESSAGES" / "messages.po")
    messages = {m.id: m for m in catalog if m.id}
    assert extracted - set(messages) == set(), "run pybabel update (see README)"
    assert set(messages) - extracted == set(), "messages no longer used: run pybabel update"
    for message in messages.values():
        assert message.string, f"untranslated in {lang}: {message.id!r}"
        assert not message.fuzzy, f"fuzzy in {lang}: {message.id!r}"
        # The same names to fill in and the same markup, in any order.
        assert sorted(_PLACEHOLDER.findall(message.string)) == sorted(
            _PLACEHOLDER.findall(message.id)
        ), f"placeholders differ in {lang}: {message.id!r}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_pages_use_what_the_po_file_says(lang):
    """No compiled file can lag behind: the catalogue is compiled from the .po itself."""
    catalog = _catalog(i18n.LOCALES / lang / "LC_MESSAGES" / "messages.po")
    compiled = i18n.translations(lang)
    for message in catalog:
        if message.id:
            assert compiled.gettext(message.id) == message.string
    assert not list(i18n.LOCALES.rglob("*.mo")), "compiled .mo files are not kept"


def test_the_messages_written_in_code_are_extracted(extracted):
    assert set(i18n.SHOWN_FROM_CODE) <= extracted
