"""The local stack's control endpoint: what ``./dev`` commands ask the running stack.

    GET  /                          the stack's description (URLs, users, schedules, pumps)
    GET  /schedules                 {name: expression}
    GET  /jobs                      [{name, schedule, description}]
    POST /schedules/<name>/fire     run that schedule's handler once, now; body (optional)
                                    {"as_of": "2027-01-31T00:00:00Z"} sets the event's time;
                                    200 {"result": ...} or 500 with the error and traceback
    GET  /users/<role or email>/token  {"IdToken", "AccessToken"} of a demo user (or one added); staff
                                    sign in through the corporate stand-in provider and managed login
    POST /users                     {"email", "role", "password"}: add a confirmed user (applicant:
                                    the customer pool; reviewer/operator: the staff pool and group)
    POST /pumps/<handler>/pause     hold a queue's deliveries to that handler (AWS: disable its
    POST /pumps/<handler>/resume    event source mapping); messages wait in the queue meanwhile
    POST /settings/refresh          the stack's handlers drop their cached settings, so a change
                                    in Parameter Store applies at once (AWS: within the cache TTL)
    POST   /provider/people         the corporate stand-in provider's directory (issue 21): add a person
                                    {"email", "password", "groups": [...], "totp_secret"?}
    PUT    /provider/people/<email> {"groups": [...]}: their groups at the provider change
    DELETE /provider/people/<email> a leaver: gone from the provider, their provider sessions revoked
    POST /functions/<name>/invoke   run the app's function <name> (Chalice's Lambda name) with the body
                                    as its event: 200 its result, 500 {"error": its message}; the local
                                    user pool domain calls it for the pools' Lambda triggers

The commands talk to it rather than to moto themselves because the stack
already has its clients warm: ``./dev token`` answers in a few tens of
milliseconds instead of paying boto3's import and client set-up (~3 s).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .scheduler import Scheduler
from .webserver import BackgroundServer

log = logging.getLogger("devstack")

#: (role or email) -> Cognito's AuthenticationResult
SignIn = Callable[[str], dict[str, Any]]
#: (Lambda function name, event) -> the function's result; KeyError for no such function
Invoke = Callable[[str, Any], Any]
#: (email, role, password) -> the user as the state file lists it
AddUser = Callable[[str, str, str], dict[str, Any]]


class ControlServer(BackgroundServer):
    """A tiny JSON HTTP server in a daemon thread, bound before it reports its port."""

    def __init__(self, scheduler: Scheduler, describe: Callable[[], dict[str, Any]],
                 host: str = "127.0.0.1", port: int = 0, sign_in: SignIn | None = None,
                 invoke: Invoke | None = None, provider: Any = None,
                 add_user: AddUser | None = None,
                 refresh_settings: Callable[[], list[str]] | None = None,
                 pumps: list[Any] | None = None) -> None:
        handler = _handler_class(scheduler, describe, sign_in, add_user, refresh_settings, pumps or [],
                                 invoke, provider)
        super().__init__(ThreadingHTTPServer((host, port), handler), "devstack-control")


def parse_as_of(value: Any) -> dt.datetime | None:
    """An ISO 8601 instant (``Z`` or an offset; naive means UTC), or None."""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _handler_class(scheduler: Scheduler, describe: Callable[[], dict[str, Any]],
                   sign_in: SignIn | None, add_user: AddUser | None = None,
                   refresh_settings: Callable[[], list[str]] | None = None,
                   pumps: list[Any] | None = None, invoke: Invoke | None = None, provider: Any = None) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0].rstrip("/")
            parts = path.strip("/").split("/")
            if path == "":
                self._reply(200, describe())
            elif path == "/schedules":
                self._reply(200, scheduler.describe())
            elif path == "/jobs":
                self._reply(200, scheduler.describe_jobs())
            elif len(parts) == 3 and parts[0] == "users" and parts[2] == "token" and sign_in:
                try:
                    result = sign_in(urllib.parse.unquote(parts[1]))  # an e-mail arrives quoted
                except KeyError as error:
                    self._reply(404, {"error": error.args[0]})
                    return
                except RuntimeError as error:  # the provider or the user pool refused
                    self._reply(403, {"error": str(error)})
                    return
                self._reply(200, {key: result[key] for key in ("IdToken", "AccessToken")})
            else:
                self._reply(404, {"error": f"no such resource {self.path}"})

        def do_POST(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "functions" and parts[2] == "invoke" and invoke:
                self._invoke(parts[1])
                return
            if parts == ["provider", "people"] and provider is not None:
                from .oidc_provider import Person

                body = self._body()
                if not isinstance(body, dict) or not body.get("email") or not body.get("password"):
                    self._reply(400, {"error": "give email, password and groups"})
                    return
                provider.add(Person(body["email"], body["password"], {"groups": list(body.get("groups") or [])},
                                    totp_secret=body.get("totp_secret")))
                self._reply(201, {"email": body["email"]})
                return
            if parts == ["users"] and add_user:
                self._add_user()
                return
            if parts == ["settings", "refresh"] and refresh_settings:
                self._reply(200, {"refreshed": refresh_settings()})
                return
            if len(parts) == 3 and parts[0] == "pumps" and parts[2] in ("pause", "resume"):
                self._pause(parts[1], parts[2] == "pause")
                return
            if len(parts) != 3 or parts[0] != "schedules" or parts[2] != "fire":
                self._reply(404, {"error": f"no such resource {self.path}"})
                return
            name = parts[1]
            if name not in scheduler.jobs:
                self._reply(404, {"error": f"no schedule named {name!r}",
                                  "schedules": sorted(scheduler.jobs)})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                as_of = parse_as_of(body.get("as_of"))
            except (ValueError, AttributeError) as error:
                self._reply(400, {"error": f"bad request: {error}"})
                return
            log.info("devstack: firing schedule %s now%s (control endpoint)", name,
                     f" as of {as_of.isoformat()}" if as_of else "")
            try:
                result = scheduler.fire(name, as_of)
            except Exception as error:  # noqa: BLE001 - reported to the caller
                scheduler.jobs[name].invoker.log_failure("a fire-now request", error)
                summary = getattr(error, "summary", None)
                if isinstance(summary, dict):  # a job that ran and reported failures: its words, no traceback
                    self._reply(500, {"error": str(error), "summary": summary})
                    return
                self._reply(500, {"error": f"{type(error).__name__}: {error}",
                                  "traceback": traceback.format_exc()})
                return
            self._reply(200, {"result": result})

        def do_PUT(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")
            if len(parts) != 3 or parts[:2] != ["provider", "people"] or provider is None:
                self._reply(404, {"error": f"no such resource {self.path}"})
                return
            body = self._body()
            try:
                provider.set_groups(urllib.parse.unquote(parts[2]), list((body or {}).get("groups") or []))
            except KeyError as error:
                self._reply(404, {"error": error.args[0]})
                return
            self._reply(200, {"email": urllib.parse.unquote(parts[2])})

        def do_DELETE(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")
            if len(parts) != 3 or parts[:2] != ["provider", "people"] or provider is None:
                self._reply(404, {"error": f"no such resource {self.path}"})
                return
            provider.remove(urllib.parse.unquote(parts[2]))
            self._reply(200, {"removed": urllib.parse.unquote(parts[2])})

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                return json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                return None

        def _invoke(self, function: str) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
                event = json.loads(self.rfile.read(length) or b"null")
            except ValueError as error:
                self._reply(400, {"error": f"bad request: {error}"})
                return
            try:
                assert invoke is not None
                result = invoke(function, event)
            except KeyError:
                self._reply(404, {"error": f"no function {function} in the app"})
                return
            except Exception as error:  # noqa: BLE001 - the function failed: its message, as Lambda reports it
                log.info("devstack: function %s failed: %s", function, error)
                self._reply(500, {"error": str(error), "type": type(error).__name__})
                return
            self._reply(200, result)

        def _pause(self, name: str, pause: bool) -> None:
            pausable = [pump for pump in pumps or [] if hasattr(pump, "sqs") and
                        pump.source.startswith("sqs:")]
            chosen = [pump for pump in pausable if pump.invoker.name == name]
            if not chosen:
                self._reply(404, {"error": f"no queue-triggered handler {name!r} (known: "
                                           f"{', '.join(sorted(p.invoker.name for p in pausable))})"})
                return
            for pump in chosen:
                (pump.enabled.clear if pause else pump.enabled.set)()
            log.info("devstack: %s %s", "paused" if pause else "resumed", name)
            self._reply(200, {"handler": name, "paused": pause,
                              "sources": [pump.source for pump in chosen]})

        def _add_user(self) -> None:
            assert add_user is not None
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                email, role, password = body["email"], body["role"], body["password"]
            except (ValueError, KeyError, TypeError) as error:
                self._reply(400, {"error": f"bad request: {error!r} (send email, role, password)"})
                return
            try:
                self._reply(201, add_user(str(email), str(role), str(password)))
            except (ValueError, KeyError) as error:
                self._reply(400, {"error": str(error.args[0] if error.args else error)})
            except Exception as error:  # noqa: BLE001 - Cognito's refusal, reported to the caller
                self._reply(400, {"error": f"{type(error).__name__}: {error}"})

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("devstack control: " + format, *args)

    return Handler
