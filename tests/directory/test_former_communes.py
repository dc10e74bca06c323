"""The shipped history of commune codes (directory/data/former_communes.csv.gz) agrees with
the shipped gazetteer: a former code is never a commune of today, and every merged code
leads to one."""

from __future__ import annotations

from directory.gazetteer import load_former_codes, load_gazetteer


def test_merged_codes_lead_to_communes_of_today() -> None:
    gazetteer, former = load_gazetteer(), load_former_codes()
    merged = [f for f in former.values() if f.kind == "merged"]
    assert len(merged) > 4000  # every commune nouvelle since 2015, and older mergers
    assert all(gazetteer.get(f.code) is None for f in former.values())
    assert all(gazetteer.get(f.target) is not None for f in merged)
    assert all(gazetteer.get(f.target).name == f.name for f in merged)  # type: ignore[union-attr]
    # Annecy-le-Vieux joined Annecy on 1 January 2017 (from `anciensCodes`).
    assert (former["74011"].target, former["74011"].name) == ("74010", "Annecy")
    assert former["01340"].target == "01015"  # Saint-Bois, now in Arboys en Bugey


def test_overseas_collectivities_are_named() -> None:
    former = load_former_codes()
    collectivities = {f.name for f in former.values() if f.kind == "com"}
    assert {"Nouvelle-Calédonie", "Polynésie française", "Saint-Martin"} <= collectivities
    assert former["98818"].name == "Nouvelle-Calédonie"
    assert former["97701"].name == "Saint-Barthélemy"
