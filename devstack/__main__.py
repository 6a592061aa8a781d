"""``python -m devstack``: run the local stack and talk to the running one.

    python -m devstack up [--host 127.0.0.1] [--api-port 8000] [--ws-port 8001]
                          [--moto-port 0] [--control-port 0] [--stage local]
    python -m devstack token applicant|reviewer [--access]
    python -m devstack fire <schedule handler name>
    python -m devstack env            # `eval "$(python -m devstack env)"` for scripts

Every command also takes --project-dir (default: .) and --state-dir (default:
<project>/.devstack).

Port 0 picks a free port; the real ports are printed and written to
``.devstack/state.json``, which ``token``, ``fire`` and ``env`` read.
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import shlex
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

READY_MARKER = "DEVSTACK_READY"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project-dir", type=Path, default=Path("."),
                        help="the Chalice project (default: the current directory)")
    common.add_argument("--state-dir", type=Path, default=None,
                        help="where the running stack is recorded (default: "
                             "<project>/.devstack)")
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
    up.add_argument("--stage", default="local")
    up.add_argument("--verbose", action="store_true", help="log every call moto serves")

    token = commands.add_parser("token", parents=[common],
                                help="print a Cognito token of a demo user")
    token.add_argument("user", help="applicant, reviewer, or a demo user's email")
    token.add_argument("--access", action="store_true",
                       help="print the access token instead of the ID token")

    fire = commands.add_parser("fire", parents=[common],
                               help="run a schedule's handler now")
    fire.add_argument("name", help="the schedule's handler name")

    commands.add_parser("env", parents=[common],
                        help="print the app's environment as shell exports")
    return parser


def _state_dir(args: argparse.Namespace) -> Path:
    return args.state_dir or args.project_dir.resolve() / ".devstack"


# --- up ---------------------------------------------------------------------------

def _banner(info: dict[str, Any], seconds: float) -> str:
    lines = [
        "",
        "  account-opening local stack",
        f"  REST API        {info['api_url']}",
        f"  WebSocket       {info['ws_url'] or '(no gateway)'}",
        f"  local AWS       {info['moto_url']}   (moto)",
        f"  control         {info['control_url']}",
        "",
        "  Demo users (Cognito, USER_PASSWORD_AUTH):",
    ]
    for user in info["users"]:
        groups = f"  groups: {', '.join(user['groups'])}" if user["groups"] else ""
        lines.append(f"    {user['role']:<10} {user['email']:<24} {user['password']}{groups}")
    lines += [
        "",
        "  Get a token:     python -m devstack token applicant   (or reviewer)",
        "  Call the API:    curl -H \"Authorization: Bearer $(python -m devstack token "
        f"applicant)\" {info['api_url']}/applications",
    ]
    if info["schedules"]:
        lines.append("  Fire a schedule: python -m devstack fire <name>   "
                     f"({', '.join(sorted(info['schedules']))})")
    lines += ["", f"  ready in {seconds:.2f} s -- Ctrl-C stops everything", ""]
    return "\n".join(lines)


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _up(args: argparse.Namespace, started: float) -> int:
    # Like `chalice local`: the app's logging goes to stdout, as in Lambda.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("pynamodb").setLevel(logging.WARNING)  # "Override settings ... not available"
    from .pumps import WiringError
    from .stack import LocalStack, StackOptions
    from .template import TemplateError

    # Explicit, because a shell starting us in the background ignores SIGINT
    # (and Python then keeps it ignored); SIGTERM stops like Ctrl-C.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    stack = LocalStack(StackOptions(
        project_dir=args.project_dir, host=args.host, api_port=args.api_port,
        ws_port=args.ws_port, moto_port=args.moto_port, control_port=args.control_port,
        stage=args.stage, state_dir=args.state_dir, verbose=args.verbose))
    try:
        info = stack.start()
        print(_banner(info, time.perf_counter() - started), flush=True)
        ready = {key: info[key] for key in
                 ("api_url", "ws_url", "moto_url", "control_url", "users", "env")}
        print(f"{READY_MARKER} {json.dumps(ready)}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("devstack: stopping", flush=True)
    except (TemplateError, WiringError) as error:
        print(f"devstack: error: {error}", file=sys.stderr, flush=True)
        return 1
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"devstack: error: {error.strerror}: a port is taken (another stack running?); "
              "pick others or pass 0 for free ones (--api-port 0 --ws-port 0)",
              file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # interrupt the clean-up
        stack.stop()
    print("devstack: stopped", flush=True)
    return 0


# --- commands against the running stack ---------------------------------------------

def _token(args: argparse.Namespace) -> int:
    import boto3

    from .provision import FAKE_CREDENTIALS, REGION
    from .stack import read_state
    from .users import find_user, sign_in

    state = read_state(_state_dir(args))
    try:
        user = find_user(state["users"], args.user)
    except KeyError as error:
        raise SystemExit(f"devstack: {error.args[0]}")
    cognito = boto3.client(
        "cognito-idp", endpoint_url=state["moto_url"], region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    result = sign_in(cognito, state["env"]["USER_POOL_CLIENT_ID"], user["email"],
                     user["password"])
    print(result["AccessToken" if args.access else "IdToken"])
    return 0


def _fire(args: argparse.Namespace) -> int:
    from .stack import read_state

    state = read_state(_state_dir(args))
    request = urllib.request.Request(
        f"{state['control_url']}/schedules/{args.name}/fire", method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 - local
            print(json.dumps(json.loads(response.read()), indent=2))
            return 0
    except urllib.error.HTTPError as error:
        body = json.loads(error.read() or b"{}")
        print(body.get("traceback") or json.dumps(body, indent=2), file=sys.stderr)
        print(f"devstack: fire {args.name}: {body.get('error', error)}", file=sys.stderr)
        return 1


def _env(args: argparse.Namespace) -> int:
    from .stack import read_state

    for key, value in sorted(read_state(_state_dir(args))["env"].items()):
        print(f"export {key}={shlex.quote(value)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    if args.command == "up":
        return _up(args, started)
    return {"token": _token, "fire": _fire, "env": _env}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
