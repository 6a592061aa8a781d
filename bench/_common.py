"""Shared pieces of the benchmarks: statistics, the local stack as a subprocess, plain HTTP.

Not a benchmark itself (the leading underscore keeps ``python -m bench`` from
running it). Everything here talks to 127.0.0.1 only, uses a fresh HTTP
connection per request (``Connection: close``: ``chalice local`` is slow with
keep-alive) and is bounded in time.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
READY_MARKER = "DEVSTACK_READY "
READY_IN = re.compile(r"ready in ([0-9.]+) s")
START_DEADLINE_S = 180.0  # as the suite's START_S: a stack on a busy 2-core machine took over 60 s (issue 23)
STOP_DEADLINE_S = 60.0  # as the suite's STOP_S: at load 28 a stack took over 15 s to stop after SIGINT
HTTP_TIMEOUT_S = 30.0

if str(ROOT) not in sys.path:  # `python bench/x.py` as well as `python -m bench.x`
    sys.path.insert(0, str(ROOT))


# --- numbers -------------------------------------------------------------------------

def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: with 20 samples p95 is the 19th)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:6.1f}x" if baseline > 0 else "   n/a"


def summary(label: str, values: Sequence[float], baseline: Optional[float] = None) -> str:
    line = (f"{label:<34} n={len(values):<3} median {ms(median(values))}   p95 {ms(percentile(values, 95))}"
            f"   min {ms(min(values))}   max {ms(max(values))}")
    if baseline is not None:
        line += (f"   median/baseline {ratio(median(values), baseline)}"
                 f"   p95/baseline {ratio(percentile(values, 95), baseline)}")
    return line


# --- the local stack as a subprocess --------------------------------------------------

def stack_environment() -> dict[str, str]:
    """This environment without AWS or moto settings: the stack brings its own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MOTO"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stack_command(state_dir: Path) -> list[str]:
    return [sys.executable, "-m", "devstack", "up", "--api-port", "0", "--ws-port", "0",
            "--moto-port", "0", "--control-port", "0", "--state-dir", str(state_dir)]


@dataclass
class Stack:
    """A running ``python -m devstack up``: its URLs, env and demo users."""

    process: Optional[subprocess.Popen]  # None: a stack this bench shares (BENCH_STACK), stopped by its owner
    info: dict[str, Any]
    output: list[str]
    spawned_at: float           # perf_counter at spawn
    ready_at: float             # perf_counter when the DEVSTACK_READY line was read
    reported_ready_s: Optional[float]  # the stack's own "ready in X s"
    stopped_in_s: Optional[float] = None
    exit_code: Optional[int] = None
    temporary_dir: Optional[Path] = None  # removed on stop (a state dir we created)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.info["api_url"]

    @property
    def ws_url(self) -> Optional[str]:
        return self.info.get("ws_url")

    def user(self, role: str) -> dict[str, Any]:
        for user in self.info["users"]:
            if role in (user["role"], user["email"]):
                return user
        raise KeyError(f"no demo user {role!r}")

    def token(self, role: str) -> str:
        """A Cognito ID token of a demo user (USER_PASSWORD_AUTH against the stack's moto)."""
        if role not in self._tokens:
            import boto3

            from devstack.users import client_id_for

            user = self.user(role)
            if user.get("pool") == "staff":  # issue 21: staff sign in through managed login (./dev token)
                import json
                import urllib.parse
                import urllib.request

                url = f"{self.info['control_url']}/users/{urllib.parse.quote(user['email'])}/token"
                with urllib.request.urlopen(url, timeout=60) as response:
                    self._tokens[role] = json.loads(response.read())["IdToken"]
                return self._tokens[role]
            cognito = boto3.client("cognito-idp", endpoint_url=self.info["moto_url"], region_name="us-east-1",
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
            result = cognito.initiate_auth(
                ClientId=client_id_for(self.info["env"], user), AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user["email"], "PASSWORD": user["password"]})
            self._tokens[role] = result["AuthenticationResult"]["IdToken"]
        return self._tokens[role]

    def stop(self) -> None:
        """SIGINT (Ctrl-C), wait for a clean exit; kill only if it does not stop in time."""
        if self.process is None:
            return  # shared: its owner stops it
        if self.process.poll() is None:
            started = time.perf_counter()
            self.process.send_signal(signal.SIGINT)
            try:
                self.exit_code = self.process.wait(STOP_DEADLINE_S)
                self.stopped_in_s = time.perf_counter() - started
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.exit_code = None
        else:
            self.exit_code = self.process.returncode
        if self.temporary_dir is not None:
            import shutil

            shutil.rmtree(self.temporary_dir, ignore_errors=True)
            self.temporary_dir = None

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


#: A running stack's DEVSTACK_READY information (a JSON file) that benches share instead of starting their
#: own: tests/test_benches.py starts one for every bench's smoke run. Each bench still makes its own users,
#: limits and passports, so sharing changes no figure's meaning (only how busy the stack is).
SHARED_STACK_ENV = "BENCH_STACK"


