"""The demo territory's planner: about 150 fictional partner structures of a Mission Locale
network on the real communes of the Drôme (26), with sites, services, people and
relationships at the three partnership levels, drawn from one `random.Random` with a fixed
seed. `scripts/build_demo_data.py` turns the plan into the dataset under
service/demo_data/; the application never runs this code: it loads the dataset.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
import phonenumbers

from directory.gazetteer import Commune, Gazetteer, load_gazetteer
from directory.schemas import (
    PersonWrite,
    ServiceWrite,
    SiteWrite,
    StructureWrite,
)
from directory.vocabulary import (
    DOMAIN_THEMATIQUES,
    Channel,
    Domain,
    Level,
    RelationshipKind,
    StructureStatus,
)
from service.demo import (
    EMAIL_DOMAIN,
    FJT_MONTELIMAR,
    FJT_VALENCE,
    ML_ROMANS,
    ML_SUD,
    ML_VALENCE,
)

SEED = 2026_26
DEPARTEMENT = "26"

# ---- Catalogue -----------------------------------------------------------------------------

OFFICE = (
    "Mo-Fr 09:00-12:00,14:00-17:00",
    "Mo-Th 08:30-12:00,13:30-17:30; Fr 08:30-12:00,13:30-16:30",
    "Mo,Tu,Th,Fr 09:00-12:30,13:30-17:00; We 09:00-12:30",
    "Mo-Fr 08:30-12:30,13:30-17:00",
)
PUBLIC_DESK = (
    "Mo-We,Fr 08:30-12:30,13:00-16:30; Th 08:30-12:30",
    "Mo-Fr 08:30-12:00,13:30-16:00",
)
PERMANENCE = (
    "Tu 14:00-17:00",
    "We 09:00-12:00",
    "Th 09:00-12:00,14:00-16:30",
    "Mo,Th 14:00-17:00",
    "Tu,Fr 09:00-12:00",
)
HEALTH = (
    "Mo-Fr 09:00-17:00",
    "Mo-Fr 09:00-12:30,13:30-18:00",
    "Mo,We,Fr 09:00-17:00; Tu,Th 13:00-19:00",
)
RESIDENCE = (
    "Mo-Fr 09:00-12:00,14:00-19:00; Sa 10:00-12:00",
    "Mo-Fr 08:00-20:00; Sa,Su 10:00-12:00",
)
ROUND_THE_CLOCK = ("24/7",)
CLUB = (
    "We 14:00-18:00; Sa 09:00-12:00",
    "Mo,We,Fr 17:30-21:00",
    "Tu,Th 18:00-20:30; Sa 10:00-12:00",
    "We 13:30-18:30; Sa 14:00-18:00",
)
CULTURE = (
    "Tu,Th,Fr 14:00-18:30; We,Sa 10:00-12:30,14:00-18:00",
    "We-Sa 14:00-19:00",
    "Tu-Sa 10:00-18:00",
)
WORKPLACE = (
    "Mo-Fr 08:00-12:00,13:30-17:00",
    "Mo-Fr 07:30-12:00,13:00-16:30",
    "Mo-Sa 06:30-13:00",
)
FOOD_AID = (
    "Tu,Fr 09:00-12:00",
    "We 14:00-17:00; Sa 09:00-11:30",
)

ELIGIBLE_16_25 = "Avoir entre 16 et 25 ans (29 ans révolus pour les jeunes reconnus handicapés)."
ON_REFERRAL = "Sur orientation d'un·e professionnel·le (Mission Locale, France Travail, CCAS)."


@dataclass(frozen=True, slots=True)
class Svc:
    """A service template. `zone`: commune | near | epci | area | dept | france;
    `mode`: on_site | both | remote."""

    name: str
    domains: tuple[Domain, ...]
    thematiques: tuple[str, ...] = ()  # empty: drawn among the domains' thematiques
    publics: tuple[str, ...] = ("jeunes",)
    conditions: str = ""
    fees: str = "Gratuit"
    mode: str = "on_site"
    zone: str = "epci"
    unconditional: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Kind:
    """An archetype of partner structure and how many of it the territory holds.

    `names` are used in order; "{commune}" and "{de}" ("de Valence", "d'Allex", "du Pègue")
    name the main commune. The first structures go to the `fixed` communes, the others are
    drawn by population (`place`: weighted | towns | rural). `tier` says at which level the
    Missions Locales deal with them: field (operational), institution (organisational),
    political, employer, leisure. `scope` "dept" means it serves the whole département."""

    key: str
    kind: str
    network: str
    names: tuple[str, ...]
    count: int
    services: tuple[Svc, ...]
    roles: tuple[str, ...]
    description: str
    fixed: tuple[str, ...] = ()
    extra_sites: tuple[tuple[str, ...], ...] = ()  # fixed extra sites of the first ones
    place: str = "weighted"
    n_services: tuple[int, int] = (1, 2)
    people: tuple[int, int] = (1, 3)
    max_sites: int = 2
    hours: tuple[str, ...] = OFFICE
    walk_in: float = 0.3
    tier: str = "field"
    scope: str = "local"


D = Domain

CATALOGUE: tuple[Kind, ...] = (
    Kind(
        key="ml",
        kind="mission-locale",
        network="mission-locale",
        names=(ML_VALENCE, ML_ROMANS, ML_SUD),
        count=3,
        fixed=("Valence", "Romans-sur-Isère", "Montélimar"),
        extra_sites=(
            ("Crest", "Die"),
            ("Saint-Jean-en-Royans", "Saint-Vallier"),
            ("Pierrelatte", "Nyons"),
        ),
        description=(
            "Accueil, information, orientation et accompagnement des jeunes de 16 à 25 ans "
            "vers l'emploi et l'autonomie, dans une approche globale."
        ),
        services=(
            Svc(
                "Accompagnement Contrat d'engagement jeune",
                (D.EMPLOYMENT, D.CAREER),
                (
                    "trouver-un-emploi--repondre-a-des-offres-demploi",
                    "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation",
                    "choisir-un-metier--identifier-ses-points-forts-et-ses-competences",
                ),
                ("jeunes", "demandeurs-emploi"),
                ELIGIBLE_16_25,
                mode="both",
                zone="area",
                unconditional=True,
                description=(
                    "Un·e conseiller·ère référent·e, 15 à 20 heures d'activités par semaine et "
                    "une allocation selon les ressources."
                ),
            ),
            Svc(
                "Point santé jeunes : permanence psychologue",
                (D.HEALTH,),
                ("sante--sante-mentale", "remobilisation--bien-etre-confiance-en-soi"),
                ("jeunes",),
                "Sur rendez-vous, en accès direct ou par son·sa conseiller·ère.",
                zone="area",
                unconditional=True,
            ),
            Svc(
                "Aides à la mobilité et au permis de conduire",
                (D.MOBILITY,),
                ("mobilite--financer-ma-mobilite", "mobilite--preparer-un-permis"),
                ("jeunes",),
                "Être accompagné·e par la Mission Locale.",
                zone="area",
            ),
            Svc(
                "Logement jeunes : information et demandes",
                (D.HOUSING, D.RIGHTS),
                (
                    "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement",
                    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
                ),
                ("jeunes",),
                ELIGIBLE_16_25,
                mode="both",
                zone="area",
                unconditional=True,
            ),
        ),
        n_services=(3, 3),
        roles=(
            "Directeur·rice",
            "Conseiller·ère en insertion professionnelle",
            "Conseiller·ère en insertion professionnelle",
            "Chargé·e de relations entreprises",
            "Référent·e santé",
        ),
        people=(3, 4),
        walk_in=0.8,
        scope="area",
    ),
    Kind(
        key="france_travail",
        kind="public-service",
        network="france-travail",
        names=("France Travail – agence de {commune}",),
        count=4,
        fixed=("Valence", "Romans-sur-Isère", "Montélimar", "Pierrelatte"),
        description="Inscription, indemnisation et accompagnement des demandeurs d'emploi.",
        services=(
            Svc(
                "Inscription et accompagnement des demandeurs d'emploi",
                (D.EMPLOYMENT,),
                (
                    "trouver-un-emploi--repondre-a-des-offres-demploi",
                    "trouver-un-emploi--faire-des-candidatures-spontanees",
                ),
                ("demandeurs-emploi", "jeunes", "actifs"),
                mode="both",
            ),
            Svc(
                "Ateliers en ligne : CV, entretien, réseaux",
                (D.EMPLOYMENT,),
                (
                    "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation",
                    "preparer-sa-candidature--valoriser-ses-competences",
                ),
                ("demandeurs-emploi", "jeunes"),
                "Être inscrit·e à France Travail.",
                mode="remote",
                zone="dept",
            ),
            Svc(
                "Conseil en évolution professionnelle",
                (D.CAREER, D.TRAINING),
                publics=("demandeurs-emploi", "actifs", "jeunes"),
                mode="both",
            ),
        ),
        n_services=(2, 3),
        roles=(
            "Directeur·rice d'agence",
            "Conseiller·ère emploi",
            "Conseiller·ère entreprises",
            "Conseiller·ère référent·e jeunes",
        ),
        people=(2, 4),
        hours=PUBLIC_DESK,
        walk_in=0.5,
    ),
    Kind(
        key="cap_emploi",
        kind="public-service",
        network="cap-emploi-reseau-cheops",
        names=("Cap emploi – antenne drômoise",),
        count=1,
        fixed=("Valence",),
        extra_sites=(("Montélimar",),),
        description="Emploi et maintien dans l'emploi des personnes en situation de handicap.",
        services=(
            Svc(
                "Accompagnement vers l'emploi des personnes en situation de handicap",
                (D.EMPLOYMENT,),
                publics=("personnes-en-situation-de-handicap", "jeunes", "demandeurs-emploi"),
                conditions=(
                    "Bénéficier d'une reconnaissance de la qualité de travailleur handicapé "
                    "(RQTH) ou l'avoir demandée."
                ),
                mode="both",
                zone="dept",
            ),
        ),
        roles=("Responsable d'antenne", "Chargé·e de mission insertion"),
        people=(2, 2),
        scope="dept",
    ),
    Kind(
        key="caf",
        kind="public-service",
        network="caf",
        names=("Caisse d'allocations familiales de la Drôme",),
        count=1,
        fixed=("Valence",),
        extra_sites=(("Montélimar",),),
        description="Prestations familiales, aides au logement, RSA et prime d'activité.",
        services=(
            Svc(
                "Accès aux droits : aides au logement, prime d'activité, RSA",
                (D.RIGHTS, D.HOUSING),
                (
                    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
                    "logement-hebergement--louer-un-logement",
                ),
                ("jeunes", "familles", "beneficiaires-des-minimas-sociaux"),
                mode="both",
                zone="dept",
            ),
            Svc(
                "Rendez-vous des jeunes parents",
                (D.RIGHTS,),
                ("famille--soutien-a-la-parentalite-et-a-leducation",),
                ("familles", "jeunes"),
                zone="dept",
            ),
        ),
        n_services=(2, 2),
        roles=("Responsable de l'accueil", "Travailleur·se social·e", "Chargé·e de partenariats"),
        people=(2, 3),
        hours=PUBLIC_DESK,
        tier="institution",
        scope="dept",
    ),
    Kind(
        key="cpam",
        kind="public-service",
        network="cpam",
        names=("Caisse primaire d'assurance maladie de la Drôme",),
        count=1,
        fixed=("Valence",),
        extra_sites=(("Romans-sur-Isère",),),
        description="Ouverture des droits à l'assurance maladie et prévention.",
        services=(
            Svc(
                "Ouverture des droits santé et Complémentaire santé solidaire",
                (D.HEALTH, D.RIGHTS),
                (
                    "sante--acces-aux-soins",
                    "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
                ),
                ("jeunes", "beneficiaires-des-minimas-sociaux"),
                mode="both",
                zone="dept",
                unconditional=True,
            ),
            Svc(
                "Examen de prévention en santé pour les 16-25 ans",
                (D.HEALTH,),
                ("sante--acces-aux-soins",),
                ("jeunes",),
                zone="dept",
            ),
            Svc(
                "Accompagnement au compte ameli par téléphone",
                (D.RIGHTS,),
                ("numerique--acceder-a-des-services-en-ligne",),
                ("jeunes", "actifs"),
                mode="remote",
                zone="dept",
            ),
        ),
        n_services=(2, 3),
        roles=("Responsable de l'accueil", "Conseiller·ère service à l'usager"),
        people=(1, 3),
        hours=PUBLIC_DESK,
        tier="institution",
        scope="dept",
    ),
    Kind(
        key="departement",
        max_sites=1,
        kind="elected-body",
        network="departements",
        names=("Conseil départemental de la Drôme",),
        count=1,
        fixed=("Valence",),
        description="Assemblée départementale : insertion, RSA, protection de l'enfance.",
        services=(
            Svc(
                "Fonds d'aide aux jeunes (FAJ)",
                (D.RIGHTS, D.HOUSING, D.MOBILITY),
                (
                    "difficultes-financieres--acquerir-une-autonomie-budgetaire",
                    "mobilite--financer-ma-mobilite",
                ),
                ("jeunes",),
                "Avoir entre 18 et 25 ans ; demande présentée par un·e professionnel·le.",
                zone="dept",
            ),
        ),
        roles=(
            "Vice-président·e en charge de l'insertion",
            "Chef·fe du service insertion",
            "Chargé·e de mission jeunesse",
        ),
        people=(3, 3),
        tier="political",
        scope="dept",
    ),
    Kind(
        key="cms",
        kind="public-service",
        network="cms",
        names=("Centre médico-social {de}",),
        count=3,
        fixed=("Valence", "Die"),
        place="towns",
        description="Service social départemental de proximité, PMI et planification familiale.",
        services=(
            Svc(
                "Accompagnement social et accès aux droits",
                (D.RIGHTS, D.HOUSING),
                publics=("jeunes", "familles", "beneficiaires-des-minimas-sociaux"),
                zone="near",
                unconditional=True,
            ),
            Svc(
                "Consultations de santé sexuelle et contraception",
                (D.HEALTH,),
                ("sante--sante-sexuelle",),
                ("jeunes", "femmes"),
                zone="epci",
                unconditional=True,
            ),
        ),
        roles=("Responsable de site", "Assistant·e social·e", "Conseiller·ère en économie sociale"),
        people=(2, 3),
        walk_in=0.6,
    ),
    Kind(
        key="prefecture",
        max_sites=1,
        kind="state-service",
        network="regions",
        names=("Préfecture de la Drôme – mission politique de la ville",),
        count=1,
        fixed=("Valence",),
        description="Services de l'État : politique de la ville, emploi, solidarités.",
        services=(
            Svc(
                "Dispositifs pour les jeunes des quartiers prioritaires",
                (D.CITIZENSHIP, D.EMPLOYMENT),
                publics=("jeunes", "residents-qpv-frr"),
                zone="dept",
            ),
        ),
        roles=("Délégué·e du préfet", "Chargé·e de mission emploi"),
        people=(2, 2),
        tier="political",
        scope="dept",
    ),
    Kind(
        key="region",
        max_sites=1,
        kind="local-authority",
        network="regions",
        names=("Région Auvergne-Rhône-Alpes – antenne de Valence",),
        count=1,
        fixed=("Valence",),
        description="Formation professionnelle, apprentissage et orientation.",
        services=(
            Svc(
                "Information sur les formations financées par la Région",
                (D.TRAINING,),
                ("se-former--trouver-sa-formation", "se-former--monter-son-dossier-de-formation"),
                ("jeunes", "demandeurs-emploi"),
                mode="remote",
                zone="dept",
            ),
        ),
        roles=("Chargé·e de mission formation", "Élu·e régional·e référent·e"),
        people=(2, 2),
        tier="political",
        scope="dept",
    ),
    Kind(
        key="siao",
        max_sites=1,
        kind="housing",
        network="siao",
        names=("Service intégré d'accueil et d'orientation de la Drôme",),
        count=1,
        fixed=("Valence",),
        description="Régulation de l'hébergement d'urgence et d'insertion, numéro 115.",
        services=(
            Svc(
                "Écoute et orientation vers un hébergement d'urgence (115)",
                (D.HOUSING,),
                ("logement-hebergement--rechercher-une-solution-dhebergement-temporaire",),
                ("personnes-en-situation-durgence", "jeunes", "familles"),
                "Appeler le 115, jour et nuit.",
                mode="remote",
                zone="dept",
                unconditional=True,
            ),
            Svc(
                "Demandes d'hébergement d'insertion",
                (D.HOUSING,),
                ("logement-hebergement--rechercher-une-solution-dhebergement-temporaire",),
                ("personnes-en-situation-durgence", "jeunes"),
                ON_REFERRAL,
                zone="dept",
            ),
        ),
        n_services=(2, 2),
        roles=("Coordinateur·rice", "Travailleur·se social·e"),
        people=(2, 2),
        hours=ROUND_THE_CLOCK,
        walk_in=0.0,
        scope="dept",
    ),
    Kind(
        key="pjj",
        max_sites=1,
        kind="state-service",
        network="pjj",
        names=("Unité éducative de milieu ouvert de Valence",),
        count=1,
        fixed=("Valence",),
        description="Protection judiciaire de la jeunesse : suivi éducatif des mineurs.",
        services=(
            Svc(
                "Suivi éducatif des mineurs sous main de justice",
                (D.RIGHTS, D.CITIZENSHIP),
                (
                    "difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire",
                ),
                ("jeunes", "personnes-en-situation-juridique-specifique"),
                "Sur décision judiciaire.",
                zone="dept",
            ),
        ),
        roles=("Responsable d'unité", "Éducateur·rice PJJ"),
        people=(2, 3),
        walk_in=0.0,
        scope="dept",
    ),
    Kind(
        key="spip",
        max_sites=1,
        kind="state-service",
        network="spip",
        names=("Service pénitentiaire d'insertion et de probation – antenne de Valence",),
        count=1,
        fixed=("Valence",),
        description="Insertion et probation des personnes placées sous main de justice.",
        services=(
            Svc(
                "Préparation à la sortie et insertion professionnelle",
                (D.RIGHTS, D.EMPLOYMENT),
                (
                    "difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire",
                ),
                ("personnes-en-situation-juridique-specifique", "jeunes"),
                "Sur mandat judiciaire.",
                zone="dept",
            ),
        ),
        roles=("Conseiller·ère pénitentiaire d'insertion et de probation",),
        people=(1, 3),
        walk_in=0.0,
        scope="dept",
    ),
    Kind(
        key="ase",
        max_sites=1,
        kind="public-service",
        network="ase",
        names=("Aide sociale à l'enfance – territoire Valence Vercors",),
        count=1,
        fixed=("Valence",),
        description="Protection de l'enfance et accompagnement des jeunes majeurs.",
        services=(
            Svc(
                "Accompagnement des jeunes majeurs sortant de l'ASE",
                (D.HOUSING, D.RIGHTS),
                (
                    "logement-hebergement--louer-un-logement",
                    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
                ),
                ("jeunes",),
                "Avoir été confié·e à l'aide sociale à l'enfance avant ses 18 ans.",
                zone="dept",
            ),
        ),
        roles=("Responsable de territoire", "Éducateur·rice spécialisé·e"),
        people=(2, 2),
        walk_in=0.0,
        scope="dept",
    ),
    Kind(
        key="afpa",
        kind="training-body",
        network="afpa",
        names=("Centre Afpa de Valence",),
        count=1,
        fixed=("Valence",),
        description="Formations qualifiantes pour adultes et jeunes, avec hébergement.",
        services=(
            Svc(
                "Formations qualifiantes industrie et bâtiment",
                (D.TRAINING, D.EMPLOYMENT),
                ("se-former--trouver-sa-formation",),
                ("jeunes", "demandeurs-emploi"),
                ON_REFERRAL,
                "Gratuit pour les demandeurs d'emploi (financement Région)",
                zone="dept",
            ),
            Svc(
                "Promo 16-18 : remobilisation des mineurs",
                (D.TRAINING, D.CAREER),
                ("choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",),
                ("jeunes",),
                "Avoir entre 16 et 18 ans et ne plus être scolarisé·e.",
                zone="dept",
                unconditional=True,
            ),
            Svc(
                "Hébergement des stagiaires",
                (D.HOUSING,),
                ("logement-hebergement--rechercher-une-solution-dhebergement-temporaire",),
                ("jeunes",),
                "Être stagiaire d'une formation du centre.",
                "Participation selon la durée",
                zone="dept",
            ),
        ),
        n_services=(3, 3),
        roles=("Directeur·rice de centre", "Formateur·rice", "Chargé·e de recrutement"),
        people=(2, 3),
        scope="dept",
    ),
    Kind(
        key="e2c",
        kind="training-body",
        network="ecoles-de-la-deuxieme-chance",
        names=("École de la 2e chance Confluences Drôme",),
        count=1,
        fixed=("Valence",),
        extra_sites=(("Montélimar",),),
        description="Parcours individualisés en alternance pour les 16-25 ans sans diplôme.",
        services=(
            Svc(
                "Parcours en alternance vers l'emploi",
                (D.TRAINING, D.CAREER, D.EMPLOYMENT),
                (
                    "se-former--trouver-sa-formation",
                    "choisir-un-metier--confirmer-son-choix-de-metier",
                ),
                ("jeunes",),
                "Avoir entre 16 et 25 ans, sans diplôme ni qualification.",
                "Gratuit ; stagiaires rémunérés",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Directeur·rice", "Formateur·rice référent·e", "Chargé·e de relations entreprises"),
        people=(2, 3),
        scope="dept",
    ),
    Kind(
        key="pij",
        kind="association",
        network="reseau-information-jeunesse",
        names=("Point Information Jeunesse {de}",),
        count=3,
        fixed=("Bourg-de-Péage", "Nyons"),
        place="towns",
        description="Information des jeunes sur tous les sujets de leur vie quotidienne.",
        services=(
            Svc(
                "Information jeunesse : logement, jobs, mobilité internationale",
                (D.CITIZENSHIP, D.EMPLOYMENT, D.LEISURE),
                (
                    "souvrir-a-linternational--connaitre-les-opportunites-demploi-a-letranger",
                    "remobilisation--lien-social",
                ),
                ("jeunes", "etudiants"),
                zone="epci",
                unconditional=True,
            ),
            Svc(
                "Service civique et volontariat : information",
                (D.CITIZENSHIP,),
                ("remobilisation--benevolat-action-citoyenne",),
                ("jeunes",),
                zone="epci",
            ),
            Svc(
                "Ateliers numériques jeunes",
                (D.TRAINING,),
                ("numerique--maitriser-les-fondamentaux-du-numerique",),
                ("jeunes",),
                zone="commune",
            ),
        ),
        n_services=(1, 3),
        roles=("Informateur·rice jeunesse", "Animateur·rice"),
        people=(1, 3),
        hours=CLUB,
        walk_in=0.9,
    ),
    Kind(
        key="action_logement",
        max_sites=1,
        kind="housing",
        network="action-logement",
        names=("Action Logement – agence de Valence",),
        count=1,
        fixed=("Valence",),
        description="Aides au logement des salariés et alternants du secteur privé.",
        services=(
            Svc(
                "Aides au logement des jeunes salariés et alternants",
                (D.HOUSING,),
                (
                    "logement-hebergement--louer-un-logement",
                    "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement",
                ),
                ("jeunes", "actifs"),
                "Être salarié·e ou alternant·e d'une entreprise du secteur privé.",
                mode="both",
                zone="france",
            ),
        ),
        roles=("Conseiller·ère logement",),
        people=(1, 3),
        tier="institution",
        scope="dept",
    ),
    Kind(
        key="chambre",
        max_sites=1,
        kind="public-service",
        network="chambres-consulaires",
        names=(
            "Chambre de commerce et d'industrie de la Drôme – antenne {de}",
            "Chambre de métiers et de l'artisanat – antenne {de}",
        ),
        count=2,
        fixed=("Valence", "Montélimar"),
        description="Apprentissage, création et développement des entreprises.",
        services=(
            Svc(
                "Apprentissage : trouver un employeur",
                (D.TRAINING, D.EMPLOYMENT),
                (
                    "se-former--trouver-sa-formation",
                    "trouver-un-emploi--faire-des-candidatures-spontanees",
                ),
                ("jeunes",),
                zone="dept",
            ),
            Svc(
                "Créer son entreprise",
                (D.EMPLOYMENT,),
                ("creer-une-entreprise--definir-son-projet-de-creation-dentreprise",),
                ("jeunes", "demandeurs-emploi", "actifs"),
                fees="Premier rendez-vous gratuit",
                mode="both",
                zone="dept",
            ),
        ),
        n_services=(2, 2),
        roles=("Conseiller·ère apprentissage", "Conseiller·ère création d'entreprise"),
        people=(1, 3),
        tier="institution",
        scope="dept",
    ),
    Kind(
        key="plie",
        max_sites=1,
        kind="association",
        network="plie",
        names=("PLIE Rhône-Isère Emploi",),
        count=1,
        fixed=("Valence",),
        description="Plan local pour l'insertion et l'emploi : parcours renforcés.",
        services=(
            Svc(
                "Parcours renforcé vers l'emploi",
                (D.EMPLOYMENT,),
                publics=(
                    "demandeurs-emploi",
                    "beneficiaires-des-minimas-sociaux",
                    "residents-qpv-frr",
                ),
                conditions="Être demandeur·euse d'emploi de longue durée ou bénéficiaire du RSA.",
                zone="area",
            ),
        ),
        roles=("Coordinateur·rice", "Référent·e de parcours"),
        people=(2, 2),
        tier="institution",
    ),
    Kind(
        key="mde",
        max_sites=1,
        kind="association",
        network="maisons-de-l-emploi",
        names=("Maison de l'emploi des Collines",),
        count=1,
        fixed=("Romans-sur-Isère",),
        description="Espace emploi ouvert à tous, forums et rencontres avec les entreprises.",
        services=(
            Svc(
                "Espace emploi : offres, ordinateurs, forums",
                (D.EMPLOYMENT, D.CAREER),
                publics=("jeunes", "demandeurs-emploi", "actifs"),
                zone="epci",
                unconditional=True,
            ),
        ),
        roles=("Directeur·rice", "Chargé·e d'accueil"),
        people=(1, 3),
        walk_in=1.0,
        tier="institution",
    ),
    Kind(
        key="unis_cite",
        max_sites=1,
        kind="association",
        network="unis-cite",
        names=("Unis-Cité – antenne de Valence",),
        count=1,
        fixed=("Valence",),
        description="Service civique en équipe pour les 16-25 ans.",
        services=(
            Svc(
                "Service civique en équipe",
                (D.CITIZENSHIP,),
                ("remobilisation--benevolat-action-citoyenne",),
                ("jeunes",),
                "Avoir entre 16 et 25 ans (30 ans pour les jeunes en situation de handicap).",
                "Indemnité mensuelle versée aux volontaires",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Coordinateur·rice d'équipe",),
        people=(1, 3),
        scope="dept",
    ),
    Kind(
        key="mobility",
        kind="association",
        network="wimoov",
        names=("Plateforme mobilité En Route Drôme", "Bouge ta Drôme – conseil en mobilité"),
        count=2,
        fixed=("Valence", "Montélimar"),
        description="Conseil en mobilité, location solidaire de véhicules, code de la route.",
        services=(
            Svc(
                "Bilan de compétences mobilité",
                (D.MOBILITY,),
                ("mobilite--etre-accompagne-dans-son-parcours-mobilite",),
                ("jeunes", "demandeurs-emploi"),
                ON_REFERRAL,
                zone="area",
            ),
            Svc(
                "Location solidaire de scooters et vélos électriques",
                (D.MOBILITY,),
                ("mobilite--acceder-a-un-vehicule", "mobilite--mobilite-douce-partagee-collective"),
                ("jeunes", "demandeurs-emploi"),
                "Être en emploi, en formation ou en stage.",
                "2 € par jour",
                zone="area",
            ),
            Svc(
                "Code de la route accompagné",
                (D.MOBILITY,),
                ("mobilite--preparer-un-permis",),
                ("jeunes",),
                ON_REFERRAL,
                zone="area",
            ),
        ),
        n_services=(2, 3),
        roles=("Conseiller·ère mobilité", "Animateur·rice code"),
        people=(1, 3),
    ),
    Kind(
        key="garage",
        max_sites=1,
        kind="association",
        network="mobin",
        names=("Garage solidaire du Diois",),
        count=1,
        fixed=("Die",),
        description="Entretien et réparation de véhicules à prix solidaire.",
        services=(
            Svc(
                "Réparation de véhicules à prix solidaire",
                (D.MOBILITY,),
                ("mobilite--acceder-a-un-vehicule",),
                ("jeunes", "beneficiaires-des-minimas-sociaux"),
                "Ressources sous plafond, sur orientation d'un·e travailleur·se social·e.",
                "Main-d'œuvre à 15 € de l'heure",
                zone="epci",
            ),
        ),
        roles=("Mécanicien·ne encadrant·e",),
        people=(1, 1),
        hours=WORKPLACE,
    ),
    Kind(
        key="auto_ecole",
        max_sites=1,
        kind="association",
        network="",
        names=("Auto-école sociale Le Volant Solidaire",),
        count=1,
        fixed=("Romans-sur-Isère",),
        description="Permis B en parcours adapté pour les personnes en difficulté.",
        services=(
            Svc(
                "Permis B en parcours adapté",
                (D.MOBILITY,),
                ("mobilite--preparer-un-permis",),
                ("jeunes", "demandeurs-emploi"),
                ON_REFERRAL,
                "Reste à charge selon les ressources",
                zone="area",
            ),
        ),
        roles=("Enseignant·e de la conduite",),
        people=(1, 3),
    ),
    Kind(
        key="croix_rouge",
        max_sites=1,
        kind="association",
        network="croix-rouge",
        names=("Croix-Rouge française – unité locale {de}",),
        count=2,
        place="towns",
        description="Aide alimentaire, vestiaire, maraudes et accueil de jour.",
        services=(
            Svc(
                "Aide alimentaire et vestiaire",
                (D.RIGHTS,),
                (
                    "equipement-et-alimentation--alimentation",
                    "equipement-et-alimentation--habillement",
                ),
                ("personnes-en-situation-durgence", "familles", "jeunes"),
                zone="epci",
                unconditional=True,
            ),
            Svc(
                "Maraude et accueil de jour",
                (D.HOUSING, D.HEALTH),
                ("logement-hebergement--rechercher-une-solution-dhebergement-temporaire",),
                ("personnes-en-situation-durgence",),
                zone="epci",
                unconditional=True,
            ),
        ),
        roles=("Président·e d'unité locale", "Bénévole référent·e"),
        people=(1, 3),
        hours=FOOD_AID,
        walk_in=0.9,
    ),
    Kind(
        key="restos",
        max_sites=1,
        kind="association",
        network="restos-du-coeur",
        names=("Restos du Cœur – centre {de}",),
        count=2,
        place="towns",
        description="Distribution alimentaire et aide à la personne.",
        services=(
            Svc(
                "Distribution alimentaire",
                (D.RIGHTS,),
                ("equipement-et-alimentation--alimentation",),
                ("personnes-en-situation-durgence", "familles", "jeunes"),
                "Inscription sur place avec un justificatif de ressources, si possible.",
                zone="near",
                unconditional=True,
            ),
            Svc(
                "Accompagnement vers l'emploi des bénéficiaires",
                (D.EMPLOYMENT,),
                publics=("beneficiaires-des-minimas-sociaux",),
                zone="near",
            ),
        ),
        roles=("Responsable de centre", "Bénévole"),
        people=(1, 3),
        hours=FOOD_AID,
        walk_in=0.9,
    ),
    Kind(
        key="secours_pop",
        max_sites=1,
        kind="association",
        network="secours-populaire",
        names=("Secours populaire – comité {de}",),
        count=2,
        place="towns",
        description="Solidarité matérielle, vacances et accès à la culture.",
        services=(
            Svc(
                "Aide alimentaire et libre-service solidaire",
                (D.RIGHTS,),
                ("equipement-et-alimentation--alimentation",),
                ("familles", "jeunes", "etudiants"),
                zone="near",
                unconditional=True,
            ),
            Svc(
                "Journées à la mer et sorties culturelles",
                (D.LEISURE, D.CULTURE),
                ("remobilisation--activites-sportives-et-culturelles",),
                ("familles", "jeunes"),
                fees="Participation symbolique",
                zone="near",
            ),
        ),
        roles=("Secrétaire général·e du comité", "Bénévole"),
        people=(1, 3),
        hours=FOOD_AID,
        walk_in=0.7,
    ),
    Kind(
        key="pcb",
        kind="association",
        network="points-conseil-budget",
        names=("Point conseil budget – association Budget Clair",),
        count=1,
        fixed=("Valence",),
        description="Conseil budgétaire gratuit et confidentiel.",
        services=(
            Svc(
                "Conseil budgétaire et prévention du surendettement",
                (D.RIGHTS,),
                (
                    "difficultes-financieres--acquerir-une-autonomie-budgetaire",
                    "difficultes-financieres--situation-dendettement-surendettement",
                ),
                ("jeunes", "familles", "actifs"),
                mode="both",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Conseiller·ère budget",),
        people=(1, 1),
        scope="dept",
    ),
    Kind(
        key="france_services",
        kind="public-service",
        network="france-service",
        names=("France Services {de}",),
        count=5,
        fixed=("Die", "Saint-Jean-en-Royans", "Dieulefit", "Buis-les-Baronnies"),
        place="rural",
        description="Un guichet unique pour les démarches administratives du quotidien.",
        services=(
            Svc(
                "Accompagnement aux démarches administratives en ligne",
                (D.RIGHTS,),
                (
                    "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
                    "numerique--acceder-a-des-services-en-ligne",
                ),
                ("jeunes", "actifs", "familles"),
                zone="epci",
                unconditional=True,
            ),
            Svc(
                "Permanences des partenaires (CAF, CPAM, impôts)",
                (D.RIGHTS,),
                publics=("jeunes", "familles"),
                conditions="Sur rendez-vous.",
                zone="epci",
            ),
        ),
        n_services=(1, 2),
        roles=("Animateur·rice France Services", "Agent·e d'accueil"),
        people=(1, 3),
        walk_in=0.9,
    ),
    Kind(
        key="numerique",
        max_sites=1,
        kind="association",
        network="conseillers-numeriques",
        names=("Atelier numérique {de}",),
        count=2,
        place="weighted",
        description="Conseillers numériques : initiation et aide aux démarches en ligne.",
        services=(
            Svc(
                "Initiation au numérique",
                (D.TRAINING,),
                ("numerique--maitriser-les-fondamentaux-du-numerique",),
                ("jeunes", "actifs"),
                zone="epci",
            ),
            Svc(
                "Aide aux démarches en ligne",
                (D.RIGHTS,),
                ("numerique--acceder-a-des-services-en-ligne",),
                ("jeunes", "actifs"),
                zone="epci",
                unconditional=True,
            ),
        ),
        roles=("Conseiller·ère numérique",),
        people=(1, 1),
        hours=PERMANENCE,
        walk_in=0.6,
    ),
    Kind(
        key="ccas",
        max_sites=1,
        kind="public-service",
        network="ccas-cias",
        names=("CCAS {de}",),
        count=10,
        fixed=("Valence", "Romans-sur-Isère", "Montélimar"),
        description="Centre communal d'action sociale.",
        services=(
            Svc(
                "Domiciliation et aide sociale facultative",
                (D.RIGHTS,),
                (
                    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
                ),
                ("personnes-en-situation-durgence", "jeunes", "familles"),
                zone="commune",
                unconditional=True,
            ),
            Svc(
                "Aide alimentaire d'urgence",
                (D.RIGHTS,),
                ("equipement-et-alimentation--alimentation",),
                ("personnes-en-situation-durgence", "familles"),
                zone="commune",
                unconditional=True,
            ),
            Svc(
                "Accompagnement au logement",
                (D.HOUSING,),
                ("logement-hebergement--se-maintenir-dans-le-logement",),
                ("jeunes", "familles"),
                "Résider dans la commune.",
                zone="commune",
            ),
        ),
        n_services=(1, 3),
        roles=("Directeur·rice du CCAS", "Travailleur·se social·e", "Agent·e d'accueil social"),
        people=(1, 3),
        walk_in=0.6,
    ),
    Kind(
        key="mairie",
        max_sites=1,
        kind="local-authority",
        network="communes",
        names=("Mairie {de}",),
        count=7,
        fixed=("Valence", "Romans-sur-Isère", "Montélimar"),
        place="towns",
        description="Commune : service jeunesse, élu·es et politiques locales.",
        services=(
            Svc(
                "Service jeunesse : accueil et projets de jeunes",
                (D.CITIZENSHIP, D.LEISURE),
                ("remobilisation--benevolat-action-citoyenne", "remobilisation--lien-social"),
                ("jeunes",),
                zone="commune",
            ),
            Svc(
                "Bourse au permis de conduire citoyenne",
                (D.MOBILITY, D.CITIZENSHIP),
                ("mobilite--financer-ma-mobilite", "remobilisation--benevolat-action-citoyenne"),
                ("jeunes",),
                "Avoir entre 18 et 25 ans, résider dans la commune et donner 35 heures "
                "de bénévolat.",
                zone="commune",
            ),
            Svc(
                "Chantiers jeunes d'été",
                (D.EMPLOYMENT, D.CITIZENSHIP),
                ("trouver-un-emploi--repondre-a-des-offres-demploi",),
                ("jeunes",),
                "Avoir entre 16 et 18 ans et résider dans la commune.",
                "Rémunéré",
                zone="commune",
            ),
        ),
        n_services=(1, 2),
        roles=("Adjoint·e au maire délégué·e à la jeunesse", "Responsable du service jeunesse"),
        people=(1, 3),
        tier="political",
    ),
    Kind(
        key="fjt",
        kind="housing",
        network="residences-fjt",
        names=(
            FJT_VALENCE,
            FJT_MONTELIMAR,
            "Résidence jeunes actifs Le Quai",
            "Foyer de jeunes travailleurs Les Cèdres",
            "Résidence Habitat Jeunes Le Trait d'Union",
        ),
        count=5,
        fixed=("Valence", "Montélimar", "Romans-sur-Isère"),
        place="towns",
        description="Logement temporaire et accompagnement socio-éducatif des 16-30 ans.",
        services=(
            Svc(
                "Logement temporaire meublé pour les 16-30 ans",
                (D.HOUSING,),
                (
                    "logement-hebergement--rechercher-une-solution-dhebergement-temporaire",
                    "logement-hebergement--louer-un-logement",
                ),
                ("jeunes", "etudiants", "actifs"),
                "Avoir entre 16 et 30 ans, en emploi, en formation ou en recherche d'emploi.",
                "Redevance selon les ressources, APL déductible",
                zone="dept",
            ),
            Svc(
                "Accompagnement socio-éducatif des résident·es",
                (D.HOUSING, D.RIGHTS),
                ("logement-hebergement--se-maintenir-dans-le-logement",),
                ("jeunes",),
                "Être résident·e.",
                zone="dept",
            ),
            Svc(
                "Animations collectives et sorties",
                (D.LEISURE, D.CULTURE),
                (
                    "remobilisation--lien-social",
                    "remobilisation--activites-sportives-et-culturelles",
                ),
                ("jeunes",),
                zone="commune",
            ),
        ),
        n_services=(1, 3),
        roles=("Directeur·rice", "Animateur·rice socio-éducatif·ve", "Chargé·e d'accueil"),
        people=(1, 3),
        hours=RESIDENCE,
        walk_in=0.2,
        scope="dept",
    ),
    Kind(
        key="chrs",
        kind="housing",
        network="chrs",
        names=("Le Relais des Monts – CHRS", "L'Abri du Rhône – CHRS"),
        count=2,
        fixed=("Valence", "Montélimar"),
        description="Hébergement et réinsertion sociale.",
        services=(
            Svc(
                "Hébergement et accompagnement vers le logement",
                (D.HOUSING, D.RIGHTS),
                ("logement-hebergement--rechercher-une-solution-dhebergement-temporaire",),
                ("personnes-en-situation-durgence", "jeunes"),
                "Orientation par le SIAO.",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Chef·fe de service", "Éducateur·rice spécialisé·e"),
        people=(1, 3),
        hours=ROUND_THE_CLOCK,
        walk_in=0.0,
    ),
    Kind(
        key="cmp",
        kind="health-centre",
        network="cmp",
        names=("Centre médico-psychologique {de}",),
        count=3,
        fixed=("Valence", "Romans-sur-Isère", "Montélimar"),
        description="Consultations de psychiatrie publique de secteur.",
        services=(
            Svc(
                "Consultations psychiatriques et psychologiques",
                (D.HEALTH,),
                ("sante--sante-mentale",),
                ("jeunes", "actifs"),
                "Avoir 16 ans ou plus et résider dans le secteur.",
                "Gratuit (pris en charge par l'Assurance maladie)",
                zone="epci",
                unconditional=True,
            ),
            Svc(
                "Équipe mobile psychiatrie précarité",
                (D.HEALTH,),
                ("sante--sante-mentale", "sante--acces-aux-soins"),
                ("personnes-en-situation-durgence",),
                ON_REFERRAL,
                zone="area",
            ),
        ),
        roles=("Infirmier·ère", "Psychologue", "Secrétaire médical·e"),
        people=(1, 3),
        hours=HEALTH,
    ),
    Kind(
        key="csapa",
        kind="health-centre",
        network="csapa",
        names=("CSAPA Le Phare", "CSAPA Tremplin"),
        count=2,
        fixed=("Valence", "Romans-sur-Isère"),
        description="Centre de soins, d'accompagnement et de prévention en addictologie.",
        services=(
            Svc(
                "Consultations d'addictologie (alcool, cannabis, écrans)",
                (D.HEALTH,),
                ("sante--addictions",),
                ("jeunes", "actifs"),
                fees="Gratuit et anonyme",
                mode="both",
                zone="area",
                unconditional=True,
            ),
            Svc(
                "Consultation jeunes consommateurs",
                (D.HEALTH,),
                ("sante--addictions",),
                ("jeunes",),
                fees="Gratuit et anonyme",
                zone="area",
                unconditional=True,
            ),
        ),
        n_services=(2, 2),
        roles=("Éducateur·rice spécialisé·e", "Médecin addictologue", "Infirmier·ère"),
        people=(1, 3),
        hours=HEALTH,
    ),
    Kind(
        key="sante_sexuelle",
        max_sites=1,
        kind="health-centre",
        network="",
        names=("Centre de santé sexuelle de Valence",),
        count=1,
        fixed=("Valence",),
        description="Contraception, dépistage, IVG, information et écoute.",
        services=(
            Svc(
                "Contraception, dépistage et IVG",
                (D.HEALTH,),
                ("sante--sante-sexuelle",),
                ("jeunes", "femmes"),
                fees="Gratuit et anonyme pour les mineur·es",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Sage-femme", "Conseiller·ère conjugal·e et familial·e"),
        people=(1, 3),
        hours=HEALTH,
        walk_in=0.5,
        scope="dept",
    ),
    Kind(
        key="mda",
        max_sites=1,
        kind="health-centre",
        network="",
        names=("Maison des ados Le Kiosque",),
        count=1,
        fixed=("Valence",),
        description="Écoute et accompagnement des 11-25 ans et de leurs parents.",
        services=(
            Svc(
                "Écoute et accompagnement des 11-25 ans",
                (D.HEALTH, D.RIGHTS),
                ("sante--sante-mentale", "famille--soutien-a-la-parentalite-et-a-leducation"),
                ("jeunes", "familles"),
                fees="Gratuit et confidentiel",
                mode="both",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Psychologue", "Coordinateur·rice"),
        people=(1, 3),
        walk_in=0.8,
        scope="dept",
    ),
    Kind(
        key="cidff",
        kind="association",
        network="cidff",
        names=("CIDFF de la Drôme",),
        count=1,
        fixed=("Valence",),
        extra_sites=(("Montélimar", "Romans-sur-Isère"),),
        description="Information sur les droits des femmes et des familles.",
        services=(
            Svc(
                "Information juridique sur les droits des femmes et des familles",
                (D.RIGHTS,),
                (
                    "difficultes-administratives-ou-juridiques--connaitre-ses-droits-face-a-une-discrimination",
                    "famille--surmonter-conflits-separation-violence",
                ),
                ("femmes", "familles", "jeunes"),
                mode="both",
                zone="dept",
                unconditional=True,
            ),
            Svc(
                "Accompagnement vers l'emploi des femmes",
                (D.EMPLOYMENT, D.CAREER),
                publics=("femmes", "jeunes"),
                zone="dept",
            ),
            Svc(
                "Accompagnement des victimes de violences",
                (D.RIGHTS, D.HEALTH),
                ("famille--surmonter-conflits-separation-violence",),
                ("femmes", "jeunes"),
                zone="dept",
                unconditional=True,
            ),
        ),
        n_services=(3, 3),
        roles=("Juriste", "Conseiller·ère emploi", "Directeur·rice"),
        people=(2, 3),
        scope="dept",
    ),
    Kind(
        key="point_justice",
        max_sites=1,
        kind="public-service",
        network="points-justice",
        names=("Point Justice {de}",),
        count=3,
        fixed=("Valence", "Montélimar", "Die"),
        description="Information juridique gratuite et confidentielle.",
        services=(
            Svc(
                "Consultations juridiques gratuites avec un·e avocat·e",
                (D.RIGHTS,),
                (
                    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
                    "difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire",
                ),
                ("jeunes", "familles", "personnes-en-situation-juridique-specifique"),
                "Sur rendez-vous.",
                zone="epci",
                unconditional=True,
            ),
            Svc(
                "Permanence d'aide aux victimes",
                (D.RIGHTS,),
                ("famille--surmonter-conflits-separation-violence",),
                ("jeunes", "femmes"),
                zone="epci",
                unconditional=True,
            ),
        ),
        roles=("Juriste", "Agent·e d'accueil"),
        people=(1, 3),
        hours=PERMANENCE,
        walk_in=0.3,
    ),
    Kind(
        key="aide_victimes",
        max_sites=1,
        kind="association",
        network="",
        names=("Association Écoute Victimes Drôme",),
        count=1,
        fixed=("Valence",),
        description="Aide aux victimes d'infractions : écoute, droits, accompagnement.",
        services=(
            Svc(
                "Écoute et accompagnement des victimes",
                (D.RIGHTS, D.HEALTH),
                (
                    "difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire",
                    "sante--sante-mentale",
                ),
                ("jeunes", "femmes", "familles"),
                mode="both",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Juriste", "Psychologue"),
        people=(1, 3),
        scope="dept",
    ),
    Kind(
        key="training",
        max_sites=3,
        kind="training-body",
        network="",
        names=(
            "Institut Forma'Vallée",
            "Atelier des Compétences",
            "Centre de formation Les Tisserands",
            "Horizon Formation",
            "Savoirs Plus 26",
            "Formation Rhône Vercors",
            "Lire et Écrire en Drôme",
            "Campus des métiers du soin Sud Drôme",
        ),
        count=8,
        fixed=("Valence",),
        place="towns",
        description="Organisme de formation professionnelle.",
        services=(
            Svc(
                "Remise à niveau en français et en mathématiques",
                (D.TRAINING,),
                (
                    "lecture-ecriture-calcul--maitriser-le-francais",
                    "lecture-ecriture-calcul--maitriser-le-calcul",
                ),
                ("jeunes", "demandeurs-emploi"),
                ON_REFERRAL,
                "Gratuit (financement Région)",
                zone="area",
            ),
            Svc(
                "Préparation aux métiers du soin et de l'aide à la personne",
                (D.TRAINING, D.CAREER),
                (
                    "se-former--trouver-sa-formation",
                    "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",
                ),
                ("jeunes", "demandeurs-emploi"),
                ON_REFERRAL,
                "Gratuit (financement Région)",
                zone="area",
            ),
            Svc(
                "Formation logistique et CACES",
                (D.TRAINING, D.EMPLOYMENT),
                ("se-former--trouver-sa-formation",),
                ("jeunes", "demandeurs-emploi"),
                "Sur prescription de France Travail ou de la Mission Locale.",
                "Gratuit (financement France Travail)",
                zone="dept",
            ),
            Svc(
                "Français langue étrangère",
                (D.TRAINING,),
                ("lecture-ecriture-calcul--maitriser-le-francais",),
                ("personnes-exilees", "jeunes"),
                zone="area",
                unconditional=True,
            ),
            Svc(
                "Compétences numériques de base",
                (D.TRAINING,),
                ("numerique--maitriser-les-fondamentaux-du-numerique",),
                ("jeunes", "demandeurs-emploi"),
                mode="both",
                zone="area",
            ),
        ),
        n_services=(1, 3),
        roles=("Responsable pédagogique", "Formateur·rice", "Chargé·e d'accueil"),
        people=(1, 3),
    ),
    Kind(
        key="geiq",
        max_sites=1,
        kind="employer",
        network="geiq",
        names=("GEIQ Bâtir Ensemble",),
        count=1,
        fixed=("Valence",),
        description="Groupement d'employeurs pour l'insertion et la qualification.",
        services=(
            Svc(
                "Contrats en alternance dans le bâtiment",
                (D.EMPLOYMENT, D.TRAINING),
                ("trouver-un-emploi--repondre-a-des-offres-demploi",),
                ("jeunes", "demandeurs-emploi"),
                fees="Rémunéré",
                zone="dept",
            ),
        ),
        roles=("Chargé·e d'accompagnement",),
        people=(1, 1),
        tier="employer",
        scope="dept",
    ),
    Kind(
        key="siae",
        max_sites=1,
        kind="employer",
        network="aci",
        names=(
            "Recyclerie La Fourmilière",
            "Jardins solidaires du Lez",
            "Entreprise d'insertion Net'Services",
            "Chantier d'insertion Rivières et Sentiers",
            "Ressourcerie Le Grenier Solidaire",
        ),
        count=5,
        place="weighted",
        description="Structure d'insertion par l'activité économique.",
        services=(
            Svc(
                "Contrats à durée déterminée d'insertion",
                (D.EMPLOYMENT,),
                ("trouver-un-emploi--repondre-a-des-offres-demploi",),
                ("jeunes", "demandeurs-emploi", "beneficiaires-des-minimas-sociaux"),
                "Être éligible à l'insertion par l'activité économique.",
                "Rémunéré",
                zone="epci",
            ),
            Svc(
                "Accompagnement socioprofessionnel des salarié·es",
                (D.EMPLOYMENT, D.CAREER),
                publics=("demandeurs-emploi",),
                conditions="Être salarié·e de la structure.",
                zone="epci",
            ),
        ),
        roles=("Encadrant·e technique", "Chargé·e d'insertion"),
        people=(1, 3),
        hours=WORKPLACE,
        tier="employer",
    ),
    Kind(
        key="employer",
        max_sites=1,
        kind="employer",
        network="",
        names=(
            "Boulangerie Le Fournil du Vercors",
            "Transports Rhodaniens",
            "EHPAD Les Glycines",
            "Logistique Valrhône",
            "Hôtel-restaurant Le Relais des Baronnies",
            "Menuiserie Chabert et fils",
            "Clinique vétérinaire des Collines",
            "Garage des Trois Becs",
            "Vergers de la Galaure",
            "Nettoyage Pro Diois",
            "Supérette Coop des Lavandes",
        ),
        count=11,
        place="weighted",
        description="Entreprise partenaire : stages, alternance et recrutements.",
        services=(
            Svc(
                "Offres d'emploi et d'apprentissage",
                (D.EMPLOYMENT,),
                ("trouver-un-emploi--repondre-a-des-offres-demploi",),
                ("jeunes", "demandeurs-emploi"),
                fees="",
                zone="epci",
            ),
            Svc(
                "Stages de découverte des métiers",
                (D.CAREER,),
                ("choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",),
                ("jeunes",),
                "Sur convention de stage avec la Mission Locale ou France Travail.",
                fees="",
                zone="epci",
            ),
        ),
        roles=("Gérant·e", "Responsable des ressources humaines", "Tuteur·rice"),
        people=(1, 3),
        hours=WORKPLACE,
        walk_in=0.0,
        tier="employer",
    ),
    Kind(
        key="mjc",
        max_sites=1,
        kind="club",
        network="mjc",
        names=(
            "MJC Le Polygone",
            "MJC L'Oustal",
            "MJC Les Tanneurs",
            "MJC du Plateau",
            "MJC Le Tremplin",
        ),
        count=5,
        place="weighted",
        description="Maison des jeunes et de la culture.",
        services=(
            Svc(
                "Accueil jeunes et projets collectifs",
                (D.LEISURE, D.CITIZENSHIP),
                ("remobilisation--lien-social", "remobilisation--benevolat-action-citoyenne"),
                ("jeunes",),
                fees="Adhésion annuelle 10 €",
                zone="epci",
            ),
            Svc(
                "Ateliers théâtre, musique et arts plastiques",
                (D.CULTURE,),
                ("remobilisation--activites-sportives-et-culturelles",),
                ("jeunes",),
                fees="Selon le quotient familial",
                zone="epci",
            ),
            Svc(
                "Studio de répétition et de création",
                (D.CULTURE, D.LEISURE),
                ("remobilisation--activites-sportives-et-culturelles",),
                ("jeunes",),
                fees="5 € de l'heure",
                zone="commune",
            ),
        ),
        n_services=(1, 3),
        roles=("Directeur·rice", "Animateur·rice jeunesse"),
        people=(1, 3),
        hours=CLUB,
        walk_in=0.7,
    ),
    Kind(
        key="centre_social",
        max_sites=1,
        kind="association",
        network="fcsf",
        names=(
            "Centre social L'Agora",
            "Centre social Les Trois Rivières",
            "Centre social Le Moulin",
            "Centre social La Clairière",
            "Centre social Pierre et Sources",
        ),
        count=5,
        place="weighted",
        description="Centre social et socioculturel, agréé par la CAF.",
        services=(
            Svc(
                "Accueil et accès aux droits",
                (D.RIGHTS,),
                (
                    "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
                ),
                ("familles", "jeunes"),
                zone="near",
                unconditional=True,
            ),
            Svc(
                "Activités familles et sorties",
                (D.LEISURE,),
                ("remobilisation--lien-social",),
                ("familles", "jeunes"),
                fees="Selon le quotient familial",
                zone="near",
            ),
            Svc(
                "Ateliers sociolinguistiques",
                (D.TRAINING,),
                ("lecture-ecriture-calcul--maitriser-le-francais",),
                ("personnes-exilees", "familles"),
                zone="near",
                unconditional=True,
            ),
        ),
        n_services=(2, 3),
        roles=("Directeur·rice", "Référent·e familles", "Animateur·rice"),
        people=(1, 3),
        walk_in=0.6,
    ),
    Kind(
        key="sport",
        max_sites=1,
        kind="club",
        network="",
        names=(
            "Union sportive {commune} football",
            "Club de boxe éducative {de}",
            "Rugby club {de}",
            "Escalade Vertical'Drôme",
            "Handball club {de}",
            "Judo club {de}",
            "Basket club {de}",
            "Roue Libre – club de cyclisme",
            "Athlétisme Drôme Provence",
        ),
        count=9,
        place="weighted",
        description="Association sportive.",
        services=(
            Svc(
                "Pratique sportive encadrée pour les 16-25 ans",
                (D.SPORT,),
                ("remobilisation--activites-sportives-et-culturelles",),
                ("jeunes",),
                fees="Licence à partir de 30 €, Pass'Sport accepté",
                zone="epci",
            ),
            Svc(
                "Sport et insertion : préparation physique aux métiers",
                (D.SPORT, D.EMPLOYMENT),
                (
                    "remobilisation--activites-sportives-et-culturelles",
                    "remobilisation--bien-etre-confiance-en-soi",
                ),
                ("jeunes", "demandeurs-emploi"),
                ON_REFERRAL,
                zone="epci",
            ),
            Svc(
                "Séances découverte gratuites",
                (D.SPORT, D.LEISURE),
                ("remobilisation--activites-sportives-et-culturelles",),
                ("jeunes",),
                zone="commune",
                unconditional=True,
            ),
        ),
        roles=("Président·e", "Éducateur·rice sportif·ve"),
        people=(1, 1),
        hours=CLUB,
        walk_in=0.5,
        tier="leisure",
    ),
    Kind(
        key="culture",
        max_sites=1,
        kind="club",
        network="",
        names=(
            "Médiathèque {de}",
            "Scène associative Le Petit Rideau",
            "Cinéma associatif L'Écran des Collines",
            "École de musique {de}",
            "Atelier d'arts plastiques La Palette",
            "Collectif hip-hop Béton Fleuri",
            "Médiathèque {de}",
        ),
        count=7,
        place="weighted",
        description="Lieu culturel ouvert aux jeunes.",
        services=(
            Svc(
                "Pass Culture : conseils et sorties",
                (D.CULTURE,),
                ("remobilisation--activites-sportives-et-culturelles",),
                ("jeunes",),
                zone="epci",
            ),
            Svc(
                "Ateliers d'expression artistique",
                (D.CULTURE, D.LEISURE),
                (
                    "remobilisation--activites-sportives-et-culturelles",
                    "remobilisation--bien-etre-confiance-en-soi",
                ),
                ("jeunes",),
                fees="Gratuit sur inscription",
                zone="commune",
            ),
            Svc(
                "Accès libre aux ordinateurs et aux ressources",
                (D.CULTURE, D.TRAINING),
                ("numerique--acceder-a-des-services-en-ligne",),
                ("jeunes", "etudiants"),
                zone="commune",
                unconditional=True,
            ),
        ),
        roles=("Responsable", "Médiateur·rice culturel·le"),
        people=(1, 3),
        hours=CULTURE,
        walk_in=0.8,
        tier="leisure",
    ),
    Kind(
        key="foyer_rural",
        max_sites=1,
        kind="club",
        network="",
        names=("Foyer rural {de}",),
        count=3,
        place="rural",
        description="Association d'éducation populaire en milieu rural.",
        services=(
            Svc(
                "Activités de loisirs et lien social",
                (D.LEISURE,),
                ("remobilisation--lien-social",),
                ("jeunes", "familles"),
                fees="Adhésion annuelle 15 €",
                zone="near",
            ),
            Svc(
                "Randonnées et sports de pleine nature",
                (D.SPORT, D.LEISURE),
                ("remobilisation--activites-sportives-et-culturelles",),
                ("jeunes",),
                fees="Adhésion annuelle 15 €",
                zone="near",
            ),
        ),
        roles=("Président·e",),
        people=(1, 1),
        hours=CLUB,
        walk_in=0.3,
        tier="leisure",
    ),
    Kind(
        key="citizenship",
        kind="association",
        network="",
        names=(
            "Association Parole de Jeunes",
            "Les Bâtisseurs de Solidarité",
            "Parrains pour l'emploi Drôme",
        ),
        count=3,
        fixed=("Valence", "Crest", "Romans-sur-Isère"),
        description="Association d'engagement et de solidarité.",
        services=(
            Svc(
                "Engagement bénévole et projets solidaires",
                (D.CITIZENSHIP,),
                ("remobilisation--benevolat-action-citoyenne",),
                ("jeunes",),
                zone="epci",
                unconditional=True,
            ),
            Svc(
                "Parrainage vers l'emploi",
                (D.EMPLOYMENT, D.CAREER),
                (
                    "choisir-un-metier--connaitre-les-opportunites-demploi",
                    "preparer-sa-candidature--valoriser-ses-competences",
                ),
                ("jeunes", "residents-qpv-frr"),
                ON_REFERRAL,
                mode="both",
                zone="dept",
            ),
        ),
        roles=("Président·e", "Coordinateur·rice bénévole"),
        people=(1, 3),
        hours=PERMANENCE,
    ),
    Kind(
        key="conseil_jeunes",
        max_sites=1,
        kind="elected-body",
        network="communes",
        names=("Conseil local des jeunes {de}",),
        count=1,
        fixed=("Bourg-lès-Valence",),
        description="Assemblée de jeunes élu·es associée au conseil municipal.",
        services=(
            Svc(
                "Participer au conseil local des jeunes",
                (D.CITIZENSHIP,),
                (
                    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-a-la-citoyennete",
                ),
                ("jeunes",),
                "Avoir entre 16 et 25 ans et habiter la commune.",
                zone="commune",
            ),
        ),
        roles=("Élu·e référent·e", "Animateur·rice du conseil"),
        people=(1, 3),
        hours=PERMANENCE,
        tier="political",
    ),
    Kind(
        key="epci",
        max_sites=1,
        kind="local-authority",
        network="communes",
        names=("Communauté de communes du Diois",),
        count=1,
        fixed=("Die",),
        description="Intercommunalité : jeunesse, mobilité et développement local.",
        services=(
            Svc(
                "Service jeunesse intercommunal et transport à la demande",
                (D.CITIZENSHIP, D.LEISURE, D.MOBILITY),
                ("remobilisation--lien-social", "mobilite--mobilite-douce-partagee-collective"),
                ("jeunes",),
                zone="epci",
            ),
        ),
        roles=("Vice-président·e jeunesse", "Coordinateur·rice jeunesse"),
        people=(2, 2),
        tier="political",
    ),
    Kind(
        key="bailleur",
        max_sites=1,
        kind="housing",
        network="",
        names=("Office Habitat des Collines", "Logis Valentinois Solidaire"),
        count=2,
        fixed=("Romans-sur-Isère", "Valence"),
        description="Bailleur social.",
        services=(
            Svc(
                "Logements sociaux pour jeunes ménages",
                (D.HOUSING,),
                ("logement-hebergement--louer-un-logement",),
                ("jeunes", "familles"),
                "Ressources sous plafond ; demande de logement social enregistrée.",
                "Loyer modéré",
                zone="area",
            ),
        ),
        roles=("Chargé·e de clientèle", "Conseiller·ère sociale"),
        people=(1, 3),
        tier="institution",
    ),
    Kind(
        key="cio",
        max_sites=1,
        kind="state-service",
        network="",
        names=("Centre d'information et d'orientation {de}",),
        count=2,
        fixed=("Valence", "Montélimar"),
        description="Orientation scolaire et professionnelle, jeunes sans solution.",
        services=(
            Svc(
                "Conseil en orientation scolaire et professionnelle",
                (D.CAREER, D.TRAINING),
                (
                    "choisir-un-metier--identifier-ses-points-forts-et-ses-competences",
                    "se-former--trouver-sa-formation",
                ),
                ("jeunes", "etudiants"),
                zone="area",
                unconditional=True,
            ),
            Svc(
                "Accueil des jeunes sortis sans diplôme",
                (D.CAREER,),
                ("choisir-un-metier--confirmer-son-choix-de-metier",),
                ("jeunes",),
                "Avoir quitté l'école sans diplôme depuis moins d'un an.",
                zone="area",
            ),
        ),
        roles=("Psychologue de l'Éducation nationale", "Directeur·rice"),
        people=(1, 3),
    ),
    Kind(
        key="adil",
        max_sites=1,
        kind="association",
        network="",
        names=("Agence départementale d'information sur le logement de la Drôme",),
        count=1,
        fixed=("Valence",),
        description="Conseil juridique, financier et fiscal sur le logement.",
        services=(
            Svc(
                "Conseil juridique logement par téléphone",
                (D.HOUSING, D.RIGHTS),
                (
                    "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement",
                    "logement-hebergement--se-maintenir-dans-le-logement",
                ),
                ("jeunes", "familles", "actifs"),
                mode="remote",
                zone="dept",
                unconditional=True,
            ),
        ),
        roles=("Juriste logement",),
        people=(1, 3),
        scope="dept",
    ),
    Kind(
        key="cllaj",
        max_sites=1,
        kind="association",
        network="",
        names=("CLLAJ Collines et Vercors",),
        count=1,
        fixed=("Romans-sur-Isère",),
        description="Comité local pour le logement autonome des jeunes.",
        services=(
            Svc(
                "Accompagnement vers un premier logement autonome",
                (D.HOUSING,),
                (
                    "logement-hebergement--louer-un-logement",
                    "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement",
                ),
                ("jeunes",),
                "Avoir entre 18 et 30 ans.",
                zone="area",
                unconditional=True,
            ),
        ),
        roles=("Conseiller·ère logement jeunes",),
        people=(1, 1),
    ),
    Kind(
        key="msp",
        max_sites=1,
        kind="health-centre",
        network="",
        names=("Maison de santé pluriprofessionnelle {de}",),
        count=2,
        fixed=("Dieulefit",),
        place="rural",
        description="Médecins, infirmier·es et paramédicaux réunis en un lieu.",
        services=(
            Svc(
                "Consultations de médecine générale sans médecin traitant",
                (D.HEALTH,),
                ("sante--acces-aux-soins",),
                ("jeunes", "familles"),
                fees="Tiers payant",
                zone="near",
            ),
        ),
        roles=("Coordinateur·rice", "Médecin généraliste", "Infirmier·ère"),
        people=(1, 3),
        hours=HEALTH,
    ),
)

# The demo's named people, so that the accounts are also contacts of the directory and the
# analyses have known cases: partnerships held by one person, a contact who left.
# structure name -> (people as (first, last, role, active), whether the structure has no
# other people, index of the services' contact person or None for the usual choice).
Named = tuple[str, str, str, bool]
FIXED_PEOPLE: dict[str, tuple[list[Named], bool, int | None]] = {
    ML_VALENCE: (
        [
            ("Camille", "Rousset", "Conseillère en insertion professionnelle", True),
            ("Nadia", "Belkacem", "Chargée de partenariat", True),
            ("Isabelle", "Chabert", "Directrice", True),
        ],
        False,
        0,
    ),
    ML_ROMANS: ([("Thomas", "Reynaud", "Directeur", True)], False, None),
    ML_SUD: ([("Anaïs", "Mounier", "Directrice", True)], False, None),
    FJT_VALENCE: ([("Julien", "Marchand", "Animateur socio-éducatif", True)], False, 0),
    FJT_MONTELIMAR: (
        [
            ("Romain", "Delorme", "Animateur référent Mission Locale", False),
            ("Aurélie", "Faure", "Directrice", True),
        ],
        True,
        0,  # left, still named as the contact: a stale entry the directory must reveal
    ),
    "Centre médico-psychologique de Valence": (
        [("Sophie", "Garnier", "Infirmière référente jeunes", True)],
        True,
        0,
    ),
    "CSAPA Tremplin": (
        [("Olivier", "Sabatier", "Éducateur spécialisé, consultation jeunes consommateurs", True)],
        True,
        0,
    ),
    "Point Justice de Montélimar": ([("Claire", "Vidal", "Juriste", True)], True, 0),
    "Mairie de Valence": (
        [("Hélène", "Vasseur", "Adjointe au maire déléguée à la jeunesse", True)],
        False,
        None,
    ),
    "Mairie de Romans-sur-Isère": (
        [("Marc", "Tardy", "Conseiller municipal délégué à l'insertion", True)],
        False,
        None,
    ),
    "Mairie de Montélimar": (
        [("Leïla", "Haddad", "Adjointe à la jeunesse et à la vie associative", True)],
        False,
        None,
    ),
    "Conseil départemental de la Drôme": (
        [
            ("Martine", "Achard", "Vice-présidente en charge de l'insertion", True),
            ("Cédric", "Bouvier", "Chef du service insertion", True),
        ],
        True,
        1,
    ),
}

# Structure -> first person of another structure: (source, target structure, level, kind, note)
PERSON_LINKS: tuple[tuple[str, str, Level, RelationshipKind, str], ...] = (
    (
        ML_VALENCE,
        "Centre médico-psychologique de Valence",
        Level.OPERATIONAL,
        RelationshipKind.CONTACT,
        "Seule interlocutrice du CMP pour les jeunes : aucun binôme identifié.",
    ),
    (
        ML_VALENCE,
        "Mairie de Valence",
        Level.POLITICAL,
        RelationshipKind.ELECTED_REPRESENTATIVE,
        "Élue référente de la Mission Locale, siège au conseil d'administration.",
    ),
    (
        ML_VALENCE,
        "Conseil départemental de la Drôme",
        Level.POLITICAL,
        RelationshipKind.ELECTED_REPRESENTATIVE,
        "Vice-présidente référente pour l'insertion des jeunes.",
    ),
    (
        ML_ROMANS,
        "Mairie de Romans-sur-Isère",
        Level.POLITICAL,
        RelationshipKind.ELECTED_REPRESENTATIVE,
        "Préside le conseil d'administration.",
    ),
    (
        ML_ROMANS,
        "CSAPA Tremplin",
        Level.OPERATIONAL,
        RelationshipKind.CONTACT,
        "Toutes les orientations passent par lui.",
    ),
    (
        ML_SUD,
        "Mairie de Montélimar",
        Level.POLITICAL,
        RelationshipKind.ELECTED_REPRESENTATIVE,
        "Élue référente de la Mission Locale.",
    ),
    (
        ML_SUD,
        FJT_MONTELIMAR,
        Level.OPERATIONAL,
        RelationshipKind.CONTACT,
        "Partenariat porté par l'animateur référent, parti depuis : à reprendre.",
    ),
    (
        ML_SUD,
        "Point Justice de Montélimar",
        Level.OPERATIONAL,
        RelationshipKind.CONTACT,
        "Permanence juridique mensuelle dans les locaux de la Mission Locale.",
    ),
)

# Field partners that work together (operational), with the chance that each structure of
# the first kind has such a link with one of the second kind in its area.
AFFINITIES: tuple[tuple[str, str, float], ...] = (
    ("ccas", "fjt", 0.5),
    ("ccas", "restos", 0.5),
    ("ccas", "secours_pop", 0.4),
    ("ccas", "croix_rouge", 0.4),
    ("ccas", "pcb", 0.5),
    ("ccas", "france_services", 0.4),
    ("cmp", "csapa", 0.8),
    ("cmp", "mda", 0.6),
    ("csapa", "chrs", 0.6),
    ("fjt", "siao", 0.5),
    ("fjt", "cllaj", 0.6),
    ("fjt", "adil", 0.4),
    ("chrs", "siao", 0.9),
    ("cidff", "point_justice", 0.9),
    ("cidff", "aide_victimes", 0.8),
    ("point_justice", "aide_victimes", 0.5),
    ("france_travail", "siae", 0.6),
    ("france_travail", "training", 0.5),
    ("france_travail", "geiq", 0.5),
    ("france_travail", "mobility", 0.6),
    ("france_travail", "cap_emploi", 0.8),
    ("e2c", "training", 0.4),
    ("e2c", "employer", 0.4),
    ("siae", "employer", 0.3),
    ("france_services", "numerique", 0.5),
    ("mjc", "sport", 0.4),
    ("mjc", "culture", 0.4),
    ("centre_social", "mjc", 0.5),
    ("centre_social", "culture", 0.3),
    ("centre_social", "numerique", 0.4),
    ("mobility", "auto_ecole", 0.7),
    ("mobility", "garage", 0.5),
    ("pij", "mjc", 0.5),
    ("pij", "unis_cite", 0.5),
    ("cms", "ccas", 0.6),
    ("cms", "sante_sexuelle", 0.5),
    ("msp", "cmp", 0.4),
    ("ase", "fjt", 0.5),
    ("pjj", "spip", 0.4),
)

FIRST_NAMES = (
    "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Emma", "Laura", "Clara", "Mathilde",
    "Pauline", "Amandine", "Fatima", "Yasmine", "Élodie", "Marion", "Céline", "Agathe",
    "Lucie", "Morgane", "Océane", "Salomé", "Jeanne", "Louise", "Nicolas", "Maxime",
    "Antoine", "Hugo", "Lucas", "Karim", "Mehdi", "Yanis", "Pierre", "Mathieu", "Guillaume",
    "Benoît", "Vincent", "Sébastien", "Rachid", "Samir", "Kevin", "Florian", "Damien",
    "Bastien", "Dominique", "Alexis", "Sacha", "Jordan", "Aïcha", "Nathalie", "Sandrine",
    "Christophe", "Frédéric", "Stéphanie", "Valérie", "Patrick", "Mélanie", "Gaëlle",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Roux", "Blanc", "Brun", "Arnaud", "Giraud", "Mercier", "Bonnet",
    "Morel", "Fournier", "Girard", "Lambert", "Fontaine", "Chevalier", "Perrin", "Masson",
    "Duval", "Lefèvre", "Colin", "Bouvet", "Gauthier", "Barbier", "Roche", "Jourdan",
    "Reboul", "Chapuis", "Ferrand", "Pellet", "Rey", "Vial", "Besson", "Aubert", "Mallet",
    "Poulain", "Benali", "Nguyen", "Da Silva", "Ferreira", "Diallo", "Traoré", "Kaya",
    "Moreau", "Cellier", "Bonnard", "Ollier", "Magnan", "Combe", "Charrier", "Peyrard",
    "Gleizal", "Bouchet", "Teyssier", "Eymard", "Sauvan", "Brunel", "Jacquet",
)  # fmt: skip
STREET_NAMES = (
    "des Tilleuls", "Victor-Hugo", "Jean-Jaurès", "de la République", "Pasteur", "de la Gare",
    "du Vercors", "des Écoles", "Émile-Zola", "des Mûriers", "du Lavoir", "des Alpes",
    "Gambetta", "des Remparts", "de la Liberté", "du 8-Mai-1945", "Sadi-Carnot",
    "des Platanes", "de l'Industrie", "des Cerisiers", "du Stade", "de la Mairie",
    "des Vignes", "Olivier-de-Serres", "Marcel-Pagnol", "Jean-Moulin", "Frédéric-Mistral",
    "des Lavandes", "du Moulin", "de la Paix", "Paul-Bert", "des Acacias", "du Vieux-Pont",
)  # fmt: skip
ACCESSIBILITY = (
    "Accès de plain-pied, accessible en fauteuil roulant.",
    "Ascenseur ; boucle magnétique à l'accueil.",
    "Bâtiment accessible ; stationnement réservé devant l'entrée.",
    "Locaux à l'étage sans ascenseur : rendez-vous possible au rez-de-chaussée sur demande.",
    "",
    "",
)
OPERATIONAL_NOTES = (
    "Orientations réciproques, point téléphonique mensuel.",
    "Permanence commune un jeudi sur deux.",
    "Échanges au cas par cas entre conseiller·ères.",
    "Comité technique trimestriel.",
    "Fiche de liaison partagée pour les orientations.",
    "",
    "",
)
FIELD_KINDS = (RelationshipKind.REFERRAL, RelationshipKind.REFERRAL, RelationshipKind.PARTNERSHIP)


# ---- Plan ----------------------------------------------------------------------------------


@dataclass
class PlannedStructure:
    key: str
    tier: str
    scope: str
    commune: Commune
    area: int  # index of the Mission Locale whose territory holds it
    structure: StructureWrite
    sites: list[SiteWrite]
    people: list[PersonWrite]
    # ServiceWrite fields without site_id/contact_id, then site index and person index
    services: list[tuple[dict[str, Any], int | None, int | None]]
    isolated: bool = False
    verified_on: date | None = None  # becomes data·inclusion's date_maj


@dataclass
class PlannedRelationship:
    source: int
    level: Level
    kind: RelationshipKind
    since: date
    note: str
    target_structure: int | None = None
    target_person: tuple[int, int] | None = None  # (structure index, person index)


@dataclass
class Plan:
    structures: list[PlannedStructure] = field(default_factory=list)
    relationships: list[PlannedRelationship] = field(default_factory=list)

    def index_of(self, name: str) -> int:
        for index, planned in enumerate(self.structures):
            if planned.structure.name == name:
                return index
        raise KeyError(name)


def _de(name: str) -> str:
    """'de Valence', "d'Allex", 'du Poët-Laval', 'des Tourrettes', 'de La Roche-de-Glun'."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[0] in "AEIOUYÉÈÊÂÎÔÛH":
        return "d'" + name
    return "de " + name


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _weighted_sample(
    rng: random.Random, items: list[Commune], weights: list[float], k: int
) -> list[Commune]:
    items, weights = list(items), list(weights)
    chosen: list[Commune] = []
    for _ in range(min(k, len(items))):
        index = rng.choices(range(len(items)), weights=weights)[0]
        chosen.append(items.pop(index))
        weights.pop(index)
    return chosen


