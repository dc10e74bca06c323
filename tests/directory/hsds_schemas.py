"""Open Referral's HSDS 3.0 schemas, vendored in tests/vendor/hsds-3.0, as Draft 2020-12
validators whose `$ref`s resolve offline through a `referencing` registry. Formats (uuid,
email, uri, date-time) are asserted, not merely annotated."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).resolve().parent.parent / "vendor" / "hsds-3.0" / "schema"
# Where openapi.json points at them: relative $refs ("phone.json") resolve against it.
BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        if path.name == "openapi.json":
            continue
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((BASE + path.name, Resource(contents, specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(table: str) -> Draft202012Validator:
    """A validator for one HSDS table's schema (organization, service, location...)."""
    schema = {"$ref": BASE + f"{table}.json"}
    return Draft202012Validator(
        schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def page_validator() -> Draft202012Validator:
    """The HSDS API's paginated answer (`Page` of openapi.json) holding organizations."""
    openapi = json.loads((SCHEMAS / "openapi.json").read_text(encoding="utf-8"))
    page = openapi["components"]["schemas"]["Page"]
    schema = {
        "allOf": [page],
        "required": [*page["properties"], "contents"],
        "properties": {"contents": {"type": "array", "items": {"type": "object"}}},
    }
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(organization: Mapping[str, Any]) -> list[str]:
    """Every schema error of one nested organization: the organization against
    organization.json, each of its services against service.json."""
    found = [
        f"organization {organization.get('id')}: {e.json_path}: {e.message}"
        for e in validator("organization").iter_errors(organization)
    ]
    for service in organization.get("services", []):
        found += [
            f"service {service.get('id')}: {e.json_path}: {e.message}"
            for e in validator("service").iter_errors(service)
        ]
    return found


def all_problems(organizations: Iterable[Mapping[str, Any]]) -> list[str]:
    return [problem for org in organizations for problem in problems(org)]
