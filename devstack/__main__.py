"""``python -m devstack``: run the local stack and talk to the running one.

    python -m devstack up [--host 127.0.0.1] [--api-port 8000] [--ws-port 8001]
                          [--moto-port 0] [--control-port 0] [--docs-port 0] [--stage local]
                          [--keep-state] [--concurrency 8]
    python -m devstack token applicant|reviewer|operator|EMAIL [--access]
    python -m devstack fire [<schedule handler name> [--as-of 2027-01-31T00:00:00Z | --in 3d]]
    python -m devstack upload APPLICATION_ID FILE [--as applicant|EMAIL] [--type image/jpeg]
    python -m devstack selfie APPLICATION_ID PHOTO... [--as applicant|EMAIL]   # liveness from photos
    python -m devstack wait APPLICATION_ID [--state APPROVED ...] [--timeout 120]
    python -m devstack pause|resume HANDLER   # hold a queue's deliveries (AWS: disable the mapping)
    python -m devstack user add EMAIL --role reviewer|operator|applicant [--password P]
    python -m devstack env            # `eval "$(python -m devstack env)"`: API_URL, WS_URL, ...

Every command also takes --project-dir (default: .) and --state-dir (default:
$DEVSTACK_STATE_DIR, else <project>/.devstack).

Port 0 picks a free port; the real ports are printed and written to
``<state-dir>/state.json``, which the other commands read. They ask the
running stack's control endpoint, so they answer at once and need no AWS SDK
of their own; with no stack running they say so in one line and exit 1.
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shlex
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

READY_MARKER = "DEVSTACK_READY"
#: The states an application rests in until someone (or a schedule) acts.
SETTLED = ("APPROVED", "REJECTED", "FLAGGED", "WITHDRAWN", "EXPIRED")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project-dir", type=Path, default=Path("."),
                        help="the Chalice project (default: the current directory)")
    common.add_argument("--state-dir", type=Path, default=None,
                        help="where the running stack is recorded (default: $DEVSTACK_STATE_DIR, "
                             "else <project>/.devstack)")
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", parents=[common],
                             help="start the local stack (Ctrl-C stops it)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--api-port", type=int, default=8000)
    up.add_argument("--ws-port", type=int, default=8001)
    up.add_argument("--moto-port", type=int, default=0)
    up.add_argument("--control-port", type=int, default=0)
    up.add_argument("--docs-port", type=int, default=0, help="the API docs page (Swagger UI)")
    up.add_argument("--stage", default="local")
    up.add_argument("--verbose", action="store_true", help="log every call moto serves")
    up.add_argument("--keep-state", action="store_true",
                    help="keep the local AWS (tables, objects, queues, users) across restarts: "
                         "saved on stop to <state-dir>/aws-state.pickle, restored on start "
                         "(default: every start is fresh)")
    up.add_argument("--concurrency", type=int, default=8,
                    help="concurrent handler invocations per SQS queue, S3 bucket and SNS topic "
                         "(like Lambda's; DynamoDB streams stay one batch at a time per shard)")

    token = commands.add_parser("token", parents=[common],
                                help="print a Cognito token of a demo user")
    token.add_argument("user", help="applicant, reviewer, operator, or the e-mail of a demo user "
                                    "or of one added with `user add`")
    token.add_argument("--access", action="store_true",
                       help="print the access token instead of the ID token")

    fire = commands.add_parser("fire", parents=[common],
                               help="run a schedule's handler now (no name: list them)")
    fire.add_argument("name", nargs="?", help="the schedule's handler name")
    when = fire.add_mutually_exclusive_group()
    when.add_argument("--as-of", metavar="ISO8601",
                      help="the scheduled event's time, e.g. 2027-01-31T00:00:00Z")
    when.add_argument("--in", dest="later", metavar="DURATION",
                      help="as of this long from now: 90m, 36h, 3d, 2w")

    upload = commands.add_parser("upload", parents=[common],
                                 help="upload a document for an application (presigned POST)")
    upload.add_argument("application_id")
    upload.add_argument("file", type=Path)
    upload.add_argument("--as", dest="user", default="applicant",
                        help="the applicant who owns the application: `applicant` (the default) or "
                             "the e-mail of an applicant added with `user add` (staff own no "
                             "applications, so a reviewer or operator cannot upload)")
    upload.add_argument("--type", dest="content_type", metavar="CONTENT_TYPE",
                        help="declare this type instead of the file's true one (image/jpeg, "
                             "image/png, application/pdf), to see how the app treats a mismatch")

    selfie = commands.add_parser("selfie", parents=[common],
                                 help="take the liveness check of an application with photos of one person "
                                      "(consent, session, frames chosen for the challenge, complete)")
    selfie.add_argument("application_id")
    selfie.add_argument("photos", nargs="+", type=Path, metavar="PHOTO",
                        help="JPEG/PNG photos of the applicant: one facing the camera and others turned left "
                             "and right (the challenge is drawn per session)")
    selfie.add_argument("--as", dest="user", default="applicant",
                        help="the demo user who owns the application (default: applicant)")
    selfie.add_argument("--consent-version", help="the consent text version to accept (default: v1)")

    wait = commands.add_parser("wait", parents=[common],
                               help="wait until an application is decided; print its state")
    wait.add_argument("application_id")
    wait.add_argument("--state", dest="states", action="append", metavar="STATE",
                      help="wait for this state (repeatable; default: any of "
                           f"{', '.join(SETTLED)}); exit 1 if it settles in another")
    wait.add_argument("--as", dest="user", default="applicant",
                      help="who reads the application (default: applicant)")
    wait.add_argument("--timeout", type=float, default=None,
                      help="seconds to wait at most (default: 120 x $DEADLINE_FACTOR)")

    for verb, says in (("pause", "hold a queue's deliveries to a handler (AWS: disable its event "
                                 "source mapping); messages wait in the queue"),
                       ("resume", "deliver again what a pause held")):
        held = commands.add_parser(verb, parents=[common], help=says)
        held.add_argument("handler", help="a queue-triggered handler, e.g. check_address")

    user = commands.add_parser("user", parents=[common], help="add a user to the running stack")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", parents=[common],
                                   help="add a confirmed applicant, or a reviewer/operator at the corporate "
                                        "provider (stand-in); prints how they sign in")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=("applicant", "reviewer", "operator"),
                     help="reviewer and operator go into the staff pool with that group; "
                          "applicant into the customer pool")
    add.add_argument("--password", default=None,
                     help="an applicant's password, or a staff member's at the corporate provider; "
                          "default: one is made up and printed (it meets the policies)")

    commands.add_parser("env", parents=[common],
                        help="print the stack's URLs (API_URL, WS_URL, CONSOLE_URL, DOCS_URL, "
                             "CONTROL_URL) and the app's environment as shell exports")

    otp = commands.add_parser("otp", parents=[common],
                              help="print a demo staff member's authenticator code (MFA at the provider)")
    otp.add_argument("user", help="reviewer, operator, or a demo staff member's email")
    return parser


def _state_dir(args: argparse.Namespace) -> Path:
    """--state-dir, else $DEVSTACK_STATE_DIR (how the doc tests point ./dev at their stack)."""
    from_env = os.environ.get("DEVSTACK_STATE_DIR")
    return args.state_dir or (Path(from_env) if from_env else args.project_dir.resolve() / ".devstack")


# --- up ---------------------------------------------------------------------------

def _banner(info: dict[str, Any], seconds: float) -> str:
    lines = [
        "",
        "  account-opening local stack",
        f"  REST API        {info['api_url']}",
        f"  console         {info['console_url']}   (CloudFront's stand-in; the API's own: {info['api_url']}/console)",
        f"  sign-in         {info['auth_url']}   (the user pools' domain)  corporate provider: {info['provider_url']}",
        f"  WebSocket       {info['ws_url'] or '(no gateway)'}",
        f"  local AWS       {info['moto_url']}   (moto)",
        f"  control         {info['control_url']}",
        f"  API docs        {info['docs_url']}   (Swagger UI; the documents: /docs/openapi.json,"
        " /docs/asyncapi.json)",
        "",
        "  Demo users (applicants: the customer pool; staff: the corporate provider, then the staff pool):",
    ]
    for user in info["users"]:
        groups = f"groups: {', '.join(user['groups'])}" if user["groups"] else ""
        pool = f"({user.get('pool', 'customer')} pool)"
        lines.append(f"    {user['role']:<10} {user['email']:<24} {user['password']:<19} {groups:<18} {pool}")
        if user.get("totp_secret"):
            lines.append(f"    {'':<10} authenticator code: python -m devstack otp {user['role']}   "
                         f"(secret {user['totp_secret']})")
    lines += [
        "",
        "  Get a token:     ./dev token applicant   (or reviewer, operator)",
        "  Call the API:    curl -H \"Authorization: Bearer $(./dev token applicant)\" "
        f"{info['api_url']}/applications",
        "  A document:      ./dev passport --from docs/example-application.json   (writes it to "
        "the temp folder)",
        "  Upload it:       ./dev upload APPLICATION_ID FILE;  ./dev wait APPLICATION_ID",
    ]
    if info["schedules"]:
        lines.append("  Fire a schedule: ./dev fire <name> [--in 3d]   (./dev fire lists them: "
                     f"{', '.join(sorted(info['schedules']))})")
    lines += ["", f"  ready in {seconds:.2f} s -- Ctrl-C stops everything", ""]
    return "\n".join(lines)


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _up(args: argparse.Namespace, started: float) -> int:
    # Like `chalice local`: the app's logging goes to stdout, as in Lambda.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("pynamodb").setLevel(logging.WARNING)  # "Override settings ... not available"
    from .processes import ChildFailed
    from .pump_wiring import WiringError
    from .rekognition.engine import ModelsMissing
    from .stack import LocalStack, StackOptions
    from .template import TemplateError

    # Explicit, because a shell starting us in the background ignores SIGINT
    # (and Python then keeps it ignored); SIGTERM stops like Ctrl-C.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    stack = LocalStack(StackOptions(
        project_dir=args.project_dir, host=args.host, api_port=args.api_port,
        ws_port=args.ws_port, moto_port=args.moto_port, control_port=args.control_port,
        docs_port=args.docs_port, stage=args.stage, state_dir=_state_dir(args), verbose=args.verbose,
        concurrency=args.concurrency, keep_state=args.keep_state))
    try:
        info = stack.start()
        print(_banner(info, time.perf_counter() - started), flush=True)
        ready = {key: info[key] for key in
                 ("api_url", "ws_url", "moto_url", "control_url", "docs_url", "users", "env", "console_url",
                  "auth_url", "provider_url")}
        print(f"{READY_MARKER} {json.dumps(ready)}", flush=True)
        while True:
            time.sleep(1)
            dead = stack.dead_child()
            if dead is not None:
                name, code = dead
                print(f"devstack: error: the {name} process exited (code {code}); the stack cannot run "
                      f"without it and stops. Start it again with ./dev up"
                      + (" (--keep-state restores what was saved at the last clean stop)"
                         if args.keep_state else ""), file=sys.stderr, flush=True)
                return 1
    except KeyboardInterrupt:
        print("devstack: stopping", flush=True)
    except (TemplateError, WiringError, ChildFailed, ModelsMissing) as error:
        print(f"devstack: error: {error}", file=sys.stderr, flush=True)
        return 1
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"devstack: error: {error.strerror}: another stack running? Stop it, or pick "
              "other ports (0 picks free ones: --api-port 0 --ws-port 0)",
              file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # interrupt the clean-up
        stack.stop()
    unclean = stack.unclean_stops()
    for name, code in unclean:
        print(f"devstack: error: the {name} process did not stop cleanly (exit status {code})"
              + ("; the local AWS was NOT saved (its error is above)" if args.keep_state and name == "moto" else ""),
              file=sys.stderr, flush=True)
    if unclean:
        return 1
    print("devstack: stopped", flush=True)
    return 0


# --- commands against the running stack ---------------------------------------------

def _reply_s() -> float:
    """How long a command waits for one answer of the local stack: 60 s x $DEADLINE_FACTOR
    (an answer takes a fraction of a second on a quiet machine, many seconds on a loaded one)."""
    from .deadlines import scaled

    return scaled(60.0)


def _too_slow(seconds: float) -> str:
    return (f"devstack: the local stack did not answer within {seconds:.0f} s (a very busy "
            "machine? DEADLINE_FACTOR=3 waits three times as long)")


def _control(args: argparse.Namespace, method: str, path: str,
             body: dict[str, Any] | None = None, timeout: float | None = None) -> tuple[int, Any]:
    """One call to the running stack's control endpoint: (status, JSON body). ``timeout``
    defaults to :func:`_reply_s`; a command that does real work (fire a schedule) passes more."""
    from .stack import NOT_RUNNING, read_state

    state = read_state(_state_dir(args))
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(f"{state['control_url']}{path}", method=method, data=data,
                                     headers={"Content-Type": "application/json"})
    timeout = _reply_s() if timeout is None else timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except TimeoutError:
        raise SystemExit(_too_slow(timeout)) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise SystemExit(_too_slow(timeout)) from None
        raise SystemExit(NOT_RUNNING) from None
    except ConnectionError:
        raise SystemExit(NOT_RUNNING) from None


def _token(args: argparse.Namespace) -> int:
    status, body = _control(args, "GET", f"/users/{urllib.parse.quote(args.user)}/token")
    if status != 200:
        raise SystemExit(f"devstack: {body.get('error', status)}")
    print(body["AccessToken" if args.access else "IdToken"])
    return 0


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _as_of(args: argparse.Namespace) -> str | None:
    """--as-of as given (checked), or --in N<unit> from now, as ISO 8601 UTC."""
    import datetime as dt

    if args.as_of:
        from .control import parse_as_of

        try:
            return parse_as_of(args.as_of).isoformat()  # type: ignore[union-attr]
        except ValueError:
            raise SystemExit(f"devstack: --as-of {args.as_of!r} is not an ISO 8601 time")
    if args.later:
        value, unit = args.later[:-1], args.later[-1:]
        if not value.isdigit() or unit not in _UNITS:
            raise SystemExit(f"devstack: --in {args.later!r}: write a number and one of "
                             f"{', '.join(_UNITS)} (e.g. 3d)")
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=int(value) * _UNITS[unit])
        return later.isoformat()
    return None


def _fire(args: argparse.Namespace) -> int:
    if not args.name:
        _status, jobs = _control(args, "GET", "/jobs")
        width = max((len(job["name"]) for job in jobs), default=0)
        for job in jobs:
            print(f"{job['name']:<{width}}  {job['schedule']:<24}  {job['description']}")
        return 0
    as_of = _as_of(args)
    status, body = _control(args, "POST", f"/schedules/{args.name}/fire",
                            {"as_of": as_of} if as_of else None, timeout=5 * _reply_s())
    if status == 200:
        print(json.dumps(body, indent=2))
        return 0
    if body.get("summary"):
        print(json.dumps(body["summary"], indent=2))
        for source, reason in (body["summary"].get("refused") or {}).items():
            print(f"devstack: fire {args.name}: {source} refused: {reason}", file=sys.stderr)
    elif body.get("traceback"):
        print(body["traceback"], file=sys.stderr)
    print(f"devstack: fire {args.name}: {body.get('error', status)}", file=sys.stderr)
    return 1


def _customer(state: dict[str, Any], who: str, doing: str) -> None:
    """Only applicants (the customer pool) own applications: say so before asking the API."""
    from .users import find_user

    try:
        user = find_user(state["users"], who)
    except KeyError as error:
        raise SystemExit(f"devstack: {error.args[0]}") from None
    if user.get("pool") == "staff" or user.get("groups"):
        raise SystemExit(
            f"devstack: {who} is staff ({', '.join(user['groups'])}, the staff pool): staff own no "
            f"applications, so they cannot {doing}. Use --as applicant (the default), or add an "
            "applicant with ./dev user add EMAIL --role applicant")


def _upload(args: argparse.Namespace) -> int:
    from .stack import read_state
    from .uploads import content_type_of, post_form

    state = read_state(_state_dir(args))
    _customer(state, args.user, "upload an application's document")
    api_url = state["api_url"]
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise SystemExit(f"devstack: {args.file}: {error.strerror}")
    content_type = args.content_type or content_type_of(data)
    if content_type is None:
        raise SystemExit(f"devstack: {args.file} is not a JPEG, PNG or PDF (--type declares one)")
    status, tokens = _control(args, "GET", f"/users/{urllib.parse.quote(args.user)}/token")
    if status != 200:
        raise SystemExit(f"devstack: {tokens.get('error', status)}")
    request = urllib.request.Request(
        f"{api_url}/applications/{urllib.parse.quote(args.application_id)}/documents",
        method="POST", data=json.dumps({"content_type": content_type}).encode(),
        headers={"Authorization": f"Bearer {tokens['IdToken']}",
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=_reply_s()) as response:  # noqa: S310 - local
            form = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SystemExit(f"devstack: the API refused the upload form ({error.code}): "
                         f"{error.read().decode(errors='replace')}")
    except urllib.error.URLError:
        raise SystemExit(NOT_RUNNING_API) from None
    status, text = post_form(form["url"], form["fields"], args.file.name, data, content_type)
    if not 200 <= status < 300:
        print(f"devstack: S3 refused the upload ({status}): {text}", file=sys.stderr)
        return 1
    print(f"uploaded {args.file} ({len(data)} bytes, {content_type}) as {form['key']}; "
          f"wait for the decision: ./dev wait {args.application_id}")
    return 0


def _wait(args: argparse.Namespace) -> int:
    """Poll ``GET /applications/{id}`` (a fresh connection each time) until it settles."""
    from .deadlines import scaled
    from .stack import read_state

    state = read_state(_state_dir(args))
    api_url = state["api_url"]
    wanted = tuple(args.states or SETTLED)
    deadline = time.monotonic() + (args.timeout if args.timeout is not None else scaled(120.0))
    token, token_at = "", 0.0
    current, pause = None, 0.1
    while True:
        if time.monotonic() - token_at > 600:  # tokens live an hour; sign in again well before
            status, tokens = _control(args, "GET", f"/users/{urllib.parse.quote(args.user)}/token")
            if status != 200:
                raise SystemExit(f"devstack: {tokens.get('error', status)}")
            token, token_at = tokens["IdToken"], time.monotonic()
        request = urllib.request.Request(
            f"{api_url}/applications/{urllib.parse.quote(args.application_id)}",
            headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=_reply_s()) as response:  # noqa: S310 - local
                current = json.loads(response.read())["state"]
        except urllib.error.HTTPError as error:
            raise SystemExit(f"devstack: GET /applications/{args.application_id} answered "
                             f"{error.code}: {error.read().decode(errors='replace')}")
        except (urllib.error.URLError, TimeoutError):
            raise SystemExit(NOT_RUNNING_API) from None
        if current in wanted or current in SETTLED:
            break
        if time.monotonic() > deadline:
            print(f"devstack: {args.application_id} is still {current} (waited for "
                  f"{' or '.join(wanted)})", file=sys.stderr)
            return 1
        time.sleep(pause)
        pause = min(pause * 1.5, 1.0)
    print(current)
    if current not in wanted:
        print(f"devstack: {args.application_id} settled as {current}, not {' or '.join(wanted)}",
              file=sys.stderr)
        return 1
    return 0


def _user(args: argparse.Namespace) -> int:
    import secrets

    password = args.password or f"Local-{secrets.token_urlsafe(9)}-9a!"
    status, body = _control(args, "POST", "/users",
                            {"email": args.email, "role": args.role, "password": password})
    if status != 201:
        raise SystemExit(f"devstack: user add {args.email}: {body.get('error', status)}")
    from .stack import read_state
    from .users import sign_in_steps

    state = read_state(_state_dir(args))
    for line in sign_in_steps(body, password, str(state.get("console_url") or f"{state['api_url']}/console")):
        print(line)
    return 0


def _pause(args: argparse.Namespace) -> int:
    status, body = _control(args, "POST", f"/pumps/{urllib.parse.quote(args.handler)}/{args.command}")
    if status != 200:
        raise SystemExit(f"devstack: {args.command} {args.handler}: {body.get('error', status)}")
    print(f"{args.handler}: {'paused' if body['paused'] else 'resumed'} ({', '.join(body['sources'])})")
    return 0


NOT_RUNNING_API = "devstack: the local stack's API is not answering (is ./dev up running?)"


def _selfie(args: argparse.Namespace) -> int:
    import boto3

    from .selfie import Api, SelfieError, read_photos, run
    from .stack import read_state

    state = read_state(_state_dir(args))
    _customer(state, args.user, "take an application's liveness check")
    env = state["env"]
    if not env.get("AWS_ENDPOINT_URL_REKOGNITION") or not env.get("LIVENESS_ENDPOINT"):
        raise SystemExit("devstack: this stack has no local Rekognition (restart it with ./dev up)")
    status, tokens = _control(args, "GET", f"/users/{urllib.parse.quote(args.user)}/token", timeout=30)
    if status != 200:
        raise SystemExit(f"devstack: {tokens.get('error', status)}")
    rekognition = boto3.client("rekognition", endpoint_url=env["AWS_ENDPOINT_URL_REKOGNITION"],
                               region_name=env.get("AWS_REGION", "us-east-1"),
                               aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        result = run(Api(state["api_url"], tokens["IdToken"]), env["LIVENESS_ENDPOINT"], rekognition,
                     args.application_id, read_photos(args.photos), consent_version=args.consent_version)
    except SelfieError as error:
        print(f"devstack: selfie: {error}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, ConnectionError):
        raise SystemExit(NOT_RUNNING_API) from None
    judged = result["liveness"]
    if judged.get("Status") != "SUCCEEDED" or judged.get("Reasons"):  # the stand-in's verdict: not a pass
        left = "another attempt is allowed" if result["complete"].get("retry_allowed") else "no attempt is left"
        print(f"devstack: selfie: the liveness check did not pass "
              f"({'; '.join(judged.get('Reasons') or [str(judged.get('Status'))])}); {left}", file=sys.stderr)
        return 1
    print(f"completed liveness session {result['session_id']}; watch the face check: curl -H "
          f"\"Authorization: Bearer $(./dev token {args.user})\" {state['api_url']}/applications/{args.application_id}")
    return 0


def _env(args: argparse.Namespace) -> int:
    """The stack's URLs first (what the docs' commands use), then the app's environment."""
    from .stack import read_state

    state = read_state(_state_dir(args))
    urls = {"API_URL": state["api_url"], "WS_URL": state.get("ws_url") or "",
            "CONSOLE_URL": state.get("console_url") or f"{state['api_url']}/console", "DOCS_URL": state.get("docs_url") or "",
            "CONTROL_URL": state["control_url"], "AWS_URL": state["moto_url"]}
    for key, value in urls.items():
        print(f"export {key}={shlex.quote(value)}")
    for key, value in sorted(state["env"].items()):
        print(f"export {key}={shlex.quote(value)}")
    return 0


def _otp(args: argparse.Namespace) -> int:
    from .oidc_provider import totp
    from .stack import read_state
    from .users import find_user

    try:
        user = find_user(read_state(_state_dir(args))["users"], args.user)
    except KeyError as error:
        raise SystemExit(f"devstack: {error.args[0]}") from None
    if not user.get("totp_secret"):
        raise SystemExit(f"devstack: {args.user} has no authenticator (applicants sign in with a password)")
    print(totp(user["totp_secret"]))
    return 0


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    if args.command == "up":
        return _up(args, started)
    commands = {"token": _token, "fire": _fire, "upload": _upload, "selfie": _selfie, "wait": _wait, "user": _user,
                "pause": _pause, "resume": _pause,
                "env": _env, "otp": _otp}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
