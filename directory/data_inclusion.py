"""data·inclusion v1 in and out: the national open data's structures and services (JSON or
CSV) validated with the `data-inclusion-schema` package's own models, upserted by
(source, id), and the directory exported in the same shape.

How a record maps onto the directory:
- a structure is a Structure row, plus a Site when it has a commune code (address, hours,
  accessibility, coordinates or the commune's centre);
- a service is a Service row; its address is the structure's site when it is the same,
  else a Site of its own; a named contact becomes a Person of the structure;
- thematiques give Maillage's domains through vocabulary.THEMATIQUE_DOMAINS;
- whatever a v1 field says that no column can hold as given (a second network, a phone
  number that is not a valid one, the mobilisation modes...) is kept in `source_extra`
  (JSON), so that an export gives back what was imported.

Row ids are derived from (kind, source, id) with uuid5: a second import of the same record
lands on the same rows, and each batch is one multi-row upsert instead of a query per
record."""

from __future__ import annotations

import csv
import functools
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
from data_inclusion.schema import v1
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from directory import history
from directory.duplicate_checks import import_warnings
from directory.duplicates import Record
from directory.gazetteer import Gazetteer, load_gazetteer
from directory.geo import cell_of
from directory.merge import merged_aliases
from directory.store import service_keys, writing
from directory.tables import DirectoryChange, Person, Service, ServiceKey, Site, Structure
from directory.text import fold
from directory.validation import normalise_phone
from directory.verification import VERIFICATION_COLUMNS, data_inclusion_import
from directory.vocabulary import DOMAIN_LABELS, NETWORKS, THEMATIQUE_DOMAINS, THEMATIQUES, Domain

# Fixed namespace of Maillage's data·inclusion row ids (uuid5): never change it, or a
# re-import would duplicate every record.
_NAMESPACE = uuid.UUID("8f5d8a52-4c39-4a8e-9b53-2f4f6d1c9a10")
BATCH = 2_000
MAX_REFUSALS_LISTED = 1_000
# The source written on the records typed in Maillage when they are exported.
OWN_SOURCE = "maillage"

_FRAIS_LABELS = {f.label: f.value for f in v1.Frais}
# Networks whose structures are of a known kind in the directory; others are associations.
_KIND_OF_NETWORK = {
    "mission-locale": "mission-locale",
    "france-travail": "public-service",
    "caf": "public-service",
    "cpam": "public-service",
    "france-service": "public-service",
    "ccas-cias": "local-authority",
    "communes": "local-authority",
    "departements": "local-authority",
    "regions": "local-authority",
}
_ADDRESS_FIELDS = (
    "adresse",
    "complement_adresse",
    "code_postal",
    "code_insee",
    "commune",
    "latitude",
    "longitude",
)


class DiImportError(Exception):
    """A file that cannot be read at all (not JSON, not CSV, not data·inclusion)."""