def shared_stack() -> Optional[Stack]:
    path = os.environ.get(SHARED_STACK_ENV)
    if not path:
        return None
    info = json.loads(Path(path).read_text(encoding="utf-8"))
    now = time.perf_counter()
    return Stack(None, info, [], now, now, None)


def start_stack(state_dir: Optional[Path] = None, deadline_s: float = START_DEADLINE_S) -> Stack:
    """Spawn the stack on free ports and wait for its DEVSTACK_READY line. Without ``state_dir``, the stack
    ``BENCH_STACK`` names is used instead when set (benches that measure the stack itself pass a state dir)."""
    if state_dir is None:
        shared = shared_stack()
        if shared is not None:
            return shared
    created = None if state_dir else Path(tempfile.mkdtemp(prefix="bench-devstack-"))
    state_dir = Path(state_dir or created)
    ready: queue.Queue = queue.Queue()
    output: list[str] = []
    spawned_at = time.perf_counter()
    process = subprocess.Popen(stack_command(state_dir), cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=stack_environment())

    def drain() -> None:
        """Read for the stack's whole life, so it never blocks on a full pipe."""
        for line in process.stdout:
            line = line.rstrip("\n")
            output.append(line)
            if line.startswith(READY_MARKER):
                ready.put((time.perf_counter(), json.loads(line[len(READY_MARKER):])))
        ready.put(None)

    threading.Thread(target=drain, name="bench-devstack-output", daemon=True).start()
    try:
        got = ready.get(timeout=deadline_s)
    except queue.Empty:
        got = None
    if got is None:
        process.kill()
        process.wait()
        if created is not None:
            import shutil

            shutil.rmtree(created, ignore_errors=True)
        raise RuntimeError(f"the local stack did not become ready within {deadline_s:.0f} s:\n"
                           + "\n".join(output[-40:]))
    ready_at, info = got
    reported = None
    for line in output:
        match = READY_IN.search(line)
        if match:
            reported = float(match.group(1))
    return Stack(process, info, output, spawned_at, ready_at, reported, temporary_dir=created)


# --- HTTP ------------------------------------------------------------------------------

def call(base_url: str, method: str, path: str, token: Optional[str] = None, **kwargs: Any):
    """One request on a fresh connection."""
    import requests

    headers = {"Connection": "close", **kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, base_url + path, headers=headers, timeout=HTTP_TIMEOUT_S, **kwargs)


def timed_call(base_url: str, method: str, path: str, token: Optional[str] = None, **kwargs: Any):
    """(response, seconds) of one request on a fresh connection."""
    started = time.perf_counter()
    response = call(base_url, method, path, token, **kwargs)
    return response, time.perf_counter() - started


def upload(presigned: dict[str, Any], data: bytes, content_type: str):
    """The client's own upload through the presigned POST (straight to local S3)."""
    import requests

    return requests.post(presigned["url"], data=presigned["fields"],
                         files={"file": ("document", data, content_type)},
                         headers={"Connection": "close"}, timeout=HTTP_TIMEOUT_S)


def poll(fetch: Callable[[], Any], until: Callable[[Any], bool], timeout: float, interval: float) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fetch()
        if until(last):
            return last
        time.sleep(interval)
    raise TimeoutError(f"not reached within {timeout:.0f} s; last value: {str(last)[:300]}")


def submit_with_document(stack: Stack, token: str, body: dict[str, Any], data: bytes,
                         content_type: str = "image/jpeg", selfie: bool = False,
                         holder: Optional["Holder"] = None) -> tuple[str, float]:
    """Create (its answer carries the upload forms), the liveness check first when ``selfie`` (so the
    upload is the applicant's last step), upload; returns (application id, perf_counter when the upload
    answered)."""
    created = call(stack.api_url, "POST", "/applications", token, json=body)
    if created.status_code not in (200, 201):
        raise RuntimeError(f"POST /applications -> {created.status_code}: {created.text[:300]}")
    app_id = created.json()["id"]
    form = (created.json().get("uploads") or {}).get(content_type)
    if form is None:
        presigned = call(stack.api_url, "POST", f"/applications/{app_id}/documents", token,
                         json={"content_type": content_type})
        if presigned.status_code != 201:
            raise RuntimeError(f"presign -> {presigned.status_code}: {presigned.text[:300]}")
        form = presigned.json()
    if selfie:
        take_selfie(stack, token, app_id, holder)
    uploaded = upload(form, data, content_type)
    if uploaded.status_code not in (200, 201, 204):
        raise RuntimeError(f"upload -> {uploaded.status_code}: {uploaded.text[:300]}")
    return app_id, time.perf_counter()


