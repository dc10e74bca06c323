"""The shared vocabulary of the directory: the charter's domains, the three partnership
levels and the data·inclusion v1 reference lists we exchange with (thematiques, publics,
reseaux porteurs). Values travel in the API and CSV; labels are what users read."""

from enum import StrEnum


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


# data·inclusion v1 "thematiques": value -> label.
THEMATIQUES: dict[str, str] = {
    "choisir-un-metier--confirmer-son-choix-de-metier": "Confirmer son choix de métier",
    "choisir-un-metier--connaitre-les-opportunites-demploi": "Connaître les opportunités d’emploi",
    "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite": (
        "Découvrir un métier ou un secteur d’activité"
    ),
    "choisir-un-metier--identifier-ses-points-forts-et-ses-competences": (
        "Identifier ses points forts et ses compétences"
    ),
    "creer-une-entreprise--definir-son-projet-de-creation-dentreprise": (
        "Définir son projet de création d’entreprise"
    ),
    "creer-une-entreprise--developper-son-entreprise": "Développer son entreprise",
    "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives": (
        "Accompagnement aux démarches administratives"
    ),
    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-a-la-citoyennete": (
        "Accompagnement pour l’accès à la citoyenneté"
    ),
    "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits": (
        "Accompagnement pour l’accès aux droits"
    ),
    "difficultes-administratives-ou-juridiques--connaitre-ses-droits-face-a-une-discrimination": (
        "Connaître ses droits face à une discrimination"
    ),
    "difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire": (
        "Prendre en compte une problématique judiciaire"
    ),
    "difficultes-financieres--acquerir-une-autonomie-budgetaire": (
        "Acquérir une autonomie budgétaire"
    ),
    "difficultes-financieres--situation-dendettement-surendettement": (
        "Situation d’endettement ou de surendettement"
    ),
    "equipement-et-alimentation--alimentation": "Alimentation",
    "equipement-et-alimentation--habillement": "Habillement",
    "famille--garde-denfants": "Garde d’enfants",
    "famille--soutien-a-la-parentalite-et-a-leducation": (
        "Soutien à la parentalité et à l’éducation"
    ),
    "famille--surmonter-conflits-separation-violence": (
        "Surmonter les conflits liés à la séparation ou à la violence"
    ),
    "lecture-ecriture-calcul--maitriser-le-francais": "Maîtriser le français",
    "lecture-ecriture-calcul--maitriser-le-calcul": "Maîtriser le calcul",
    "logement-hebergement--louer-un-logement": "Louer un logement",
    "logement-hebergement--rechercher-une-solution-dhebergement-temporaire": (
        "Rechercher une solution d’hébergement temporaire"
    ),
    "logement-hebergement--se-maintenir-dans-le-logement": "Se maintenir dans le logement",
    "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement": (
        "S’informer sur les démarches liées à l’accès au logement"
    ),
    "mobilite--acceder-a-un-vehicule": "Accéder à un véhicule",
    "mobilite--etre-accompagne-dans-son-parcours-mobilite": (
        "Être accompagné dans son parcours mobilité"
    ),
    "mobilite--financer-ma-mobilite": "Financer ma mobilité",
    "mobilite--preparer-un-permis": "Préparer un permis",
    "mobilite--mobilite-douce-partagee-collective": (
        "Utiliser des services de mobilité douce, partagée ou collective"
    ),
    "numerique--acceder-a-des-services-en-ligne": "Accéder à des services en ligne",
    "numerique--maitriser-les-fondamentaux-du-numerique": "Maîtriser les fondamentaux du numérique",
    "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation": (
        "Réaliser un CV et/ou une lettre de motivation"
    ),
    "preparer-sa-candidature--valoriser-ses-competences": "Valoriser ses compétences",
    "remobilisation--activites-sportives-et-culturelles": "Activités sportives et culturelles",
    "remobilisation--benevolat-action-citoyenne": "Bénévolat et action citoyenne",
    "remobilisation--bien-etre-confiance-en-soi": "Bien-être et confiance en soi",
    "remobilisation--lien-social": "Lien social",
    "sante--acces-aux-soins": "Accès aux soins",
    "sante--addictions": "Addictions",
    "sante--sante-mentale": "Santé mentale",
    "sante--sante-sexuelle": "Santé sexuelle",
    "se-former--monter-son-dossier-de-formation": "Monter son dossier de formation",
    "se-former--trouver-sa-formation": "Trouver sa formation",
    "souvrir-a-linternational--connaitre-les-opportunites-demploi-a-letranger": (
        "Connaître les opportunités d’emploi à l’étranger"
    ),
    "trouver-un-emploi--faire-des-candidatures-spontanees": "Faire des candidatures spontanées",
    "trouver-un-emploi--repondre-a-des-offres-demploi": "Répondre à des offres d’emploi",
    "trouver-un-emploi--maintien-dans-lemploi": "Maintien dans l’emploi",
}

