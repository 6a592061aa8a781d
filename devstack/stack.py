"""The whole local stack, started in order and stopped in reverse.

Order matters: the app reads resource names from ``os.environ`` at import
time (``@app.on_s3_event(bucket=os.environ[...])``), so moto must be running,
the template provisioned and the WebSocket gateway bound *before* the app is
imported; the pumps and the scheduler are wired from the imported app's own
registrations afterwards. Every step registers its own undo on an ExitStack,
so a failure half-way (or Ctrl-C during start-up) still stops what started.

moto and the REST API run in processes of their own (:mod:`devstack.processes`);
the WebSocket gateway, the pumps, the scheduler and the control endpoint run
here, with the app imported once more for their handlers.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .provision import FAKE_CREDENTIALS, REGION, local_collections, recreate_collections
from .stack_sign_in import STAFF_TOKEN_FUNCTION, SignInAndConsole

log = logging.getLogger("devstack")

STATE_FILE = "state.json"


@dataclass
class StackOptions:
    project_dir: Path = Path(".")
    template: Path | None = None  # default: <project_dir>/resources.yaml
    host: str = "127.0.0.1"
    api_port: int = 8000
    ws_port: int = 8001
    moto_port: int = 0
    control_port: int = 0
    docs_port: int = 0
    stage: str = "local"
    state_dir: Path | None = None  # default: <project_dir>/.devstack
    verbose: bool = False
    concurrency: int = 8  # concurrent invocations per queue/notification pump
    keep_state: bool = False  # save the local AWS on stop, restore it on the next start

    def __post_init__(self) -> None:
        self.project_dir = Path(self.project_dir).resolve()
        self.template = Path(self.template or self.project_dir / "resources.yaml")
        self.state_dir = Path(self.state_dir or self.project_dir / ".devstack")


def local_aws_environ(endpoint_url: str) -> dict[str, str]:
    """Point every boto3 client of this process at moto, with fake credentials."""
    return {"AWS_ENDPOINT_URL": endpoint_url, "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION, **FAKE_CREDENTIALS}


class _AppHandle:
    """Stands in for the app until it is imported.

    The WebSocket gateway must be bound before the app is imported (the app
    reads WEBSOCKET_DOMAIN at import), but it only touches the app when a
    client connects; until then it sees an app with no WebSocket handlers.
    """

    def __init__(self) -> None:
        self._app: Any = None

    def bind(self, app: Any) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        if self._app is None:
            if name in ("websocket_handlers", "handler_map"):
                return {}
            raise AttributeError(f"the app is not imported yet (wanted {name})")
        return getattr(self._app, name)


class LocalStack(SignInAndConsole):
    """moto + provisioned resources + demo users + chalice local + pumps + scheduler."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.info: dict[str, Any] = {}
        self.env: dict[str, str] = {}
        self._exit = contextlib.ExitStack()
        self._app_handle = _AppHandle()
        self._app_env: dict[str, str] = {}
        self._api_pid: int | None = None
        self._children: list[Any] = []  # the helper processes the stack cannot run without
        self._moto_url = ""
        self._staff_trigger = True  # the staff pool's pre-token-generation trigger names the app's function

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Start everything; returns the description written to the state file."""
        try:
            self._check_ports()
            moto_url, restored = self._start_moto()
            self._moto_url = moto_url
            self._set_environ(local_aws_environ(moto_url))
            self._set_environ({"AWS_ENDPOINT_URL_TEXTRACT": self._start_textract(moto_url)})
            self._set_environ(self._start_rekognition(moto_url))
            session = self._session()
            config, factory = self._chalice_config()
            provider = self._start_identity_provider(session, moto_url)
            saved = self._saved_resources() if restored else None
            self._staff_trigger = (saved.get("staff_trigger", True) if saved is not None
                                   else STAFF_TOKEN_FUNCTION in app_lambda_functions(self.options.project_dir))
            if saved is not None:  # provisioned and seeded in an earlier run
                self._set_environ(rebased(saved["env"], saved.get("moto_url"), moto_url))
                recreate_collections(session, saved.get("collections", []))
                users = saved["users"]
                log.info("devstack: restored the local AWS from %s", self._aws_state_path)
            else:
                self._provision(session, moto_url, config.app_name)
                users = self._seed_users(session, moto_url, provider)
                self._save_resources(users, moto_url)
            self._set_environ(self._auth_domain_environ())
            ws_url = self._start_websocket_gateway()
            app = self._import_app(factory, config)
            self._check_staff_trigger(app)
            api_url = self._start_api(factory, config, app)
            pumps = self._start_pumps(app, session, moto_url, config)
            scheduler = self._start_scheduler(app, config)
            control_url = self._start_control(scheduler, session, moto_url, users, app, config, pumps)
            console_url = self._start_console(session, moto_url, api_url)
            self._connect_sign_in(session, moto_url, provider, control_url, [console_url, f"{api_url}/console"])
            docs_url = self._start_docs(api_url)
        except BaseException:
            self.stop()
            raise
        self.info = {
            "pid": os.getpid(), "stage": self.options.stage,
            "project_dir": str(self.options.project_dir),
            "api_url": api_url, "ws_url": ws_url, "moto_url": moto_url,
            "control_url": control_url, "docs_url": docs_url, "users": users, "env": dict(self.env),
            "console_url": console_url, "auth_url": self._hosted_ui_url, "provider_url": provider.issuer,
            "schedules": scheduler.describe(), "pumps": [pump.describe() for pump in pumps],
        }
        self._write_state()
        return self.info

    def stop(self) -> None:
        """Stop whatever started, newest first. Safe to call more than once."""
        self._exit.close()

    def unclean_stops(self) -> list[tuple[str, int]]:
        """(name, exit status) of each helper process that did not stop cleanly when told to (the local AWS
        that could not save itself for --keep-state: status 3)."""
        return [(child.name, child.stopped_with) for child in self._children if child.stopped_with]

    def dead_child(self) -> tuple[str, int] | None:
        """(name, exit code) of a helper process that died under the running stack (the local AWS or the
        API), or None. Without it nothing works (every call would be refused), so the stack stops."""
        for child in self._children:
            code = child.exit_code()
            if code is not None:
                return child.name, code
        return None

    @property
    def _public_host(self) -> str:
        from .net import public_host

        return public_host(self.options.host)

    # --- steps -----------------------------------------------------------------

    def _check_ports(self) -> None:
        """Fail in milliseconds on a busy port, not after provisioning (a second ``up``)."""
        from .net import ensure_free

        options = self.options
        ensure_free(options.host, {"--api-port": options.api_port, "--ws-port": options.ws_port,
                                   "--moto-port": options.moto_port,
                                   "--control-port": options.control_port})

    def _start_moto(self) -> tuple[str, int]:
        """moto in a process of its own (see :mod:`devstack.processes`): (URL, backends restored)."""
        from .processes import ChildProcess

        args = ["--host", "127.0.0.1", "--port", str(self.options.moto_port)]
        if self.options.verbose:
            args.append("--verbose")
        if self.options.keep_state:
            args += ["--state-file", str(self._aws_state_path)]
        else:  # a fresh start must not find a kept run's resources later
            for stale in (self._aws_state_path, self._resources_path):
                stale.unlink(missing_ok=True)
        moto = ChildProcess("moto", "devstack.moto_process", args, dict(os.environ),
                            self.options.project_dir)
        started = moto.start()
        self._exit.callback(moto.stop)
        self._hosted_ui_url = started["hosted_ui_url"]
        self._children.append(moto)
        return started["url"], started.get("restored", 0)

    # --keep-state: moto's objects in one file, what provisioning returned in another.

    @property
    def _aws_state_path(self) -> Path:
        return self.options.state_dir / "aws-state.pickle"

    @property
    def _resources_path(self) -> Path:
        return self.options.state_dir / "aws-resources.json"

    def _saved_resources(self) -> dict[str, Any] | None:
        try:
            saved = json.loads(self._resources_path.read_text())
        except (OSError, ValueError):
            return None
        return saved if saved.get("template") == str(self.options.template) else None

    def _save_resources(self, users: list[dict[str, Any]], moto_url: str | None = None) -> None:
        """What provisioning returned, without what each start makes afresh (the local AWS's endpoints, the
        local Textract's); ``moto_url`` so that a restore can point what names the local AWS (the user pools'
        JWKS URLs) at the next run's port."""
        if not self.options.keep_state:
            return
        from .files import write_atomically

        write_atomically(self._resources_path, json.dumps({
            "template": str(self.options.template),
            "moto_url": moto_url or self._moto_url,
            "staff_trigger": self._staff_trigger,
            "collections": local_collections(self._session()),
            "env": {key: value for key, value in self.env.items()
                    if key not in local_aws_environ("") and key not in FRESH_EACH_START},
            "users": users}).encode())

    def _start_textract(self, moto_url: str) -> str:
        """moto's Textract returns no text: the local one (devstack/textract.py) reads with real OCR."""
        from .textract import start_textract

        server = start_textract(moto_url, host="127.0.0.1")
        self._exit.callback(server.stop)
        return server.url

    def _start_rekognition(self, moto_url: str) -> dict[str, str]:
        """moto does not compare faces: the local Rekognition (devstack/rekognition) does, with dlib,
        and stands in for Face Liveness's streaming endpoint. Fails loudly without its model files."""
        from .rekognition import start_rekognition

        server = start_rekognition(moto_url, host=self.options.host)  # the browser posts liveness frames
        self._exit.callback(server.stop)
        liveness = server.liveness_url.replace(self.options.host, self._public_host, 1)
        return {"AWS_ENDPOINT_URL_REKOGNITION": server.url, "LIVENESS_PROVIDER": "local",
                "LIVENESS_ENDPOINT": liveness}

    def _set_environ(self, values: dict[str, str]) -> None:
        """The app runs in this process, so the stack's settings live in os.environ."""
        for unsafe in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(unsafe, None)  # never reach a real account by accident
        os.environ.update(values)
        self.env.update(values)

    def _session(self) -> Any:
        import boto3

        return boto3.Session(aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                             region_name=REGION)

    def _chalice_config(self) -> tuple[Any, Any]:
        from chalice.cli.factory import CLIFactory

        factory = CLIFactory(str(self.options.project_dir), environ=os.environ)
        config = factory.create_config_obj(chalice_stage_name=self.options.stage)
        return config, factory

    def _provision(self, session: Any, moto_url: str, app_name: str) -> None:
        from .provision import provision

        started = time.perf_counter()
        env = provision(self.options.template, self.options.stage, session, moto_url,
                        name_prefix=app_name, parameters=self._delivery_parameters(app_name))
        self._set_environ(env)
        from .sanctions import seed as seed_sanctions  # issue 13: the list snapshot and a first index

        seed_sanctions(env, session, moto_url)
        log.info("devstack: provisioned %s in %.2f s", self.options.template.name,
                 time.perf_counter() - started)

    def _seed_users(self, session: Any, moto_url: str, provider: Any) -> list[dict[str, Any]]:
        """Applicants in the customer pool; staff are the provider's people (seeded at its start)."""
        from .users import DEMO_USERS, seed_demo_users

        if "USER_POOL_ID" not in self.env:
            log.warning("devstack: the template has no UserPoolId output; no demo users")
            return []
        cognito = session.client("cognito-idp", endpoint_url=moto_url)
        applicants = tuple(user for user in DEMO_USERS if user.pool != "staff")
        seed_demo_users(cognito, self.env["USER_POOL_ID"], applicants)
        return [user.as_dict() for user in DEMO_USERS]

    def _start_websocket_gateway(self) -> str | None:
        try:
            from .wsgateway import WebSocketGateway
        except ImportError as error:
            # INTEGRATION POINT: devstack/wsgateway.py (WebSocketGateway) is
            # written separately; without it the stack serves REST only.
            log.warning("devstack: WARNING: no WebSocket gateway (%s)", error)
            return None
        gateway = WebSocketGateway(self._app_handle, host=self.options.host,
                                   port=self.options.ws_port, stage=self.options.stage,
                                   state_dir=self.options.state_dir, configure_app=False)
        gateway.start()
        self._exit.callback(gateway.stop)
        self._set_environ({"WEBSOCKET_DOMAIN": gateway.management_domain, "WEBSOCKET_URL": gateway.ws_url,
                           "WEBSOCKET_STAGE": self.options.stage,
                           "AWS_CA_BUNDLE": str(gateway.ca_bundle)})
        return gateway.ws_url

    def _check_staff_trigger(self, app: Any) -> None:
        """The staff pool's pre-token-generation trigger names a function of this app, or there is none: as a
        deploy whose trigger names a missing function fails, the stack says so now, not at the first sign-in."""
        defined = any(function.name == STAFF_TOKEN_FUNCTION for function in app.pure_lambda_functions)
        if self._staff_trigger and not defined:
            raise RuntimeError(
                f"the staff user pool's pre-token-generation trigger names {STAFF_TOKEN_FUNCTION}, which this app "
                "does not define (a local AWS kept from another app.py?): start without --keep-state")
        if defined and not self._staff_trigger:
            raise RuntimeError(
                f"the app defines {STAFF_TOKEN_FUNCTION} but the kept local AWS's staff user pool has no "
                "pre-token-generation trigger (kept before the app had it): start without --keep-state")

    def _import_app(self, factory: Any, config: Any) -> Any:
        """Import app.py as ``chalice local`` does, stack settings winning over config.json."""
        app_env = dict(config.environment_variables)
        for key, value in self.env.items():
            if key in app_env and app_env[key] != value:
                log.warning("devstack: config.json stage %r sets %s=%s; the local stack "
                            "uses %s", self.options.stage, key, app_env[key], value)
        app_env.update(self.env)
        self.env = {**config.environment_variables, **self.env}
        self._app_env = app_env
        app = factory.load_chalice_app(app_env)
        self._app_handle.bind(app)
        if "WEBSOCKET_DOMAIN" in self.env:
            # As the gateway would, but only now that the app exists. configure()
            # is first-wins, so an app that configured itself from the env keeps it.
            app.websocket_api.configure(self.env["WEBSOCKET_DOMAIN"], self.options.stage)
        return app

    def _start_api(self, factory: Any, config: Any, app: Any) -> str:
        """The REST API in a process of its own, serving the same app.py."""
        from .processes import ChildProcess

        self._settings_ack_path.unlink(missing_ok=True)
        options = {"project_dir": str(self.options.project_dir), "stage": self.options.stage,
                   "host": self.options.host, "port": self.options.api_port,
                   "app_env": self._app_env, "settings_ack_file": str(self._settings_ack_path)}
        api = ChildProcess("api", "devstack.api_process", [],
                           {**os.environ, "DEVSTACK_API_OPTIONS": json.dumps(options)},
                           self.options.project_dir)
        port = api.start()["port"]
        self._api_pid = api.pid
        self._children.append(api)
        self._exit.callback(api.stop)
        return f"http://{self._public_host}:{port}"

    def _lambda_options(self, config: Any) -> dict[str, Any]:
        return {"region": REGION, "memory_limit_in_mb": config.lambda_memory_size or 128,
                "timeout_seconds": config.lambda_timeout or 60}

    def _start_pumps(self, app: Any, session: Any, moto_url: str, config: Any) -> list:
        from .pump_wiring import PumpFactory, start_pumps, stop_pumps

        pumps = PumpFactory(app, session, moto_url, self.options.stage,
                            concurrency=self.options.concurrency,
                            **self._lambda_options(config)).build()
        start_pumps(pumps)
        self._exit.callback(stop_pumps, pumps)
        return pumps

    def _start_scheduler(self, app: Any, config: Any) -> Any:
        from .scheduler import Scheduler

        scheduler = Scheduler(app, self.options.stage, **self._lambda_options(config))
        scheduler.start()
        self._exit.callback(scheduler.stop)
        return scheduler

    def _start_control(self, scheduler: Any, session: Any, moto_url: str,
                       users: list[dict[str, Any]], app: Any, config: Any,
                       pumps: list[Any] | None = None) -> str:
        from .control import ControlServer
        from .runtime import Invoker
        from .signin import oauth_sign_in
        from .users import STAFF_PROVIDER, client_id_for, find_user, sign_in

        cognito = session.client("cognito-idp", endpoint_url=moto_url)

        def sign_in_demo_user(role_or_email: str) -> dict[str, Any]:
            user = find_user(users, role_or_email)
            if user.get("pool") == "staff":  # through the corporate provider and managed login, as the console
                return oauth_sign_in(self._hosted_ui_url, self.env["STAFF_USER_POOL_CLIENT_ID"],
                                     self.info["console_url"], STAFF_PROVIDER, user["email"], user["password"],
                                     user.get("totp_secret"))
            return sign_in(cognito, client_id_for(self.env, user), user["email"],
                           user["password"])

        prefix = f"{config.app_name}-{self.options.stage}-"
        invokers: dict[str, Invoker] = {}

        def invoke(function: str, event: Any) -> Any:
            """The app's function by its Lambda name (the pools' triggers name it by ARN)."""
            name = function.removeprefix(prefix)
            if not function.startswith(prefix) or name not in app.handler_map:
                raise KeyError(function)
            if name not in invokers:
                invokers[name] = Invoker(app, name, self.options.stage, **self._lambda_options(config))
            return invokers[name](event)

        control = ControlServer(scheduler, lambda: self.info, self.options.host,
                                self.options.control_port, sign_in=sign_in_demo_user,
                                add_user=lambda email, role, password: self._add_user(
                                    cognito, users, email, role, password),
                                refresh_settings=self._refresh_settings, pumps=pumps, invoke=invoke,
                                provider=self._provider)
        control.start()
        self._exit.callback(control.stop)
        return control.url

    def _add_user(self, cognito: Any, users: list[dict[str, Any]], email: str, role: str,
                  password: str) -> dict[str, Any]:
        """``./dev user add``: one more confirmed user, listed like the demo users (staff: a person of the
        corporate stand-in provider in the role's provider group, with an authenticator enrolled)."""
        from .oidc_provider import new_totp_secret
        from .users import ROLE_GROUPS, DemoUser, seed_demo_users

        if role not in ROLE_GROUPS:
            raise ValueError(f"role must be one of {', '.join(ROLE_GROUPS)}")
        if any(user["email"].lower() == email.lower() for user in users):
            raise ValueError(f"{email} is already a user of this stack")
        user = DemoUser(role, email, password, ROLE_GROUPS[role],
                        totp_secret=new_totp_secret() if ROLE_GROUPS[role] else None)
        seed_demo_users(cognito, self.env["USER_POOL_ID"], (user,), provider=self._provider)
        users.append(user.as_dict())
        self._save_resources(users)
        if self.info:
            self._write_state(register=False)
        log.info("devstack: added %s user %s", role, email)
        return user.as_dict()

    def _refresh_settings(self) -> list[str]:
        """Drop the settings the handlers cached, here and in the API process (SIGUSR1)."""
        import signal

        from chalicelib.bootstrap import services

        built = services()
        if "settings" in vars(built):  # a cached_property, built on first use
            built.settings.clear_cache()
        refreshed = ["handlers"]
        if self._api_pid:
            from .deadlines import scaled

            ack = self._settings_ack_path
            before = _read_count(ack)
            os.kill(self._api_pid, signal.SIGUSR1)
            deadline = time.monotonic() + scaled(30.0)
            while _read_count(ack) <= before:  # the API process counts each refresh it made
                if time.monotonic() > deadline:
                    raise TimeoutError("the API process did not refresh its settings in time")
                time.sleep(0.02)
            refreshed.append("api")
        return refreshed

    @property
    def _settings_ack_path(self) -> Path:
        return self.options.state_dir / "api-settings-refreshed"

    def _start_docs(self, api_url: str) -> str:
        from .apidocs import DocsServer

        docs = DocsServer(api_url, self.options.host, self.options.docs_port)
        docs.start()
        self._exit.callback(docs.stop)
        return docs.url

    # --- the state file other commands find the stack through --------------------

    @property
    def state_path(self) -> Path:
        return self.options.state_dir / STATE_FILE

    def _write_state(self, register: bool = True) -> None:
        from .files import write_atomically

        write_atomically(self.state_path, json.dumps(self.info, indent=2).encode())
        if register:
            self._exit.callback(self._remove_state)

    def _remove_state(self) -> None:
        """Remove the state file unless a newer stack has replaced it."""
        with contextlib.suppress(FileNotFoundError, ValueError):
            if json.loads(self.state_path.read_text()).get("pid") == os.getpid():
                self.state_path.unlink()