def header(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


class Stuck(Exception):
    """An application did not reach the expected state in time; the pass cannot go on."""


def diagnose(stack: Stack, token: str, app_id: str) -> str:
    """Why an application is stuck: its history, and how far the outbox relay got."""
    import boto3

    try:
        history = call(stack.api_url, "GET", f"/applications/{app_id}/history", token).json()["items"]
        types = [event["type"] for event in history]
        table = stack.info["env"].get("IDEMPOTENCY_TABLE_NAME")
        relayed = []
        if table:
            dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["moto_url"], region_name="us-east-1",
                                    aws_access_key_id="testing", aws_secret_access_key="testing")
            for event in history:
                marker = f"published#{app_id}#{event['seq']}"
                if "Item" in dynamodb.get_item(TableName=table, Key={"key": {"S": marker}}, ConsistentRead=True):
                    relayed.append(event["seq"])
        return (f"history {types}; events relayed to SNS by the outbox (published# markers): "
                f"seq {relayed or 'none'} of {[event['seq'] for event in history]}")
    except Exception as error:  # noqa: BLE001 - diagnostics only
        return f"(diagnosis failed: {error!r})"


def allow_many_applications(stack: Stack, per_day: int = 1_000_000) -> None:
    """A bench opens more applications than an applicant's daily limit (10) allows, and its clients poll
    more than the per-user request rate limits allow: raise them on its own stack (Parameter Store, as an
    operator would: ``./dev settings max_applications_per_day N``)."""
    import boto3

    ssm = boto3.client("ssm", endpoint_url=stack.info["moto_url"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    for setting in ("max_applications_per_day", "applicant_requests_per_minute", "staff_requests_per_minute"):
        ssm.put_parameter(Name=stack.info["env"]["SETTINGS_PATH"].rstrip("/") + "/" + setting,
                          Value=str(per_day), Type="String", Overwrite=True)


# --- the face check (issue 17): nothing is decided without it ------------------------------------------

#: The face the benches' applicants show, as in the end-to-end tests (tests/e2e/face.py): the passport photo
#: of make_declared()'s holder and a live burst of the same person (facing the camera, then turned).
HOLDER_PHOTO = "obama-3.jpg"
HOLDER_LIVE = ("obama-1.jpg", "obama-4.jpg", "obama-2.jpg")


@dataclasses.dataclass(frozen=True)
class Holder:
    """A person of tests/data/faces who can pass the local liveness check: the photo for the data page, the
    photos for the selfie (one facing the camera, turned ones), and which of them to also show mirrored (a
    photo turned one way, mirrored, is the same face turned the other way: both turn challenges met)."""

    person: str
    passport: str
    live: tuple[str, ...]
    mirrored: tuple[str, ...] = ()


#: The distinct faces a bench can give its applicants (the face check takes the same face under another
#: applicant for a second identity and FLAGS it). Only these three of the six people in tests/data/faces have
#: a photo facing the camera and one turned at least 18 degrees (tests/support/faces.py measures the yaw);
#: Biden, Leslie and Miranda cannot pass a turn challenge (and nobody here a blink).
HOLDERS = (
    Holder("obama", HOLDER_PHOTO, HOLDER_LIVE),
    Holder("harington", "harington-1.jpg", ("harington-1.jpg", "harington-3.jpg", "harington-2.jpg")),
    Holder("lacamoire", "lacamoire-1.jpg", ("lacamoire-2.jpg", "lacamoire-3.jpg"), mirrored=("lacamoire-3.jpg",)),
)


def live_photos(holder: Holder) -> list[tuple[str, bytes]]:
    """The selfie's photos of ``holder`` (named files, and the mirrored ones as ``mirrored-<file>``)."""
    from PIL import Image, ImageOps

    from tests.support.faces import photo

    photos = [(name, photo(name)) for name in holder.live]
    for name in holder.mirrored:
        image = ImageOps.mirror(ImageOps.exif_transpose(Image.open(io.BytesIO(photo(name)))).convert("RGB"))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
        photos.append((f"mirrored-{name}", out.getvalue()))
    return photos


def holder_passport(body: Optional[dict[str, Any]] = None, holder: Optional[Holder] = None) -> bytes:
    """A data page matching ``body`` (make_declared()'s names) that carries the holder's face."""
    from tests.support.documents import passport_bytes

    return passport_bytes(body, photo=(holder or HOLDERS[0]).passport)


def take_selfie(stack: Stack, token: str, application_id: str, holder: Optional[Holder] = None,
                attempts: int = 3) -> dict[str, Any]:
    """The applicant's liveness check, as ``./dev selfie`` takes it (consent, session, frames, complete)."""
    import boto3

    from devstack.selfie import Api, run
    from tests.support.faces import photo

    env = stack.info["env"]
    rekognition = boto3.client("rekognition", endpoint_url=env["AWS_ENDPOINT_URL_REKOGNITION"],
                               region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    frames = live_photos(holder) if holder is not None else [(name, photo(name)) for name in HOLDER_LIVE]
    return run(Api(stack.api_url, token), env["LIVENESS_ENDPOINT"], rekognition, application_id, frames,
               attempts=attempts, say=lambda line: None)
