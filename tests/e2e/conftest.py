"""End-to-end tests run against the real local stack, started once for all of them.

``local_stack`` is package-scoped: it stops as soon as the last test under tests/e2e has run, not at the
end of the session -- an idle stack's event pumps keep polling moto, which cost the rest of the suite
about half a core for the twenty minutes after the end-to-end tests (tests run in path order, so the
end-to-end tests run together).

``local_stack`` starts ``python -m devstack up`` as a subprocess on free ports
(exactly the command a developer runs), waits for its ``DEVSTACK_READY`` line
and hands the tests its URLs, environment and demo users, plus helpers to
sign in and to fire a schedule now. On teardown it sends SIGINT, as Ctrl-C
would, and checks that the stack exits cleanly (status 0, no child process left,
no port listening, no state file) within STOP_S.

Clients should open a fresh HTTP connection per request: ``chalice local``
is slow with keep-alive.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.processes import read_until_ready
from tests.support.deadlines import COMMAND_S, EVENT_S, OUTCOME_S, REPLY_S, START_S, STOP_S
from tests.support.stopping import child_pids, listening

ROOT = Path(__file__).resolve().parents[2]
READY_MARKER = "DEVSTACK_READY "
START_DEADLINE_S = START_S  # generous: machines are loaded while the suite runs (tests/support/deadlines.py)
STOP_DEADLINE_S = STOP_S


@dataclass
class LocalStack:
    """The running stack as the tests see it."""

    api_url: str
    ws_url: str | None
    moto_url: str
    control_url: str
    env: dict[str, str]
    users: list[dict[str, Any]]
    process: subprocess.Popen
    state_dir: Path
    output: list[str] = field(default_factory=list)  # everything the stack printed so far
    console_url: str = ""  # issue 21: the console through the local stand-in of CloudFront
    auth_url: str = ""  # the user pools' domain (managed login)
    provider_url: str = ""  # the corporate identity provider's stand-in

    def cli(self, *arguments: str) -> subprocess.CompletedProcess:
        """Run ``python -m devstack ARGUMENTS`` (what ``./dev`` runs) against this stack."""
        return subprocess.run([sys.executable, "-m", "devstack", *arguments,
                               "--state-dir", str(self.state_dir)], cwd=ROOT,
                              capture_output=True, text=True, timeout=COMMAND_S)

    def user(self, role: str) -> dict[str, Any]:
        """A demo user (role, email, password, groups) by role or email."""
        for user in self.users:
            if role in (user["role"], user["email"]):
                return user
        raise KeyError(f"no demo user {role!r}")

    def client(self, service: str) -> Any:
        """A boto3 client for the stack's local AWS (moto), with fake credentials."""
        return boto3.client(service, endpoint_url=self.moto_url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def token(self, role: str = "applicant", kind: str = "IdToken") -> str:
        """Sign a demo user in to their pool; a Cognito token. Applicants: USER_PASSWORD_AUTH; staff: through
        the corporate stand-in provider and the staff pool's managed login (code + PKCE), as ``./dev token``."""
        from devstack.users import client_id_for

        user = self.user(role)
        if user.get("pool") == "staff":
            with urllib.request.urlopen(f"{self.control_url}/users/{urllib.parse.quote(user['email'])}/token",
                                        timeout=EVENT_S) as response:  # a whole sign-in through the stand-ins
                return str(json.loads(response.read())[kind])
        result = self.client("cognito-idp").initiate_auth(
            ClientId=client_id_for(self.env, user), AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user["email"], "PASSWORD": user["password"]})
        return result["AuthenticationResult"][kind]

    def provider(self, method: str, path: str = "", body: Any = None) -> Any:
        """The corporate stand-in provider's directory, through the stack's control endpoint (issue 21):
        ``provider("POST", body={email, password, groups, totp_secret})``, ``provider("PUT", email, {groups})``,
        ``provider("DELETE", email)``."""
        url = f"{self.control_url}/provider/people" + (f"/{urllib.parse.quote(path)}" if path else "")
        request = urllib.request.Request(url, method=method, headers={"Content-Type": "application/json"},
                                         data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(request, timeout=REPLY_S) as response:
            return json.loads(response.read())

    def staff_token(self, email: str, password: str, totp_secret: str | None = None) -> dict[str, Any]:
        """Cognito's tokens of a person of the corporate provider, signed in as the console does (code + PKCE)."""
        from devstack.signin import oauth_sign_in
        from devstack.users import STAFF_PROVIDER

        return oauth_sign_in(self.auth_url, self.env["STAFF_USER_POOL_CLIENT_ID"], self.console_url, STAFF_PROVIDER,
                             email, password, totp_secret)

    def fire(self, schedule_name: str) -> Any:
        """Run a schedule's handler now, in the stack; returns the handler's result."""
        request = urllib.request.Request(
            f"{self.control_url}/schedules/{schedule_name}/fire", data=b"", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=OUTCOME_S) as response:
                return json.loads(response.read())["result"]
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            raise AssertionError(f"firing {schedule_name} failed: {body.get('error')}\n"
                                 f"{body.get('traceback', '')}") from None

    def output_since(self, index: int) -> list[str]:
        """Lines printed after ``index`` (use ``len(stack.output)`` as a bookmark)."""
        return self.output[index:]


def _stack_environment() -> dict[str, str]:
    """This environment without AWS or moto settings: the stack must bring its own,
    not inherit the in-process test stack's (tests/conftest.py exports those)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "MOTO"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class _Starting:
    """A stack launched, its ready line awaited by a thread: (process, output so far, the future ready info)."""

    process: subprocess.Popen
    state_dir: Path
    output: list[str]
    ready: concurrent.futures.Future
    launched: float
    owned_dir: bool = False  # a temporary state directory of our own, removed after the stop
    taken: bool = False


def _launch(state_dir: Path) -> _Starting:
    launched = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "up", "--api-port", "0", "--ws-port", "0",
         "--moto-port", "0", "--control-port", "0", "--state-dir", str(state_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=_stack_environment())
    output: list[str] = []
    waiting = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="e2e-stack-start")
    ready = waiting.submit(read_until_ready, process, READY_MARKER, START_DEADLINE_S, output.append, "e2e-stack")
    waiting.shutdown(wait=False)
    return _Starting(process, state_dir, output, ready, launched)


def _stop_unused(starting: _Starting) -> None:
    if starting.process.poll() is None:
        starting.process.send_signal(signal.SIGINT)
        try:
            starting.process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            starting.process.kill()
            starting.process.wait()
    if starting.owned_dir:
        shutil.rmtree(starting.state_dir, ignore_errors=True)


_EARLY = pytest.StashKey[_Starting]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Launch the stack as soon as the session is collected, when it holds an end-to-end test: its start-up (a
    moto process provisioned from resources.yaml, the API and WebSocket processes, the local Textract and
    Rekognition) runs in its own processes beside the tests collected before the first end-to-end one, instead
    of in front of it. ``local_stack`` then takes it over; run alone, it starts one itself."""
    here = Path(__file__).resolve().parent
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker collects every test; the one given them starts it
        return
    if any(Path(str(item.fspath)).resolve().is_relative_to(here) for item in session.items):
        starting = _launch(Path(tempfile.mkdtemp(prefix="devstack-state-")))
        starting.owned_dir = True
        session.config.stash[_EARLY] = starting


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A stack launched early that no test took (the session stopped before the end-to-end tests) is stopped."""
    starting = session.config.stash.get(_EARLY, None)
    if starting is not None and not starting.taken:
        _stop_unused(starting)


def _start(starting: _Starting) -> tuple[subprocess.Popen, dict[str, Any], list[str]]:
    process, output = starting.process, starting.output
    info = starting.ready.result()
    if info is None:
        process.kill()
        process.wait()
        pytest.fail("the local stack did not become ready within "
                    f"{START_DEADLINE_S:.0f} s:\n" + "\n".join(output[-60:]))
    return process, info, output


@pytest.fixture(scope="package")
def local_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    starting = request.config.stash.get(_EARLY, None)
    if starting is None or starting.taken:
        starting = _launch(tmp_path_factory.mktemp("devstack-state"))
    starting.taken = True
    state_dir, started = starting.state_dir, starting.launched
    process, info, output = _start(starting)
    stack = LocalStack(api_url=info["api_url"], ws_url=info["ws_url"],
                       moto_url=info["moto_url"], control_url=info["control_url"],
                       env=info["env"], users=info["users"], process=process,
                       state_dir=state_dir, output=output, console_url=info.get("console_url", ""),
                       auth_url=info.get("auth_url", ""), provider_url=info.get("provider_url", ""))
    print(f"local stack ready {time.monotonic() - started:.2f} s after its launch at {stack.api_url}")
    # The session's tests share a few users and open far more applications each than
    # an applicant's daily limit allows (tests/test_limits.py proves the limit itself).
    stack.client("ssm").put_parameter(Name=stack.env["SETTINGS_PATH"].rstrip("/") + "/max_applications_per_day",
                                      Value="100000", Type="String", Overwrite=True)
    # Likewise the per-user request rate limits (tests/test_limits.py proves them).
    for name in ("applicant_requests_per_minute", "staff_requests_per_minute"):
        stack.client("ssm").put_parameter(Name=stack.env["SETTINGS_PATH"].rstrip("/") + "/" + name,
                                          Value="1000000", Type="String", Overwrite=True)
    yield stack
    # Ctrl-C stops the project's own app cleanly: exit status 0, no child left, no port listening, no state
    # file (tests/test_devstack_stack.py proves the same of a throwaway app, and SIGTERM).
    children = child_pids(process.pid)
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"the local stack did not stop within {STOP_DEADLINE_S:.0f} s of SIGINT:\n"
                    + "\n".join(output[-40:]))
    assert code == 0, f"the local stack exited with {code}:\n" + "\n".join(output[-40:])
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == [], "a child outlived the stack"
    for url in (stack.api_url, stack.ws_url, stack.moto_url, stack.control_url, stack.console_url, stack.auth_url,
                stack.provider_url):
        assert not (url and listening(url)), f"{url} still accepts connections"
    assert not (state_dir / "state.json").exists()
    if starting.owned_dir:
        shutil.rmtree(state_dir, ignore_errors=True)
