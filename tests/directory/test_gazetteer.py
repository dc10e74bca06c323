"""The shipped gazetteer, on the real data: no database, no network."""

import gzip

import pytest

from directory.gazetteer import (
    COMMUNES_FILE,
    TERRITORIES_FILE,
    AmbiguousPlace,
    Commune,
    Gazetteer,
    UnknownPlace,
    load_gazetteer,
)

GRENOBLE = "38185"
GRENOBLE_ALPES_METROPOLE = "200040715"

# (south, west, north, east), generous
BOXES = {
    "metro": (41.3, -5.2, 51.1, 9.6),
    "971": (15.8, -61.9, 16.6, -60.9),
    "972": (14.3, -61.3, 14.9, -60.7),
    "973": (2.0, -54.7, 5.9, -51.5),
    "974": (-21.5, 55.1, -20.8, 55.9),
    "976": (-13.1, 44.9, -12.5, 45.4),
}


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def test_count_is_the_official_number_of_communes(gazetteer: Gazetteer) -> None:
    assert 34_800 <= len(gazetteer) <= 35_100
    assert len(list(gazetteer)) == len(gazetteer)


def test_loaded_once(gazetteer: Gazetteer) -> None:
    assert load_gazetteer() is gazetteer


def test_every_commune_has_coordinates_in_france(gazetteer: Gazetteer) -> None:
    outside = []
    for commune in gazetteer:
        south, west, north, east = BOXES.get(commune.departement, BOXES["metro"])
        if not (south <= commune.lat <= north and west <= commune.lon <= east):
            outside.append(commune.insee)
    assert outside == []


def test_every_commune_is_complete(gazetteer: Gazetteer) -> None:
    for commune in gazetteer:
        assert commune.name and commune.postcodes, commune
        assert all(len(p) == 5 and p.isdigit() for p in commune.postcodes), commune
        assert gazetteer.name_of("departement", commune.departement), commune
        assert gazetteer.name_of("region", commune.region), commune
        assert commune.epci == "" or gazetteer.name_of("epci", commune.epci), commune
    # only a few island communes belong to no EPCI
    assert sum(1 for c in gazetteer if not c.epci) < 10


def test_lookup_by_code(gazetteer: Gazetteer) -> None:
    grenoble = gazetteer.get(GRENOBLE)
    assert grenoble is not None
    assert grenoble.name == "Grenoble"
    assert grenoble.departement == "38"
    assert grenoble.region == "84"
    assert grenoble.epci == GRENOBLE_ALPES_METROPOLE
    assert "38000" in grenoble.postcodes
    assert grenoble.population > 150_000
    assert abs(grenoble.lat - 45.188) < 0.03 and abs(grenoble.lon - 5.724) < 0.03
    assert grenoble.label == "Grenoble (38)"
    assert GRENOBLE in gazetteer
    assert gazetteer.get("99999") is None
    assert "99999" not in gazetteer
    assert gazetteer.get("2a004") == gazetteer.get("2A004")
    assert gazetteer.get("2A004").name == "Ajaccio"


def test_arrondissement_codes_alias_their_city(gazetteer: Gazetteer) -> None:
    assert gazetteer.get("75111").insee == "75056"
    assert gazetteer.get("69383").insee == "69123"
    assert gazetteer.get("13216").insee == "13055"
    assert [c.insee for c in gazetteer.by_postcode("75011")] == ["75056"]


def test_lookup_by_postcode(gazetteer: Gazetteer) -> None:
    assert [c.insee for c in gazetteer.by_postcode("38000")] == [GRENOBLE]
    shared = gazetteer.by_postcode("01400")
    assert len(shared) >= 5
    assert "01001" in {c.insee for c in shared}
    assert all("01400" in c.postcodes for c in shared)
    populations = [c.population for c in shared]
    assert populations == sorted(populations, reverse=True)
    assert gazetteer.by_postcode("00000") == []


@pytest.mark.parametrize(
    ("query", "insee"),
    [
        ("saint etienne", "42218"),
        ("St-Étienne", "42218"),
        ("SAINT-ÉTIENNE", "42218"),
        ("PARIS", "75056"),
        ("grenoble", GRENOBLE),
        ("l'abergement clemenciat", "01001"),
    ],
)
def test_lookup_by_name_ignores_accents_case_and_hyphens(
    gazetteer: Gazetteer, query: str, insee: str
) -> None:
    assert [c.insee for c in gazetteer.by_name(query)] == [insee]
    assert gazetteer.resolve(query).insee == insee


