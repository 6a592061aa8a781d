"""The call counter of ``bench.aws_calls``: botocore API calls (and HTTP attempts) made while a handler runs,
by scenario, handler and operation; the repository's commits against transaction attempts; frames the notifier
"sent" to an in-process stand-in for API Gateway's management API."""
from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Callable
from typing import Any, Optional


class CallCounter:
    """Counts botocore API calls (and HTTP attempts) made while a handler runs on this thread."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.active = 0
        self.calls: collections.Counter = collections.Counter()      # (scenario, handler, "svc:Op")
        self.attempts: collections.Counter = collections.Counter()   # (scenario, "svc:Op")
        self.invocations: collections.Counter = collections.Counter()  # (scenario, handler)
        self.elsewhere: collections.Counter = collections.Counter()  # calls on other threads meanwhile
        self.commits: collections.Counter = collections.Counter()    # (scenario, "ok"|"failed"|"events")
        self.seconds: collections.Counter = collections.Counter()    # (scenario, handler) -> wall time
        self.frames: list[Any] = []                                   # what the notifier pushed
        self.frame_scenarios: list[Optional[str]] = []                # ... in which scenario
        self.cpu: collections.Counter = collections.Counter()        # (scenario, handler) -> thread CPU seconds

    # botocore handlers: must return None (a value would short-circuit the request)
    def on_call(self, model: Any = None, context: Any = None, **_: Any) -> None:
        if (context or {}).get("rekognition_stand_in"):
            return  # the test stack's Rekognition stand-in reading S3: on AWS, Rekognition's own read
        key = f"{model.service_model.service_name}:{model.name}"
        where = getattr(self._local, "where", None)
        with self._lock:
            if where is not None:
                self.calls[(*where, key)] += 1
            elif self.active:
                self.elsewhere[(threading.current_thread().name, key)] += 1

    def on_send(self, event_name: str = "", request: Any = None, **_: Any) -> None:
        if (getattr(request, "context", None) or {}).get("rekognition_stand_in"):
            return
        where = getattr(self._local, "where", None)
        if where is not None:
            _, _, service_operation = event_name.partition(".")  # before-send.<service id>.<Op>
            with self._lock:
                self.attempts[(where[0], service_operation.replace(".", ":"))] += 1

    def on_frame(self, model: Any = None, params: Any = None, **_: Any) -> Any:
        """API Gateway's management API, answered in-process: a PostToConnection is accepted."""
        if model is not None and model.name == "PostToConnection":
            body = (params or {}).get("body") or b""
            where = getattr(self._local, "where", None)
            with self._lock:
                self.frames.append(json.loads(body) if body else None)
                self.frame_scenarios.append(where[0] if where else None)
        from botocore.awsrequest import AWSResponse

        return AWSResponse("https://bench.invalid", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def on_http(self, url: str) -> None:
        where = getattr(self._local, "where", None)
        if where is not None:
            with self._lock:
                self.calls[(*where, f"https:GET {url.split('/')[-1] or url}")] += 1

    def on_commit(self, ok: bool, events: int, biometrics: bool = False) -> None:
        where = getattr(self._local, "where", None)
        if where is not None:
            with self._lock:
                self.commits[(where[0], "ok" if ok else "failed")] += 1
                if ok:
                    self.commits[(where[0], "events")] += events
                    self.commits[(where[0], "biometric record")] += biometrics  # its own item written too

    def invoke(self, scenario: str, handler: str, run: Callable[[], Any]) -> Any:
        self._local.where = (scenario, handler)
        with self._lock:
            self.active += 1
            self.invocations[(scenario, handler)] += 1
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return run()
        finally:
            with self._lock:
                self.active -= 1
                self.seconds[(scenario, handler)] += time.perf_counter() - started
                self.cpu[(scenario, handler)] += time.thread_time() - cpu
            self._local.where = None


def install(counter: CallCounter) -> None:
    """Hook every botocore client created from now on, the JWKS client, and the repository's commit."""

    import botocore.session

    original_create = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original_create(self, *args, **kwargs)
        client.meta.events.register("before-call", counter.on_call)
        client.meta.events.register("before-send", counter.on_send)
        if client.meta.service_model.service_name == "apigatewaymanagementapi":
            client.meta.events.register("before-call", counter.on_frame)  # after the count: answers it
        return client

    botocore.session.Session.create_client = create_client

    import jwt

    original_fetch = jwt.PyJWKClient.fetch_data

    def fetch_data(self: Any) -> Any:  # the verifier's JWKS fetches (PyJWKClient)
        counter.on_http(self.uri)
        return original_fetch(self)

    jwt.PyJWKClient.fetch_data = fetch_data


def hook_commits(counter: CallCounter) -> None:
    from chalicelib.adapters.dynamodb_applications import DynamoApplicationRepository as ApplicationRepository
    from chalicelib.adapters.dynamodb_applications import biometrics_write

    original = ApplicationRepository.commit

    def commit(self: Any, change: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = original(self, change, *args, **kwargs)
        except Exception:
            counter.on_commit(False, 0)
            raise
        counter.on_commit(True, len(change.events), biometrics_write(change) is not None)
        return result

    ApplicationRepository.commit = commit


def pin_sanctions_index_look(seconds: float = 3600.0) -> None:
    """Like the settings' refresh (SETTINGS_CACHE_SECONDS): a container looks at the sanctions index's published
    version once a minute (one GetObject, per container, not per application); a run that outlasts a minute
    would count that look against one application (the watched one, at a load of 20). The cache is built by
    the app, in a handler's environment, with the interval set here."""
    from chalicelib.services.sanctions import SanctionsIndexCache

    build = SanctionsIndexCache.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        self.check_seconds = seconds

    SanctionsIndexCache.__init__ = init  # type: ignore[method-assign]
