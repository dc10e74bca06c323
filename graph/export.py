"""The network and the analyses' tables in exchange formats: GraphML and GEXF (Gephi),
node-link JSON, and CSV rows. Coordinators take these to their own tools; every value is
written as a string, number or boolean so that each format can hold it.

GraphML and GEXF are written by streaming writers of our own rather than networkx's
`write_graphml` / `write_gexf`: those build the whole XML tree in memory, about 475 MB
and 9 s for 10,000 structures, so several GB for the national graph. The output is read
back by networkx's readers in the tests, and compared with what networkx's writers give."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import singledispatch
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from graph.analyses import (
    Brokers,
    LevelBalance,
    LevelCounts,
    PersonLeaving,
    Silos,
    StructureRef,
)

# Joins the items of a set or tuple in one GraphML / GEXF / CSV value; INSEE codes, domains
# and UUIDs never contain it.
SEPARATOR = ";"

# GEXF gives these attribute names a meaning of its own (edge direction, time intervals,
# ids, labels); ours are renamed so that Gephi does not misread them.
GEXF_RENAMED = {
    "type": "category",
    "end": "end_date",
    "start": "start_date",
    "id": "record_id",
    "label": "label_text",
}

_XML_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}
# Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BATCH = 2_000


def plain_value(value: Any) -> str | int | float | bool:
    """One attribute value as something GraphML, GEXF and CSV can hold: None becomes "",
    sets are sorted and joined, tuples joined in order, dates written ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return SEPARATOR.join(sorted(str(v) for v in value))
    if isinstance(value, tuple | list):
        return SEPARATOR.join(str(plain_value(v)) for v in value)
    if isinstance(value, StructureRef):
        return value.id
    return str(value)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in value)
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    return str(value)


def _attribute_types(
    records: Iterable[dict[str, Any]], rename: Mapping[str, str]
) -> dict[str, str]:
    """XML type of each attribute name; a name holding several types is widened."""
    seen: dict[str, set[type]] = {}
    for d in records:
        for name, value in d.items():
            seen.setdefault(rename.get(name, name), set()).add(type(plain_value(value)))
    types = {}
    for name, kinds in seen.items():
        if len(kinds) == 1:
            types[name] = _XML_TYPES[next(iter(kinds))]
        elif kinds <= {int, float}:
            types[name] = "double"
        else:
            types[name] = "string"
    return types