def row_id(kind: str, source: str, record_id: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{kind}\x1f{source}\x1f{record_id}")


# ---- Report ------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0


@dataclass
class Refusal:
    kind: str  # "structure" | "service"
    file: str
    record: int  # 1-based: line of a CSV file (header = 1), position in a JSON list
    id: str
    reasons: list[str]


@dataclass
class Report:
    structures: Counts = field(default_factory=Counts)
    services: Counts = field(default_factory=Counts)
    refusals: list[Refusal] = field(default_factory=list)
    # Likely duplicates of imported structures ("file, ligne 4 : doublon probable …"):
    # imported all the same, for a coordinator to check.
    warnings: list[str] = field(default_factory=list)

    def refuse(self, refusal: Refusal) -> None:
        counts = self.structures if refusal.kind == "structure" else self.services
        counts.refused += 1
        if len(self.refusals) < MAX_REFUSALS_LISTED:
            self.refusals.append(refusal)

    def as_dict(self) -> dict[str, Any]:
        return {
            "structures": vars(self.structures),
            "services": vars(self.services),
            "refused": [vars(r) for r in self.refusals],
            "refused_not_listed": self.structures.refused
            + self.services.refused
            - len(self.refusals),
            "warnings": self.warnings,
        }

    def summary(self) -> str:
        """The report in French, for the command line and the page."""

        def line(name: str, c: Counts) -> str:
            return (
                f"{name} : {c.created} créée(s), {c.updated} mise(s) à jour, "
                f"{c.unchanged} inchangée(s), {c.refused} refusée(s)"
            )

        lines = [line("Structures", self.structures), line("Services", self.services)]
        for r in self.refusals:
            where = f"{r.file}, {'ligne' if r.file.endswith('.csv') else 'élément'} {r.record}"
            lines.append(
                f"  refusé ({r.kind} {r.id or 'sans id'}, {where}) : {'; '.join(r.reasons)}"
            )
        hidden = self.structures.refused + self.services.refused - len(self.refusals)
        if hidden:
            lines.append(f"  … et {hidden} autre(s) refus non listé(s).")
        lines += [f"  remarque : {w}" for w in self.warnings[:MAX_REFUSALS_LISTED]]
        if len(self.warnings) > MAX_REFUSALS_LISTED:
            lines.append(f"  … et {len(self.warnings) - MAX_REFUSALS_LISTED} autre(s) remarque(s).")
        return "\n".join(lines)


Progress = Callable[[int, int], Any]


# ---- Reading -----------------------------------------------------------------------------


@dataclass
class Raw:
    file: str
    record: int
    data: dict[str, Any]

    @property
    def is_service(self) -> bool:
        return "structure_id" in self.data


_LIST_FIELDS = {
    name
    for model in (v1.Structure, v1.Service)
    for name, info in model.model_fields.items()
    if "set[" in str(info.annotation) or "list[" in str(info.annotation)
}


def _csv_list(cell: str) -> Any:
    """A list cell: a JSON array, a PostgreSQL array literal {a,b}, or comma-separated."""
    text = cell.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text  # the model says what is wrong with it
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return [part.strip().strip('"') for part in text.split(",") if part.strip()]


def _csv_records(name: str, text: str) -> Iterator[Raw]:
    # The national files use commas; a spreadsheet may have saved semicolons. The header
    # line alone decides (cells below hold commas and semicolons of their own).
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise DiImportError(
            f"{name} : ce fichier CSV n'a pas de colonne « id » ; ce n'est pas un fichier "
            "data·inclusion (structures ou services)."
        )
    for data in reader:
        cells: dict[str, Any] = {}
        for key, value in data.items():
            if key is None or value is None or value.strip() == "":
                continue
            cells[key] = _csv_list(value) if key in _LIST_FIELDS else value
        yield Raw(name, reader.line_num, cells)


def _json_records(name: str, text: str) -> Iterator[Raw]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DiImportError(
            f"{name} : JSON illisible (ligne {error.lineno}, colonne {error.colno}) : {error.msg}."
        ) from error
    if isinstance(data, dict):
        lists = [data.get("structures", []), data.get("services", [])]
        if not all(isinstance(x, list) for x in lists) or not any(lists):
            raise DiImportError(
                f"{name} : un objet JSON doit avoir une liste « structures » et/ou une "
                "liste « services »."
            )
        data = [*lists[0], *lists[1]]
    if not isinstance(data, list):
        raise DiImportError(f"{name} : le JSON doit être une liste d'enregistrements.")
    for index, item in enumerate(data, start=1):
        yield Raw(name, index, item if isinstance(item, dict) else {"_not_an_object": item})


def read_text(name: str, text: str) -> Iterator[Raw]:
    """The records of one file, told JSON from CSV by their first character."""
    text = text.removeprefix("\ufeff")
    start = text.lstrip()[:1]
    if start in {"[", "{"}:
        return _json_records(name, text)
    if not start:
        raise DiImportError(f"{name} : le fichier est vide.")
    return _csv_records(name, text)


def read_bytes(name: str, content: bytes) -> Iterator[Raw]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DiImportError(
            f"{name} : le fichier n'est pas en UTF-8 (octet illisible en position {error.start})."
        ) from error
    return read_text(name, text)


# ---- Validation --------------------------------------------------------------------------

_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "string_too_short": "trop court",
    "string_too_long": "trop long",
    "string_pattern_mismatch": "format invalide",
    "string_type": "doit être du texte",
    "url_parsing": "adresse web invalide",
    "url_scheme": "adresse web invalide",
    "date_from_datetime_parsing": "date invalide (attendu AAAA-MM-JJ)",
    "date_parsing": "date invalide (attendu AAAA-MM-JJ)",
    "date_type": "date invalide (attendu AAAA-MM-JJ)",
    "float_parsing": "nombre invalide",
    "float_type": "nombre invalide",
    "int_parsing": "nombre entier invalide",
    "greater_than_equal": "trop petit",
    "too_short": "liste vide",
    "list_type": "doit être une liste",
    "set_type": "doit être une liste",
    "literal_error": "code invalide",
}


def _reason(error: Any) -> str:
    loc = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
    kind = error["type"]
    value = error.get("input")
    if kind == "enum":
        message = f"valeur inconnue « {value} »"
    elif kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    elif kind in {"value_error.email", "value_error"} or "email" in str(error["msg"]).lower():
        message = f"courriel invalide « {value} »"
    else:
        message = _MESSAGES.get(kind, str(error["msg"]))
        if kind in {"string_pattern_mismatch", "literal_error", "url_parsing"}:
            message += f" « {value} »"
    return f"{loc or 'enregistrement'} : {message}"


def _validate(raw: Raw, model: type[pydantic.BaseModel]) -> tuple[Any, list[str]]:
    if "_not_an_object" in raw.data:
        return None, ["l'élément n'est pas un objet JSON"]
    try:
        return model.model_validate(raw.data), []
    except pydantic.ValidationError as error:
        reasons = list(dict.fromkeys(_reason(e) for e in error.errors()))
        return None, reasons


