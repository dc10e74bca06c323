"""Write the demo territory's dataset into service/demo_data/ (run it again after changing
scripts/demo_plan.py, then commit the files): `.venv/bin/python scripts/build_demo_data.py`.

The dataset is what a coordinator would import: data·inclusion v1 files for structures and
services (di/), Maillage CSV files for what data·inclusion cannot carry (csv/: structure
kind and status, named sites and extra sites, walk-in, people, a service's site, contact,
domains and the `unconditional` flag, relationships), and the partnership conventions
(conventions.json, written through the conventions' store at load time). Dates are those
of the reference day in manifest.json; the loader moves them all by (today - reference).
"""

from __future__ import annotations

import csv
import json
import random
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from data_inclusion.schema import v1  # noqa: E402
from demo_plan import (  # noqa: E402
    CATALOGUE,
    FIRST_NAMES,
    LAST_NAMES,
    SEED,
    Plan,
    PlannedRelationship,
    PlannedStructure,
    _Planner,
    _slug,
    build_plan,
)

from directory.data_inclusion import row_id  # noqa: E402
from directory.schemas import PersonWrite  # noqa: E402
from directory.vocabulary import Level, RelationshipKind  # noqa: E402
from service.demo import (  # noqa: E402
    DATA,
    FJT_MONTELIMAR,
    FJT_VALENCE,
    ML_ROMANS,
    ML_SUD,
    ML_VALENCE,
    SOURCE,
    record_uuid,
)

REFERENCE = date(2026, 12, 1)

# Structures whose people are many in real life: the Missions Locales and the larger
# partners, so that a partnership with them does not rest on one person.
STAFF: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    "ml": (
        (5, 6),
        (
            "Conseiller·ère en insertion professionnelle",
            "Conseiller·ère Contrat d'engagement jeune",
            "Chargé·e de relations entreprises",
            "Référent·e logement",
            "Référent·e santé",
            "Chargé·e d'accueil",
        ),
    ),
    "france_travail": ((2, 3), ("Conseiller·ère emploi", "Conseiller·ère entreprises")),
    "departement": ((2, 2), ("Chargé·e de mission insertion", "Travailleur·se social·e")),
    "caf": ((1, 2), ("Conseiller·ère en économie sociale et familiale",)),
    "cpam": ((1, 2), ("Conseiller·ère accès aux droits",)),
    "region": ((1, 1), ("Chargé·e de mission formation",)),
    "prefecture": ((1, 1), ("Chargé·e de mission politique de la ville",)),
    "ccas": ((1, 2), ("Travailleur·se social·e", "Agent·e d'accueil")),
    "cms": ((1, 2), ("Assistant·e de service social", "Conseiller·ère en ESF")),
    "fjt": ((1, 2), ("Animateur·rice socio-éducatif·ve", "Chargé·e d'accueil")),
    "france_services": ((1, 1), ("Conseiller·ère France Services",)),
    "e2c": ((1, 2), ("Formateur·rice", "Chargé·e de relations entreprises")),
    "siao": ((1, 1), ("Travailleur·se social·e",)),
    "mairie": ((1, 1), ("Directeur·rice du CCAS",)),
}
SECOND_PERSON = 0.6  # the chance that a small partner with one person gets a second one
# Structures the demo keeps with their few named people on purpose (single-person cases).
KEEP_AS_THEY_ARE = {
    FJT_MONTELIMAR,
    "Centre médico-psychologique de Valence",
    "CSAPA Tremplin",
    "Point Justice de Montélimar",
    "Conseil départemental de la Drôme",
    "Mairie de Valence",
    "Mairie de Romans-sur-Isère",
    "Mairie de Montélimar",
}