# Each domain and the data·inclusion thematiques it covers; a thematique may serve two domains.
DOMAIN_THEMATIQUES: dict[Domain, tuple[str, ...]] = {
    Domain.EMPLOYMENT: (
        "trouver-un-emploi--faire-des-candidatures-spontanees",
        "trouver-un-emploi--repondre-a-des-offres-demploi",
        "trouver-un-emploi--maintien-dans-lemploi",
        "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation",
        "preparer-sa-candidature--valoriser-ses-competences",
        "creer-une-entreprise--definir-son-projet-de-creation-dentreprise",
        "creer-une-entreprise--developper-son-entreprise",
        "souvrir-a-linternational--connaitre-les-opportunites-demploi-a-letranger",
    ),
    Domain.CAREER: (
        "choisir-un-metier--confirmer-son-choix-de-metier",
        "choisir-un-metier--connaitre-les-opportunites-demploi",
        "choisir-un-metier--decouvrir-un-metier-ou-un-secteur-dactivite",
        "choisir-un-metier--identifier-ses-points-forts-et-ses-competences",
    ),
    Domain.CITIZENSHIP: (
        "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-a-la-citoyennete",
        "remobilisation--benevolat-action-citoyenne",
    ),
    Domain.TRAINING: (
        "se-former--monter-son-dossier-de-formation",
        "se-former--trouver-sa-formation",
        "lecture-ecriture-calcul--maitriser-le-francais",
        "lecture-ecriture-calcul--maitriser-le-calcul",
        "numerique--maitriser-les-fondamentaux-du-numerique",
    ),
    Domain.HEALTH: (
        "sante--acces-aux-soins",
        "sante--addictions",
        "sante--sante-mentale",
        "sante--sante-sexuelle",
        "remobilisation--bien-etre-confiance-en-soi",
    ),
    Domain.HOUSING: (
        "logement-hebergement--louer-un-logement",
        "logement-hebergement--rechercher-une-solution-dhebergement-temporaire",
        "logement-hebergement--se-maintenir-dans-le-logement",
        "logement-hebergement--sinformer-sur-les-demarches-liees-a-lacces-au-logement",
    ),
    Domain.RIGHTS: (
        "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
        "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
        "difficultes-administratives-ou-juridiques--connaitre-ses-droits-face-a-une-discrimination",
        "difficultes-administratives-ou-juridiques--prendre-en-compte-une-problematique-judiciaire",
        "difficultes-financieres--acquerir-une-autonomie-budgetaire",
        "difficultes-financieres--situation-dendettement-surendettement",
        "equipement-et-alimentation--alimentation",
        "equipement-et-alimentation--habillement",
        "famille--garde-denfants",
        "famille--soutien-a-la-parentalite-et-a-leducation",
        "famille--surmonter-conflits-separation-violence",
        "numerique--acceder-a-des-services-en-ligne",
    ),
    Domain.LEISURE: (
        "remobilisation--lien-social",
        "remobilisation--activites-sportives-et-culturelles",
    ),
    Domain.SPORT: ("remobilisation--activites-sportives-et-culturelles",),
    Domain.CULTURE: ("remobilisation--activites-sportives-et-culturelles",),
    Domain.MOBILITY: (
        "mobilite--acceder-a-un-vehicule",
        "mobilite--etre-accompagne-dans-son-parcours-mobilite",
        "mobilite--financer-ma-mobilite",
        "mobilite--preparer-un-permis",
        "mobilite--mobilite-douce-partagee-collective",
    ),
}