def canonical(model: pydantic.BaseModel) -> dict[str, Any]:
    """A v1 record as JSON values, its sets sorted: what two records are compared on."""
    data = model.model_dump(mode="json")
    for key, value in data.items():
        if isinstance(value, list) and key != "zone_eligibilite":
            data[key] = sorted(value)
    return data


# ---- Mapping -----------------------------------------------------------------------------


def _site_values(
    record: dict[str, Any], structure: uuid.UUID, gazetteer: Gazetteer, hours: str | None
) -> dict[str, Any] | None:
    insee = record.get("code_insee")
    if not insee:
        return None
    lat, lon = record.get("latitude"), record.get("longitude")
    geocoded = "address"
    if lat is None or lon is None:
        commune = gazetteer.get(insee)
        lat, lon = (commune.lat, commune.lon) if commune else (None, None)
        geocoded = "commune"
    return {
        "structure": structure,
        "name": "",
        "address": _fit(record.get("adresse"), 300),
        "commune": insee,
        "postcode": record.get("code_postal") or "",
        "lat": lat,
        "lon": lon,
        "cell": cell_of(lat, lon) if lat is not None and lon is not None else None,
        "geocoded": geocoded,
        "opening_hours": _fit(hours, 500),
        "accessibility": record.get("accessibilite_lieu") or "",
        "walk_in": False,
    }


_DOMAINS_OF = {t: frozenset(d.value for d in ds) for t, ds in THEMATIQUE_DOMAINS.items()}
_DOMAIN_ORDER = [d.value for d in Domain]


@functools.lru_cache(maxsize=65_536)
def _folded(text: str) -> str:
    """fold() of the texts met again and again: labels, structure names."""
    return fold(text)