def _grow_staff(plan: Plan, planner: _Planner) -> None:
    """More people where real structures have many, a few of whom have left. Drawn from a
    second seed so that the rest of the plan stays as it was."""
    rng = planner.rng = random.Random(SEED + 1)
    roles_of = {kind.key: kind.roles for kind in CATALOGUE}
    for planned in plan.structures:
        name = planned.structure.name
        if name in KEEP_AS_THEY_ARE:
            continue
        if planned.key in STAFF:
            (low, high), roles = STAFF[planned.key]
        elif sum(p.active for p in planned.people) == 1 and rng.random() < SECOND_PERSON:
            # Most small partners have a second person who can take over.
            (low, high), roles = (1, 1), roles_of[planned.key][1:] or roles_of[planned.key]
        else:
            continue
        taken = {(p.first_name, p.last_name) for p in planned.people}
        for position in range(rng.randint(low, high)):
            while (first := rng.choice(FIRST_NAMES), last := rng.choice(LAST_NAMES)) in taken:
                pass
            taken.add((first, last))
            left = rng.random() < 0.12
            person = planner.person(first, last, roles[position % len(roles)], active=not left)
            planned.people.append(person)


# Partnerships held by named people, some by the same person: (source structure, target
# structure, target person's name, level, kind, note).
PEOPLE_TIES: tuple[tuple[str, str, str, Level, RelationshipKind, str], ...] = (
    (
        FJT_VALENCE,
        ML_VALENCE,
        "Camille Rousset",
        Level.OPERATIONAL,
        RelationshipKind.REFERRAL,
        "Référente logement des jeunes du foyer.",
    ),
    (
        "Centre médico-psychologique de Valence",
        ML_VALENCE,
        "Camille Rousset",
        Level.OPERATIONAL,
        RelationshipKind.CONTACT,
        "Point de contact pour les retours d'orientation.",
    ),
    (
        ML_VALENCE,
        FJT_VALENCE,
        "Julien Marchand",
        Level.OPERATIONAL,
        RelationshipKind.CONTACT,
        "Référent Mission Locale du foyer.",
    ),
    (
        ML_ROMANS,
        ML_VALENCE,
        "Nadia Belkacem",
        Level.ORGANISATIONAL,
        RelationshipKind.CONTACT,
        "Coordonne le réseau départemental des Missions Locales.",
    ),
    (
        ML_SUD,
        ML_VALENCE,
        "Nadia Belkacem",
        Level.ORGANISATIONAL,
        RelationshipKind.CONTACT,
        "Coordonne le réseau départemental des Missions Locales.",
    ),
    (
        "Conseil départemental de la Drôme",
        ML_VALENCE,
        "Isabelle Chabert",
        Level.POLITICAL,
        RelationshipKind.CONTACT,
        "Interlocutrice du Département pour la convention annuelle.",
    ),
)


def _person_index(planned: PlannedStructure, full_name: str) -> int:
    for index, person in enumerate(planned.people):
        if f"{person.first_name} {person.last_name}" == full_name:
            return index
    raise KeyError(full_name)


def _tie_people(plan: Plan, planner: _Planner) -> None:
    for source, target, person, level, kind, note in PEOPLE_TIES:
        target_index = plan.index_of(target)
        plan.relationships.append(
            PlannedRelationship(
                source=plan.index_of(source),
                target_person=(target_index, _person_index(plan.structures[target_index], person)),
                level=level,
                kind=kind,
                since=planner.days_ago(100, 2000),
                note=note,
            )
        )


# ---- ids ---------------------------------------------------------------------------------


def _di_id(planned: PlannedStructure) -> str:
    return _slug(planned.structure.name)


def _structure_uuid(planned: PlannedStructure) -> uuid.UUID:
    return row_id("structure", SOURCE, _di_id(planned))


def _site_uuid(planned: PlannedStructure, index: int) -> uuid.UUID:
    # The first site is the address data·inclusion gives the structure.
    if index == 0:
        return row_id("site", SOURCE, _di_id(planned))
    return record_uuid("site", _di_id(planned), str(index))


def _person_uuid(planned: PlannedStructure, index: int) -> uuid.UUID:
    return record_uuid("person", _di_id(planned), str(index))


def _service_id(planned: PlannedStructure, index: int) -> str:
    return f"{_di_id(planned)}--{index + 1}"


