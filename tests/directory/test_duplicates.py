"""The duplicate matcher on its own (no database): each kind of variant a structure is
typed twice with is found, with its evidence; a network's other sites and homonyms in other
communes are not."""

from __future__ import annotations

import pytest

from directory.duplicates import (
    Record,
    duplicates_of,
    find_duplicates,
    normalise_name,
    normalise_phone,
    normalise_website,
)

VALENCE = "26362"
BOURG_LES_VALENCE = "26058"  # next to Valence
ROMANS = "26281"  # 18 km away
DIE = "26113"
PARIS = "75056"

BASE = Record(
    "a",
    "Mission Locale Valence Drôme des Collines",
    siret="77567227200020",
    phone="04 75 82 11 20",
    email="contact@mlvalence.fr",
    website="https://mlvalence.fr",
    communes=(VALENCE,),
    addresses=("14 rue Bouffier",),
)


def _pair_of(*records: Record) -> set[frozenset[str]]:
    return {frozenset((p.left, p.right)) for p in find_duplicates(records)}


def _copy(key: str, name: str, **fields: object) -> Record:
    """A second record of BASE's structure, typed by someone else: no identifiers unless
    given, so that the name and the place have to carry it."""
    values: dict[str, object] = {"communes": (VALENCE,), "addresses": ("14 rue Bouffier",)}
    values.update(fields)
    return Record(key, name, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("exact", "Mission Locale Valence Drôme des Collines"),
        ("accents", "Mission Locale Valence Drome des Collines"),
        ("case", "MISSION LOCALE VALENCE DRÔME DES COLLINES"),
        ("abbreviation", "ML Valence Drôme des Collines"),
        ("typo", "Mission Locale Valence Drôme des Colines"),
        ("word order", "Valence - Mission Locale Drôme des Collines"),
    ],
)
def test_each_name_variant_in_the_same_commune_is_a_likely_duplicate(kind: str, name: str):
    assert _pair_of(BASE, _copy("b", name)) == {frozenset("ab")}, kind


def test_a_moved_address_and_a_changed_phone_still_match():
    moved = _copy("b", BASE.name, addresses=("3 avenue Victor Hugo",), siret=BASE.siret)
    new_phone = _copy("c", BASE.name, phone="04 75 00 00 00", email=BASE.email)
    assert _pair_of(BASE, moved) == {frozenset("ab")}
    assert _pair_of(BASE, new_phone) == {frozenset("ac")}


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("CCAS de Die", "Centre communal d'action sociale de Die"),
        ("Assoc. L'Étape", "Association l'étape"),
        ("PIJ Die", "Point Information Jeunesse - Die"),
        ("Résidence FJT Die", "Résidence Foyer de Jeunes Travailleurs Die"),
    ],
)
def test_known_abbreviations_are_expanded(name: str, other: str):
    assert normalise_name(name) == normalise_name(other)
    assert _pair_of(Record("a", name, communes=(DIE,)), Record("b", other, communes=(DIE,)))


def test_the_evidence_says_what_matched_and_how_strongly():
    copy = _copy("b", "ML Valence Drôme des Collines", siret="775 672 272 00020")
    [pair] = find_duplicates([BASE, copy])
    kinds = {s.kind: s.strength for s in pair.signals}
    assert kinds["siret"] == 1.0 and kinds["place"] == 1.0 and kinds["address"] == 1.0
    assert kinds["name"] >= 0.95
    assert "même SIRET" in [s.label for s in pair.signals]
    assert 0 < pair.score <= 1


