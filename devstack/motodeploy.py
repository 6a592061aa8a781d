"""Let ``chalice deploy`` run against moto: the deploy rehearsal's and the local stack's (dev tooling).

Two moto gaps stop Chalice's deploy where AWS would accept it:

- ``PutBucketNotificationConfiguration``: moto asserts filter-rule names are
  lower case; Chalice sends ``Prefix``/``Suffix``, which S3 accepts (names are
  case-insensitive there). We lower-case them before moto parses the body.
- ``ImportRestApi`` / ``PutRestApi``: moto imports OpenAPI 3 only and needs
  ``info.description``; Chalice sends Swagger 2.0. The parts moto reads (paths,
  methods, ``x-amazon-apigateway-*``) have the same shape in both, so we hand
  moto the document as OpenAPI 3 with its definitions moved under components.
- apigatewayv2 ``CreateDeployment`` and ``UpdateStage``: moto has neither (404).
  A WebSocket API deploys; a stage takes access-log and default route settings.
- CloudFormation: moto's cannot take resources.yaml; the stand-in of
  :mod:`devstack.cloudformation` answers the deploy's stack calls instead.

This patches the emulator in the process that runs it (``apply()`` is
idempotent), never the app nor the request Chalice sends: the rehearsal's
in-process moto (tests/test_deploy_rehearsal.py) and the local stack's moto
process (devstack/moto_process.py), so ``scripts/deploy.py --rehearse`` can
deploy a stage of its own into ``./dev up``'s AWS (docs/deployment.md).
"""
from __future__ import annotations

import copy
import datetime
import functools
import importlib.abc
import json
import re
import sys
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

_PATCHED = False
_FILTER_NAME = re.compile(rb"<Name>\s*(Prefix|Suffix)\s*</Name>")


def apply(endpoint_url: str | None = None, session_factory: Any = None) -> Any:
    """Install the patches into moto (idempotent); with the server's ``endpoint_url`` and a boto3 session
    factory, also the stand-in CloudFormation (devstack/cloudformation.py), which is returned."""
    global _PATCHED
    if not _PATCHED:
        _case_insensitive_notification_filters()
        # moto.apigateway.models costs 1.2 s of CPU to import (openapi_spec_validator, jsonschema) and a local
        # stack never calls it unless a rehearsal deploys into it: patched when something first imports it.
        when_imported("moto.apigateway.models", _swagger2_rest_api_import)
        _websocket_deployments_and_stage_updates()
        _PATCHED = True
    if endpoint_url is None:
        return None
    from .cloudformation import install

    return install(endpoint_url, session_factory)


def when_imported(name: str, patch: Callable[[], None]) -> None:
    """Call ``patch`` once module ``name`` is imported: now if it is, else right after its first import
    (in the importing thread, under the import's lock, before the importer gets the module)."""
    if name in sys.modules:
        patch()
    else:
        sys.meta_path.insert(0, _PatchAfterImport(name, patch))


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader the other finders give ``name`` so ``patch`` runs after it."""

    def __init__(self, name: str, patch: Callable[[], None]) -> None:
        self.name, self.patch = name, patch

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # once, and out of the way of the finders asked next
        spec = next((found for finder in list(sys.meta_path) if hasattr(finder, "find_spec")
                     and (found := finder.find_spec(fullname, path, target)) is not None), None)
        if spec is None or spec.loader is None:
            return spec
        loader, patch = spec.loader, self.patch

        class Patching(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                loader.exec_module(module)  # type: ignore[attr-defined]
                patch()

            def __getattr__(self, attribute: str) -> Any:  # get_source, is_package, ... as the loader has them
                return getattr(loader, attribute)

        spec.loader = Patching()
        return spec


def _case_insensitive_notification_filters() -> None:
    from moto.s3.responses import S3Response

    original = S3Response._notification_config_from_body

    @functools.wraps(original)
    def parse(self: Any) -> Any:
        body = self.body if isinstance(self.body, bytes) else str(self.body).encode()
        self.body = _FILTER_NAME.sub(lambda match: b"<Name>" + match.group(1).lower() + b"</Name>", body)
        return original(self)

    S3Response._notification_config_from_body = parse  # type: ignore[method-assign]


def as_openapi3(document: dict[str, Any]) -> dict[str, Any]:
    """The Swagger 2.0 document as the OpenAPI 3 subset moto reads; anything else unchanged."""
    if "swagger" not in document:
        return document
    converted = copy.deepcopy(document)
    converted.pop("swagger")
    converted["openapi"] = "3.0.1"
    converted.setdefault("info", {}).setdefault("description", converted["info"].get("title", ""))
    components = converted.setdefault("components", {})
    if "definitions" in converted:
        components["schemas"] = converted.pop("definitions")
    if "securityDefinitions" in converted:
        components["securitySchemes"] = converted.pop("securityDefinitions")
    for key in ("schemes", "consumes", "produces", "basePath", "host"):
        converted.pop(key, None)
    return converted


def _swagger2_rest_api_import() -> None:
    from moto.apigateway.models import APIGatewayBackend

    original_import = APIGatewayBackend.import_rest_api
    original_put = APIGatewayBackend.put_rest_api

    @functools.wraps(original_import)
    def import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        return original_import(self, as_openapi3(api_doc), fail_on_warnings)

    @functools.wraps(original_put)
    def put_rest_api(self: Any, function_id: str, api_doc: dict[str, Any], fail_on_warnings: bool,
                     mode: str = "merge") -> Any:
        return original_put(self, function_id, as_openapi3(api_doc), fail_on_warnings, mode)

    APIGatewayBackend.import_rest_api = import_rest_api  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = put_rest_api  # type: ignore[method-assign]


def _websocket_deployments_and_stage_updates() -> None:
    from moto.apigatewayv2 import urls
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    urls.url_paths.setdefault("{0}/v2/apis/(?P<api_id>[^/]+)/deployments$", ApiGatewayV2Response.dispatch)

    def create_deployment(self: Any) -> Any:
        self.apigatewayv2_backend.get_api(self.path.split("/")[-2])  # 404s for an unknown API
        created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 201, {}, json.dumps({"deploymentId": uuid.uuid4().hex[:10], "deploymentStatus": "DEPLOYED",
                                    "createdDate": created})

    def update_stage(self: Any) -> Any:
        stage = self.apigatewayv2_backend.get_stage(self.path.split("/")[-3], unquote(self.path.split("/")[-1]))
        body = json.loads(self.body or "{}")
        if "accessLogSettings" in body:
            stage.access_log_settings = body["accessLogSettings"]
        if "defaultRouteSettings" in body:
            stage.default_route_settings = {**(stage.default_route_settings or {}), **body["defaultRouteSettings"]}
        if "routeSettings" in body:
            stage.route_settings = body["routeSettings"]
        return 200, {}, json.dumps(stage.to_json())

    ApiGatewayV2Response.create_deployment = create_deployment  # type: ignore[attr-defined]
    ApiGatewayV2Response.update_stage = update_stage  # type: ignore[attr-defined]
