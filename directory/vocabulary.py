"""The shared vocabulary of the directory: the charter's domains, the three partnership
levels and the data·inclusion v1 reference lists we exchange with (thematiques, publics,
reseaux porteurs). Values travel in the API and CSV; labels are what users read."""

from enum import StrEnum

from data_inclusion.schema import v1 as di


class Domain(StrEnum):
    """The ten domains of the charter's global approach, plus mobility."""

    EMPLOYMENT = "employment"
    CAREER = "career"
    CITIZENSHIP = "citizenship"
    TRAINING = "training"
    HEALTH = "health"
    HOUSING = "housing"
    RIGHTS = "rights"
    LEISURE = "leisure"
    SPORT = "sport"
    CULTURE = "culture"
    MOBILITY = "mobility"

    @property
    def label(self) -> str:
        return DOMAIN_LABELS[self]


DOMAIN_LABELS: dict[Domain, str] = {
    Domain.EMPLOYMENT: "Emploi",
    Domain.CAREER: "Projet professionnel",
    Domain.CITIZENSHIP: "Citoyenneté",
    Domain.TRAINING: "Formation",
    Domain.HEALTH: "Santé",
    Domain.HOUSING: "Logement",
    Domain.RIGHTS: "Accès aux droits",
    Domain.LEISURE: "Loisirs",
    Domain.SPORT: "Sport",
    Domain.CULTURE: "Culture",
    Domain.MOBILITY: "Mobilité",
}


class Level(StrEnum):
    """The three levels at which a local partnership is held."""

    OPERATIONAL = "operational"
    ORGANISATIONAL = "organisational"
    POLITICAL = "political"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS: dict[Level, str] = {
    Level.OPERATIONAL: "Opérationnel",
    Level.ORGANISATIONAL: "Organisationnel",
    Level.POLITICAL: "Politique",
}


class StructureStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"active": "Active", "suspended": "Suspendue", "closed": "Fermée"}[self.value]


class Channel(StrEnum):
    """How a person prefers to be reached."""

    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return {
            "email": "Courriel",
            "phone": "Téléphone",
            "sms": "SMS",
            "in_person": "Sur place",
        }[self.value]


class RelationshipKind(StrEnum):
    """What a relationship is; its level says at which tier of the partnership it sits."""

    PARTNERSHIP = "partnership"
    REFERRAL = "referral"
    FUNDING = "funding"
    GOVERNANCE = "governance"
    MEMBERSHIP = "membership"
    CONTACT = "contact"
    ELECTED_REPRESENTATIVE = "elected_representative"

    @property
    def label(self) -> str:
        return {
            "partnership": "Partenariat",
            "referral": "Orientations",
            "funding": "Financement",
            "governance": "Gouvernance (conseil d'administration)",
            "membership": "Adhésion, réseau",
            "contact": "Interlocuteur",
            "elected_representative": "Élu·e référent·e",
        }[self.value]


# data·inclusion v1 reference lists, read from the data-inclusion-schema package so that
# they follow the national standard instead of a hand-typed copy: value -> French label.
THEMATIQUES: dict[str, str] = {t.value: t.label for t in di.Thematique}
PUBLICS: dict[str, str] = {p.value: p.label for p in di.Public}
NETWORKS: dict[str, str] = {r.value: r.label for r in di.ReseauPorteur}

# Network codes Maillage once stored that the national list does not have, and the code
# that replaced them (the migration of 2026-12-01 rewrote stored values). "siae" named the
# whole of insertion through economic activity; the national list splits it into aci, ei,
# etti and eiti, and the structures Maillage tagged so were mostly workshops and worksites.
RETIRED_NETWORKS: dict[str, str] = {"siae": "aci"}

