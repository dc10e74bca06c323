"""The young person's language: their pages and emails in French (the source text), English
or Arabic, through gettext catalogues kept with Babel (service/locales/<lang>/LC_MESSAGES/
messages.po). Staff pages and emails stay French.

The catalogues are compiled in memory from the .po files the first time a language is
used, so there is no compiled .mo file to forget or to let go stale: what the .po says is
what the pages say. French needs no catalogue: the text in the templates is the French.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from babel.dates import format_datetime, format_time, get_day_names
from babel.messages.extract import extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from directory.hours import LOCAL_TIME, Words
from service.referrals.machine import COULD_NOT_GO_REASONS

UNKNOWN_LANGUAGE = "Choisissez une langue de la liste : fr, en ou ar."
# A state machine's refusal names states; a young person needs to hear what to do.
YOUNG_PERSON_CONFLICT = (
    "Votre réponse n'a pas pu être enregistrée : cette orientation a changé entre-temps. "
    "Voici où elle en est maintenant."
)
LOCALES = Path(__file__).parent / "locales"
DEFAULT = "fr"
# Each language in its own words, for the switch on the young person's page.
LANGUAGES = {"fr": "Français", "en": "English", "ar": "العربية"}
# The same, as staff pages name them.
LANGUAGE_NAMES_FR = {"fr": "Français", "en": "Anglais", "ar": "Arabe"}
RTL = frozenset({"ar"})
# How an appointment's moment reads in each language (CLDR patterns, Paris time).
_WHEN = {
    "fr": "EEEE d MMMM y 'à' H 'h' mm",
    "en": "EEEE d MMMM y 'at' HH:mm",
    "ar": "EEEE d MMMM y، 'الساعة' HH:mm",
}
_DAY = {"fr": "d MMMM y", "en": "d MMMM y", "ar": "d MMMM y"}

# The calendar file of the appointment, in the young person's language.
ICS_TITLE = "Rendez-vous chez {structure}"
ICS_ASK_FOR = "Demandez : {name}"
ICS_BRING = "À apporter si vous l'avez : {things}"
ICS_NO_PAPERS = "Aucun papier n'est exigé pour être reçu·e."

# Messages written in Python that reach the young person; the extractor below gives them
# to `pybabel extract`, so the catalogues follow the code.
SHOWN_FROM_CODE: tuple[str, ...] = (
    *COULD_NOT_GO_REASONS.values(),
    ICS_TITLE,
    ICS_ASK_FOR,
    ICS_BRING,
    ICS_NO_PAPERS,
    UNKNOWN_LANGUAGE,
    "Choisissez une raison dans la liste.",
    "Vous avez déjà répondu pour cette orientation : votre réponse est bien "
    "enregistrée et votre conseiller·ère l'a reçue.",
    YOUNG_PERSON_CONFLICT,
    "Ce lien n'est pas valide.",
    "Ce lien a été désactivé : l'orientation a été annulée, ou le jeune a retiré "
    "son consentement. Il n'y a plus rien à faire de votre côté.",
    "Ce lien a été désactivé. Demandez un nouveau lien au conseiller.",
    "Ce lien a expiré. Demandez un nouveau lien au conseiller.",
    "Page introuvable.",
    "Orientation introuvable.",
    "Aucun rendez-vous n'est fixé pour cette orientation.",
)


def from_browser(accept_language: str) -> str:
    """The browser's preferred language among ours (Accept-Language), else French. Used
    only where no referral says the young person's language: an unknown or expired link."""
    preferred = [
        part.split(";")[0].strip().replace("-", "_")
        for part in accept_language.split(",")
        if part.strip()
    ]
    return negotiate_locale(preferred, list(LANGUAGES), sep="_") or DEFAULT


def language_or_default(value: str | None) -> str:
    """A language we speak, French for anything else (an old row, a stray value)."""
    return value if value in LANGUAGES else DEFAULT


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    """The language's catalogue, compiled from its .po file; French is the source text."""
    if lang == DEFAULT:
        return NullTranslations()
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def gettext(lang: str, message: str) -> str:
    """A message of the source text in `lang`; unknown messages stay as they are."""
    return translations(language_or_default(lang)).gettext(message)


def jinja_context(lang: str) -> dict[str, Any]:
    """What a template needs to speak `lang`: the gettext callables of Jinja's i18n
    extension (new style: `_("Bonjour %(name)s", name=…)`), and the page's direction."""
    lang = language_or_default(lang)
    catalog = translations(lang)
    return {
        "gettext": _new_gettext(catalog.gettext),
        "_": _new_gettext(catalog.gettext),
        "ngettext": _new_ngettext(catalog.ngettext),
        "lang": lang,
        "text_dir": "rtl" if lang in RTL else "ltr",
    }


def _new_gettext(translate: Callable[[str], str]) -> Callable[..., str]:
    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = translate(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext


def _new_ngettext(translate: Callable[[str, str, int], str]) -> Callable[..., str]:
    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = translate(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return ngettext


def when(moment: datetime | None, lang: str) -> str:
    """An appointment's moment, « lundi 7 décembre 2026 à 14 h 30 », in Paris time."""
    if moment is None:
        return ""
    lang = language_or_default(lang)
    return format_datetime(moment.astimezone(LOCAL_TIME), _WHEN[lang], locale=lang)


def day(moment: datetime | None, lang: str) -> str:
    """A day, « 30 novembre 2026 », in Paris time."""
    if moment is None:
        return ""
    lang = language_or_default(lang)
    return format_datetime(moment.astimezone(LOCAL_TIME), _DAY[lang], locale=lang)


@lru_cache(maxsize=len(LANGUAGES))
def hours_words(lang: str) -> Words:
    """The words of opening hours (days, times, open and closed) in `lang`."""
    lang = language_or_default(lang)
    if lang == DEFAULT:
        return Words()
    _ = translations(lang).gettext
    return Words(
        days=tuple(get_day_names("wide", locale=lang)[i] for i in range(7)),
        time=lambda moment: format_time(moment, "HH:mm", locale=lang),
        closed=_("fermé"),
        holiday=_("(jour férié)"),
        all_day=_("24 h/24"),
        midnight="24:00",
        open=_("Ouvert"),
        open_until=_("Ouvert jusqu'à {when}"),
        closed_now=_("Fermé"),
        closed_opens=_("Fermé, ouvre {when}"),
        today_at=_("aujourd'hui à {time}"),
        tomorrow_at=_("demain à {time}"),
        day_at=_("{day} à {time}"),
        # Left-to-right isolates (U+2066 … U+2069) keep "09:00 – 12:00" in reading order
        # inside a right-to-left line.
        span="\u2066{start} – {end}\u2069" if lang in RTL else "{start} – {end}",
        separator="، " if lang in RTL else ", ",
    )


def extract(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[Any]:
    """`pybabel extract` method for this file (see babel.cfg): its gettext calls, and the
    messages written elsewhere in Python that reach the young person."""
    yield from extract_python(fileobj, keywords, comment_tags, options)
    for message in SHOWN_FROM_CODE:
        yield 0, "gettext", message, []


@pass_context
def when_filter(context: Context, moment: datetime | None) -> str:
    """`{{ moment | when }}`: an appointment's moment in the page's language."""
    return when(moment, context.get("lang", DEFAULT))


@pass_context
def day_filter(context: Context, moment: datetime | None) -> str:
    """`{{ moment | day }}`: a day in the page's language."""
    return day(moment, context.get("lang", DEFAULT))


@pass_context
def translate_filter(context: Context, message: str) -> str:
    """A message from the code (a reason, an error) in the page's language."""
    return gettext(context.get("lang", DEFAULT), message)
