"""The OpenAPI document, generated from the same pydantic models that validate requests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from pydantic import BaseModel

from .models import ApplicationRequest, DecisionRequest, DocumentUploadRequest, WithdrawRequest

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "request_id"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        },
        "request_id": {"type": "string"},
    },
}

# (method, path, summary, request model, success status, public)
OPERATIONS: list[tuple[str, str, str, Optional[type[BaseModel]], int, bool]] = [
    ("GET", "/health", "Health of the service and its dependencies", None, 200, True),
    ("GET", "/openapi.json", "This document", None, 200, True),
    (
        "POST",
        "/applications",
        "Submit a new application (send Idempotency-Key to make retries safe)",
        ApplicationRequest,
        201,
        False,
    ),
    ("GET", "/applications", "List your own applications, newest first", None, 200, False),
    ("GET", "/applications/{application_id}", "Read one of your applications", None, 200, False),
    (
        "GET",
        "/applications/{application_id}/history",
        "The audit history of one of your applications",
        None,
        200,
        False,
    ),
    ("POST", "/applications/{application_id}/withdraw", "Withdraw an open application", WithdrawRequest, 200, False),
    (
        "POST",
        "/applications/{application_id}/documents",
        "Get a presigned S3 POST to upload the identity document",
        DocumentUploadRequest,
        201,
        False,
    ),
    ("GET", "/review/queue", "FLAGGED applications, oldest first (reviewers)", None, 200, False),
    (
        "GET",
        "/review/applications/{application_id}",
        "An application with checks and history (reviewers)",
        None,
        200,
        False,
    ),
    (
        "POST",
        "/review/applications/{application_id}/decision",
        "Approve or reject a FLAGGED application (reviewers)",
        DecisionRequest,
        200,
        False,
    ),
]

ERRORS = {
    "400": "Malformed JSON or cursor",
    "401": "Missing or invalid token",
    "403": "Not allowed",
    "404": "Not found (or not yours)",
    "409": "Conflict with the current state",
    "413": "Body too large",
    "415": "Body is not application/json",
    "422": "Validation failed",
    "500": "Unexpected error (quote the request id)",
}


def registered(routes: Mapping[str, Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(method, path) of every route Chalice has, from ``app.routes``."""
    found = set()
    for path, methods in routes.items():
        for method in methods:
            found.add((method, path))
    return found


def document(registered_routes: Optional[set[tuple[str, str]]] = None) -> dict[str, Any]:
    """Build the document; when the app's routes are given, only document those."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for method, path, summary, model, status, public in OPERATIONS:
        if registered_routes is not None and (method, path) not in registered_routes:
            continue
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {str(status): {"description": "Success"}},
        }
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in _path_params(path)]
        if method == "GET" and path in ("/applications", "/review/queue"):
            params += [
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ]
        if path == "/applications" and method == "POST":
            params.append({"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 128}})
        if params:
            operation["parameters"] = params
        if model is not None:
            schemas.update(_model_schemas(model))
            operation["requestBody"] = {
                "required": model is ApplicationRequest or model is DecisionRequest,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
            }
        if not public:
            operation["security"] = [{"cognito": []}]
            for code, text in ERRORS.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": text,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Account Opening API", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "cognito": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Cognito ID or access token of the user pool",
                }
            },
        },
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _model_schemas(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {model.__name__: schema, **defs}
