"""What the OpenAPI schema says beyond the handlers' signatures: the errors every operation
may answer, in the one shape service.app gives them, and the input objects that refuse
unknown fields. Declared once here rather than on each of the forty-odd handlers."""

from __future__ import annotations

from typing import Any

# The plugin that turns msgspec Structs into schemas is not exported; extending it keeps
# every field as Litestar documents it and adds only what it leaves out.
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.typing import FieldDefinition
from msgspec import Struct

API_PREFIX = "/api/v1/"
# Personal links open without an account: no 401 there (see service.auth.PUBLIC_PATHS).
PUBLIC_PREFIX = "/api/v1/links/"


class Candidate(Struct):
    insee: str
    label: str


class ErrorBody(Struct):
    """Every 4xx of the API: `detail` says what is wrong in French; `errors` names each
    faulty field or parameter; `candidates` lists homonym communes for an ambiguous place,
    or communes with a close name for an unknown one ("valance" -> Valence)."""

    status_code: int
    detail: str
    errors: dict[str, str] = {}
    candidates: list[Candidate] = []


_DESCRIPTIONS = {
    400: "Requête invalide : `detail` dit pourquoi, `errors` nomme chaque champ fautif.",
    401: "Authentification requise : jeton absent, invalide ou révoqué.",
    403: "Votre rôle ou votre structure ne permet pas cette action.",
    404: "Introuvable : l'identifiant ne désigne rien (ou plus rien).",
    409: "Conflit avec l'état actuel : transition interdite, doublon ou action concurrente.",
    413: "Corps de la requête trop volumineux.",
    429: "Trop de requêtes : réessayez après le délai indiqué par l'en-tête Retry-After.",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def error_statuses(path: str, method: str) -> list[int]:
    statuses = [400, 403, 404, 429]
    if not path.startswith(PUBLIC_PREFIX):
        statuses.append(401)
    if method in _WRITES:
        statuses += [409, 413]
    return sorted(statuses)


def _spec(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ErrorBody, description=_DESCRIPTIONS[status], generate_examples=False
    )


class DocumentedErrors(ReceiveRoutePlugin):
    """Adds the error responses to each API operation as its route is registered."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        for handler in route.route_handlers:
            method = next(iter(handler.http_methods))
            documented = {status: _spec(status) for status in error_statuses(route.path, method)}
            handler.responses = {**documented, **(handler.responses or {})}


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """A Struct that forbids unknown fields says so (`additionalProperties: false`), so
    that clients, and schema-driven tests, know an extra field is refused."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Any:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        config = getattr(field_definition.type_, "__struct_config__", None)
        if config is not None and config.forbid_unknown_fields:
            schema.additional_properties = False
        return schema
