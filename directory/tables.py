"""The directory as tables: structures, sites, services and people are the graph's nodes,
relationships its edges. Lists that search filters on (domains, thematiques, publics,
eligibility zone) are also written to `ServiceKey`, an indexed child table, because array
columns cannot be searched the same way on SQLite and PostgreSQL."""

from piccolo.columns import (
    UUID,
    Array,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

# Columns of Structure and Service that only data·inclusion imports write
# (directory.data_inclusion); other writers leave them to their defaults on insert and
# untouched on update. (Relationship.source is another thing.)
ORIGIN_COLUMNS = frozenset({"source", "source_id", "source_date", "source_extra"})


class Structure(Table):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    siret = Varchar(length=14, default="")
    kind = Varchar(length=40, default="association")
    network = Varchar(length=60, default="")
    description = Text(default="")
    website = Varchar(length=300, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=20, default="")
    status = Varchar(length=12, default="active", index=True)
    # When the record was last known to be right, and by whom (directory.verification):
    # set by every save and import, never typed.
    verified_at = Timestamptz(null=True, default=None)
    verified_by_kind = Varchar(length=20, default="")
    verified_by = Varchar(length=300, default="")
    search_text = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # Where an imported record comes from: the data·inclusion source and the record's id
    # there (unique together, so a second import updates instead of duplicating), its date
    # at the source, and its data·inclusion fields that no column here holds (JSON), so
    # that an export gives them back. None/"" for records typed in Maillage.
    source = Varchar(length=100, null=True, default=None)
    source_id = Varchar(length=300, null=True, default=None)
    source_date = Date(null=True, default=None)
    source_extra = Text(default="")


class Site(Table):
    id = UUID(primary_key=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200, default="")
    address = Varchar(length=300, default="")
    commune = Varchar(length=5, index=True)
    postcode = Varchar(length=5, default="")
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    # Grid cell of the coordinates (directory.geo.cell_of), indexed so that search
    # pre-filters on a few cells instead of computing a distance for every site.
    cell = Integer(null=True, default=None, index=True)
    geocoded = Varchar(length=12, default="commune")
    opening_hours = Varchar(length=500, default="")
    accessibility = Text(default="")
    walk_in = Boolean(default=False)


class Person(Table):
    id = UUID(primary_key=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, null=False, index=True)
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    role = Varchar(length=150, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=20, default="")
    preferred_channel = Varchar(length=12, default="email")
    active = Boolean(default=True)
    left_on = Date(null=True, default=None)


class Service(Table):
    id = UUID(primary_key=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, null=False, index=True)
    # None: offered at every site of the structure.
    site = ForeignKey(Site, on_delete=OnDelete.set_null, null=True, default=None)
    contact = ForeignKey(Person, on_delete=OnDelete.set_null, null=True, default=None)
    name = Varchar(length=200)
    description = Text(default="")
    domains = Array(base_column=Varchar(length=20))
    thematiques = Array(base_column=Varchar(length=120))
    publics = Array(base_column=Varchar(length=60))
    conditions = Text(default="")
    fees = Varchar(length=200, default="")
    on_site = Boolean(default=True)
    remote = Boolean(default=False)
    # INSEE codes of communes, EPCI SIRENs, département codes, or "france".
    zone = Array(base_column=Varchar(length=9))
    unconditional = Boolean(default=False)
    search_text = Text(default="")
    # When the record was last known to be right, and by whom (directory.verification):
    # set by every save and import, never typed.
    verified_at = Timestamptz(null=True, default=None)
    verified_by_kind = Varchar(length=20, default="")
    verified_by = Varchar(length=300, default="")
    # As on Structure: data·inclusion origin, unique (source, source_id).
    source = Varchar(length=100, null=True, default=None)
    source_id = Varchar(length=300, null=True, default=None)
    source_date = Date(null=True, default=None)
    source_extra = Text(default="")


class ServiceKey(Table):
    """One row per (service, key): "d:<domain>", "t:<thematique>", "p:<public>", "z:<zone>"."""

    service = ForeignKey(Service, on_delete=OnDelete.cascade, null=False, index=True)
    key = Varchar(length=130, index=True)


class Relationship(Table):
    """An edge of the partner graph: structure -> structure, or structure -> person."""

    id = UUID(primary_key=True)
    source = ForeignKey(Structure, on_delete=OnDelete.cascade, null=False, index=True)
    target_structure = ForeignKey(
        Structure, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    target_person = ForeignKey(
        Person, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    level = Varchar(length=16)
    kind = Varchar(length=30, default="partnership")
    since = Date(null=True, default=None)
    note = Text(default="")


class SearchRecord(Table, tablename="search_record"):
    """One search, without any personal data: where, for what, and how many partners were
    found. Searches that found nothing are the demand signals of the coverage map."""

    at = Timestamptz()
    commune = Varchar(length=5, index=True)
    domains = Array(base_column=Varchar(length=20))
    results = Integer(default=0)


class Territory(Table):
    """The communes a Mission Locale serves, and how far a young person can be expected to
    travel for each domain (reach_km: JSON object domain -> km; missing domains use the
    defaults)."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    structure = ForeignKey(Structure, on_delete=OnDelete.set_null, null=True, default=None)
    communes = Array(base_column=Varchar(length=5))
    reach_km = Text(default="{}")
    created_at = Timestamptz()


class DirectoryChange(Table, tablename="directory_change"):
    """One change to the directory (directory.history): what record, when, who, and each
    field changed as JSON {field: [before, after]}. Written in the transaction of the
    change itself, so the history cannot miss one."""

    id = UUID(primary_key=True)
    record_kind = Varchar(length=20)  # structure, site, service, person, relationship
    record_id = UUID(index=True)
    # The structure the record belongs to, for the structure page's history.
    structure = UUID(index=True)
    action = Varchar(length=12)  # create, update, delete, confirm, restore
    at = Timestamptz(index=True)
    actor_kind = Varchar(length=20, default="")
    actor_label = Varchar(length=300, default="")
    changes = Text(default="{}")


class DirectoryMerge(Table, tablename="directory_merge"):
    """Two records of the same structure, person or service made one (directory.merge).
    The merged record is deleted; its snapshot and every row the merge moved, dropped or
    changed are in `manifest` (JSON), so that the merge can be undone exactly."""

    id = UUID(primary_key=True)
    kind = Varchar(length=12)  # structure, person, service
    kept_id = UUID(index=True)
    merged_id = UUID(index=True)
    # The structure both records belong to (the kept one, for a structure merge).
    structure = UUID(index=True)
    at = Timestamptz()
    actor_kind = Varchar(length=20, default="")
    actor_label = Varchar(length=300, default="")
    manifest = Text(default="{}")
    undone_at = Timestamptz(null=True, default=None)
    undone_by = Varchar(length=300, default="")


class DuplicateDismissal(Table, tablename="duplicate_dismissal"):
    """A pair of structures a coordinator judged "pas un doublon": the review page and API
    never propose it again. `left_id` is the smaller id, so a pair has one spelling."""

    id = UUID(primary_key=True)
    left_id = UUID(index=True)
    right_id = UUID(index=True)
    dismissed_at = Timestamptz()
    dismissed_by = Varchar(length=300, default="")