def _xml_value(value: Any, xml_type: str) -> str:
    value = plain_value(value)
    if xml_type == "boolean":
        return "true" if value else "false"
    if xml_type == "double":
        return repr(float(value))
    return _NOT_XML.sub("", str(value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


def _batched(parts: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for part in parts:
        batch.append(part)
        if len(batch) >= _BATCH:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


def _write(parts: Iterator[str], file: BinaryIO) -> None:
    for chunk in parts:
        file.write(chunk.encode("utf-8"))


def iter_graphml(g: nx.MultiDiGraph) -> Iterator[str]:
    """The network as GraphML, in chunks of text (to stream an HTTP response). Attribute
    keys are typed and named after the attributes; edge ids are the graph's edge keys,
    unique in the whole file."""
    scopes = {
        "node": _attribute_types((d for _, d in g.nodes(data=True)), {}),
        "edge": _attribute_types((d for *_, d in g.edges(data=True)), {}),
    }
    key_ids: dict[tuple[str, str], str] = {}

    def data(scope: str, d: dict[str, Any]) -> str:
        return "".join(
            f'<data key="{key_ids[(scope, name)]}">'
            f"{escape(_xml_value(value, scopes[scope][name]))}</data>"
            for name, value in d.items()
        )

    def parts() -> Iterator[str]:
        yield (
            "<?xml version='1.0' encoding='utf-8'?>\n"
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
        )
        for scope, types in scopes.items():
            for name, xml_type in types.items():
                key_id = key_ids[(scope, name)] = f"d{len(key_ids)}"
                yield (
                    f'  <key id="{key_id}" for="{scope}" attr.name={_attr(name)} '
                    f'attr.type="{xml_type}"/>\n'
                )
        yield '  <graph edgedefault="directed">\n'
        for n, d in g.nodes(data=True):
            yield f"    <node id={_attr(str(n))}>{data('node', d)}</node>\n"
        for u, v, key, d in g.edges(keys=True, data=True):
            yield (
                f"    <edge id={_attr(str(key))} source={_attr(str(u))} "
                f"target={_attr(str(v))}>{data('edge', d)}</edge>\n"
            )
        yield "  </graph>\n</graphml>\n"

    return _batched(parts())


def write_graphml(g: nx.MultiDiGraph, file: BinaryIO) -> None:
    """Write the network as GraphML (UTF-8) to a binary file."""
    _write(iter_graphml(g), file)


def graphml_bytes(g: nx.MultiDiGraph) -> bytes:
    """The network as GraphML (UTF-8)."""
    buffer = io.BytesIO()
    write_graphml(g, buffer)
    return buffer.getvalue()


def iter_gexf(g: nx.MultiDiGraph) -> Iterator[str]:
    """The network as GEXF 1.2, the format Gephi opens best, in chunks of text. Nodes are
    labelled with their name; edges carry their weight natively. Our `type`, `id` and
    `end` attributes are written as `category`, `record_id` and `end_date` (see
    GEXF_RENAMED), because GEXF reserves the original names."""
    node_types = _attribute_types((d for _, d in g.nodes(data=True)), GEXF_RENAMED)
    edge_types = _attribute_types((d for *_, d in g.edges(data=True)), GEXF_RENAMED)
    edge_types.pop("weight", None)
    ids: dict[tuple[str, str], str] = {}

    def attvalues(scope: str, types: dict[str, str], d: dict[str, Any]) -> str:
        values = "".join(
            f'<attvalue for="{ids[(scope, name)]}" value={_attr(_xml_value(value, types[name]))}/>'
            for name, value in ((GEXF_RENAMED.get(k, k), v) for k, v in d.items())
            if name in types
        )
        return f"<attvalues>{values}</attvalues>" if values else ""

    def parts() -> Iterator[str]:
        yield (
            "<?xml version='1.0' encoding='utf-8'?>\n"
            '<gexf xmlns="http://www.gexf.net/1.2draft" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.gexf.net/1.2draft '
            'http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
            "  <meta><creator>Maillage</creator></meta>\n"
            '  <graph defaultedgetype="directed" mode="static" name="">\n'
        )
        for scope, types in (("node", node_types), ("edge", edge_types)):
            yield f'    <attributes class="{scope}" mode="static">\n'
            for name, xml_type in types.items():
                attribute_id = ids[(scope, name)] = str(len(ids))
                yield (
                    f'      <attribute id="{attribute_id}" title={_attr(name)} '
                    f'type="{xml_type}"/>\n'
                )
            yield "    </attributes>\n"
        yield "    <nodes>\n"
        for n, d in g.nodes(data=True):
            label = str(d.get("name", n))
            yield (
                f"      <node id={_attr(str(n))} label={_attr(label)}>"
                f"{attvalues('node', node_types, d)}</node>\n"
            )
        yield "    </nodes>\n    <edges>\n"
        for u, v, key, d in g.edges(keys=True, data=True):
            weight = f' weight="{float(d["weight"])!r}"' if "weight" in d else ""
            yield (
                f"      <edge id={_attr(str(key))} source={_attr(str(u))} "
                f"target={_attr(str(v))}{weight}>{attvalues('edge', edge_types, d)}</edge>\n"
            )
        yield "    </edges>\n  </graph>\n</gexf>\n"

    return _batched(parts())


def write_gexf(g: nx.MultiDiGraph, file: BinaryIO) -> None:
    """Write the network as GEXF 1.2 (UTF-8) to a binary file."""
    _write(iter_gexf(g), file)


def gexf_bytes(g: nx.MultiDiGraph) -> bytes:
    """The network as GEXF 1.2 (UTF-8)."""
    buffer = io.BytesIO()
    write_gexf(g, buffer)
    return buffer.getvalue()


def node_link(g: nx.MultiDiGraph) -> dict[str, Any]:
    """The network as node-link data, ready for `json.dumps`: sets become sorted lists,
    dates ISO strings. Edges are under "edges", named explicitly as networkx 3.4 asks."""
    data = nx.node_link_data(g, edges="edges")
    # node_link_data gives fresh dicts, so converting them in place leaves `g` untouched
    # and saves a converted copy of the whole graph.
    for item in (*data["nodes"], *data["edges"]):
        for name, value in item.items():
            if not (value is None or isinstance(value, bool | int | float | str)):
                item[name] = _json_value(value)
    return data


def graph_from_node_link(data: Mapping[str, Any]) -> nx.MultiDiGraph:
    """The inverse of `node_link` (attributes stay as JSON gave them)."""
    return nx.node_link_graph(dict(data), directed=True, multigraph=True, edges="edges")


# --- CSV rows ----------------------------------------------------------------------------

Row = dict[str, str | int | float | bool]


@singledispatch
def to_csv_rows(results: Any) -> list[Row]:
    """The rows of an analysis table, ready for `csv.DictWriter` (every row has the same
    keys, in column order). Accepts any analysis result; a sequence of result records
    gives one row per record, with a StructureRef field split into `<field>_id` and
    `<field>_name`."""
    if isinstance(results, Iterable) and not isinstance(results, str | bytes | Mapping):
        return [_record_row(r) for r in results]
    raise TypeError(f"no CSV table for {type(results).__name__}")


def _record_row(record: Any) -> Row:
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        raise TypeError(f"no CSV row for {type(record).__name__}")
    row: Row = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, StructureRef):
            row[f"{field.name}_id"] = value.id
            row[f"{field.name}_name"] = value.name
        else:
            row[field.name] = plain_value(value)
    return row


@to_csv_rows.register
def _silos_rows(results: Silos) -> list[Row]:
    rows: list[Row] = [
        {
            "structure_id": s.id,
            "structure_name": s.name,
            "isolated": True,
            "group": "",
            "group_size": 1,
        }
        for s in results.isolated
    ]
    for number, group in enumerate(results.groups, start=1):
        rows.extend(
            {
                "structure_id": s.id,
                "structure_name": s.name,
                "isolated": False,
                "group": number,
                "group_size": len(group),
            }
            for s in group
        )
    return rows


@to_csv_rows.register
def _brokers_rows(results: Brokers) -> list[Row]:
    return [
        {
            "rank": rank,
            "structure_id": b.structure.id,
            "structure_name": b.structure.name,
            "betweenness": round(b.betweenness, 6),
            "approximate": results.approximate,
            "k": results.k if results.k is not None else "",
        }
        for rank, b in enumerate(results.ranking, start=1)
    ]


@to_csv_rows.register
def _level_balance_rows(results: LevelBalance) -> list[Row]:
    def row(counts: LevelCounts) -> Row:
        return {
            "domain": counts.domain,
            "operational": counts.operational,
            "organisational": counts.organisational,
            "political": counts.political,
            "total": counts.total,
        }

    return [row(results.overall), *(row(c) for c in results.by_domain)]


@to_csv_rows.register
def _person_leaving_rows(results: PersonLeaving) -> list[Row]:
    base: Row = {
        "person_id": results.person_id,
        "person_name": results.person_name,
        "structure_id": results.structure.id,
        "structure_name": results.structure.name,
        "colleagues_left": results.colleagues_left,
    }
    rows: list[Row] = [
        {
            **base,
            "loses": "partnership",
            "partner_id": s.id,
            "partner_name": s.name,
            "convention_id": "",
        }
        for s in results.partnerships_losing_last_person
    ]
    rows.extend(
        {
            **base,
            "loses": "convention_referent",
            "partner_id": "",
            "partner_name": "",
            "convention_id": c,
        }
        for c in results.conventions_losing_referent
    )
    return rows