def test_homonyms_are_ambiguous(gazetteer: Gazetteer) -> None:
    homonyms = gazetteer.by_name("Saint-Martin")
    assert len(homonyms) >= 3
    assert {c.name for c in homonyms} == {"Saint-Martin"}
    assert len({c.departement for c in homonyms}) == len(homonyms)
    with pytest.raises(AmbiguousPlace) as raised:
        gazetteer.resolve("Saint-Martin")
    assert raised.value.query == "Saint-Martin"
    assert raised.value.candidates == homonyms
    assert "Saint-Martin (32)" in str(raised.value)


@pytest.mark.parametrize(
    "query", ["Saint-Martin (32)", "Saint-Martin 32", "saint martin, 32", "Saint-Martin 32300"]
)
def test_departement_or_postcode_disambiguates(gazetteer: Gazetteer, query: str) -> None:
    commune = gazetteer.resolve(query)
    assert commune.insee == "32389"
    assert commune.label == "Saint-Martin (32)"


def test_qualifier_must_match(gazetteer: Gazetteer) -> None:
    assert gazetteer.find("Grenoble (69)") == []
    assert gazetteer.find("Grenoble 69001") == []
    assert gazetteer.resolve("Grenoble 38100").insee == GRENOBLE
    assert gazetteer.resolve("Ajaccio (2A)").insee == "2A004"
    assert gazetteer.resolve("Les Abymes 971").insee == "97101"


def test_five_digits_are_a_code_and_a_postcode(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve("38000").insee == GRENOBLE  # postcode only
    assert gazetteer.resolve(GRENOBLE).insee == GRENOBLE  # code only
    # 38100 is the code of Le Cheylas and a postcode of Grenoble: the code comes first
    both = gazetteer.find("38100")
    assert [c.insee for c in both] == ["38100", GRENOBLE]
    with pytest.raises(AmbiguousPlace):
        gazetteer.resolve("38100")


@pytest.mark.parametrize("query", ["xyzzy", "99999", "", "   "])
def test_unknown_place(gazetteer: Gazetteer, query: str) -> None:
    with pytest.raises(UnknownPlace) as raised:
        gazetteer.resolve(query)
    assert raised.value.query == query
    assert str(raised.value) == f"Aucune commune ne correspond à « {query} »."


@pytest.mark.parametrize(
    ("query", "meant"),
    [
        ("Grenoble (42)", "Grenoble (38)"),  # right name, wrong département
        ("valance", "Valence (26)"),  # one wrong letter
        ("Grenobel", "Grenoble (38)"),  # two letters swapped
        ("montelimard", "Montélimar (26)"),  # one letter too many
    ],
)
def test_unknown_place_suggests_close_names(gazetteer: Gazetteer, query: str, meant: str) -> None:
    with pytest.raises(UnknownPlace) as raised:
        gazetteer.resolve(query)
    assert raised.value.suggestions[0].label == meant
    assert f"Vouliez-vous dire : {meant}" in str(raised.value)


def test_suggest_most_populous_first(gazetteer: Gazetteer) -> None:
    assert gazetteer.suggest("gren")[0].insee == GRENOBLE
    assert gazetteer.suggest("St Eti", limit=1)[0].insee == "42218"
    found = gazetteer.suggest("saint", limit=7)
    assert len(found) == 7
    assert all(c.name.startswith("Saint") for c in found)
    assert [c.population for c in found] == sorted((c.population for c in found), reverse=True)
    assert gazetteer.suggest("") == []
    assert gazetteer.suggest("qqqqq") == []


def test_names_of_territories(gazetteer: Gazetteer) -> None:
    assert gazetteer.name_of("epci", GRENOBLE_ALPES_METROPOLE) == "Grenoble-Alpes-Métropole"
    assert gazetteer.name_of("departement", "38") == "Isère"
    assert gazetteer.name_of("departement", "2A") == "Corse-du-Sud"
    assert gazetteer.name_of("departement", "971") == "Guadeloupe"
    assert gazetteer.name_of("region", "84") == "Auvergne-Rhône-Alpes"
    assert gazetteer.name_of("commune", GRENOBLE) == "Grenoble"
    assert gazetteer.name_of("region", "99") == ""


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (GRENOBLE, "commune"),
        ("2A004", "commune"),
        ("75111", "commune"),
        (GRENOBLE_ALPES_METROPOLE, "epci"),
        ("38", "departement"),
        ("2A", "departement"),
        ("971", "departement"),
        ("france", "france"),
        ("FRANCE", "france"),
        ("99999", None),
        ("123456789", None),
        ("99", None),
        ("", None),
    ],
)
def test_zone_kind(gazetteer: Gazetteer, code: str, kind: str | None) -> None:
    assert gazetteer.zone_kind(code) == kind