class _Planner:
    def __init__(self, gazetteer: Gazetteer, today: date) -> None:
        self.gaz = gazetteer
        self.today = today
        self.rng = random.Random(SEED)
        self.communes = sorted(
            (c for c in gazetteer if c.departement == DEPARTEMENT), key=lambda c: c.insee
        )
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.seats = [self.commune(n) for n in ("Valence", "Romans-sur-Isère", "Montélimar")]
        self.areas = [self._area_zone(i) for i in range(3)]

    # -- places

    def commune(self, name: str) -> Commune:
        found = [c for c in self.gaz.by_name(name) if c.departement == DEPARTEMENT]
        if len(found) != 1:
            raise LookupError(f"commune {name!r} not found once in département {DEPARTEMENT}")
        return found[0]

    _AREA_EPCIS = (
        ("242600252", "200040509", "242600534"),  # Val de Drôme, Crestois, Diois
        ("200073096", "200040491", "200067767"),  # Arche Agglo, Porte de Dromardèche, Royans
    )
    _SHARED_AGGLO = "200068781"  # Valence Romans Agglo, split between the first two

    def area_of(self, commune: Commune) -> int:
        if commune.epci == self._SHARED_AGGLO:
            return min(
                (0, 1),
                key=lambda i: math.dist(
                    (commune.lat, commune.lon), (self.seats[i].lat, self.seats[i].lon)
                ),
            )
        for index, epcis in enumerate(self._AREA_EPCIS):
            if commune.epci in epcis:
                return index
        return 2

    def _area_zone(self, index: int) -> list[str]:
        """A Mission Locale's eligibility zone: the SIREN of each EPCI it covers whole, the
        commune codes where it covers only part of one (the shared agglomeration, the
        intercommunalities that straddle the département's border)."""
        members = [c for c in self.communes if self.area_of(c) == index]
        by_epci: dict[str, list[str]] = {}
        for commune in members:
            by_epci.setdefault(commune.epci, []).append(commune.insee)
        zone: list[str] = []
        for epci, codes in sorted(by_epci.items()):
            whole = epci and sorted(self.gaz.communes_of_zone(epci)) == sorted(codes)
            zone += [epci] if whole else codes
        return zone

    def draw_communes(self, place: str, k: int, exclude: set[str]) -> list[Commune]:
        pool = [c for c in self.communes if c.insee not in exclude]
        if place == "towns":
            pool = [c for c in pool if c.population >= 2500]
            weights = [c.population**0.8 for c in pool]
        elif place == "rural":
            pool = [c for c in pool if 200 <= c.population <= 5000]
            weights = [c.population**0.5 for c in pool]
        else:
            weights = [max(c.population, 50) ** 0.75 for c in pool]
        return _weighted_sample(self.rng, pool, weights, k)

    def nearby(self, commune: Commune, km: float) -> list[Commune]:
        return [
            c
            for c in self.gaz.nearby(commune.lat, commune.lon, km)
            if c.departement == DEPARTEMENT and c.insee != commune.insee
        ]

    # -- small things

    def days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def phone(self, mobile: bool) -> str:
        while True:
            if mobile:
                prefix = self.rng.choice(("06", "06", "07"))
                second = self.rng.randint(10, 99) if prefix == "06" else self.rng.randint(60, 89)
                digits = [prefix, f"{second:02d}"]
            else:
                digits = ["04", "75"]
            digits += [f"{self.rng.randint(0, 99):02d}" for _ in range(3)]
            number = " ".join(digits)
            if number in self.phones:
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(number, "FR")):
                self.phones.add(number)
                return number

    def email(self, local: str) -> str:
        base = _slug(local).replace("-", ".")
        candidate, n = base, 1
        while f"{candidate}@{EMAIL_DOMAIN}" in self.emails:
            n += 1
            candidate = f"{base}{n}"
        address = f"{candidate}@{EMAIL_DOMAIN}"
        self.emails.add(address)
        return address

    def address(self, commune: Commune) -> str:
        kinds = ["rue", "rue", "avenue", "place", "chemin", "allée", "impasse"]
        if commune.population > 10_000:
            kinds += ["boulevard", "quai"]
        number = self.rng.randint(1, 120)
        suffix = " bis" if self.rng.random() < 0.05 else ""
        return f"{number}{suffix} {self.rng.choice(kinds)} {self.rng.choice(STREET_NAMES)}"

    # -- records

    def sites(self, kind: Kind, index: int, commune: Commune) -> list[SiteWrite]:
        extra: list[Commune]
        if index < len(kind.extra_sites):
            extra = [self.commune(n) for n in kind.extra_sites[index]]
        else:
            extra = []
            wanted = sum(self.rng.random() < 0.45 for _ in range(kind.max_sites - 1))
            if wanted:
                near = self.nearby(commune, 25)
                extra = _weighted_sample(
                    self.rng, near, [max(c.population, 50) ** 0.7 for c in near], wanted
                )
        many = bool(extra)
        sites = [self.site(kind, commune, "Accueil principal" if many else "", kind.hours)]
        for other in extra:
            permanence = self.rng.random() < 0.5
            name = ("Permanence " if permanence else "Antenne ") + _de(other.name)
            hours = PERMANENCE if permanence else kind.hours
            sites.append(self.site(kind, other, name, hours))
        return sites

    def site(self, kind: Kind, commune: Commune, name: str, hours: tuple[str, ...]) -> SiteWrite:
        opening = self.rng.choice(hours) if self.rng.random() < 0.93 else ""
        # Spread sites around the town hall (a few hundred metres in a village, up to two
        # kilometres in a town), so that distances in the demo look like real ones.
        reach_km = 0.3 + 1.7 * min(1.0, math.sqrt(commune.population / 60000))
        distance = reach_km * math.sqrt(self.rng.random())
        bearing = self.rng.uniform(0, 2 * math.pi)
        lat = commune.lat + distance * math.cos(bearing) / 111.0
        lon = commune.lon + distance * math.sin(bearing) / (111.0 * math.cos(math.radians(lat)))
        return msgspec.convert(
            {
                "commune": commune.insee,
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "name": name,
                "address": self.address(commune),
                "postcode": self.rng.choice(commune.postcodes) if commune.postcodes else "",
                "opening_hours": opening,
                "accessibility": self.rng.choice(ACCESSIBILITY),
                "walk_in": self.rng.random() < kind.walk_in,
            },
            SiteWrite,
        )

    def person(self, first: str, last: str, role: str, active: bool = True) -> PersonWrite:
        channel = self.rng.choices(
            (Channel.EMAIL, Channel.PHONE, Channel.SMS, Channel.IN_PERSON), (55, 25, 10, 10)
        )[0]
        has_phone = channel in {Channel.PHONE, Channel.SMS} or self.rng.random() < 0.75
        mobile = channel == Channel.SMS or self.rng.random() < 0.4
        return msgspec.convert(
            {
                "first_name": first,
                "last_name": last,
                "role": role,
                "email": self.email(f"{first}.{last}"),
                "phone": self.phone(mobile) if has_phone else "",
                "preferred_channel": channel,
                "active": active,
                "left_on": None if active else self.days_ago(20, 420),
            },
            PersonWrite,
        )

    def people(self, kind: Kind, name: str) -> list[PersonWrite]:
        fixed, only, _contact = FIXED_PEOPLE.get(name, ([], False, None))
        people = [self.person(f, last, role, active) for f, last, role, active in fixed]
        if only:
            return people
        count = max(self.rng.randint(*kind.people), len(people))
        taken = {(p.first_name, p.last_name) for p in people}
        roles = list(kind.roles)
        for position in range(len(people), count):
            while True:
                first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
                if (first, last) not in taken:
                    taken.add((first, last))
                    break
            role = roles[position % len(roles)]
            # The head of a structure stays; a few others have left without a successor.
            left = position > 0 and self.rng.random() < 0.08
            people.append(self.person(first, last, role, active=not left))
        return people

    def zone(self, svc: Svc, commune: Commune, area: int) -> list[str]:
        if svc.zone == "commune":
            return [commune.insee]
        if svc.zone == "near":
            return [commune.insee] + [c.insee for c in self.nearby(commune, 12)[:5]]
        if svc.zone == "epci":
            return [commune.epci] if commune.epci else [DEPARTEMENT]
        if svc.zone == "area":
            return list(self.areas[area])
        if svc.zone == "france":
            return ["france"]
        return [DEPARTEMENT]

    def services(
        self,
        kind: Kind,
        commune: Commune,
        area: int,
        people: list[PersonWrite],
        n_sites: int,
        fixed_contact: int | None,
    ) -> list[tuple[dict[str, Any], int | None, int | None]]:
        low, high = kind.n_services
        count = min(self.rng.randint(low, high), len(kind.services))
        templates = [kind.services[0], *self.rng.sample(kind.services[1:], count - 1)]
        active = [i for i, p in enumerate(people) if p.active]
        planned = []
        for svc in templates:
            thematiques = list(svc.thematiques)
            if not thematiques:
                pool = sorted({t for d in svc.domains for t in DOMAIN_THEMATIQUES[d]})
                thematiques = self.rng.sample(pool, min(len(pool), self.rng.randint(1, 2)))
            values = {
                "name": svc.name,
                "domains": list(svc.domains),
                "description": svc.description,
                "thematiques": thematiques,
                "publics": list(svc.publics),
                "conditions": svc.conditions,
                "fees": svc.fees,
                "on_site": svc.mode in {"on_site", "both"},
                "remote": svc.mode in {"remote", "both"},
                "zone": self.zone(svc, commune, area),
                "unconditional": svc.unconditional,
            }
            msgspec.convert(values, ServiceWrite)  # the same constraints as the API's
            site = None
            if n_sites > 1 and self.rng.random() < 0.3:
                site = self.rng.randint(1, n_sites - 1)
            # The named contact: the designated one (who may have left: the directory then
            # shows a stale contact), else an active field person rather than the head.
            if fixed_contact is not None:
                contact: int | None = fixed_contact
            elif active:
                contact = active[1] if len(active) > 1 else active[0]
            else:
                contact = None
            planned.append((values, site, contact))
        return planned

    def structure(self, kind: Kind, index: int, commune: Commune) -> PlannedStructure:
        template = kind.names[index % len(kind.names)]
        name = template.format(commune=commune.name, de=_de(commune.name))
        area = self.area_of(commune)
        sites = self.sites(kind, index, commune)
        people = self.people(kind, name)
        fixed_contact = FIXED_PEOPLE[name][2] if name in FIXED_PEOPLE else None
        services = self.services(kind, commune, area, people, len(sites), fixed_contact)
        anchor = index < len(kind.fixed)  # the known places of the territory
        has_email = anchor or self.rng.random() < 0.6
        has_phone = anchor or self.rng.random() < 0.85
        description = f"{kind.description} Structure fictive (données de démonstration)."
        structure = msgspec.convert(
            {
                "name": name,
                "kind": kind.kind,
                "network": kind.network,
                "description": description,
                "email": self.email(f"accueil.{_slug(name)[:32]}") if has_email else "",
                "phone": self.phone(mobile=False) if has_phone else "",
            },
            StructureWrite,
        )
        verified_on = self.days_ago(3, 720)  # drawn after the phone, as it always was
        return PlannedStructure(
            key=kind.key,
            tier=kind.tier,
            scope=kind.scope,
            commune=commune,
            area=area,
            structure=structure,
            sites=sites,
            people=people,
            services=services,
            verified_on=verified_on,
        )

    # -- the whole territory

    def plan(self) -> Plan:
        plan = Plan()
        for kind in CATALOGUE:
            fixed = [self.commune(n) for n in kind.fixed[: kind.count]]
            drawn = self.draw_communes(
                kind.place, kind.count - len(fixed), {c.insee for c in fixed}
            )
            for index, commune in enumerate([*fixed, *drawn]):
                plan.structures.append(self.structure(kind, index, commune))
        names = [p.structure.name for p in plan.structures]
        if len(set(names)) != len(names):
            raise ValueError("demo structure names must be unique")
        self.mark_isolated_and_status(plan)
        self.relationships(plan)
        return plan

    def mark_isolated_and_status(self, plan: Plan) -> None:
        protected = (
            set(FIXED_PEOPLE) | {s for s, *_ in PERSON_LINKS} | {t for _, t, *_ in PERSON_LINKS}
        )
        candidates = [
            p
            for p in plan.structures
            if p.key in {"employer", "sport", "culture", "foyer_rural", "training", "siae"}
            and p.structure.name not in protected
        ]
        for planned in self.rng.sample(candidates, 10):
            planned.isolated = True
        others = [p for p in candidates if not p.isolated]
        for planned, status in zip(
            self.rng.sample(others, 3),
            (StructureStatus.SUSPENDED, StructureStatus.SUSPENDED, StructureStatus.CLOSED),
            strict=True,
        ):
            planned.structure = msgspec.structs.replace(planned.structure, status=status)

    def relationships(self, plan: Plan) -> None:
        rng = self.rng
        structures = plan.structures
        seen: set[tuple[int, int, str]] = set()

        def link(
            source: int, target: int, level: Level, kind: RelationshipKind, note: str = ""
        ) -> None:
            if source == target or structures[source].isolated or structures[target].isolated:
                return
            key = (min(source, target), max(source, target), level.value)
            if key in seen:
                return
            seen.add(key)
            plan.relationships.append(
                PlannedRelationship(
                    source=source,
                    target_structure=target,
                    level=level,
                    kind=kind,
                    since=self.days_ago(60, 3650),
                    note=note,
                )
            )

        def of(key: str) -> list[int]:
            return [i for i, p in enumerate(structures) if p.key == key]

        missions = of("ml")
        by_name = {p.structure.name: i for i, p in enumerate(structures)}
        region, prefecture = of("region")[0], of("prefecture")[0]
        departement = of("departement")[0]
        caf, cpam, plie = of("caf")[0], of("cpam")[0], of("plie")[0]

        # Missions Locales with the field: operational, the bulk of the mesh.
        for area, ml in enumerate(missions):
            main = area == 0
            for index, partner in enumerate(structures):
                if partner.key == "ml" or partner.tier in {"institution", "political"}:
                    continue
                if partner.area != area and partner.scope != "dept":
                    continue
                chance = {"field": 0.85, "employer": 0.5, "leisure": 0.45}[partner.tier]
                if not main:
                    chance *= 0.7
                if rng.random() >= chance:
                    continue
                kind = rng.choice(FIELD_KINDS)
                if partner.key in {"france_travail", "ccas", "cms"} and rng.random() < 0.3:
                    link(
                        index,
                        ml,
                        Level.OPERATIONAL,
                        RelationshipKind.REFERRAL,
                        "Oriente vers la Mission Locale les jeunes qu'elle reçoit.",
                    )
                else:
                    link(ml, index, Level.OPERATIONAL, kind, rng.choice(OPERATIONAL_NOTES))

        # Missions Locales with institutions and each other: organisational.
        for area, ml in enumerate(missions):
            for index, partner in enumerate(structures):
                if partner.tier != "institution":
                    continue
                if partner.area != area and partner.scope != "dept":
                    continue
                if rng.random() < 0.85:
                    kind = (
                        RelationshipKind.MEMBERSHIP
                        if partner.key in {"plie", "mde"}
                        else RelationshipKind.PARTNERSHIP
                    )
                    link(ml, index, Level.ORGANISATIONAL, kind, "Convention de partenariat.")
        for other in missions[1:]:
            link(
                missions[0],
                other,
                Level.ORGANISATIONAL,
                RelationshipKind.MEMBERSHIP,
                "Réseau départemental des Missions Locales.",
            )

        # Missions Locales with elected bodies and the State: political.
        for area, ml in enumerate(missions):
            link(
                ml,
                departement,
                Level.POLITICAL,
                RelationshipKind.FUNDING,
                "Subvention départementale annuelle.",
            )
            link(
                ml,
                region,
                Level.POLITICAL,
                RelationshipKind.FUNDING,
                "Convention pluriannuelle avec la Région.",
            )
            link(
                ml,
                prefecture,
                Level.POLITICAL,
                RelationshipKind.FUNDING,
                "Convention pluriannuelle d'objectifs avec l'État.",
            )
            for index, partner in enumerate(structures):
                if partner.key in {"mairie", "epci", "conseil_jeunes"} and partner.area == area:
                    seat = partner.commune.insee == structures[ml].commune.insee
                    if seat:
                        link(
                            ml,
                            index,
                            Level.POLITICAL,
                            RelationshipKind.GOVERNANCE,
                            "Le maire préside le conseil d'administration.",
                        )
                    elif rng.random() < 0.7:
                        link(
                            ml,
                            index,
                            Level.POLITICAL,
                            RelationshipKind.PARTNERSHIP,
                            "Permanence de la Mission Locale en mairie.",
                        )

        # Field partners among themselves: operational.
        for first, second, chance in AFFINITIES:
            seconds = of(second)
            for index in of(first):
                local = [
                    j
                    for j in seconds
                    if structures[j].area == structures[index].area or structures[j].scope == "dept"
                ]
                if local and rng.random() < chance:
                    link(
                        index,
                        rng.choice(local),
                        Level.OPERATIONAL,
                        rng.choice(FIELD_KINDS),
                        rng.choice(OPERATIONAL_NOTES),
                    )

        # Organisational ties around the field.
        mairies = {structures[i].commune.insee: i for i in of("mairie")}
        for index in of("ccas"):
            if structures[index].commune.insee in mairies:
                link(
                    index,
                    mairies[structures[index].commune.insee],
                    Level.ORGANISATIONAL,
                    RelationshipKind.GOVERNANCE,
                    "Conseil d'administration présidé par le maire.",
                )
        for index in of("centre_social") + of("fjt"):
            if rng.random() < 0.8:
                link(
                    index,
                    caf,
                    Level.ORGANISATIONAL,
                    RelationshipKind.FUNDING,
                    "Agrément et prestation de service CAF.",
                )
        for index in of("cms") + of("ase"):
            link(
                index,
                departement,
                Level.ORGANISATIONAL,
                RelationshipKind.GOVERNANCE,
                "Service du Département.",
            )
        for index in of("siae"):
            if rng.random() < 0.6:
                link(index, plie, Level.ORGANISATIONAL, RelationshipKind.MEMBERSHIP)
        for index in of("france_services"):
            link(
                index,
                caf,
                Level.ORGANISATIONAL,
                RelationshipKind.PARTNERSHIP,
                "Convention France Services.",
            )
            if rng.random() < 0.7:
                link(
                    index,
                    cpam,
                    Level.ORGANISATIONAL,
                    RelationshipKind.PARTNERSHIP,
                    "Convention France Services.",
                )

        # Political ties beyond the Missions Locales.
        for index in of("france_travail"):
            link(
                index,
                prefecture,
                Level.POLITICAL,
                RelationshipKind.PARTNERSHIP,
                "Comité local pour l'emploi.",
            )
        for index in of("training") + of("e2c") + of("afpa"):
            if rng.random() < 0.6:
                link(
                    index,
                    region,
                    Level.POLITICAL,
                    RelationshipKind.FUNDING,
                    "Formations financées par la Région.",
                )
        for index in of("fjt") + of("chrs") + of("siao"):
            if rng.random() < 0.5:
                link(
                    index,
                    prefecture,
                    Level.POLITICAL,
                    RelationshipKind.FUNDING,
                    "Financement de l'État (DDETS).",
                )
        for index in of("conseil_jeunes"):
            for j in of("mairie"):
                if structures[j].area == structures[index].area and rng.random() < 0.5:
                    link(index, j, Level.POLITICAL, RelationshipKind.GOVERNANCE)

        # Structure -> person: partnerships that rest on one named person.
        for source, target, level, kind, note in PERSON_LINKS:
            plan.relationships.append(
                PlannedRelationship(
                    source=by_name[source],
                    target_person=(by_name[target], 0),
                    level=level,
                    kind=kind,
                    since=self.days_ago(200, 2500),
                    note=note,
                )
            )
        # The structure-level partnership the contact person holds on their own.
        link(
            by_name[ML_VALENCE],
            by_name["Centre médico-psychologique de Valence"],
            Level.OPERATIONAL,
            RelationshipKind.REFERRAL,
            "Orientations santé mentale, toutes via l'infirmière référente.",
        )

        # Isolation is a fact the demo shows on purpose: every structure not marked
        # isolated gets at least one tie, to its Mission Locale, at the level of its tier.
        tied = {r.source for r in plan.relationships}
        tied |= {r.target_structure for r in plan.relationships if r.target_structure is not None}
        tied |= {r.target_person[0] for r in plan.relationships if r.target_person}
        for index, planned in enumerate(structures):
            if planned.isolated or index in tied:
                continue
            level = {
                "political": Level.POLITICAL,
                "institution": Level.ORGANISATIONAL,
            }.get(planned.tier, Level.OPERATIONAL)
            link(missions[planned.area], index, level, RelationshipKind.PARTNERSHIP)


def build_plan(today: date) -> Plan:
    """The whole demo territory as data, without touching the database: the same seed
    gives the same plan (dates are counted back from `today`)."""
    return _Planner(load_gazetteer(), today).plan()