# ---- files -------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])


def _valid(model: type[Any], record: dict[str, Any]) -> dict[str, Any]:
    model.model_validate(record)  # raises on anything data·inclusion would refuse
    return {k: v for k, v in record.items() if v not in (None, [], "")}


def _di_structure(planned: PlannedStructure, gazetteer_name: str) -> dict[str, Any]:
    s, site = planned.structure, planned.sites[0]
    return _valid(
        v1.Structure,
        {
            "source": SOURCE,
            "id": _di_id(planned),
            "nom": s.name,
            "date_maj": planned.verified_on.isoformat() if planned.verified_on else None,
            "description": s.description,
            "courriel": s.email or None,
            "telephone": s.phone or None,
            "adresse": site.address,
            "code_insee": site.commune,
            "code_postal": site.postcode or None,
            "commune": gazetteer_name,
            "latitude": site.lat,
            "longitude": site.lon,
            "horaires_accueil": site.opening_hours or None,
            "reseaux_porteurs": [s.network] if s.network else None,
        },
    )


def _di_service(planned: PlannedStructure, index: int, values: dict[str, Any]) -> dict:
    modes = (["en-presentiel"] if values["on_site"] else []) + (
        ["a-distance"] if values["remote"] else []
    )
    return _valid(
        v1.Service,
        {
            "source": SOURCE,
            "structure_id": _di_id(planned),
            "id": _service_id(planned, index),
            "nom": values["name"],
            # data·inclusion wants a description of at least five characters.
            "description": values["description"]
            or f"{values['name']}, proposé par {planned.structure.name}.",
            "date_maj": planned.verified_on.isoformat() if planned.verified_on else None,
            "thematiques": values["thematiques"],
            "publics": values["publics"],
            "frais_precisions": values["fees"] or None,
            "conditions_acces": values["conditions"] or None,
            "modes_accueil": modes,
            "zone_eligibilite": values["zone"],
        },
    )


def _people_rows(planned: PlannedStructure) -> list[dict[str, Any]]:
    rows = []
    for index, person in enumerate(planned.people):
        rows.append(
            {
                "id": _person_uuid(planned, index),
                "structure_id": _structure_uuid(planned),
                **{f: getattr(person, f) for f in PersonWrite.__struct_fields__},
            }
        )
    return rows


SITE_COLUMNS = (
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
)
PEOPLE_COLUMNS = (
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
)
SERVICE_COLUMNS = ("id", "structure_id", "site_id", "contact_id", "domains", "unconditional")
RELATIONSHIP_COLUMNS = (
    "id",
    "source_id",
    "target_structure_id",
    "target_person_id",
    "level",
    "kind",
    "since",
    "note",
)


def _relationship_rows(plan: Plan) -> list[dict[str, Any]]:
    rows = []
    structures = plan.structures
    for index, relation in enumerate(plan.relationships):
        target_person = None
        if relation.target_person is not None:
            where, who = relation.target_person
            target_person = _person_uuid(structures[where], who)
        target = relation.target_structure
        rows.append(
            {
                "id": record_uuid("relationship", str(index)),
                "source_id": _structure_uuid(structures[relation.source]),
                "target_structure_id": _structure_uuid(structures[target])
                if target is not None
                else None,
                "target_person_id": target_person,
                "level": relation.level.value,
                "kind": relation.kind.value,
                "since": relation.since,
                "note": relation.note,
            }
        )
    return rows


# ---- conventions -------------------------------------------------------------------------

