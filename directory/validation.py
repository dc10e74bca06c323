"""Checks that msgspec constraints cannot express, each with a French message naming the
field; they run before any write."""

from __future__ import annotations

import re

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


def normalise_phone(phone: str) -> tuple[str, str | None]:
    """(E.164 number, problem); French numbers may be written the French way."""
    if not phone.strip():
        return "", None
    try:
        parsed = phonenumbers.parse(phone, "FR")
    except phonenumbers.NumberParseException:
        return phone, "Numéro de téléphone illisible."
    if not phonenumbers.is_valid_number(parsed):
        return phone, "Ce numéro de téléphone n'existe pas."
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


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
