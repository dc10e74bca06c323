"""HTML forms -> the same msgspec Structs the API takes, checking every field so that a
form comes back with all its errors at once, each in French next to its field."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec
from litestar.datastructures import FormMultiDict

from directory.errors import Invalid

T = TypeVar("T", bound=msgspec.Struct)

_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"length >= 1"), "Ce champ est obligatoire."),
    (re.compile(r"length <= (\d+)"), "{0} caractères au maximum."),
    (re.compile(r"Object contains unknown field `([^`]*)`"), "Champ inconnu « {0} »."),
    (re.compile(r"Object missing required field `([^`]*)`"), "Champ obligatoire « {0} » absent."),
    (re.compile(r"Invalid enum value"), "Valeur non reconnue."),
    (re.compile(r"Expected `(?:float|int)` >= (\d+(?:\.\d+)?)"), "La valeur minimale est {0}."),
    (re.compile(r"Expected `(?:float|int)` <= (\d+(?:\.\d+)?)"), "La valeur maximale est {0}."),
    (re.compile(r"Expected `(float|int)`"), "Un nombre est attendu."),
    (re.compile(r"Expected `str`"), "Un texte est attendu."),
    (re.compile(r"Expected `bool`"), "Oui ou non (true ou false) est attendu."),
    (re.compile(r"Expected `(?:object|array)`"), "Structure JSON inattendue."),
    (re.compile(r"date"), "Date attendue au format AAAA-MM-JJ."),
    (re.compile(r"uuid", re.IGNORECASE), "Choix invalide."),
    (re.compile(r"does not match"), "Format invalide."),
    (re.compile(r">= |<= "), "Valeur hors des limites."),
]
# A message about a whole body names its field: "unknown field `colour`" is about `colour`.
_FIELD_IN_MESSAGE = re.compile(r"field `([^`]*)`")


def french(message: str) -> str:
    for pattern, text in _MESSAGES:
        if match := pattern.search(message):
            return text.format(*(_french_number(group) for group in match.groups()))
    return "Valeur invalide."


def _french_number(text: str) -> str:
    """10000 -> '10 000' (narrow no-break space), as numbers are written in French."""
    if not text.replace(".", "", 1).isdigit():
        return text
    whole, _, decimals = text.partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u202f")
    return grouped + ("," + decimals if decimals and decimals.strip("0") else "")


def validation_errors(extra: object) -> dict[str, str]:
    """Litestar's validation details (a list of {key, message, source}) as one French
    message per field, the shape every other 400 of the application has."""
    errors: dict[str, str] = {}
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        key = str(item.get("key") or "")
        if key in ("", "data") and (named := _FIELD_IN_MESSAGE.search(message)):
            key = named.group(1)
        errors[key or "corps"] = french(message)
    return errors


def _collect(
    form: FormMultiDict | Mapping[str, Any],
    into: type[T],
    lists: set[str],
    checkboxes: set[str],
) -> tuple[dict[str, Any], dict[str, str]]:
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(into):
        name = field.encode_name
        if name in lists:
            values = form.getall(name, []) if hasattr(form, "getall") else form.get(name, [])
            raw[name] = [v for v in values if str(v).strip()]
        elif name in checkboxes:
            value = form.get(name, False)
            raw[name] = value if isinstance(value, bool) else value not in ("", "off", "false")
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
    return raw, errors


# Values that satisfy the required fields' types, used only to check the rest of a form
# whose required fields are missing; the errors about those fields are the user's.
_STAND_INS: list[Any] = ["?", "00000", ["employment"], "operational"]


def _partial(raw: dict[str, Any], into: type[T], errors: dict[str, str]) -> T | None:
    values = {k: v for k, v in raw.items() if k not in errors}
    for field in msgspec.structs.fields(into):
        if field.required and field.encode_name not in values:
            for stand_in in _STAND_INS:
                try:
                    msgspec.convert(stand_in, field.type, strict=False)
                except msgspec.ValidationError:
                    continue
                values[field.encode_name] = stand_in
                break
    try:
        return msgspec.convert(values, into, strict=False)
    except msgspec.ValidationError:
        return None


async def parse_and_check(
    form: FormMultiDict | Mapping[str, Any],
    into: type[T],
    check: Callable[[T], dict[str, str] | Awaitable[dict[str, str]]],
    lists: Iterable[str] = (),
    checkboxes: Iterable[str] = (),
) -> T:
    """Like parse_form, and also runs the domain's checks, so that a form with a missing
    name still reports its invalid SIRET: every error at once."""
    raw, errors = _collect(form, into, set(lists), set(checkboxes))
    data = _partial(raw, into, errors) if errors else msgspec.convert(raw, into, strict=False)
    more: dict[str, str] = {}
    if data is not None:
        result = check(data)
        more = await result if inspect.isawaitable(result) else result
    if errors or more:
        raise Invalid({**more, **errors})
    assert data is not None
    return data


def parse_form(
    form: FormMultiDict | Mapping[str, Any],
    into: type[T],
    lists: Iterable[str] = (),
    checkboxes: Iterable[str] = (),
) -> T:
    """Raises Invalid with one message per faulty field."""
    raw, errors = _collect(form, into, set(lists), set(checkboxes))
    if errors:
        raise Invalid(errors)
    return msgspec.convert(raw, into, strict=False)


def split_codes(text: str) -> list[str]:
    """'38185, 200040715 26' -> ['38185', '200040715', '26']"""
    return [part for part in re.split(r"[\s,;]+", text) if part]