def test_a_nearby_commune_is_enough_for_a_very_close_name():
    copy = _copy("b", "Mission Locale Valence Drome des Collines", communes=(BOURG_LES_VALENCE,))
    [pair] = find_duplicates([BASE, copy])
    assert any(s.kind == "place" and "voisines" in s.label for s in pair.signals)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Mission Locale Valence", VALENCE), ("Mission Locale Romans", ROMANS)),
        (("Restos du cœur Valence", VALENCE), ("Restos du cœur Die", DIE)),
        (
            ("Restos du cœur Valence", VALENCE),
            ("Restos du cœur Bourg-lès-Valence", BOURG_LES_VALENCE),
        ),
        (
            ("Restos du cœur Valence Centre", VALENCE),
            ("Restos du cœur Valence Fontbarlettes", VALENCE),
        ),
        (("Secours Populaire Paris", PARIS), ("Secours Populaire Paris 12e", PARIS)),
    ],
)
def test_a_networks_other_sites_are_not_duplicates(first, second):
    website = "https://www.restosducoeur.org"
    a = Record("a", first[0], communes=(first[1],), website=website)
    b = Record("b", second[0], communes=(second[1],), website=website)
    assert _pair_of(a, b) == set()


def test_homonyms_in_communes_far_apart_are_not_duplicates():
    a = Record("a", "Centre communal d'action sociale", communes=(VALENCE,))
    b = Record("b", "CCAS", communes=(DIE,))
    assert _pair_of(a, b) == set()


def test_identifiers_make_up_for_a_looser_name():
    a = Record("a", "Foyer Les Tilleuls", phone="04 75 12 34 56", siret="44321538000009")
    b = Record("b", "Résidence des Tilleuls", phone="+33 4 75 12 34 56", siret="44321538000009")
    [pair] = find_duplicates([a, b])
    assert {s.kind for s in pair.signals} >= {"phone", "siret"}


def test_a_phone_many_structures_share_is_weak_evidence():
    shared = "3949"  # not even a full number: ignored
    assert normalise_phone(shared) == ""
    records = [
        Record(str(i), f"France Travail {name}", phone="04 75 00 00 00", communes=(code,))
        for i, (name, code) in enumerate([("Valence", VALENCE), ("Die", DIE), ("Romans", ROMANS),
                                          ("Paris", PARIS), ("Bourg", BOURG_LES_VALENCE)])
    ]  # fmt: skip
    assert find_duplicates(records) == []


def test_a_new_record_without_place_matches_on_name_or_identifiers():
    existing = [BASE, Record("c", "Mission Locale Romans", communes=(ROMANS,))]
    by_name = Record("new", "ML de Valence Drôme des Collines")
    by_siret = Record("new", "Mission locale", siret=BASE.siret)
    other_site = Record("new", "Mission Locale Die")
    assert [p.right for p in duplicates_of([by_name], existing)] == ["a"]
    assert [p.right for p in duplicates_of([by_siret], existing)] == ["a"]
    assert duplicates_of([other_site], existing) == []


def test_an_update_by_key_is_not_a_duplicate_but_copies_in_the_batch_are():
    update = Record("a", BASE.name, communes=(VALENCE,))
    copies = [Record(k, "Restos du cœur Die", communes=(DIE,)) for k in ("x", "y", "z")]
    found = {frozenset((p.left, p.right)) for p in duplicates_of([update, *copies], [BASE])}
    assert found == {frozenset("xy"), frozenset("xz"), frozenset("yz")}


def test_normalisation_of_identifiers():
    assert normalise_phone("+33 4 75 82 11 20") == normalise_phone("04.75.82.11.20")
    assert normalise_website("HTTPS://www.Exemple.fr/") == "exemple.fr"
    assert normalise_website("exemple.fr/antenne") == "exemple.fr/antenne"


def test_a_focus_keeps_exactly_the_pairs_with_a_side_in_it():
    records = [
        BASE,
        Record("b", "MISSION LOCALE VALENCE DROME DES COLLINES", communes=(VALENCE,)),
        Record("c", "Atelier vélo solidaire", communes=(DIE,)),
        Record("d", "Atelier Velo Solidaire", communes=(DIE,)),
        Record("e", "Mission Locale Valence Drome des Colines", communes=(BOURG_LES_VALENCE,)),
    ]
    every = find_duplicates(records)
    for focus in ({"a"}, {"c"}, {"b", "d"}, set()):
        expected = [p for p in every if p.left in focus or p.right in focus]
        assert find_duplicates(records, focus=focus) == expected
    assert len(every) >= 3