# (title, level, domains, parties as (structure, referent's name or ''), signed, starts,
# ends (days from the reference day), terminated on and why, acknowledge and answer days,
# commitments)
CONVENTIONS: tuple[dict[str, Any], ...] = (
    {
        "title": "Convention d'accès au logement des jeunes en foyer",
        "level": Level.OPERATIONAL,
        "domains": ["housing"],
        "parties": [(ML_VALENCE, "Camille Rousset"), (FJT_VALENCE, "Julien Marchand")],
        "signed": -400,
        "starts": -380,
        "ends": 350,
        "days": (2, 10),
        "commitments": "Le foyer réserve deux places par trimestre aux jeunes orientés par "
        "la Mission Locale ; point mensuel entre les référent·es.",
    },
    {
        "title": "Parcours santé mentale des 16-25 ans",
        "level": Level.OPERATIONAL,
        "domains": ["health"],
        "parties": [
            (ML_VALENCE, "Camille Rousset"),
            ("Centre médico-psychologique de Valence", "Sophie Garnier"),
        ],
        "signed": -700,
        "starts": -690,
        "ends": 45,
        "days": (3, 15),
        "commitments": "Premier rendez-vous au CMP sous trois semaines pour un jeune orienté "
        "par la Mission Locale.",
    },
    {
        "title": "Accompagnement des jeunes hébergés au foyer L'Escale",
        "level": Level.OPERATIONAL,
        "domains": ["housing", "employment"],
        "parties": [(ML_SUD, "Anaïs Mounier"), (FJT_MONTELIMAR, "Romain Delorme")],
        "signed": -1200,
        "starts": -1190,
        "ends": -120,
        "days": (None, None),
        "commitments": "Permanence de la Mission Locale au foyer un jeudi sur deux.",
    },
    {
        "title": "Prise en charge des jeunes consommateurs",
        "level": Level.OPERATIONAL,
        "domains": ["health"],
        "parties": [(ML_ROMANS, "Thomas Reynaud"), ("CSAPA Tremplin", "Olivier Sabatier")],
        "signed": -500,
        "starts": -480,
        "ends": 600,
        "days": (2, 8),
        "commitments": "Consultation jeunes consommateurs sous quinze jours.",
    },
    {
        "title": "Réseau départemental des Missions Locales de la Drôme",
        "level": Level.ORGANISATIONAL,
        "domains": [],
        "parties": [
            (ML_VALENCE, "Nadia Belkacem"),
            (ML_ROMANS, "Thomas Reynaud"),
            (ML_SUD, "Anaïs Mounier"),
            ("Conseil départemental de la Drôme", "Cédric Bouvier"),
        ],
        "signed": -300,
        "starts": -290,
        "ends": 800,
        "days": (None, None),
        "commitments": "Comité de pilotage semestriel ; outils et indicateurs partagés.",
    },
    {
        "title": "Convention pluriannuelle d'objectifs jeunesse",
        "level": Level.POLITICAL,
        "domains": [],
        "parties": [(ML_VALENCE, "Isabelle Chabert"), ("Mairie de Valence", "Hélène Vasseur")],
        "signed": -600,
        "starts": -580,
        "ends": 500,
        "days": (None, None),
        "commitments": "Subvention annuelle et mise à disposition de locaux de permanence.",
    },
    {
        "title": "Permanence juridique à la Mission Locale",
        "level": Level.OPERATIONAL,
        "domains": ["rights"],
        "parties": [(ML_SUD, ""), ("Point Justice de Montélimar", "Claire Vidal")],
        "signed": -900,
        "starts": -880,
        "ends": 200,
        "terminated": (-30, "Permanence reprise par le Point Justice dans ses propres locaux."),
        "days": (None, None),
        "commitments": "Une permanence juridique mensuelle dans les locaux de la Mission Locale.",
    },
    {
        "title": "Élu·es référent·es de la Mission Locale",
        "level": Level.POLITICAL,
        "domains": [],
        "parties": [(ML_ROMANS, ""), ("Mairie de Romans-sur-Isère", "Marc Tardy")],
        "signed": None,
        "starts": 30,
        "ends": 1100,
        "days": (None, None),
        "commitments": "En préparation : présence au conseil d'administration.",
    },
)


