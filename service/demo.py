"""The demo territory: about 150 fictional partner structures of a Mission Locale network on
the real communes of the Drôme (26), with sites, services, people, relationships at the
three partnership levels, conventions, and four demo accounts.

The territory is data (service/demo_data/, written by scripts/build_demo_data.py) and is
loaded through the same paths a coordinator's import takes: the data·inclusion importer
for structures and services, the Maillage CSV importer for what data·inclusion cannot carry
(structure kind and status, named and extra sites, people, a service's contact, site and
domains, relationships), and the conventions' store for conventions. So every load of the
demo proves the importers. Dates in the files are those of the manifest's reference day;
they are moved by (loading day - reference day), so that the demo never looks stale.

The load runs in one transaction: a failure leaves nothing half-loaded. It is idempotent:
when the demo admin account exists, nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec

from conventions import store as conventions
from conventions.schemas import ConventionWrite, Termination
from directory import data_inclusion, store
from directory.csv_io import import_directory
from directory.hours import local_date
from directory.tables import Structure
from directory.territories import save as save_territory
from service.accounts.store import Actor, Role, create_user
from service.accounts.tables import User
from service.demo_referrals import load_demo_referrals

DATA = Path(__file__).parent / "demo_data"
SOURCE = "maillage-demo"  # the data·inclusion source of the demo's records
_NAMESPACE = uuid.UUID("4b0f3e52-7d0c-4e0b-8f5e-6a2b9c1d3e70")

PASSWORD = "maillage-demo"
EMAIL_DOMAIN = "exemple-partenaire.fr"  # people's and structures' addresses: never real ones

ML_VALENCE = "Mission Locale Valence Confluences"
ML_ROMANS = "Mission Locale Romans Isère Royans"
ML_SUD = "Mission Locale Sud Drôme Provence"
FJT_VALENCE = "Résidence Habitat Jeunes Les Tilleuls"
FJT_MONTELIMAR = "Foyer de jeunes travailleurs L'Escale"

ADMIN_EMAIL = "admin@demo.maillage.fr"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    structure: str  # structure name, '' when none
    password: str = PASSWORD


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(ADMIN_EMAIL, "Administration Maillage (démo)", Role.ADMIN, ""),
    DemoAccount("conseillere@demo.maillage.fr", "Camille Rousset", Role.ADVISOR, ML_VALENCE),
    DemoAccount("coordination@demo.maillage.fr", "Nadia Belkacem", Role.COORDINATOR, ML_VALENCE),
    DemoAccount("partenaire@demo.maillage.fr", "Julien Marchand", Role.ADVISOR, FJT_VALENCE),
)


@dataclass
class DemoReport:
    """What a load wrote (all zero when the demo was already there) and how to log in."""

    already_loaded: bool = False
    referrals: int = 0
    conventions: int = 0
    refused: int = 0  # records an importer refused: always 0, or the load fails
    imports: str = ""  # what the importers said
    structures: int = 0
    sites: int = 0
    services: int = 0
    people: int = 0
    relationships: int = 0
    users: int = 0
    accounts: tuple[DemoAccount, ...] = ACCOUNTS

    def describe(self) -> str:
        if self.already_loaded:
            lines = [
                "La démonstration est déjà chargée dans cette base : rien n'a été écrit.",
            ]
        else:
            lines = [
                "Démonstration chargée : un territoire fictif sur les communes réelles de la "
                "Drôme (26).",
                f"  {self.structures} structures, {self.sites} sites, {self.services} services, "
                f"{self.people} personnes, {self.relationships} relations, "
                f"{self.conventions} conventions, {self.users} comptes, "
                f"{self.referrals} orientations en cours ou passées.",
            ]
        lines += ["", f"Comptes de démonstration (mot de passe commun : {PASSWORD}) :"]
        width = max(len(a.email) for a in self.accounts)
        for account in self.accounts:
            where = f", {account.structure}" if account.structure else ""
            lines.append(
                f"  {account.email.ljust(width)}  {account.role.label} — {account.name}{where}"
            )
        lines += [
            "",
            "Structures, personnes, adresses et numéros sont inventés ; seules les communes "
            "sont réelles.",
            "Ces comptes et ce mot de passe sont publics : ne chargez jamais la démonstration "
            "dans une base de production.",
        ]
        return "\n".join(lines)


def record_uuid(kind: str, *parts: str) -> uuid.UUID:
    """The id of a demo record that only the Maillage CSV files carry (a person, an extra
    site, a relationship): the same on every load."""
    return uuid.uuid5(_NAMESPACE, "/".join((kind, *parts)))


# ---- Loading -------------------------------------------------------------------------------

# Which fields of the dataset are dates, moved by (loading day - reference day).
_DI_DATES = ("date_maj",)
_CSV_DATES = {"people.csv": ("left_on",), "relationships.csv": ("since",)}
_CONVENTION_DATES = ("signed_on", "starts_on", "ends_on", "terminated_on")


class DemoDataError(Exception):
    """The shipped dataset did not import cleanly: a bug of the dataset or of an importer."""


def _moved(value: str | None, shift: timedelta) -> str | None:
    return (date.fromisoformat(value) + shift).isoformat() if value else value


def _shift(today: date) -> timedelta:
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    return today - date.fromisoformat(manifest["reference_date"])


def _di_records(shift: timedelta) -> list[data_inclusion.Raw]:
    raws: list[data_inclusion.Raw] = []
    for name in ("structures.json", "services.json"):
        path = DATA / "di" / name
        for raw in data_inclusion.read_bytes(name, path.read_bytes()):
            for key in _DI_DATES:
                raw.data[key] = _moved(raw.data.get(key), shift)
            raws.append(raw)
    return raws


def _csv_rows(name: str) -> list[dict[str, str]]:
    text = (DATA / "csv" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _write_shifted_csv(folder: Path, shift: timedelta) -> dict[str, int]:
    """The CSV files with their dates moved, in `folder`; rows per file."""
    counts = {}
    for path in sorted((DATA / "csv").glob("*.csv")):
        rows = _csv_rows(path.name)
        for row in rows:
            for key in _CSV_DATES.get(path.name, ()):
                row[key] = _moved(row[key], shift) or ""
        with (folder / path.name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        counts[path.name] = len(rows)
    return counts


async def _import_directory(report: DemoReport, shift: timedelta) -> None:
    outcome = await data_inclusion.import_records(_di_records(shift))
    report.refused = outcome.structures.refused + outcome.services.refused
    if report.refused:
        raise DemoDataError(outcome.summary())
    report.structures = outcome.structures.created + outcome.structures.updated
    report.services = outcome.services.created + outcome.services.updated
    with tempfile.TemporaryDirectory(prefix="maillage-demo-") as folder:
        counts = _write_shifted_csv(Path(folder), shift)
        # All or nothing: raises CsvImportError, listing every problem, on any.
        result = await import_directory(Path(folder))
    report.imports = f"{outcome.summary()}\n{result.message}"
    report.sites = counts["sites.csv"]
    report.people = counts["people.csv"]
    report.relationships = counts["relationships.csv"]


async def _load_conventions(shift: timedelta) -> int:
    """The conventions, through the store the convention form writes with."""
    records: list[dict[str, Any]] = json.loads(
        (DATA / "conventions.json").read_text(encoding="utf-8")
    )
    for record in records:
        for key in _CONVENTION_DATES:
            record[key] = _moved(record[key], shift)
        terminated_on = record.pop("terminated_on")
        reason = record.pop("termination_reason")
        convention_id = await conventions.create(msgspec.convert(record, ConventionWrite))
        if terminated_on:
            await conventions.terminate(
                convention_id, Termination(date.fromisoformat(terminated_on), reason)
            )
    return len(records)


async def _structure_id(name: str) -> uuid.UUID:
    found: list[uuid.UUID] = (
        await Structure.select(Structure.id)
        .where((Structure.name == name) & (Structure.source == SOURCE))
        .output(as_list=True)
    )
    if len(found) != 1:
        raise DemoDataError(f"structure de démo introuvable : {name}")
    return found[0]


async def _load_accounts(report: DemoReport, today: date) -> None:
    advisor: Actor | None = None
    for account in ACCOUNTS[1:]:
        structure_id = await _structure_id(account.structure)
        user_id = await create_user(
            account.email, account.name, PASSWORD, account.role, structure_id
        )
        report.users += 1
        if account.role == Role.ADVISOR and advisor is None:
            advisor = Actor(user_id, account.name, account.email, account.role, structure_id)
    if advisor is not None:
        report.referrals = await load_demo_referrals(advisor, today)
        # The Mission Locale's territory: Valence Romans Agglo and the Crestois.
        await save_territory(
            f"Territoire de la {ML_VALENCE}",
            ["200068781", "200040509"],
            None,
            advisor.structure_id,
        )


async def load_demo() -> DemoReport:
    """Load the demo territory and accounts in one transaction, dated from today (the
    conventions' store checks dates against the clock, so there is no other day to load
    it on); write nothing when the demo admin account already exists."""
    today = local_date()
    async with store.writing():
        if await User.exists().where(User.email == ADMIN_EMAIL):
            return DemoReport(already_loaded=True)
        report = DemoReport()
        # The admin first: a concurrent load then stops on its unique e-mail at once.
        admin = ACCOUNTS[0]
        await create_user(admin.email, admin.name, PASSWORD, admin.role)
        report.users += 1
        shift = _shift(today)
        await _import_directory(report, shift)
        report.conventions = await _load_conventions(shift)
        await _load_accounts(report, today)
        return report
