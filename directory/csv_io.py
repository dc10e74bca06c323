"""CSV import and export of the whole directory: one file per entity (see docs/csv.md).

Every row of every file is parsed and validated first, with the same msgspec input Structs
and the same checks as the forms (directory.store); references must point to ids that
exist in the database or in the files being imported. Every problem is collected with its
file, line and column. All or nothing by default: with any problem, nothing is written.
With `keep_valid`, the valid rows are written and the refused ones (with the rows of the
files that refer to them) go to a report CSV with their reasons. What is written is
written in one transaction, with the derived data (site grid cell and coordinates, service
search text and ServiceKey rows) computed as directory.store does.

Real spreadsheets are read the way their authors meant (Windows-1252, lost leading zeros,
CEDEX postcodes, merged communes, overseas numbers in national form, notes after numbers,
websites without a scheme), each such reading being a warning of the report.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import math
import re
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from piccolo.columns import Varchar
from piccolo.table import Table

from directory import history
from directory.csv_cells import neutralise, restore
from directory.duplicate_checks import import_warnings
from directory.duplicates import Record
from directory.gazetteer import _distance_km, load_former_codes, load_gazetteer
from directory.merge import merged_aliases
from directory.schemas import (
    PersonWrite,
    RelationshipWrite,
    ServiceWrite,
    SiteWrite,
    StructureWrite,
)
from directory.store import (
    _check_person,
    _check_service,
    _check_site,
    _check_structure,
    service_keys,
    writing,
)
from directory.store import (
    service_text as _service_text,
)
from directory.tables import (
    ORIGIN_COLUMNS,
    DirectoryChange,
    Person,
    Relationship,
    Service,
    ServiceKey,
    Site,
    Structure,
)
from directory.validation import OVERSEAS_REGIONS, add_scheme, normalise_phone, split_phone_note
from directory.verification import VERIFICATION_COLUMNS, csv_import
from directory.vocabulary import Domain

LIST_SEPARATOR = "|"
_TRUE = {"oui", "o", "true", "vrai", "1", "yes", "y"}
_FALSE = {"non", "n", "false", "faux", "0", "no"}
_GEOCODED = ("address", "commune", "manual")
_POSTCODE = re.compile(
    r"^\s*(?P<code>\d{4,5})\b(?:[^\d]*?(?P<cedex>\bcedex\b).*)?\s*$", re.IGNORECASE
)
_FAR_KM = 50  # coordinates further from their commune's centre are flagged
_FAR_KM_GUYANE = 150  # communes of French Guiana are up to 18,000 km²
_CHUNK = 500  # ids per IN (...) and rows per INSERT: well under every engine's limits


class CsvImportError(Exception):
    """Raised before anything is written; `problems` holds one French line per problem,
    naming the file, the line (header = line 1), the column and the reason."""

    def __init__(self, problems: list[str], report: str = "") -> None:
        self.problems = problems
        self.report = report  # CSV of the rows at fault, as ImportResult.report
        super().__init__("\n".join(problems))


# ---- The files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    name: str  # "structures": the file is structures.csv
    table: type[Table]
    schema: type[msgspec.Struct]
    columns: tuple[str, ...]  # export order; every accepted column
    parent: str | None  # column naming the owning structure
    label: str  # French plural, for reports

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def required(self) -> tuple[str, ...]:
        fields = [f.name for f in _fields(self.schema) if f.required]
        return ((self.parent,) if self.parent else ()) + tuple(fields)


STRUCTURES = _Spec(
    "structures",
    Structure,
    StructureWrite,
    (
        "id",
        "name",
        "kind",
        "network",
        "siret",
        "description",
        "website",
        "email",
        "phone",
        "status",
        "verified_at",
        "verified_by_kind",
        "verified_by",
        "created_at",
        "updated_at",
    ),
    None,
    "structures",
)
SITES = _Spec(
    "sites",
    Site,
    SiteWrite,
    (
        "id",
        "structure_id",
        "name",
        "address",
        "commune",
        "postcode",
        "lat",
        "lon",
        "geocoded",
        "opening_hours",
        "accessibility",
        "walk_in",
    ),
    "structure_id",
    "sites",
)
PEOPLE = _Spec(
    "people",
    Person,
    PersonWrite,
    (
        "id",
        "structure_id",
        "first_name",
        "last_name",
        "role",
        "email",
        "phone",
        "preferred_channel",
        "active",
        "left_on",
    ),
    "structure_id",
    "personnes",
)
SERVICES = _Spec(
    "services",
    Service,
    ServiceWrite,
    (
        "id",
        "structure_id",
        "site_id",
        "contact_id",
        "name",
        "description",
        "domains",
        "thematiques",
        "publics",
        "conditions",
        "fees",
        "on_site",
        "remote",
        "zone",
        "unconditional",
    ),
    "structure_id",
    "services",
)
RELATIONSHIPS = _Spec(
    "relationships",
    Relationship,
    RelationshipWrite,
    (
        "id",
        "source_id",
        "target_structure_id",
        "target_person_id",
        "level",
        "kind",
        "since",
        "note",
    ),
    "source_id",
    "relations",
)
# Write order: what a row refers to is written before it.
SPECS = (STRUCTURES, PEOPLE, SITES, SERVICES, RELATIONSHIPS)

_LIST_FIELDS = {"domains", "thematiques", "publics", "zone"}
_BOOL_FIELDS = {"walk_in", "on_site", "remote", "unconditional", "active"}
# CSV column -> database column, where they differ.
_DB_COLUMN = {
    "structure_id": "structure",
    "source_id": "source",
    "site_id": "site",
    "contact_id": "contact",
    "target_structure_id": "target_structure",
    "target_person_id": "target_person",
}
_FILE_ORDER = ("structures", "sites", "services", "people", "relationships")
# The record kind of each file's lines of history (directory.history).
_KINDS = {
    "structures": "structure",
    "sites": "site",
    "services": "service",
    "people": "person",
    "relationships": "relationship",
}


# ---- Export ------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


async def export_directory(folder: Path) -> str:
    """Write the five files into `folder`, in a stable order (structures by name, their
    children after them), so that two exports of the same directory are byte-identical."""
    folder.mkdir(parents=True, exist_ok=True)
    structures = await Structure.select()
    structures.sort(key=lambda r: (r["name"].casefold(), r["name"], str(r["id"])))
    rank = {r["id"]: index for index, r in enumerate(structures)}
    sites = await Site.select()
    sites.sort(key=lambda r: (rank.get(r["structure"], -1), r["name"], str(r["id"])))
    services = await Service.select()
    services.sort(key=lambda r: (rank.get(r["structure"], -1), r["name"], str(r["id"])))
    people = await Person.select()
    people.sort(
        key=lambda r: (
            rank.get(r["structure"], -1),
            r["last_name"],
            r["first_name"],
            str(r["id"]),
        )
    )
    relationships = await Relationship.select()
    relationships.sort(
        key=lambda r: (rank.get(r["source"], -1), r["level"], r["kind"], str(r["id"]))
    )
    rows = {
        "structures": structures,
        "sites": sites,
        "services": services,
        "people": people,
        "relationships": relationships,
    }
    for spec in SPECS:
        with (folder / spec.file).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(spec.columns)
            for row in rows[spec.name]:
                writer.writerow(
                    [neutralise(_cell_text(row[_DB_COLUMN.get(c, c)])) for c in spec.columns]
                )
    counts = ", ".join(_count(len(rows[n]), _spec(n).label) for n in _FILE_ORDER)
    return f"Export terminé dans {folder} : {counts}."


def _spec(name: str) -> _Spec:
    return next(s for s in SPECS if s.name == name)


# ---- Reading -----------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    cells: dict[str, str]  # column -> stripped text, only the file's columns
    id: UUID = field(default_factory=uuid.uuid4)
    old: dict[str, Any] | None = None  # the database row, when the id exists
    parent: UUID | None = None
    data: Any = None  # the msgspec input Struct
    values: dict[str, Any] | None = None  # database values; None when the row is invalid
    checked: bool = True  # False: the file's header is wrong, so its rows are not checked
    problems: list[str] = field(default_factory=list)  # "column : reason": the row is refused
    warnings: list[str] = field(default_factory=list)  # "column : what was changed"


@dataclass
class _File:
    spec: _Spec
    rows: list[_Row]
    missing: set[str] = field(default_factory=set)  # required columns absent from the header


def _read_file(path: Path, spec: _Spec, problems: list[str], warnings: list[str]) -> _File | None:
    text = _decode(path, spec, problems, warnings)
    if text is None:
        return None
    parsed = _records(text, spec, problems)
    if parsed is None:
        return None
    header, raw_rows = parsed
    check_rows, missing = _check_header(header, spec, problems)
    rows: list[_Row] = []
    for line, record in enumerate(raw_rows, start=2):
        if not any(cell.strip() for cell in record):
            continue  # an empty line of the spreadsheet
        cells: dict[str, str] = {c: "" for c in header if c in spec.columns}
        row = _Row(line, cells, checked=check_rows)
        for index, cell in enumerate(record):
            column = header[index] if index < len(header) else ""
            if column in cells:
                cells[column] = cells[column] or restore(cell.strip())
            elif not column and cell.strip() and not row.problems:
                message = (
                    "valeur dans une colonne sans nom "
                    "(une virgule de trop, ou un en-tête manquant ?)"
                )
                row.problems.append(message)
        rows.append(row)
    return _File(spec, rows, missing)


def _decode(path: Path, spec: _Spec, problems: list[str], warnings: list[str]) -> str | None:
    """The file's text: UTF-8 (with or without a byte-order mark), UTF-16 with its mark
    (Excel's « texte Unicode »), else Windows-1252, what a French Excel writes as « CSV »."""
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            problems.append(
                f"{spec.file} : fichier UTF-16 illisible (enregistrez-le en CSV UTF-8)."
            )
            return None
    else:
        body = data.removeprefix(codecs.BOM_UTF8)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = body.decode("cp1252")
            except UnicodeDecodeError:  # bytes that Windows-1252 leaves undefined
                text = body.decode("latin-1")
            warnings.append(
                f"{spec.file} : fichier lu en Windows-1252 (Latin-1), l'encodage des « CSV » "
                "d'Excel ; vérifiez les accents, ou enregistrez-le au format « CSV UTF-8 »."
            )
    if (nul := text.find("\x00")) >= 0:
        # PostgreSQL cannot store it and SQLite would cut the text there.
        line = text.count("\n", 0, nul) + 1
        problems.append(
            f"{spec.file}, ligne {line} : caractère nul (U+0000) ; "
            "le fichier est-il bien un CSV enregistré en texte ?"
        )
        return None
    return text


def _records(
    text: str, spec: _Spec, problems: list[str]
) -> tuple[list[str], list[list[str]]] | None:
    """The header (lower-case names) and the records; None when the CSV is unreadable."""
    first_line = text.split("\n", 1)[0]
    # The separator is the one the header uses most: names hold none of them.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # strict: an unterminated quote is an error, not a cell that swallows the lines after it.
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    raw_rows: list[list[str]] = []
    try:
        header = [h.strip().lower() for h in next(records, [])]
    except csv.Error as error:
        problems.append(f"{spec.file}, ligne 1 : CSV illisible ({_csv_error(error)}).")
        return None
    try:
        for record in records:
            raw_rows.append(record)
    except csv.Error as error:
        # Lines are counted as spreadsheet rows, like the other problems of this file.
        line = len(raw_rows) + 2
        problems.append(f"{spec.file}, ligne {line} : CSV illisible ({_csv_error(error)}).")
        return None
    if not any(header):
        problems.append(f"{spec.file}, ligne 1 : la ligne d'en-tête (noms des colonnes) manque.")
        return None
    return header, raw_rows


def _check_header(header: list[str], spec: _Spec, problems: list[str]) -> tuple[bool, set[str]]:
    """(whether rows can be checked one by one, required columns absent).

    Unknown columns are reported and their cells ignored, so the rows are still checked;
    without the owner column (or with a doubled one) the rows are not checked one by one,
    but their ids still count as known for the other files. Another required column may be
    absent from a file of updates (`id,structure_id,zone`): the rows that create a record
    are refused for lacking it, one by one."""
    check_rows = True
    seen: set[str] = set()
    for column in header:
        if not column:
            continue  # an unnamed column: its cells must be empty (checked below)
        if column not in spec.columns:
            problems.append(
                f"{spec.file}, ligne 1 : colonne inconnue « {column} » "
                f"(colonnes possibles : {', '.join(spec.columns)})"
            )
        elif column in seen:
            problems.append(f"{spec.file}, ligne 1 : colonne « {column} » en double")
            check_rows = False
        seen.add(column)
    if spec.parent and spec.parent not in seen:
        problems.append(f"{spec.file}, ligne 1 : colonne obligatoire absente « {spec.parent} »")
        check_rows = False
    return check_rows, {c for c in spec.required if c not in seen and c != spec.parent}


def _csv_error(error: csv.Error) -> str:
    """The csv module's English, in the words of someone editing a spreadsheet."""
    message = str(error)
    if "unexpected end of data" in message:
        return "un guillemet ouvert n'est jamais refermé"
    if "expected after" in message:
        return "du texte suit un guillemet fermant ; doublez les guillemets dans une valeur"
    return message


def _read_folder(folder: Path) -> tuple[dict[str, _File], list[str], list[str]]:
    """The files, the problems and the warnings of the files as wholes."""
    problems: list[str] = []
    warnings: list[str] = []
    files: dict[str, _File] = {}
    known = {spec.file: spec for spec in SPECS}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() != ".csv":
            continue
        spec = known.get(path.name.lower())
        if spec is None:
            problems.append(
                f"{path.name} : fichier inconnu (fichiers possibles : "
                f"{', '.join(s.file for s in SPECS)})"
            )
            continue
        if spec.name in files:
            problems.append(f"{path.name} : fichier en double")
            continue
        read = _read_file(path, spec, problems, warnings)
        if read is not None:
            files[spec.name] = read
    return files, problems, warnings


# ---- Cell values -------------------------------------------------------------------------


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _bool(text: str) -> bool | None:
    folded = text.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def _timestamp(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from_db(spec: _Spec, old: dict[str, Any], name: str) -> Any:
    value = old[_DB_COLUMN.get(name, name)]
    return list(value) if isinstance(value, list | tuple) else value


def _french(name: str, value: Any, message: str) -> str:
    """msgspec's English message for one field, said in French for the person at the
    spreadsheet."""
    if name == "domains":
        if isinstance(value, list) and value:
            codes = [d.value for d in Domain]
            unknown = [f"« {d} »" for d in value if d not in codes]
            return (
                ("domaine inconnu " if len(unknown) == 1 else "domaines inconnus ")
                + ", ".join(unknown)
                + f" (codes possibles : {', '.join(codes)})"
            )
        return "au moins un domaine est obligatoire"
    if message.startswith("Invalid enum value"):
        allowed = {
            "status": "active, suspended, closed",
            "preferred_channel": "email, phone, sms, in_person",
            "level": "operational, organisational, political",
            "kind": "partnership, referral, funding, governance, membership, contact, "
            "elected_representative",
        }.get(name)
        extra = f" (valeurs possibles : {allowed})" if allowed else ""
        return f"valeur inconnue « {value} »{extra}"
    if "of length >= 1" in message:
        return "valeur obligatoire"
    if "of length <=" in message:
        limit = message.split("<=")[1].split()[0].strip("`")
        return f"trop long : {limit} caractères au plus ({len(value)} donnés)"
    if "matching regex" in message:
        if name == "commune":
            return f"code INSEE invalide « {value} » (5 caractères, par exemple 26362 ou 2A004)"
        return f"format invalide « {value} »"
    if "date" in message:
        return f"date invalide « {value} » (format AAAA-MM-JJ)"
    if "UUID" in message:
        return f"identifiant invalide « {value} » (UUID attendu)"
    if "float" in message:
        if ">=" in message or "<=" in message:
            bound = "90" if name == "lat" else "180"
            return f"« {value} » hors limites (entre -{bound} et {bound})"
        return f"nombre attendu, « {value} » donné (séparateur décimal : le point)"
    return message


@functools.cache
def _fields(schema: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    return msgspec.structs.fields(schema)


@functools.cache
def _max_lengths(table: type[Table]) -> dict[str, int]:
    return {
        c._meta.name: c.length for c in table._meta.columns if isinstance(c, Varchar) and c.length
    }


# Stand-ins for required fields whose value is wrong (and reported), so that the rest of
# the row still goes through the store's checks and every problem of a line shows at once.
_STAND_INS: dict[str, Any] = {
    "name": "?",
    "first_name": "?",
    "last_name": "?",
    "domains": [Domain.EMPLOYMENT.value],
    "level": "operational",
}


def _convert(spec: _Spec, raw: dict[str, Any], problem: Any) -> msgspec.Struct | None:
    """Build the input Struct. On failure, check each field alone to report them all, then
    build it without the wrong fields (defaults or stand-ins) for the remaining checks;
    None when a required field has no stand-in."""
    try:
        data = msgspec.convert(raw, spec.schema, strict=False)
        if all(math.isfinite(v) for v in msgspec.structs.astuple(data) if isinstance(v, float)):
            return data
        whole = "nombre attendu"
    except msgspec.ValidationError as error:
        whole = str(error)
    bad: list[str] = []
    for info in _fields(spec.schema):
        if info.name not in raw:
            if info.required:
                problem(info.name, "valeur obligatoire")
                bad.append(info.name)
            continue
        value = raw[info.name]
        try:
            converted = msgspec.convert(value, info.type, strict=False)
        except msgspec.ValidationError as error:
            problem(info.name, _french(info.name, value, str(error)))
            bad.append(info.name)
            continue
        if isinstance(converted, float) and not math.isfinite(converted):
            problem(info.name, f"nombre attendu, « {value} » donné")
            bad.append(info.name)
    if not bad:
        problem("?", whole)
        return None
    rest = {k: v for k, v in raw.items() if k not in bad}
    rest |= {k: _STAND_INS[k] for k in bad if k in _STAND_INS}
    try:
        return msgspec.convert(rest, spec.schema, strict=False)
    except msgspec.ValidationError:
        return None


# ---- Import ------------------------------------------------------------------------------


async def _fetch(table: type[Table], ids: Iterable[UUID], *columns: Any) -> list[dict[str, Any]]:
    """Rows whose id is in `ids`: one query per _CHUNK ids."""
    found: list[dict[str, Any]] = []
    for chunk in _chunks(list(dict.fromkeys(ids)), _CHUNK):
        found += await table.select(*columns).where(table.id.is_in(chunk))  # type: ignore[attr-defined]
    return found


async def _insert(
    table: type[Table],
    columns: list[str],
    records: list[tuple[Any, ...]],
    update: list[str] | None = None,
) -> None:
    """Multi-row INSERT (ON CONFLICT (id) DO UPDATE when `update` names columns), in
    statements of at most ~16,000 parameters: the same SQL on SQLite and PostgreSQL, and
    much faster than building a Table instance per row."""
    if not records:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    head = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES '
    tail = ""
    if update:
        tail = ' ON CONFLICT ("id") DO UPDATE SET ' + ", ".join(
            f'"{c}" = EXCLUDED."{c}"' for c in update
        )
    placeholders = "(" + ", ".join("{}" for _ in columns) + ")"
    for chunk in _chunks(records, max(1, 16_000 // len(columns))):
        sql = head + ", ".join(placeholders for _ in chunk) + tail
        await table.raw(sql, *(value for record in chunk for value in record))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _postcode_departement(code: str) -> str:
    """'06' for 06205 and for the commune 06088; '20' for Corsica; '974' overseas."""
    if code.startswith("97"):
        return code[:3]
    return "20" if code[:2] in {"20", "2A", "2B"} else code[:2]


@dataclass
class _Owners:
    structures: set[UUID]  # every structure id a row may point to
    site: dict[UUID, UUID | None]  # site -> its structure
    person: dict[UUID, UUID | None]  # person -> their structure


_NOT_THEIRS = {
    "site_id": "Ce site n'appartient pas à la structure.",
    "contact_id": "Cette personne ne travaille pas dans la structure.",
}


class _Import:
    def __init__(
        self, files: dict[str, _File], problems: list[str], keep_valid: bool = False
    ) -> None:
        self.files = files
        self.problems = problems
        self.warnings: list[str] = []
        # False: all or nothing; True: every valid row is written, the others reported.
        self.keep_valid = keep_valid
        self.gazetteer = load_gazetteer()
        # What each id of the files will be once imported.
        self.ids: dict[str, dict[UUID, _Row]] = {s.name: {} for s in SPECS}
        # Structure -> département of its first site in sites.csv: where its numbers are read.
        self.departements: dict[UUID, str] = {}
        self.structure_names: dict[UUID, str] = {}

    def rows(self, name: str) -> list[_Row]:
        file = self.files.get(name)
        return file.rows if file else []

    def valid(self, name: str) -> list[_Row]:
        """The rows to write: all of them, unless some are refused and kept out."""
        return [r for r in self.rows(name) if r.values is not None and not r.problems]

    def problem(self, spec: _Spec, row: _Row, column: str, message: str) -> None:
        """The row is refused for this reason."""
        row.problems.append(f"{column} : {message}")
        row.values = None
        self.problems.append(f"{spec.file}, ligne {row.line} : {column} : {message}")

    def warn(self, spec: _Spec, row: _Row, column: str, message: str) -> None:
        """The row goes in, read in a way the person at the spreadsheet should check."""
        row.warnings.append(f"{column} : {message}")
        self.warnings.append(f"{spec.file}, ligne {row.line} : {column} : {message}")

    # -- the report

    def report(self, *, written: bool) -> str:
        """The refused rows and those read with warnings, one line each, as they were in
        the file, after `fichier`, `ligne`, `statut`, `motif` (why refused) and
        `remarques`: UTF-8 with a byte-order mark and semicolons, so that a French Excel
        opens it as it is."""
        columns: list[str] = []
        for name in _FILE_ORDER:
            file = self.files.get(name)
            if file is not None and file.rows:
                columns += [c for c in _spec(name).columns if c in file.rows[0].cells]
        columns = list(dict.fromkeys(columns))
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow([*_REPORT_COLUMNS, *columns])
        for message in self.problems + self.warnings:
            match = _PROBLEM_PLACE.match(message)
            if match is None or match["line"] not in {None, "1"}:
                continue  # a row's: on its own line below
            refused = message in self.problems
            status = "fichier refusé" if refused else "fichier importé"
            if not written and not refused:
                status = "fichier non importé (import annulé)"
            place = [match["file"], match["line"] or "", status]
            writer.writerow(place + ([message, ""] if refused else ["", message]))
        for name in _FILE_ORDER:
            for row in self.rows(name):
                if not row.problems and not row.warnings:
                    continue
                if row.problems:
                    status = "refusée"
                elif written:
                    status = "importée"
                else:
                    status = "non importée (import annulé)"
                writer.writerow(
                    [
                        _spec(name).file,
                        row.line,
                        status,
                        " ; ".join(row.problems),
                        " ; ".join(row.warnings),
                        *(neutralise(row.cells.get(c, "")) for c in columns),
                    ]
                )
        return "\ufeff" + buffer.getvalue()

    # -- validation

    async def validate(self) -> None:
        for spec in SPECS:
            for row in self.rows(spec.name):
                self.problems += [f"{spec.file}, ligne {row.line} : {p}" for p in row.problems]
        for spec in SPECS:
            await self._read_ids(spec)
        self._site_departements()
        for spec in SPECS:
            for row in self.rows(spec.name):
                await self._check_row(spec, row)
        await self._check_references()

    async def _read_ids(self, spec: _Spec) -> None:
        seen = self.ids[spec.name]
        for row in self.rows(spec.name):
            text = row.cells.get("id", "")
            if text:
                given = _uuid(text)
                if given is None:
                    self.problem(spec, row, "id", f"identifiant invalide « {text} » (UUID attendu)")
                    continue
                row.id = given
            if row.id in seen:
                self.problem(spec, row, "id", f"identifiant déjà utilisé ligne {seen[row.id].line}")
                continue
            seen[row.id] = row
        existing = await _fetch(spec.table, seen)
        for old in existing:
            seen[old["id"]].old = old
        # A row naming a record merged into another (an export from before the merge)
        # would bring the duplicate back: it is refused, and the kept record named.
        merged = await merged_aliases(i for i, r in seen.items() if r.old is None)
        for merged_id, kept in merged.items():
            message = f"cette fiche a été fusionnée dans la fiche {kept} : modifiez celle-ci"
            self.problem(spec, seen[merged_id], "id", message)

    def _site_departements(self) -> None:
        for row in self.rows("sites"):
            parent = _uuid(row.cells.get("structure_id", ""))
            commune = self.gazetteer.get(row.cells.get("commune", "").upper())
            if parent and commune:
                self.departements.setdefault(parent, commune.departement)

    async def _check_row(self, spec: _Spec, row: _Row) -> None:
        file = self.files[spec.name]
        if row.old is None:
            for column in sorted(file.missing):
                message = "colonne absente du fichier, obligatoire pour créer une fiche"
                self.problem(spec, row, column, message)
        if not row.checked:
            return
        bad: set[str] = set()  # columns already reported

        def problem(column: str, message: str) -> None:
            if column not in bad and not any(p.startswith(f"{column} : ") for p in row.problems):
                self.problem(spec, row, column, message)
            bad.add(column)

        def warn(column: str, message: str) -> None:
            self.warn(spec, row, column, message)

        if spec.parent:
            row.parent = self._parent(spec, row, problem)
        cells = self._normalise(spec, row, problem, warn)
        raw = self._raw(spec, row, cells, problem)
        extra = self._extra(spec, row, problem)
        data = _convert(spec, raw, problem)
        if data is None:
            return
        row.data = data
        values, errors = await self._domain_check(spec, row, data, extra)
        for name, message in errors.items():
            column = {"target": "target_structure_id"}.get(name, name)
            if name == "lat" and "lon" in bad:
                continue  # "give both or neither", when one of them was wrong
            problem(column, message)
        for name, limit in _max_lengths(spec.table).items():
            value = values.get(name)
            if isinstance(value, str) and len(value) > limit:
                problem(name, f"trop long : {limit} caractères au plus")
        if not row.problems:
            row.values = values

    @staticmethod
    def _parent(spec: _Spec, row: _Row, problem: Any) -> UUID | None:
        assert spec.parent
        text = row.cells.get(spec.parent, "")
        parent = _uuid(text) if text else None
        if not text:
            problem(spec.parent, "valeur obligatoire")
        elif parent is None:
            problem(spec.parent, f"identifiant invalide « {text} » (UUID attendu)")
        elif row.old is not None and row.old[_DB_COLUMN[spec.parent]] != parent:
            owner = row.old[_DB_COLUMN[spec.parent]]
            problem(
                spec.parent,
                f"cette fiche appartient à la structure {owner} : l'import ne la déplace "
                "pas vers une autre (créez-en une nouvelle, sans id)",
            )
        return parent

    @staticmethod
    def _raw(spec: _Spec, row: _Row, cells: dict[str, str], problem: Any) -> dict[str, Any]:
        """The values for the input Struct: the cells, or the database's for the columns the
        file lacks."""
        raw: dict[str, Any] = {}
        for info in _fields(spec.schema):
            name = info.name
            if name not in cells:
                if row.old is not None:
                    raw[name] = _from_db(spec, row.old, name)
                continue
            text = cells[name]
            if name in _LIST_FIELDS:
                items = [t.strip() for t in text.split(LIST_SEPARATOR) if t.strip()]
                if items or info.required:
                    raw[name] = items
            elif not text:
                continue  # the default; _convert reports a required one
            elif name in _BOOL_FIELDS:
                flag = _bool(text)
                if flag is None:
                    problem(name, f"« {text} » : oui ou non attendu")
                else:
                    raw[name] = flag
            else:
                raw[name] = text
        return raw

    # -- what real spreadsheets hold

    def _normalise(self, spec: _Spec, row: _Row, problem: Any, warn: Any) -> dict[str, str]:
        """The cells as Maillage reads them; each change is a warning of the report."""
        cells = dict(row.cells)
        if spec is SITES:
            self._commune(cells, problem, warn)
            self._postcode(cells, warn)
        if cells.get("phone") and spec in (STRUCTURES, PEOPLE):
            owner = row.id if spec is STRUCTURES else row.parent
            departement = self.departements.get(owner) if owner else None
            region = OVERSEAS_REGIONS.get(departement or "", "FR")
            self._phone(cells, region, warn)
        if cells.get("website") and spec is STRUCTURES:
            website = add_scheme(cells["website"])
            if website != cells["website"]:
                warn("website", f"« {cells['website']} » lu comme {website}")
                cells["website"] = website
        return cells

    def _commune(self, cells: dict[str, str], problem: Any, warn: Any) -> None:
        given = cells.get("commune", "")
        code = given.upper()  # Corsica: 2a004 is 2A004
        if len(code) == 4 and code.isdigit():
            code = "0" + code
            warn("commune", f"code INSEE « {given} » lu comme {code} (zéro initial perdu)")
        former = load_former_codes().get(code) if self.gazetteer.get(code) is None else None
        if former is not None and former.kind == "merged":
            warn(
                "commune",
                f"la commune {code} a fusionné depuis : site rattaché à {former.name} "
                f"({former.target}), la commune d'aujourd'hui",
            )
            code = former.target
        elif former is not None:
            problem(
                "commune",
                f"{code} est une commune d'une collectivité d'outre-mer ({former.name}) : "
                "Maillage ne couvre que la métropole et les cinq départements d'outre-mer",
            )
        cells["commune"] = code

    def _postcode(self, cells: dict[str, str], warn: Any) -> None:
        given = cells.get("postcode", "")
        match = _POSTCODE.match(given)
        if match is None:
            return
        code = match["code"].zfill(5)
        cedex = bool(match["cedex"])
        commune = self.gazetteer.get(cells.get("commune", ""))
        if commune is None or code in commune.postcodes:
            if code != given:
                lost = "mention CEDEX retirée" if cedex else "zéro initial perdu"
                warn("postcode", f"« {given} » lu comme {code} ({lost})")
            cells["postcode"] = code
            return
        business = cedex or not self.gazetteer.by_postcode(code)
        if business and _postcode_departement(code) == _postcode_departement(commune.insee):
            # A CEDEX code routes mail to a business; a site is where people come.
            cells["postcode"] = commune.postcodes[0]
            warn(
                "postcode",
                f"« {given} » est un code CEDEX (courrier des entreprises) : le site prend "
                f"le code postal de sa commune, {commune.postcodes[0]} ({commune.name})",
            )
        elif code != given:
            cells["postcode"] = code

    @staticmethod
    def _phone(cells: dict[str, str], region: str, warn: Any) -> None:
        number, note = split_phone_note(cells["phone"])
        e164, problem = normalise_phone(number, region)
        if problem:
            return  # the store's check reports the cell as it is
        if note:
            warn("phone", f"note retirée après le numéro : « {note} »")
        cells["phone"] = e164

    def _extra(self, spec: _Spec, row: _Row, problem: Any) -> dict[str, Any]:
        """Columns that are not fields of the input Struct."""
        extra: dict[str, Any] = {}
        if spec is STRUCTURES:
            for name in ("created_at", "updated_at"):
                text = row.cells.get(name, "")
                if text:
                    moment = _timestamp(text)
                    if moment is None:
                        problem(
                            name,
                            f"date et heure invalides « {text} » "
                            "(format AAAA-MM-JJTHH:MM:SS+00:00)",
                        )
                    extra[name] = moment
        elif spec is SITES:
            text = row.cells.get("geocoded", "")
            if "geocoded" not in row.cells and row.old is not None:
                text = row.old["geocoded"]
            if text and text not in _GEOCODED:
                problem(
                    "geocoded",
                    f"valeur inconnue « {text} » (valeurs possibles : {', '.join(_GEOCODED)})",
                )
            extra["geocoded"] = text
        return extra

    async def _domain_check(
        self, spec: _Spec, row: _Row, data: Any, extra: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The store's own checks and normalisation, without its per-row queries:
        references are checked for the whole import at once in _check_references."""
        if spec is STRUCTURES:
            values, errors = _check_structure(data)
            if row.old is None:
                now = datetime.now(UTC)
                values["created_at"] = extra.get("created_at") or now
                values["updated_at"] = extra.get("updated_at") or now
            return values, errors
        if spec is PEOPLE:
            return _check_person(data)
        if spec is SITES:
            return await self._site_values(row, data, extra["geocoded"])
        if spec is SERVICES:
            references = msgspec.structs.replace(data, site_id=None, contact_id=None)
            values, errors = await _check_service(row.parent, references)  # type: ignore[arg-type]
            values["site"] = data.site_id
            values["contact"] = data.contact_id
            return values, errors
        return self._relationship_values(row, data)

    async def _site_values(
        self, row: _Row, data: SiteWrite, geocoded: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        if data.lat is not None and data.lon is not None and geocoded == "commune":
            # Coordinates written as the commune centre follow the commune (which may have
            # been edited), unless they were edited themselves.
            unchanged = row.old is None or (row.old["lat"], row.old["lon"]) == (data.lat, data.lon)
            if unchanged:
                data = msgspec.structs.replace(data, lat=None, lon=None)
            else:
                geocoded = "manual"
        values, errors, _notice = await _check_site(data, self.gazetteer, None)
        if values and data.lat is not None:
            if geocoded in {"address", "manual"}:
                values["geocoded"] = geocoded
            self._far(row, values)
        return values, errors

    def _far(self, row: _Row, values: dict[str, Any]) -> None:
        """Flag coordinates far from their commune: either they or the commune are wrong,
        and the import cannot tell which, so both are kept as given."""
        commune = self.gazetteer.get(values["commune"])
        if commune is None:
            return
        lat, lon = values["lat"], values["lon"]
        limit = _FAR_KM_GUYANE if commune.departement == "973" else _FAR_KM
        distance = _distance_km(lat, lon, commune.lat, commune.lon)
        if distance <= limit:
            return
        message = (
            f"coordonnées à {distance:.0f} km du centre de la commune {commune.insee} "
            f"({commune.name}) : "
            "vérifiez-les, ou la commune"
        )
        if _distance_km(lat, -lon, commune.lat, commune.lon) <= limit:
            message += f" (le signe de la longitude semble inversé : {-lon} plutôt que {lon} ?)"
        self.warn(SITES, row, "lat", message)

    def _relationship_values(
        self, row: _Row, data: RelationshipWrite
    ) -> tuple[dict[str, Any], dict[str, str]]:
        errors: dict[str, str] = {}
        if (data.target_structure_id is None) == (data.target_person_id is None):
            errors["target"] = (
                "Choisissez une structure ou une personne, et une seule "
                "(target_structure_id ou target_person_id)."
            )
        elif data.target_structure_id == row.parent:
            errors["target"] = "Une structure ne peut pas être en relation avec elle-même."
        values = {
            "target_structure": data.target_structure_id,
            "target_person": data.target_person_id,
            "level": data.level.value,
            "kind": data.kind.value,
            "since": data.since,
            "note": data.note.strip(),
        }
        return values, errors

    async def _check_references(self) -> None:
        """Every id a row points to exists in the files or in the database; a service's
        site and contact belong to its structure. One query per kind of reference."""
        owners = await self._owners(*self._references())
        for spec in SPECS[1:]:
            for row in self.rows(spec.name):
                if row.data is not None:
                    self._check_row_references(spec, row, owners)
        if self.keep_valid:
            self._refuse_dependants()
        # Services are found by their structure's name: compute it now that names are known.
        for row in self.rows("services"):
            if row.values is not None and row.parent in self.structure_names:
                row.values["search_text"] = _service_text(
                    row.values, self.structure_names[row.parent]
                )

    def _references(self) -> tuple[set[UUID], set[UUID], set[UUID]]:
        """The structures, sites and people the rows point to."""
        structure_refs: set[UUID] = set()
        site_refs: set[UUID] = set()
        person_refs: set[UUID] = set()
        for spec in SPECS[1:]:
            for row in self.rows(spec.name):
                if row.parent:
                    structure_refs.add(row.parent)
                data = row.data
                if isinstance(data, ServiceWrite):
                    site_refs.update([data.site_id] if data.site_id else [])
                    person_refs.update([data.contact_id] if data.contact_id else [])
                elif isinstance(data, RelationshipWrite):
                    structure_refs.update(
                        [data.target_structure_id] if data.target_structure_id else []
                    )
                    person_refs.update([data.target_person_id] if data.target_person_id else [])
        return structure_refs, site_refs, person_refs

    async def _owners(
        self, structure_refs: set[UUID], site_refs: set[UUID], person_refs: set[UUID]
    ) -> _Owners:
        """What the references point to, from the files and from the database."""
        in_files = self.ids
        db_structures = {
            r["id"]: r["name"]
            for r in await _fetch(
                Structure,
                structure_refs - in_files["structures"].keys(),
                Structure.id,
                Structure.name,
            )
        }
        self.structure_names = db_structures | {
            i: r.values["name"] for i, r in in_files["structures"].items() if r.values
        }
        site_owner = {
            r["id"]: r["structure"]
            for r in await _fetch(
                Site, site_refs - in_files["sites"].keys(), Site.id, Site.structure
            )
        } | {i: r.parent for i, r in in_files["sites"].items()}
        person_owner = {
            r["id"]: r["structure"]
            for r in await _fetch(
                Person, person_refs - in_files["people"].keys(), Person.id, Person.structure
            )
        } | {i: r.parent for i, r in in_files["people"].items()}
        known = db_structures.keys() | in_files["structures"].keys()
        return _Owners(set(known), site_owner, person_owner)

    def _check_row_references(self, spec: _Spec, row: _Row, owners: _Owners) -> None:
        def missing(what: str, value: UUID, file: str) -> str:
            return f"{what} introuvable « {value} » (ni dans la base, ni dans {file})"

        if row.parent and row.parent not in owners.structures:
            self.problem(
                spec, row, spec.parent or "", missing("structure", row.parent, "structures.csv")
            )
        data = row.data
        if isinstance(data, ServiceWrite):
            links = (
                ("site_id", data.site_id, owners.site, "site", "sites"),
                ("contact_id", data.contact_id, owners.person, "personne", "people"),
            )
            for column, ref, owner_of, what, name in links:
                if not ref:
                    continue
                owner = owner_of.get(ref)
                if owner is None and ref in self.ids[name]:
                    pass  # that row of the other file is wrong, and reported
                elif owner is None:
                    self.problem(spec, row, column, missing(what, ref, f"{name}.csv"))
                elif owner != row.parent:
                    self.problem(spec, row, column, _NOT_THEIRS[column])
        if isinstance(data, RelationshipWrite):
            target = data.target_structure_id
            if target and target not in owners.structures:
                self.problem(
                    spec,
                    row,
                    "target_structure_id",
                    missing("structure", target, "structures.csv"),
                )
            person = data.target_person_id
            if person and person not in owners.person:
                self.problem(
                    spec, row, "target_person_id", missing("personne", person, "people.csv")
                )

    def _refuse_dependants(self) -> None:
        """When valid rows are kept, a row pointing to a refused row of the files is refused
        too: files are checked in write order, so refusals cascade."""
        for spec in SPECS[1:]:
            for row in self.rows(spec.name):
                if row.values is None:
                    continue
                data = row.data
                links: list[tuple[str, str, UUID | None]] = [
                    (spec.parent or "", "structures", row.parent)
                ]
                if isinstance(data, ServiceWrite):
                    links += [("site_id", "sites", data.site_id)]
                    links += [("contact_id", "people", data.contact_id)]
                if isinstance(data, RelationshipWrite):
                    links += [("target_structure_id", "structures", data.target_structure_id)]
                    links += [("target_person_id", "people", data.target_person_id)]
                for column, name, ref in links:
                    other = self.ids[name].get(ref) if ref else None
                    if other is not None and other.values is None and row.values is not None:
                        self.problem(
                            spec,
                            row,
                            column,
                            f"la ligne {other.line} de {name}.csv, à laquelle elle se "
                            "rapporte, est refusée",
                        )

    # -- writing

    @staticmethod
    def _changed(spec: _Spec, row: _Row) -> bool:
        assert row.values is not None
        if row.old is None:
            return True
        return any(
            row.old.get(k) != v for k, v in row.values.items() if k not in VERIFICATION_COLUMNS
        )

    async def write(self, started_by: str = "") -> dict[str, tuple[int, int, int]]:
        """Everything in one transaction, with a line of history for each record created or
        changed; returns (created, updated, unchanged) per file."""
        counts: dict[str, tuple[int, int, int]] = {}
        now = datetime.now(UTC)
        changes: list[tuple[Any, ...]] = []
        renamed = [
            r.id
            for r in self.rows("structures")
            if r.old is not None and r.values is not None and r.old["name"] != r.values["name"]
        ]
        async with writing():
            for spec in SPECS:
                rows = self.valid(spec.name)
                changed = [r for r in rows if self._changed(spec, r)]
                columns = [
                    c._meta.db_column_name
                    for c in spec.table._meta.columns
                    if spec.table not in (Structure, Service)
                    or c._meta.db_column_name not in ORIGIN_COLUMNS
                ]
                records = []
                for row in changed:
                    assert row.values is not None
                    values = dict(row.values, id=row.id)
                    if spec.parent:
                        values[_DB_COLUMN[spec.parent]] = row.parent
                    if spec is STRUCTURES and row.old is not None:
                        values["created_at"] = row.old["created_at"]
                        values["updated_at"] = now
                    if spec in (STRUCTURES, SERVICES):
                        values |= csv_import(spec.file).stamp()
                    records.append(tuple(values[c] for c in columns))
                    changes += self._history(spec, row, values, now, started_by)
                update = [c for c in columns if c not in {"id", "created_at"}]
                await _insert(spec.table, columns, records, update)
                if spec is SERVICES:
                    await self._write_keys(changed)
                created = sum(1 for r in changed if r.old is None)
                counts[spec.name] = (created, len(changed) - created, len(rows) - len(changed))
            await self._retext_services(renamed)
            await _insert(DirectoryChange, list(history.HISTORY_COLUMNS), changes)
        return counts

    @staticmethod
    def _history(
        spec: _Spec, row: _Row, values: dict[str, Any], now: datetime, started_by: str
    ) -> list[tuple[Any, ...]]:
        """The row's line of history, as the store writes one for a save (none when only
        untracked columns changed)."""
        structure = row.id if spec is STRUCTURES else row.parent
        assert structure is not None
        label = history.import_label(csv_import(spec.file).label, started_by)
        change = history.import_change(
            _KINDS[spec.name], row.id, structure, row.old, values, at=now, label=label
        )
        return [change] if change else []

    @staticmethod
    async def _write_keys(services: list[_Row]) -> None:
        updated = [r.id for r in services if r.old is not None]
        for chunk in _chunks(updated, _CHUNK):
            await ServiceKey.delete().where(ServiceKey.service.is_in(chunk))
        keys = [
            (row.id, key)
            for row in services
            if row.values is not None
            for key in service_keys(
                row.values["domains"],
                row.values["thematiques"],
                row.values["publics"],
                row.values["zone"],
                row.values["remote"],
            )
        ]
        await _insert(ServiceKey, ["service", "key"], keys)

    async def _retext_services(self, renamed: list[UUID]) -> None:
        """A structure's name is part of its services' search text (as in
        store.update_structure); services of the files already have the new one."""
        in_file = {r.id for r in self.valid("services")}
        columns = [c._meta.db_column_name for c in Service._meta.columns]
        for chunk in _chunks(renamed, _CHUNK):
            records = []
            for service in await Service.select().where(Service.structure.is_in(chunk)):
                if service["id"] not in in_file:
                    name = self.structure_names[service["structure"]]
                    service["search_text"] = _service_text(service, name)
                    records.append(tuple(service[c] for c in columns))
            await _insert(Service, columns, records, ["search_text"])


@dataclass
class ImportResult:
    """What an import wrote, for the person who ran it."""

    message: str
    refused: int  # rows refused (only when valid rows are kept)
    problems: list[str]  # why they were refused (file, line, column, reason)
    warnings: list[str]  # values read in a way worth checking (file, line, column, what)
    report: str  # CSV of the refused rows and of those with warnings; '' when none


async def import_directory(
    folder: Path, *, keep_valid: bool = False, started_by: str = ""
) -> ImportResult:
    """Import the CSV files of `folder` (any of structures.csv, sites.csv, services.csv,
    people.csv, relationships.csv). All or nothing by default: raises CsvImportError with
    every problem found, before writing anything. With `keep_valid`, every valid row is
    written and the refused ones are listed in the report, with their reasons; a problem
    with a file as a whole (unreadable, unknown column) still refuses everything.
    `started_by` (a person's name) is named in the import's lines of history."""
    files, problems, warnings = _read_folder(folder)
    if not files and not problems:
        problems.append(
            f"{folder} : aucun fichier à importer (attendus : {', '.join(s.file for s in SPECS)})."
        )
    whole_files = bool(problems)
    importer = _Import(files, problems, keep_valid)
    importer.warnings += warnings
    if files:
        await importer.validate()
        for key, message in await import_warnings(_structure_records(importer)):
            row = importer.ids["structures"][UUID(key)]
            importer.warn(STRUCTURES, row, "name", message)
    if problems and (whole_files or not keep_valid):
        raise CsvImportError(sorted(problems, key=_problem_order), importer.report(written=False))
    try:
        counts = await importer.write(started_by)
    except (sqlite3.Error, _postgres_error()) as error:
        raise CsvImportError(
            [f"La base de données a refusé l'écriture, tout a été annulé : {error}"]
        ) from error
    refused = sum(1 for spec in SPECS for row in importer.rows(spec.name) if row.problems)
    report = importer.report(written=True) if refused or importer.warnings else ""
    return ImportResult(
        _report(counts, refused, len(importer.warnings)),
        refused,
        sorted(problems, key=_problem_order),
        sorted(importer.warnings, key=_problem_order),
        report,
    )


def _structure_records(importer: _Import) -> list[tuple[Record, str]]:
    """The file's valid structures, with their sites' communes, for duplicate detection."""
    sites: dict[UUID | None, list[dict[str, Any]]] = {}
    for site in importer.valid("sites"):
        sites.setdefault(site.parent, []).append(site.values or {})
    records = []
    for row in importer.valid("structures"):
        values, own = row.values or {}, sites.get(row.id, [])
        records.append((Record.of(str(row.id), values, own), f"ligne {row.line}"))
    return records


_REPORT_COLUMNS = ("fichier", "ligne", "statut", "motif", "remarques")
_PROBLEM_PLACE = re.compile(r"^(?P<file>[^,:]+?)(?:, ligne (?P<line>\d+))? :")


def _problem_order(problem: str) -> tuple[int, int]:
    """File by file (in the order of the docs), line by line; stable within a line."""
    match = _PROBLEM_PLACE.match(problem)
    if match is None:
        return (-1, 0)
    name = match["file"].lower().removesuffix(".csv")
    order = _FILE_ORDER.index(name) if name in _FILE_ORDER else -1
    return (order, int(match["line"] or 0))


def _postgres_error() -> type[Exception]:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg ships with the project
        return sqlite3.Error
    return asyncpg.PostgresError


def _french_number(number: int) -> str:
    """5 826, the French way (a narrow no-break space between thousands)."""
    return f"{number:,}".replace(",", "\u202f")


def _count(number: int, name: str) -> str:
    singular = {"personnes": "personne", "relations": "relation"}.get(name, name.rstrip("s"))
    return f"{_french_number(number)} {singular if number == 1 else name}"


def _report(counts: dict[str, tuple[int, int, int]], refused: int = 0, warnings: int = 0) -> str:
    imported = [
        _count(sum(counts[n]), _spec(n).label)
        for n in _FILE_ORDER
        if n in counts and any(counts[n])
    ]
    notes = [
        f"{_french_number(refused)} ligne(s) refusée(s)" if refused else "",
        f"{_french_number(warnings)} remarque(s)" if warnings else "",
    ]
    tail = f" ; {', '.join(n for n in notes if n)} (voir le rapport)" if refused or warnings else ""
    if not imported:
        return f"Import terminé : aucune ligne importée{tail}."
    created, updated, unchanged = (sum(c[i] for c in counts.values()) for i in range(3))
    detail = [
        f"{_french_number(created)} créée(s)" if created else "",
        f"{_french_number(updated)} mise(s) à jour" if updated else "",
        f"{_french_number(unchanged)} inchangée(s)" if unchanged else "",
    ]
    return (
        f"Import terminé : {', '.join(imported)} ; lignes {', '.join(d for d in detail if d)}"
        f"{tail}."
    )