def _conventions(plan: Plan) -> list[dict[str, Any]]:
    def day(offset: int | None) -> str | None:
        return None if offset is None else (REFERENCE + timedelta(days=offset)).isoformat()

    result = []
    for spec in CONVENTIONS:
        parties = []
        for name, referent in spec["parties"]:
            planned = plan.structures[plan.index_of(name)]
            person = (
                str(_person_uuid(planned, _person_index(planned, referent))) if referent else None
            )
            parties.append({"structure_id": str(_structure_uuid(planned)), "referent_id": person})
        terminated = spec.get("terminated")
        acknowledge, answer = spec["days"]
        result.append(
            {
                "title": spec["title"],
                "level": spec["level"].value,
                "domains": spec["domains"],
                "parties": parties,
                "signed_on": day(spec["signed"]),
                "starts_on": day(spec["starts"]),
                "ends_on": day(spec["ends"]),
                "acknowledge_days": acknowledge,
                "answer_days": answer,
                "commitments": spec["commitments"],
                "terminated_on": day(terminated[0]) if terminated else None,
                "termination_reason": terminated[1] if terminated else "",
            }
        )
    return result


# ---- the whole dataset -------------------------------------------------------------------


def build(folder: Path = DATA) -> None:
    from directory.gazetteer import load_gazetteer

    gazetteer = load_gazetteer()
    plan = build_plan(REFERENCE)
    planner = _Planner(gazetteer, REFERENCE)
    # The same addresses and numbers stay unique across the plan and what is added to it.
    for planned in plan.structures:
        for person in planned.people:
            planner.emails.add(person.email)
            planner.phones.add(person.phone)
        planner.emails.add(planned.structure.email)
    _grow_staff(plan, planner)
    _tie_people(plan, planner)

    di_structures, di_services = [], []
    structure_rows, site_rows, people_rows, service_rows = [], [], [], []
    for planned in plan.structures:
        commune = gazetteer.get(planned.sites[0].commune)
        di_structures.append(_di_structure(planned, commune.name if commune else ""))
        sid = _structure_uuid(planned)
        structure_rows.append(
            {"id": sid, "kind": planned.structure.kind, "status": planned.structure.status}
        )
        for index, site in enumerate(planned.sites):
            site_rows.append(
                {
                    "id": _site_uuid(planned, index),
                    "structure_id": sid,
                    "geocoded": "address",
                    **{f: getattr(site, f) for f in SITE_COLUMNS if hasattr(site, f)},
                }
            )
        people_rows += _people_rows(planned)
        for index, (values, site_index, contact) in enumerate(planned.services):
            di_services.append(_di_service(planned, index, values))
            service_rows.append(
                {
                    "id": row_id("service", SOURCE, _service_id(planned, index)),
                    "structure_id": sid,
                    "site_id": _site_uuid(planned, site_index) if site_index else None,
                    "contact_id": _person_uuid(planned, contact) if contact is not None else None,
                    "domains": [d.value for d in values["domains"]],
                    "unconditional": values["unconditional"],
                }
            )

    (folder / "di").mkdir(parents=True, exist_ok=True)
    (folder / "csv").mkdir(parents=True, exist_ok=True)

    def dump(path: Path, data: Any) -> None:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    dump(folder / "manifest.json", {"reference_date": REFERENCE.isoformat(), "source": SOURCE})
    dump(folder / "di" / "structures.json", di_structures)
    dump(folder / "di" / "services.json", di_services)
    dump(folder / "conventions.json", _conventions(plan))
    _write_csv(folder / "csv" / "structures.csv", ("id", "kind", "status"), structure_rows)
    _write_csv(folder / "csv" / "sites.csv", SITE_COLUMNS, site_rows)
    _write_csv(folder / "csv" / "people.csv", PEOPLE_COLUMNS, people_rows)
    _write_csv(folder / "csv" / "services.csv", SERVICE_COLUMNS, service_rows)
    _write_csv(folder / "csv" / "relationships.csv", RELATIONSHIP_COLUMNS, _relationship_rows(plan))
    print(
        f"{len(di_structures)} structures, {len(site_rows)} sites, {len(di_services)} services, "
        f"{len(people_rows)} people, {len(plan.relationships)} relationships, "
        f"{len(CONVENTIONS)} conventions -> {folder}"
    )


if __name__ == "__main__":
    build()