_D = Domain
# Each data·inclusion thematique and the domains of the charter it belongs to. Domains are
# Maillage's own: this table is how an import that only carries thematiques finds them. A
# thematique may serve two domains; every thematique of the package has a row (tested).
THEMATIQUE_DOMAINS: dict[str, tuple[Domain, ...]] = {
    "choisir-un-metier--confirmer-son-choix-de-metier": (_D.CAREER,),
    "choisir-un-metier--connaitre-les-opportunites-demploi": (_D.CAREER,),
    "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite": (_D.CAREER,),
    "choisir-un-metier--identifier-ses-points-forts-et-ses-competences": (_D.CAREER,),
    "creer-une-entreprise--definir-son-projet-de-creation-dentreprise": (_D.EMPLOYMENT,),
    "creer-une-entreprise--developper-son-entreprise": (_D.EMPLOYMENT,),
    "creer-une-entreprise--structurer-son-projet-de-creation-dentreprise": (_D.EMPLOYMENT,),
    "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives": (
        _D.RIGHTS,
    ),
    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-a-la-citoyennete": (
        _D.CITIZENSHIP,
    ),
    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits": (
        _D.RIGHTS,
    ),
    "difficultes-administratives-ou-juridiques--beneficier-dune-mesure-daccompagnement-adapte": (
        _D.RIGHTS,
    ),
    "difficultes-administratives-ou-juridiques--connaitre-ses-droits-face-a-une-discrimination": (
        _D.RIGHTS,
    ),
    "difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire": (
        _D.RIGHTS,
    ),
    "difficultes-financieres--acquerir-une-autonomie-budgetaire": (_D.RIGHTS,),
    "difficultes-financieres--ameliorer-sa-gestion-budgetaire": (_D.RIGHTS,),
    "difficultes-financieres--mettre-en-place-une-mesure-de-protection-financiere": (_D.RIGHTS,),
    "difficultes-financieres--prevenir-une-degradation-de-la-situation-financiere": (_D.RIGHTS,),
    "difficultes-financieres--situation-dendettement-surendettement": (_D.RIGHTS,),
    "equipement-et-alimentation--aide-menagere": (_D.RIGHTS,),
    "equipement-et-alimentation--alimentation": (_D.RIGHTS,),
    "equipement-et-alimentation--electromenager": (_D.RIGHTS,),
    "equipement-et-alimentation--habillement": (_D.RIGHTS,),
    "famille--garde-denfants": (_D.RIGHTS,),
    "famille--prise-en-charge-personne-dependante": (_D.RIGHTS,),
    "famille--soutien-a-la-parentalite-et-a-leducation": (_D.RIGHTS,),
    "famille--soutien-aidants": (_D.RIGHTS,),
    "famille--surmonter-conflits-separation-violence": (_D.RIGHTS,),
    "lecture-ecriture-calcul--maitriser-le-calcul": (_D.TRAINING,),
    "lecture-ecriture-calcul--maitriser-le-francais": (_D.TRAINING,),
    "logement-hebergement--acheter-un-logement": (_D.HOUSING,),
    "logement-hebergement--changer-de-logement": (_D.HOUSING,),
    "logement-hebergement--louer-un-logement": (_D.HOUSING,),
    "logement-hebergement--rechercher-une-solution-dhebergement-temporaire": (_D.HOUSING,),
    "logement-hebergement--reduire-les-impayes-de-loyer": (_D.HOUSING,),
    "logement-hebergement--se-maintenir-dans-le-logement": (_D.HOUSING,),
    "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement": (_D.HOUSING,),
    "mobilite--acceder-a-un-vehicule": (_D.MOBILITY,),
    "mobilite--entretenir-reparer-son-vehicule": (_D.MOBILITY,),
    "mobilite--etre-accompagne-dans-son-parcours-mobilite": (_D.MOBILITY,),
    "mobilite--financer-ma-mobilite": (_D.MOBILITY,),
    "mobilite--mobilite-douce-partagee-collective": (_D.MOBILITY,),
    "mobilite--preparer-un-permis": (_D.MOBILITY,),
    "numerique--acceder-a-des-services-en-ligne": (_D.RIGHTS,),
    "numerique--acceder-a-une-connexion-internet": (_D.RIGHTS,),
    "numerique--acquerir-un-equipement": (_D.RIGHTS,),
    "numerique--maitriser-les-fondamentaux-du-numerique": (_D.TRAINING,),
    "preparer-sa-candidature--developper-son-reseau": (_D.EMPLOYMENT,),
    "preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi": (_D.EMPLOYMENT,),
    "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation": (_D.EMPLOYMENT,),
    "preparer-sa-candidature--valoriser-ses-competences": (_D.EMPLOYMENT,),
    "remobilisation--activites-sportives-et-culturelles": (_D.LEISURE, _D.SPORT, _D.CULTURE),
    "remobilisation--benevolat-action-citoyenne": (_D.CITIZENSHIP,),
    "remobilisation--bien-etre-confiance-en-soi": (_D.HEALTH,),
    "remobilisation--lien-social": (_D.LEISURE,),
    "sante--acces-aux-soins": (_D.HEALTH,),
    "sante--addictions": (_D.HEALTH,),
    "sante--constituer-un-dossier-mdph-invalidite": (_D.HEALTH, _D.RIGHTS),
    "sante--sante-mentale": (_D.HEALTH,),
    "sante--sante-sexuelle": (_D.HEALTH,),
    "se-former--monter-son-dossier-de-formation": (_D.TRAINING,),
    "se-former--trouver-sa-formation": (_D.TRAINING,),
    "souvrir-a-linternational--connaitre-les-opportunites-demploi-a-letranger": (_D.EMPLOYMENT,),
    "souvrir-a-linternational--sinformer-sur-les-aides-pour-travailler-a-letranger": (
        _D.EMPLOYMENT,
    ),
    "souvrir-a-linternational--sorganiser-suite-a-son-retour-en-france": (_D.RIGHTS,),
    "trouver-un-emploi--convaincre-un-recruteur-en-entretien": (_D.EMPLOYMENT,),
    "trouver-un-emploi--faire-des-candidatures-spontanees": (_D.EMPLOYMENT,),
    "trouver-un-emploi--maintien-dans-lemploi": (_D.EMPLOYMENT,),
    "trouver-un-emploi--repondre-a-des-offres-demploi": (_D.EMPLOYMENT,),
    "trouver-un-emploi--suivre-ses-candidatures-et-relancer-les-employeurs": (_D.EMPLOYMENT,),
}

# Each domain and the data·inclusion thematiques it covers (the table above, read by domain).
DOMAIN_THEMATIQUES: dict[Domain, tuple[str, ...]] = {
    domain: tuple(t for t, ds in THEMATIQUE_DOMAINS.items() if domain in ds) for domain in Domain
}


def domains_of_thematique(thematique: str) -> list[Domain]:
    """The domains a data·inclusion thematique belongs to, for imports that only carry
    thematiques."""
    return list(THEMATIQUE_DOMAINS.get(thematique, ()))