def _joined_fold(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


def _search_text(service: dict[str, Any], structure_name: str) -> str:
    """store._service_text, folding the labels and the structure's name once (tested to
    give the same text)."""
    parts = [_folded(structure_name), fold(service["name"]), fold(service["description"])]
    parts += [_folded(DOMAIN_LABELS.get(d, d)) for d in service["domains"]]
    parts += [_folded(THEMATIQUES.get(t, t)) for t in service["thematiques"]]
    return _joined_fold(parts)


def _fit(text: str | None, length: int) -> str:
    """A value for a column of `length`: too long values are left to source_extra."""
    return text if text and len(text) <= length else ""


def _phone(text: str | None) -> str:
    phone, problem = normalise_phone(text or "")
    return "" if problem or len(phone) > 20 else phone


def _site_fields(site: dict[str, Any] | None, gazetteer: Gazetteer) -> dict[str, Any]:
    """The v1 address fields a site gives back."""
    if site is None:
        return dict.fromkeys(_ADDRESS_FIELDS)
    commune = gazetteer.get(site["commune"])
    own = site["geocoded"] != "commune"
    return {
        "adresse": site["address"] or None,
        "complement_adresse": None,
        "code_postal": site["postcode"] or None,
        "code_insee": site["commune"],
        "commune": commune.name if commune else None,
        "latitude": site["lat"] if own else None,
        "longitude": site["lon"] if own else None,
    }


def structure_fields(
    row: dict[str, Any], site: dict[str, Any] | None, gazetteer: Gazetteer
) -> dict[str, Any]:
    """The v1 structure a directory row gives, before its source_extra is laid over it."""
    updated = row["updated_at"]
    date_maj = row["source_date"] or (updated.date() if isinstance(updated, datetime) else updated)
    return {
        "source": row["source"] or OWN_SOURCE,
        "id": row["source_id"] or str(row["id"]),
        "nom": row["name"],
        "date_maj": date_maj.isoformat(),
        "description": row["description"] or None,
        "lien_source": None,
        "siret": row["siret"] or None,
        "telephone": row["phone"] or None,
        "courriel": row["email"] or None,
        "site_web": row["website"] or None,
        "horaires_accueil": (site["opening_hours"] or None) if site else None,
        "accessibilite_lieu": (site["accessibility"] or None) if site else None,
        "reseaux_porteurs": [row["network"]] if row["network"] in NETWORKS else None,
        **_site_fields(site, gazetteer),
    }


def service_fields(
    row: dict[str, Any],
    structure: dict[str, Any],
    site: dict[str, Any] | None,
    contact: dict[str, Any] | None,
    gazetteer: Gazetteer,
) -> dict[str, Any]:
    """The v1 service a directory row gives, before its source_extra is laid over it."""
    fees = row["fees"]
    modes = (["a-distance"] if row["remote"] else []) + (
        ["en-presentiel"] if row["on_site"] else []
    )
    own_site = site is not None and site.get("_own", False)
    updated = structure["updated_at"]
    default_date = updated.date() if isinstance(updated, datetime) else updated
    name = " ".join(p for p in (contact or {}).get("_names", ()) if p) if contact else ""
    return {
        "source": row["source"] or OWN_SOURCE,
        "structure_id": structure["source_id"] or str(structure["id"]),
        "id": row["source_id"] or str(row["id"]),
        "nom": row["name"],
        "description": row["description"],
        "lien_source": None,
        "date_maj": (row["source_date"] or default_date).isoformat(),
        "type": None,
        "thematiques": sorted(row["thematiques"]) or None,
        "frais": _FRAIS_LABELS.get(fees),
        "frais_precisions": fees if fees and fees not in _FRAIS_LABELS else None,
        "publics": sorted(row["publics"]) or None,
        "publics_precisions": None,
        "conditions_acces": row["conditions"] or None,
        **_site_fields(site, gazetteer),
        "telephone": (contact["phone"] or None) if contact else None,
        "courriel": (contact["email"] or None) if contact else None,
        "modes_accueil": modes or None,
        "zone_eligibilite": list(row["zone"]) or None,
        "contact_nom_prenom": name or None,
        "lien_mobilisation": None,
        "modes_mobilisation": None,
        "mobilisable_par": None,
        "mobilisation_precisions": None,
        "volume_horaire_hebdomadaire": None,
        "nombre_semaines": None,
        "horaires_accueil": (site["opening_hours"] or None) if own_site and site else None,
    }


def _extra(original: dict[str, Any], derived: dict[str, Any]) -> str:
    kept = {k: v for k, v in original.items() if derived.get(k) != v}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else ""


def _as_normalised(original: dict[str, Any], phone: str) -> dict[str, Any]:
    """A phone number the directory holds in E.164 is the same number: not an extra."""
    return {**original, "telephone": phone} if phone else original


def _address_of(site: dict[str, Any] | None, extra: str, gazetteer: Gazetteer) -> dict:
    """A structure's v1 address fields as imported: what a service at the same place has."""
    fields = overlay(_site_fields(site, gazetteer), extra)
    return {**site, "_fields": {f: fields[f] for f in _ADDRESS_FIELDS}} if site else {}


def overlay(derived: dict[str, Any], extra: str) -> dict[str, Any]:
    return {**derived, **(json.loads(extra) if extra else {})}


def _names(full: str) -> tuple[str, str]:
    first, _, last = full.strip().partition(" ")
    return first[:100], last.strip()[:100]


@dataclass
class Planned:
    """The rows one record becomes."""

    kind: str
    raw: Raw
    rows: dict[type[Table], dict[str, Any]]  # table -> values, each with its "id"


def _plan_structure(model: v1.Structure, gazetteer: Gazetteer, now: datetime, raw: Raw) -> Planned:
    original = canonical(model)
    sid = row_id("structure", model.source, model.id)
    networks = original["reseaux_porteurs"] or []
    network = networks[0] if networks else ""
    name = model.nom.strip()
    description = model.description or ""
    structure = {
        "id": sid,
        "name": name,
        "siret": model.siret or "",
        "kind": _KIND_OF_NETWORK.get(network, "association"),
        "network": network,
        "description": description,
        "website": _fit(original["site_web"], 300),
        "email": _fit(original["courriel"], 254),
        "phone": _phone(model.telephone),
        "status": "active",
        **data_inclusion_import(model.source, model.date_maj).stamp(),
        "search_text": _joined_fold(
            [fold(name), fold(description), _folded(NETWORKS.get(network, ""))]
        ),
        "created_at": now,
        "updated_at": now,
        "source": model.source,
        "source_id": model.id,
        "source_date": model.date_maj,
    }
    rows: dict[type[Table], dict[str, Any]] = {Structure: structure}
    site = _site_values(original, sid, gazetteer, model.horaires_accueil)
    if site is not None:
        site["id"] = row_id("site", model.source, model.id)
        rows[Site] = site
    structure["source_extra"] = _extra(
        _as_normalised(original, structure["phone"]), structure_fields(structure, site, gazetteer)
    )
    return Planned("structure", raw, rows)


def _service_site(
    model: v1.Service,
    original: dict[str, Any],
    structure_id: uuid.UUID,
    structure_site: dict[str, Any] | None,
    gazetteer: Gazetteer,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the site the service is at, the new site row if it needs one of its own)."""
    if structure_site is not None and all(
        original[f] == structure_site["_fields"][f] for f in _ADDRESS_FIELDS
    ):
        return structure_site, None
    if not original["code_insee"]:
        return None, None
    site = _site_values(original, structure_id, gazetteer, model.horaires_accueil)
    if site is None:
        return None, None
    site["id"] = row_id("site", model.source, "service:" + model.id)
    return {**site, "_own": True}, site


def _service_contact(
    model: v1.Service, original: dict[str, Any], structure_id: uuid.UUID
) -> dict[str, Any] | None:
    """The person a named contact becomes, or None."""
    if not model.contact_nom_prenom or not model.contact_nom_prenom.strip():
        return None
    first, last = _names(model.contact_nom_prenom)
    return {
        "id": row_id("person", model.source, model.id),
        "structure": structure_id,
        "first_name": first,
        "last_name": last,
        "role": "",
        "email": _fit(original["courriel"], 254),
        "phone": _phone(model.telephone),
        "preferred_channel": "email",
        "active": True,
        "left_on": None,
    }


def _plan_service(
    model: v1.Service,
    structure: dict[str, Any],
    structure_site: dict[str, Any] | None,
    gazetteer: Gazetteer,
    raw: Raw,
) -> Planned:
    original = canonical(model)
    vid = row_id("service", model.source, model.id)
    sid = structure["id"]
    thematiques = original["thematiques"] or []
    covered = set().union(*(_DOMAINS_OF[t] for t in thematiques))
    domains = [d for d in _DOMAIN_ORDER if d in covered]
    modes = original["modes_accueil"] or []
    fees = model.frais_precisions or (v1.Frais(model.frais).label if model.frais else "")
    rows: dict[type[Table], dict[str, Any]] = {}
    site, new_site = _service_site(model, original, sid, structure_site, gazetteer)
    if new_site is not None:
        rows[Site] = new_site
    person = _service_contact(model, original, sid)
    contact = None
    if person is not None:
        rows[Person] = person
        contact = {**person, "_names": (person["first_name"], person["last_name"])}
    service = {
        "id": vid,
        "structure": sid,
        "site": site["id"] if site else None,
        "contact": contact["id"] if contact else None,
        "name": model.nom.strip(),
        "description": model.description,
        "domains": domains,
        "thematiques": thematiques,
        "publics": original["publics"] or [],
        "conditions": model.conditions_acces or "",
        "fees": _fit(fees, 200),
        "on_site": "en-presentiel" in modes or not modes,
        "remote": "a-distance" in modes,
        "zone": original["zone_eligibilite"] or [],
        "unconditional": False,
        "source": model.source,
        "source_id": model.id,
        "source_date": model.date_maj,
        **data_inclusion_import(model.source, model.date_maj).stamp(),
    }
    service["search_text"] = _search_text(service, structure["name"])
    derived = service_fields(service, structure, site, contact, gazetteer)
    phone = contact["phone"] if contact else ""
    service["source_extra"] = _extra(_as_normalised(original, phone), derived)
    rows = {Service: service, **rows}
    return Planned("service", raw, rows)


# ---- Writing -----------------------------------------------------------------------------

_CHUNK = 500
_WRITE_ORDER: tuple[type[Table], ...] = (Structure, Site, Person, Service)
_KINDS: dict[type[Table], str] = {
    Structure: "structure",
    Site: "site",
    Person: "person",
    Service: "service",
}
_NOT_COMPARED = {"created_at", "updated_at", *VERIFICATION_COLUMNS}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _existing(table: type[Table], ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict]:
    found: dict[uuid.UUID, dict] = {}
    for chunk in _chunks(list(dict.fromkeys(ids)), _CHUNK):
        for row in await table.select().where(table._meta.primary_key.is_in(chunk)):
            found[row["id"]] = row
    return found


def _connection() -> tuple[Any, bool]:
    """The driver connection of the current transaction, and whether it is PostgreSQL."""
    engine = Structure._meta.db
    transaction = engine.current_transaction.get()
    assert transaction is not None, "writes happen inside store.writing()"
    return transaction.connection, isinstance(engine, PostgresEngine)


async def _insert_many(
    table: type[Table], columns: list[str], records: list[tuple], *, upsert: bool = True
) -> str:
    """One prepared INSERT ... ON CONFLICT (id) DO UPDATE run for every record through the
    driver's executemany (sqlite3's C loop, asyncpg's pipeline): building one query per
    row through the ORM was most of an import's time. Values go through the adapters
    Piccolo registers (UUID, dates, lists on SQLite)."""
    connection, postgres = _connection()
    marks = [f"${i}" if postgres else "?" for i in range(1, len(columns) + 1)]
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({", ".join(marks)})'
    if upsert and "id" in columns:
        updates = ", ".join(
            f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in {"id", "created_at"}
        )
        sql += f' ON CONFLICT ("id") DO UPDATE SET {updates}'
    if records:
        await connection.executemany(sql, records)
    return sql


async def _upsert(table: type[Table], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = [c for c in rows[0] if not c.startswith("_")]
    await _insert_many(table, columns, [tuple(row[c] for c in columns) for row in rows])


def _differs(new: dict[str, Any], old: dict[str, Any] | None) -> bool:
    if old is None:
        return True
    return any(
        old.get(k) != v for k, v in new.items() if not k.startswith("_") and k not in _NOT_COMPARED
    )


def _history(
    plan: Planned,
    tables: list[type[Table]],
    old: dict[type[Table], dict[uuid.UUID, dict]],
    at: datetime,
    started_by: str,
) -> list[tuple[Any, ...]]:
    """The lines of history of a record's rows that are written: the record's own
    verifier label ("import data·inclusion (dora, 02/03/2026)"), each row's fields before
    (what _write already read) and after."""
    main = plan.rows[Structure if plan.kind == "structure" else Service]
    label = history.import_label(main["verified_by"], started_by)
    lines = []
    for table in tables:
        row = plan.rows[table]
        structure = row["id"] if table is Structure else row["structure"]
        before = old[table].get(row["id"])
        line = history.import_change(
            _KINDS[table], row["id"], structure, before, row, at=at, label=label
        )
        if line is not None:
            lines.append(line)
    return lines


async def _write(planned: list[Planned], started_by: str = "") -> Counts:
    """One transaction: rows that changed are upserted, with their lines of history, the
    others left alone."""
    counts = Counts()
    now = datetime.now(UTC)
    changes: list[tuple[Any, ...]] = []
    planned, skipped = await _redirect_merged(planned)
    counts.unchanged += skipped
    by_table: dict[type[Table], list[dict[str, Any]]] = {t: [] for t in _WRITE_ORDER}
    old: dict[type[Table], dict[uuid.UUID, dict]] = {}
    for table in _WRITE_ORDER:
        ids = [p.rows[table]["id"] for p in planned if table in p.rows]
        old[table] = await _existing(table, ids) if ids else {}
    changed_services: list[tuple[dict[str, Any], bool]] = []
    for plan in planned:
        main = plan.rows[Structure if plan.kind == "structure" else Service]
        existed = main["id"] in old[Structure if plan.kind == "structure" else Service]
        differs = [t for t, row in plan.rows.items() if _differs(row, old[t].get(row["id"]))]
        if not differs:
            counts.unchanged += 1
            continue
        if existed:
            counts.updated += 1
        else:
            counts.created += 1
        for table in differs:
            by_table[table].append(plan.rows[table])
        if plan.kind == "structure" and existed:
            main["created_at"] = old[Structure][main["id"]]["created_at"]
        if Service in differs:
            changed_services.append((main, existed))
        changes += _history(plan, differs, old, now, started_by)
    async with writing():
        for table in _WRITE_ORDER:
            await _upsert(table, by_table[table])
        await _write_keys(changed_services)
        await _insert_many(DirectoryChange, list(history.HISTORY_COLUMNS), changes, upsert=False)
    return counts


async def _redirect_merged(planned: list[Planned]) -> tuple[list[Planned], int]:
    """A record that a coordinator merged into another (directory.merge) is not created
    again by the next import: its rows go to the kept record, and a record whose main row
    was merged is left as the merge made it. Returns the plans to write and how many were
    left."""
    rows = [row for plan in planned for row in plan.rows.values()]
    ids = {row["id"] for row in rows} | {row["structure"] for row in rows if "structure" in row}
    kept = await merged_aliases(ids)
    if not kept:
        return planned, 0
    result = []
    for plan in planned:
        main = Structure if plan.kind == "structure" else Service
        if plan.rows[main]["id"] in kept:
            continue
        plan.rows = {t: row for t, row in plan.rows.items() if row["id"] not in kept}
        for row in plan.rows.values():
            for column in ("structure", "site", "contact"):
                if row.get(column) in kept:
                    row[column] = kept[row[column]]
        result.append(plan)
    return result, len(planned) - len(result)


async def _write_keys(services: list[tuple[dict[str, Any], bool]]) -> None:
    for chunk in _chunks([s["id"] for s, existed in services if existed], _CHUNK):
        await ServiceKey.delete().where(ServiceKey.service.is_in(chunk))
    keys = [
        (s["id"], key)
        for s, _ in services
        for key in service_keys(
            s["domains"], s["thematiques"], s["publics"], s["zone"], s["remote"]
        )
    ]
    await _insert_many(ServiceKey, ["service", "key"], keys)


# ---- Import ------------------------------------------------------------------------------


@dataclass
class _Known:
    """What a service needs of its structure."""

    row: dict[str, Any]
    site: dict[str, Any] | None  # with "_fields": its v1 address fields


def _database_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    import asyncpg

    return (sqlite3.Error, asyncpg.PostgresError)


def _duplicate_record(plan: Planned) -> tuple[Record, str]:
    """A planned structure as the duplicate matcher sees it, and where it stands."""
    row, site = plan.rows[Structure], plan.rows.get(Site) or {}
    where = "ligne" if plan.raw.file.endswith(".csv") else "élément"
    record = Record.of(str(row["id"]), row, [site])
    return record, f"{plan.raw.file}, {where} {plan.raw.record}"


async def _duplicate_warnings(imported: list[tuple[Record, str]]) -> list[str]:
    places = {record.key: place for record, place in imported}
    return [f"{places[key]} : {message}" for key, message in await import_warnings(imported)]


class _Importer:
    def __init__(self, progress: Progress | None, started_by: str = "") -> None:
        self.report = Report()
        self.progress = progress
        self.started_by = started_by  # named in the lines of history, when known
        self.gazetteer = load_gazetteer()
        self.now = datetime.now(UTC)
        self.known: dict[uuid.UUID, _Known] = {}
        self.refused_structures: set[uuid.UUID] = set()
        self.seen: set[uuid.UUID] = set()
        self.done = 0
        self.total = 0

    def refuse(self, kind: str, raw: Raw, reasons: list[str]) -> None:
        record_id = raw.data.get("id")
        self.report.refuse(
            Refusal(
                kind, raw.file, raw.record, record_id if isinstance(record_id, str) else "", reasons
            )
        )

    def _first_time(self, kind: str, raw: Raw, key: uuid.UUID) -> bool:
        if key in self.seen:
            self.refuse(
                kind, raw, ["id : le même (source, id) figure déjà plus haut dans l'import"]
            )
            return False
        self.seen.add(key)
        return True

    async def run(self, raws: list[Raw]) -> Report:
        structures = [r for r in raws if not r.is_service]
        services = [r for r in raws if r.is_service]
        self.total = len(raws)
        imported: list[tuple[Record, str]] = []
        for batch in _chunks(structures, BATCH):
            planned = self._structures(batch)
            imported += [_duplicate_record(plan) for plan in planned]
            await self._commit(planned, self.report.structures)
            self._advance(len(batch))
        self.report.warnings += await _duplicate_warnings(imported)
        for batch in _chunks(services, BATCH):
            await self._commit(await self._services(batch), self.report.services)
            self._advance(len(batch))
        return self.report

    def _advance(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)

    def _structures(self, batch: list[Raw]) -> list[Planned]:
        planned = []
        for raw in batch:
            model, reasons = _validate(raw, v1.Structure)
            if model is None:
                self.refuse("structure", raw, reasons)
                if isinstance(raw.data.get("source"), str) and isinstance(raw.data.get("id"), str):
                    self.refused_structures.add(
                        row_id("structure", raw.data["source"], raw.data["id"])
                    )
                continue
            if not self._first_time("structure", raw, row_id("structure", model.source, model.id)):
                continue
            plan = _plan_structure(model, self.gazetteer, self.now, raw)
            planned.append(plan)
        return planned

    def _remember(self, plans: list[Planned]) -> None:
        for plan in plans:
            if plan.kind != "structure":
                continue
            row = plan.rows[Structure]
            site = plan.rows.get(Site)
            self.known[row["id"]] = _Known(
                {k: row[k] for k in ("id", "name", "source_id", "updated_at")},
                _address_of(site, row["source_extra"], self.gazetteer) or None,
            )

    async def _services(self, batch: list[Raw]) -> list[Planned]:
        models: list[tuple[Raw, Any]] = []
        for raw in batch:
            model, reasons = _validate(raw, v1.Service)
            if model is None:
                self.refuse("service", raw, reasons)
            elif self._first_time("service", raw, row_id("service", model.source, model.id)):
                models.append((raw, model))
        await self._load_structures(
            row_id("structure", m.source, m.structure_id) for _, m in models
        )
        planned = []
        for raw, model in models:
            key = row_id("structure", model.source, model.structure_id)
            known = self.known.get(key)
            if known is None:
                why = (
                    "a été refusée plus haut"
                    if key in self.refused_structures
                    else "n'est ni dans l'import ni dans l'annuaire"
                )
                self.refuse(
                    "service", raw, [f"structure_id : la structure « {model.structure_id} » {why}"]
                )
                continue
            planned.append(_plan_service(model, known.row, known.site, self.gazetteer, raw))
        return planned

    async def _load_structures(self, keys: Iterable[uuid.UUID]) -> None:
        """Structures of the services that this import did not bring, from the database."""
        missing = [k for k in dict.fromkeys(keys) if k not in self.known]
        rows = await _existing(Structure, missing) if missing else {}
        site_ids = {
            row_id("site", r["source"], r["source_id"]): r["id"]
            for r in rows.values()
            if r["source"] and r["source_id"]
        }
        sites = await _existing(Site, site_ids) if site_ids else {}
        site_of = {site_ids[i]: site for i, site in sites.items()}
        # Structures merged into another since their import: their services go there.
        aliases = await merged_aliases(k for k in missing if k not in rows)
        kept = await _existing(Structure, aliases.values()) if aliases else {}
        rows |= {merged: kept[k] for merged, k in aliases.items() if k in kept}
        for key, row in rows.items():
            site = site_of.get(row["id"])
            self.known[key] = _Known(
                row, _address_of(site, row["source_extra"], self.gazetteer) or None
            )

    async def _commit(self, planned: list[Planned], counts: Counts) -> None:
        """The batch in one transaction; if the database refuses it, record by record, so
        that every record it accepts still goes in and the others are reported."""
        try:
            self._add(counts, await _write(planned, self.started_by))
        except _database_errors():
            for plan in planned:
                try:
                    self._add(counts, await _write([plan], self.started_by))
                except _database_errors() as error:
                    self.refuse(plan.kind, plan.raw, [f"la base de données a refusé : {error}"])
                    continue
                self._remember([plan])
            return
        self._remember(planned)

    @staticmethod
    def _add(counts: Counts, delta: Counts) -> None:
        counts.created += delta.created
        counts.updated += delta.updated
        counts.unchanged += delta.unchanged


async def import_records(
    raws: Iterable[Raw], progress: Progress | None = None, started_by: str = ""
) -> Report:
    """Import data·inclusion v1 records: every valid one goes in (structures first), the
    others are reported with their reasons; one transaction per batch of BATCH records,
    with a line of history for every row created or changed, naming `started_by` (a
    person's name) when known."""
    return await _Importer(progress, started_by).run(list(raws))


async def import_files(paths: Iterable[Path], progress: Progress | None = None) -> Report:
    """Import data·inclusion files (JSON or CSV, structures and/or services); raises
    DiImportError, before writing anything, for a file that cannot be read."""
    raws: list[Raw] = []
    for path in paths:
        raws += read_bytes(path.name, path.read_bytes())
    return await import_records(raws, progress)


# ---- Export ------------------------------------------------------------------------------


@dataclass
class Export:
    structures: list[dict[str, Any]]
    services: list[dict[str, Any]]
    # Records that could not be made valid v1 records, with the reason.
    left_out: list[str]


def _required_text(value: str, fallback: str, low: int, high: int) -> str:
    text = value.strip() if value else ""
    if len(text) < low:
        text = fallback
    return text if len(text) <= high else text[: high - 1].rstrip() + "…"


def _valid(model: type[pydantic.BaseModel], data: dict[str, Any]) -> tuple[Any, str]:
    """A valid v1 record: optional fields the model refuses (an address Maillage checks
    less strictly, say) are left out rather than the whole record."""
    for _ in range(3):
        try:
            return canonical(model.model_validate(data)), ""
        except pydantic.ValidationError as error:
            fields = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            required = {n for n, f in model.model_fields.items() if f.is_required()}
            if fields & required or not fields:
                return None, "; ".join(_reason(e) for e in error.errors())
            data = {**data, **dict.fromkeys(fields)}
    return None, "enregistrement invalide"


def _main_sites(sites: list[dict[str, Any]], structures: dict[uuid.UUID, dict]) -> dict:
    """Each structure's own address: the site an import made for it (none if the import
    had no address), else its first site."""
    main: dict[uuid.UUID, dict[str, Any]] = {}
    for site in sorted(sites, key=lambda s: (s["name"], str(s["id"]))):
        structure = structures.get(site["structure"])
        if structure is None:
            continue
        if structure["source"] and structure["source_id"]:
            if site["id"] == row_id("site", structure["source"], structure["source_id"]):
                main[site["structure"]] = site
        elif site["structure"] not in main:
            main[site["structure"]] = site
    return main


async def export_records() -> Export:
    """The whole directory as data·inclusion v1 structures and services, each validated by
    the package's models."""
    gazetteer = load_gazetteer()
    structures = {r["id"]: r for r in await Structure.select().order_by(Structure.id)}
    sites = {r["id"]: r for r in await Site.select()}
    people = {r["id"]: r for r in await Person.select()}
    main = _main_sites(list(sites.values()), structures)
    result = Export([], [], [])
    for row in structures.values():
        data = overlay(structure_fields(row, main.get(row["id"]), gazetteer), row["source_extra"])
        data["nom"] = _required_text(data["nom"], "Structure sans nom", 3, 150)
        record, problem = _valid(v1.Structure, data)
        if record is None:
            result.left_out.append(f"structure {data['id']} : {problem}")
            continue
        result.structures.append(record)
    for row in await Service.select().order_by(Service.id):
        structure = structures[row["structure"]]
        site = sites.get(row["site"]) if row["site"] else None
        if site is not None:
            site = {**site, "_own": main.get(structure["id"], {}).get("id") != site["id"]}
        person = people.get(row["contact"]) if row["contact"] else None
        if person is not None:
            person = {**person, "_names": (person["first_name"], person["last_name"])}
        data = overlay(service_fields(row, structure, site, person, gazetteer), row["source_extra"])
        data["nom"] = _required_text(data["nom"], "Service sans nom", 3, 150)
        data["description"] = _required_text(
            data["description"], f"{data['nom']} ({structure['name']})", 5, 10_000
        )
        record, problem = _valid(v1.Service, data)
        if record is None:
            result.left_out.append(f"service {data['id']} : {problem}")
            continue
        result.services.append(record)
    result.structures.sort(key=lambda r: (r["source"], r["id"]))
    result.services.sort(key=lambda r: (r["source"], r["id"]))
    return result


def _csv_text(records: list[dict[str, Any]], model: type[pydantic.BaseModel]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(model.model_fields), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False)
                if isinstance(v, list)
                else ("" if v is None else v)
                for k, v in record.items()
            }
        )
    return out.getvalue()


async def export_folder(folder: Path) -> Export:
    """structures.json, services.json, structures.csv and services.csv in `folder`."""
    export = await export_records()
    folder.mkdir(parents=True, exist_ok=True)
    for name, records, model in (
        ("structures", export.structures, v1.Structure),
        ("services", export.services, v1.Service),
    ):
        (folder / f"{name}.json").write_text(
            json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        (folder / f"{name}.csv").write_text(_csv_text(records, model), encoding="utf-8")
    return export
