"""The OpenAPI document served at ``/docs``: every route of the contract (DESIGN §4), each with a
summary, a tag, examples for its JSON bodies and the error envelope for the errors it answers.

Clients and the people reading ``/docs`` rely on it; a route added without these fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from coordinator.app import create_app
from coordinator.errors import ErrorEnvelope
from coordinator.settings import Settings
from tests.conftest import TEST_SECRET

API = "/api/v1"
ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# DESIGN §4, route by route. ``{…}`` stands for any one path segment: the contract writes
# ``{id}`` where the code names it ``{event_id}``; ``{provider}`` is served as one route per
# provider.
CONTRACT: list[tuple[str, str]] = [
    ("post", "/auth/token"),
    ("post", "/auth/otp/request"),
    ("post", "/auth/otp/verify"),
    ("post", "/users"),
    ("post", "/stations"),
    ("get", "/stations"),
    ("post", "/stations/{id}/organizations"),
    ("get", "/stations/{id}/organizations"),
    ("post", "/people"),
    ("get", "/people"),
    ("patch", "/people/{id}"),
    ("post", "/people/import"),
    ("get", "/people/{id}/calendar.ics"),
    ("post", "/residents"),
    ("get", "/residents"),
    ("patch", "/residents/{id}"),
    ("post", "/residents/import"),
    ("get", "/themes"),
    ("post", "/themes"),
    ("post", "/events"),
    ("get", "/events"),
    ("patch", "/events/{id}"),
    ("post", "/events/{id}/publish"),
    ("post", "/events/{id}/cancel"),
    ("post", "/events/{id}/reschedule"),
    ("get", "/events/{id}.ics"),
    ("post", "/series"),
    ("post", "/events/{id}/signups"),
    ("get", "/events/{id}/signups"),
    ("delete", "/events/{id}/signups/{person_id}"),
    ("post", "/events/{id}/invitations"),
    ("post", "/invitations/{token}/accept"),
    ("post", "/invitations/{token}/decline"),
    ("post", "/events/{id}/match"),
    ("post", "/events/{id}/match/apply"),
    ("get", "/events/{id}/checkin-code"),
    ("post", "/checkins"),
    ("post", "/events/{id}/attendance"),
    ("post", "/attendance/batch"),
    ("post", "/events/{id}/served"),
    ("get", "/stats/participation"),
    ("get", "/stats/coverage"),
    ("get", "/stats/export.xlsx"),
    ("get", "/reports/monthly.xlsx"),
    ("get", "/notifications"),
    ("post", "/notify/receipts/{provider}"),
]
OPERATIONS_CONTRACT: list[tuple[str, str]] = [("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics")]

# Writes the contract says can collide with the record's state (duplicate code or phone, full
# role, wrong event status, a repeated answer); each must document 409.
CONFLICTING_WRITES: list[tuple[str, str]] = [
    ("post", "/stations"),
    ("post", "/people"),
    ("patch", "/people/{id}"),
    ("post", "/residents"),
    ("post", "/themes"),
    ("patch", "/events/{id}"),
    ("post", "/events/{id}/publish"),
    ("post", "/events/{id}/cancel"),
    ("post", "/events/{id}/reschedule"),
    ("post", "/events/{id}/signups"),
    ("post", "/events/{id}/invitations"),
    ("post", "/invitations/{token}/accept"),
    ("post", "/events/{id}/match/apply"),
    ("post", "/checkins"),
    ("post", "/events/{id}/attendance"),
]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key=TEST_SECRET))
    document: dict[str, Any] = app.openapi()
    return document


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/.]+".join(re.escape(part) for part in parts))


def _find(spec: dict[str, Any], method: str, template: str) -> list[str]:
    """Documented paths serving ``method template`` (more than one for per-provider routes)."""
    pattern = _pattern(template)
    return [path for path, ops in spec["paths"].items() if pattern.fullmatch(path) and method in ops]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, operation in ops.items():
            if method in METHODS:
                yield method, path, operation


def _api_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Operations under /api/v1."""
    for method, path, operation in _operations(spec):
        if path.startswith(API):
            yield method, path, operation


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    for _ in range(10):
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            break
        target: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _has_example(spec: dict[str, Any], schema: dict[str, Any], *, look_into_properties: bool = True) -> bool:
    """An example on the schema, on one of its variants or items, or on one of its properties."""
    schema = _resolve(spec, schema)
    if "example" in schema or "examples" in schema:
        return True
    variants = [*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]
    if "items" in schema:
        variants.append(schema["items"])
    if any(_has_example(spec, variant, look_into_properties=look_into_properties) for variant in variants):
        return True
    if look_into_properties:
        properties = schema.get("properties", {}).values()
        return any(_has_example(spec, prop, look_into_properties=False) for prop in properties)
    return False


