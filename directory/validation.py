"""Checks that msgspec constraints cannot express, each with a French message naming the
field; they run before any write."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator

import opening_hours
import phonenumbers

from directory.gazetteer import Gazetteer

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)

# La Poste's establishments break the Luhn rule; INSEE documents this exception.
_LA_POSTE_SIREN = "356000000"


def siret_problem(siret: str) -> str | None:
    digits = siret.replace(" ", "")
    if not digits:
        return None
    if not digits.isdigit() or len(digits) != 14:
        return "Un SIRET compte 14 chiffres."
    if digits.startswith(_LA_POSTE_SIREN):
        ok = sum(int(d) for d in digits) % 5 == 0
    else:
        total = 0
        for index, char in enumerate(reversed(digits)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        ok = total % 10 == 0
    return None if ok else "Ce SIRET n'est pas valide (clé de contrôle incorrecte)."


def normalise_siret(siret: str) -> str:
    return siret.replace(" ", "")


# Overseas départements: their numbers are written in national form (0262…, 0590…) like
# metropolitan ones, but belong to another country code (+262, +590…).
OVERSEAS_REGIONS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}
_PHONE_HEAD = re.compile(r"^\s*(\+?[\d\s.\-()]*\d)\s*(.*)$", re.DOTALL)


def normalise_phone(phone: str, region: str = "FR") -> tuple[str, str | None]:
    """(E.164 number, problem); French numbers may be written the French way. `region`
    is where a national number is read first (RE for a site in La Réunion); a national
    number valid in no other way is read in the overseas départements, when they all
    agree on what it is (0262… is +262262… in La Réunion as in Mayotte)."""
    if not phone.strip():
        return "", None
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return phone, "Numéro de téléphone illisible."
    if not phonenumbers.is_valid_number(parsed):
        overseas = {
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            for number in _parse_all(phone, OVERSEAS_REGIONS.values())
            if phonenumbers.is_valid_number(number)
        }
        if len(overseas) == 1:
            return overseas.pop(), None
        return phone, "Ce numéro de téléphone n'existe pas."
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


def _parse_all(phone: str, regions: Iterable[str]) -> Iterator[phonenumbers.PhoneNumber]:
    for region in regions:
        try:
            yield phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            continue


def split_phone_note(text: str) -> tuple[str, str]:
    """('05 56 12 34 56', 'Numéro vert…') from '05 56 12 34 56 / Numéro vert…': a
    spreadsheet cell often carries a note after the number."""
    match = _PHONE_HEAD.match(text)
    if match is None or not match[2]:
        return text.strip(), ""
    return match[1].strip(), match[2].lstrip("/-–,;: ").strip()


# Search shows a contact's number with every result: phonenumbers' parsing of the same
# numbers on every request cost 8 % of a search server's time.
@functools.lru_cache(maxsize=16384)
def display_phone(e164: str) -> str:
    """+33412345678 -> 04 12 34 56 78, the way French users read numbers."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(parsed)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region in {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"}
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def email_problem(email: str) -> str | None:
    if email and not _EMAIL.match(email):
        return "Adresse électronique invalide."
    return None


_BARE_DOMAIN = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:[/?#]\S*)?$", re.I)


def add_scheme(url: str) -> str:
    """'https://www.lozere.fr' for 'www.lozere.fr'; anything else unchanged."""
    text = url.strip()
    if text and not _URL.match(text) and _BARE_DOMAIN.match(text):
        return "https://" + text
    return text


def website_problem(url: str) -> str | None:
    if url and not _URL.match(url):
        return "L'adresse du site doit commencer par http:// ou https://."
    return None


def opening_hours_problem(expression: str) -> str | None:
    if not expression.strip():
        return None
    try:
        opening_hours.OpeningHours(expression)
    except Exception:
        return (
            "Horaires illisibles : utilisez la syntaxe OpenStreetMap, par exemple "
            "« Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00 »."
        )
    return None


def zone_problem(codes: list[str], gazetteer: Gazetteer) -> str | None:
    unknown = [c for c in codes if gazetteer.zone_kind(c) is None]
    if unknown:
        return (
            "Codes inconnus dans la zone d'éligibilité : "
            + ", ".join(unknown)
            + " (attendu : code INSEE de commune, SIREN d'EPCI, code de département ou "
            "« france »)."
        )
    return None
