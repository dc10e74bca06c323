"""HTML forms -> the same msgspec Structs the API takes, checking every field so that a
form comes back with all its errors at once, each in French next to its field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import msgspec
from litestar.datastructures import FormMultiDict

from directory.errors import Invalid

T = TypeVar("T", bound=msgspec.Struct)

_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"length >= 1"), "Ce champ est obligatoire."),
    (re.compile(r"length <= (\d+)"), "{0} caractères au maximum."),
    (re.compile(r"Invalid enum value"), "Valeur non reconnue."),
    (re.compile(r"Expected `(float|int)`"), "Un nombre est attendu."),
    (re.compile(r"date"), "Date attendue au format AAAA-MM-JJ."),
    (re.compile(r"uuid", re.IGNORECASE), "Choix invalide."),
    (re.compile(r"does not match"), "Format invalide."),
    (re.compile(r">= |<= "), "Valeur hors des limites."),
]


def french(message: str) -> str:
    for pattern, text in _MESSAGES:
        if match := pattern.search(message):
            return text.format(*match.groups())
    return "Valeur invalide."


def parse_form(
    form: FormMultiDict | Mapping[str, Any],
    into: type[T],
    lists: Iterable[str] = (),
    checkboxes: Iterable[str] = (),
) -> T:
    """Raises Invalid with one message per faulty field."""
    lists, checkboxes = set(lists), set(checkboxes)
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(into):
        name = field.encode_name
        if name in lists:
            values = form.getall(name, []) if hasattr(form, "getall") else form.get(name, [])
            raw[name] = [v for v in values if str(v).strip()]
        elif name in checkboxes:
            raw[name] = name in form
        elif name in form and str(form[name]).strip() != "":
            raw[name] = str(form[name]).strip()
    errors: dict[str, str] = {}
    for field in msgspec.structs.fields(into):
        name = field.encode_name
        if name not in raw:
            if field.required:
                errors[name] = "Ce champ est obligatoire."
            continue
        try:
            msgspec.convert(raw[name], field.type, strict=False)
        except msgspec.ValidationError as error:
            errors[name] = french(str(error))
    if errors:
        raise Invalid(errors)
    return msgspec.convert(raw, into, strict=False)


def split_codes(text: str) -> list[str]:
    """'38185, 200040715 26' -> ['38185', '200040715', '26']"""
    return [part for part in re.split(r"[\s,;]+", text) if part]