# data·inclusion v1 "publics".
PUBLICS: dict[str, str] = {
    "jeunes": "Jeunes",
    "demandeurs-emploi": "Demandeurs d’emploi",
    "etudiants": "Étudiants",
    "familles": "Familles",
    "femmes": "Femmes",
    "personnes-en-situation-de-handicap": "Personnes en situation de handicap",
    "personnes-en-situation-durgence": "Personnes en situation d’urgence",
    "personnes-en-situation-juridique-specifique": "Personnes en situation juridique spécifique",
    "personnes-exilees": "Personnes exilées",
    "residents-qpv-frr": "Résidents en QPV ou FRR",
    "beneficiaires-des-minimas-sociaux": "Bénéficiaires des minimas sociaux",
    "actifs": "Actifs",
}

# data·inclusion v1 "reseaux_porteurs" most met around a Mission Locale; the structure's
# network is one of these, so exports speak the national standard.
NETWORKS: dict[str, str] = {
    "mission-locale": "Mission Locale",
    "france-travail": "France Travail",
    "cap-emploi-reseau-cheops": "CAP Emploi - Réseau CHEOPS",
    "caf": "Caisse d’Allocations Familiales",
    "cpam": "Caisses Primaires d’Assurance Maladie",
    "ccas-cias": "Centres communaux ou intercommunaux d’action sociale",
    "communes": "Communes, mairies, communautés de communes",
    "departements": "Départements et services départementaux",
    "regions": "Régions, préfectures et services régionaux",
    "residences-fjt": "Résidences - Foyers Jeunes Travailleurs",
    "siao": "Services Intégrés d’Accueil et d’Orientation",
    "chrs": "Centres d’Hébergement et de Réinsertion Sociale",
    "action-logement": "Action Logement",
    "cmp": "Centres Médico-Psychologiques",
    "csapa": "Centres de Soins, d’Accompagnement et de Prévention en Addictologie",
    "cms": "Centres Médico-Sociaux",
    "cidff": "Centres d’Information sur les Droits des Femmes et des Familles",
    "points-justice": "Points Justice",
    "pjj": "Protection Judiciaire de la Jeunesse",
    "spip": "Services Pénitentiaires d’Insertion et de Probation",
    "ase": "Aide Sociale à l’Enfance",
    "afpa": "Agence Nationale pour la Formation Professionnelle des Adultes",
    "ecoles-de-la-deuxieme-chance": "Écoles de la 2ᵉ Chance",
    "epide": "EPIDE",
    "reseau-information-jeunesse": "Réseau Information Jeunesse",
    "mjc": "Maisons des Jeunes et de la Culture",
    "fcsf": "Centres sociaux et socioculturels",
    "siae": "Structures d’Insertion par l’Activité Économique",
    "geiq": "GEIQ",
    "chambres-consulaires": "Chambres consulaires",
    "wimoov": "Wimoov",
    "mobin": "Mob’In",
    "france-service": "France Services",
    "conseillers-numeriques": "Conseillers numériques",
    "points-conseil-budget": "Points Conseil Budget",
    "restos-du-coeur": "Restos du Cœur",
    "secours-populaire": "Secours Populaire",
    "croix-rouge": "Croix-Rouge",
    "unis-cite": "Unis-Cité",
    "maisons-de-l-emploi": "Maisons de l’Emploi",
    "plie": "Plans Locaux pour l’Insertion et l’Emploi",
}


def domains_of_thematique(thematique: str) -> list[Domain]:
    """The domains a data·inclusion thematique belongs to, for imports that only carry
    thematiques."""
    return [d for d, ths in DOMAIN_THEMATIQUES.items() if thematique in ths]