def _read_count(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0


NOT_RUNNING = "devstack: the local stack is not running (start it with ./dev up)"


def read_state(state_dir: Path) -> dict[str, Any]:
    """The running stack's description; exits with one line when none runs."""
    path = Path(state_dir) / STATE_FILE
    try:
        state = json.loads(path.read_text())
        os.kill(state["pid"], 0)
    except PermissionError:
        pass  # alive, owned by someone else
    except (OSError, ValueError, KeyError, TypeError):
        raise SystemExit(NOT_RUNNING) from None
    return state




def app_lambda_functions(project_dir: Path) -> set[str]:
    """The names of the plain Lambda functions (``@app.lambda_function``) app.py declares, read without
    importing it: importing needs the settings provisioning makes, and provisioning needs to know whether the
    staff pool's trigger has a function to name (as scripts/deploy.py passes it only once Chalice made it)."""
    import ast

    try:
        tree = ast.parse((project_dir / "app.py").read_text())
    except (OSError, SyntaxError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "lambda_function"):
                given = [k.value for k in decorator.keywords if k.arg == "name"]
                if decorator.args:
                    given.append(decorator.args[0])
                name = given[0].value if given and isinstance(given[0], ast.Constant) else node.name
                names.add(str(name))
    return names


#: Settings each start makes afresh (servers on new ports): never saved, never restored.
FRESH_EACH_START = ("AWS_ENDPOINT_URL_TEXTRACT", "AWS_ENDPOINT_URL_REKOGNITION", "LIVENESS_PROVIDER",
                    "LIVENESS_ENDPOINT")


def rebased(env: dict[str, str], old_moto_url: str | None, moto_url: str) -> dict[str, str]:
    """A kept run's settings for this run: without the endpoints each start makes afresh, and every value
    that named the previous local AWS (``COGNITO_JWKS_URL``, the staff pool's) naming this one. A file saved
    before ``moto_url`` was kept names it in the JWKS URL's origin."""
    import re

    if old_moto_url is None:
        jwks = env.get("COGNITO_JWKS_URL", "")
        found = re.match(r"^https?://[^/]+", jwks)
        old_moto_url = found.group(0) if found else None
    fresh = {key: value for key, value in env.items() if key not in FRESH_EACH_START}
    if old_moto_url and old_moto_url != moto_url:
        fresh = {key: value.replace(old_moto_url, moto_url) for key, value in fresh.items()}
    return fresh