def _json_media(content: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for media_type, media in content.items():
        if media_type == "application/json" or media_type.endswith("+json"):
            yield media


def _missing_examples(spec: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> list[str]:
    missing: list[str] = []
    bodies = [("request body", operation.get("requestBody", {}).get("content", {}))]
    bodies += [
        (f"{status} response", response.get("content", {}))
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
    ]
    for what, content in bodies:
        for media in _json_media(content):
            if not ("example" in media or "examples" in media or _has_example(spec, media.get("schema", {}))):
                schema = media.get("schema", {})
                name = _resolve(spec, schema).get("title", schema)
                missing.append(f"{method.upper()} {path}: {what} ({name}) has no example")
    return missing


def _is_auto_summary(operation: dict[str, Any]) -> bool:
    """FastAPI's fallback summary is the function's name in title case (``create_user`` → ``Create User``)."""
    summary = str(operation.get("summary", ""))
    return str(operation.get("operationId", "")).startswith(summary.lower().replace(" ", "_") + "_")


def _error_problems(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    responses: dict[str, Any] = operation.get("responses", {})

    def envelope(status: str) -> bool:
        schema = responses.get(status, {}).get("content", {}).get("application/json", {}).get("schema", {})
        return ENVELOPE_REF in [
            schema.get("$ref"),
            *(variant.get("$ref") for variant in schema.get("anyOf", [])),
        ]

    required = {"422"}  # every route validates its input and answers the envelope
    if operation.get("security"):
        required.add("401")
    if "{" in path:
        required.add("404")
    documented_errors = {status for status in responses if status[0] in "45" and status != "503"}
    for status in sorted(required | documented_errors):
        if not envelope(status):
            problems.append(f"{method.upper()} {path}: {status} is not documented as the error envelope")
    return problems


# --- the contract's routes ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "template"), CONTRACT, ids=[f"{m.upper()} {p}" for m, p in CONTRACT])
def test_contract_route_is_documented_under_api_v1(spec: dict[str, Any], method: str, template: str) -> None:
    assert _find(spec, method, API + template), f"{method.upper()} {API}{template} is missing from OpenAPI"


@pytest.mark.parametrize(("method", "path"), OPERATIONS_CONTRACT, ids=[p for _, p in OPERATIONS_CONTRACT])
def test_operations_route_is_documented_at_the_root(spec: dict[str, Any], method: str, path: str) -> None:
    assert method in spec["paths"].get(path, {}), f"{method.upper()} {path} is missing from OpenAPI"


def test_receipts_are_served_for_each_sms_provider(spec: dict[str, Any]) -> None:
    paths = _find(spec, "post", f"{API}/notify/receipts/{{provider}}")
    assert {path.rsplit("/", 1)[1] for path in paths} >= {"aliyun", "tencent"}


# --- summaries, tags, examples ----------------------------------------------------------------


def _summary_problems(spec: dict[str, Any]) -> list[str]:
    problems = []
    for method, path, operation in _api_operations(spec):
        if not operation.get("tags"):
            problems.append(f"{method.upper()} {path}: no tag")
        if not operation.get("summary") or _is_auto_summary(operation):
            problems.append(f"{method.upper()} {path}: no summary (only the function name)")
    return problems


def test_every_api_operation_has_a_written_summary_and_a_tag(spec: dict[str, Any]) -> None:
    untagged = [
        f"{m.upper()} {p}" for m, p, op in _operations(spec) if p.startswith(API) and not op.get("tags")
    ]
    assert untagged == []
    problems = _summary_problems(spec)
    assert not problems, "\n".join(problems)


def test_every_json_body_and_success_response_carries_an_example(spec: dict[str, Any]) -> None:
    problems = [
        problem
        for method, path, operation in _operations(spec)
        for problem in _missing_examples(spec, method, path, operation)
    ]
    assert not problems, "\n".join(problems)


def _models(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)


def test_schema_examples_are_valid_instances_of_their_model(spec: dict[str, Any]) -> None:
    """A wrong example misleads more than none: each one must pass its own model's validation."""
    assert spec  # the app is built, so every schema module is imported
    checked, problems = 0, []
    for model in {m for m in _models(BaseModel) if m.__module__.startswith("coordinator.")}:
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        for example in examples if isinstance(examples, list) else []:
            checked += 1
            try:
                model.model_validate_json(json.dumps(example))
            except ValueError as exc:
                problems.append(f"{model.__module__}.{model.__qualname__}: {exc}")
    assert not problems, "\n".join(problems)
    assert checked >= 40


# --- errors -------------------------------------------------------------------------------------


def test_error_envelope_schema_matches_the_contract(spec: dict[str, Any]) -> None:
    envelope = spec["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    body = _resolve(spec, envelope["properties"]["error"])
    assert set(body["properties"]) == {"code", "message", "message_en", "field", "details"}
    assert set(body["required"]) == {"code", "message", "message_en"}
    assert envelope["examples"][0]["error"]["code"]


def test_documented_error_examples_are_valid_envelopes(spec: dict[str, Any]) -> None:
    examples = [
        response["content"]["application/json"]["example"]
        for _, _, operation in _operations(spec)
        for status, response in operation["responses"].items()
        if status[0] in "45" and "example" in response.get("content", {}).get("application/json", {})
    ]
    assert len(examples) > 100
    for example in examples:
        ErrorEnvelope.model_validate(example)


def test_fastapi_validation_shape_is_not_advertised(spec: dict[str, Any]) -> None:
    """Our handler answers 422 with the envelope; the document must not promise FastAPI's ``detail`` list."""
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_api_operations_document_the_errors_they_answer(spec: dict[str, Any]) -> None:
    problems = [
        problem
        for method, path, operation in _api_operations(spec)
        for problem in _error_problems(method, path, operation)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("method", "template"), CONFLICTING_WRITES, ids=[f"{m.upper()} {p}" for m, p in CONFLICTING_WRITES]
)
def test_conflicting_write_documents_409(spec: dict[str, Any], method: str, template: str) -> None:
    (path,) = _find(spec, method, API + template)
    media = (
        spec["paths"][path][method]["responses"].get("409", {}).get("content", {}).get("application/json", {})
    )
    assert media.get("schema", {}).get("$ref") == ENVELOPE_REF
    assert media["example"]["error"]["code"]


# --- the document itself and /docs --------------------------------------------------------------


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_document_is_structurally_valid_openapi(spec: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"])
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    schemas = spec["components"]["schemas"]
    dangling = {ref for ref in _refs(spec) if ref.rsplit("/", 1)[1] not in schemas}
    assert dangling == set()
    operation_ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"
    for method, path, operation in _operations(spec):
        assert operation["responses"], f"{method} {path} has no responses"
        assert all(re.fullmatch(r"[1-5]\d\d|[1-5]XX|default", code) for code in operation["responses"])
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), f"{method} {path}: path parameters"
        assert all(p.get("required") for p in operation.get("parameters", []) if p["in"] == "path")


async def test_docs_page_and_openapi_json_are_served(spec: dict[str, Any]) -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key=TEST_SECRET))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            docs = await http.get("/docs")
            served = await http.get("/openapi.json")
    finally:
        await app.state.engine.dispose()
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert "/openapi.json" in docs.text
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == spec