def test_communes_of_zone(gazetteer: Gazetteer) -> None:
    assert gazetteer.communes_of_zone(GRENOBLE) == [GRENOBLE]
    metropole = gazetteer.communes_of_zone(GRENOBLE_ALPES_METROPOLE)
    assert len(metropole) == 49
    assert {GRENOBLE, "38151", "38421"} <= set(metropole)  # Grenoble, Échirolles, St-Martin-d'H.
    isere = gazetteer.communes_of_zone("38")
    assert 500 <= len(isere) <= 530
    assert all(code.startswith("38") for code in isere)
    assert set(metropole) <= set(isere)
    assert len(gazetteer.communes_of_zone("971")) == 32
    assert all(code.startswith("2A") for code in gazetteer.communes_of_zone("2A"))
    assert len(gazetteer.communes_of_zone("france")) == len(gazetteer)
    assert gazetteer.communes_of_zone("nowhere") == []


def test_in_zone(gazetteer: Gazetteer) -> None:
    assert gazetteer.in_zone(GRENOBLE, [GRENOBLE])
    assert gazetteer.in_zone(GRENOBLE, ["69123", GRENOBLE_ALPES_METROPOLE])
    assert gazetteer.in_zone(GRENOBLE, ["38"])
    assert gazetteer.in_zone(GRENOBLE, ["france"])
    assert gazetteer.in_zone("75056", ["75111"])
    assert not gazetteer.in_zone(GRENOBLE, [])
    assert not gazetteer.in_zone(GRENOBLE, ["", "69", "42218", "200046977"])
    assert not gazetteer.in_zone("42218", [GRENOBLE_ALPES_METROPOLE])
    assert not gazetteer.in_zone("99999", ["france"])


def test_nearby_uses_distance(gazetteer: Gazetteer) -> None:
    grenoble = gazetteer.get(GRENOBLE)
    near = gazetteer.nearby(grenoble.lat, grenoble.lon, 5)
    assert near[0] == grenoble
    assert "38516" in {c.insee for c in near}  # La Tronche, next door
    assert "42218" not in {c.insee for c in near}
    far = gazetteer.nearby(grenoble.lat, grenoble.lon, 50)
    assert set(near) < set(far)
    assert gazetteer.nearby(0.0, -30.0, 100) == []


def test_gazetteer_from_explicit_communes() -> None:
    commune = Commune("01001", "L'Abergement", ("01400",), "01", "84", "", 10, 46.1, 4.9)
    small = Gazetteer([commune], {("departement", "01"): "Ain"})
    assert len(small) == 1
    assert small.resolve("l abergement (01)") is commune
    assert small.in_zone("01001", ["01"])
    assert small.zone_kind("200040715") is None


def test_shipped_files_are_small_and_deterministic() -> None:
    total = COMMUNES_FILE.stat().st_size + TERRITORIES_FILE.stat().st_size
    assert total < 1_500_000
    for path in (COMMUNES_FILE, TERRITORIES_FILE):
        header = path.read_bytes()[:10]
        assert header[:2] == b"\x1f\x8b"
        assert header[4:8] == b"\0\0\0\0"  # gzip mtime 0
    lines = gzip.decompress(COMMUNES_FILE.read_bytes()).decode("utf-8").splitlines()
    assert lines[0] == "insee,name,postcodes,departement,region,epci,population,lat,lon"
    codes = [line.split(",", 1)[0] for line in lines[1:]]
    assert codes == sorted(codes)
