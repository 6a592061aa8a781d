"""The AsyncAPI 2.6 document of the WebSocket protocol, served at ``GET /asyncapi.json``.

Built from what the protocol code itself uses: the actions (``websocket_protocol.ACTIONS``), the
review-queue topic, the frame size limit, the error codes (``websocket_protocol.ERROR_CODES``), the
states and event types of the workflow, and the outbox's message (``ApplicationEvent`` mirrors
``services/outbox.message_for``). A test sends every kind of frame through the protocol and the
fan-out and validates each frame the app sends against this document.

AsyncAPI 2.6 speaks from the application's side: ``publish`` is what clients send to it,
``subscribe`` what they receive.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..domain.workflow.states import EventType, State
from ..services.live_updates import MAX_TOKEN_CHARS, MY_APPLICATIONS, REVIEW_QUEUE
from .models import MayBeAbsent
from .websocket_protocol import ACTIONS, ERROR_CODES, MAX_FRAME_BYTES

ASYNCAPI_VERSION = "2.6.0"
TITLE = "Account Opening live updates"
API_VERSION = "1.0.0"

AppId = Annotated[str, Field(min_length=1, description="An application id (a lower-case UUID)")]
Topic = Annotated[str, Field(json_schema_extra={"const": REVIEW_QUEUE}, description="The reviewers' queue")]
Mine = Annotated[
    str, Field(json_schema_extra={"const": MY_APPLICATIONS}, description="All of the applicant's applications")
]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- client frames ----------------------------------------------------------------------


class SubscribeApplication(_Frame):
    """Watch one application: an applicant their own only, a reviewer any."""

    action: Literal["subscribe"]
    application_id: AppId


class SubscribeReviewQueue(_Frame):
    """Watch the review queue (reviewers only): applications entering or leaving FLAGGED, escalations."""

    action: Literal["subscribe"]
    topic: Topic


class SubscribeMyApplications(_Frame):
    """Watch all your applications, those to come included (applicants, customer pool): one subscription per
    connection instead of one per application."""

    action: Literal["subscribe"]
    topic: Mine


class UnsubscribeApplication(_Frame):
    """Stop watching an application."""

    action: Literal["unsubscribe"]
    application_id: AppId


class UnsubscribeReviewQueue(_Frame):
    """Stop watching the review queue."""

    action: Literal["unsubscribe"]
    topic: Topic


class UnsubscribeMyApplications(_Frame):
    """Stop watching all your applications (one you subscribed to by id stays watched)."""

    action: Literal["unsubscribe"]
    topic: Mine


class Ping(_Frame):
    """Keeps an idle connection open; answered with pong."""

    action: Literal["ping"]


# --- server frames ----------------------------------------------------------------------


class SubscribedApplication(_Frame):
    """The subscription holds. ``seq`` is the application's latest history sequence number (the applicant's: the
    number of history events shown to them, as their REST history numbers them): compare it with the events'
    ``seq`` to know what you already have and to notice a gap (then read the history over REST)."""

    type: Literal["subscribed"]
    application_id: str
    state: State
    seq: int = Field(ge=0)


class SubscribedReviewQueue(_Frame):
    """The review-queue subscription holds."""

    type: Literal["subscribed"]
    topic: Topic


class SubscribedMyApplications(_Frame):
    """The my-applications subscription holds."""

    type: Literal["subscribed"]
    topic: Mine


class UnsubscribedApplication(_Frame):
    """The application is no longer watched (also when it never was)."""

    type: Literal["unsubscribed"]
    application_id: str


class UnsubscribedReviewQueue(_Frame):
    """The review queue is no longer watched."""

    type: Literal["unsubscribed"]
    topic: Topic


class UnsubscribedMyApplications(_Frame):
    """Your applications are no longer watched as a whole."""

    type: Literal["unsubscribed"]
    topic: Mine


class Pong(_Frame):
    """The answer to ping."""

    type: Literal["pong"]


class ApplicationEvent(_Frame):
    """One change of an application, as the outbox publishes it; never the applicant's personal data."""

    event_id: str = Field(description="<application_id>#<seq>; at-least-once delivery: dedupe by it")
    application_id: str
    seq: int = Field(
        ge=1, description="Staff: the recorded sequence number; applicants: its place among the events shown to them"
    )
    type: EventType
    from_state: Optional[State]
    state: State
    at: str
    actor: str = Field(description="Staff see `reviewer:<sub>`; applicants the role only (`reviewer`)")
    reason: str = Field(description="Staff see the reviewer's reason; applicants a fixed public text")
    details: Optional[dict[str, str]] = Field(
        default=None, description="Staff only, on decisions: `decision` and `reviewer_email`"
    )


class EventsFrame(_Frame):
    """Changes to one application you watch, oldest first (those committed together or in quick
    succession come in one frame). A hint: the REST API stays the source of truth. A check's result
    alone is not pushed: the decision that follows it is, with its reasons. Frames of one application
    may arrive out of order (they are sent concurrently): order their events by `seq`."""

    type: Literal["events"]
    application_id: str
    events: list[ApplicationEvent] = Field(min_length=1)


class ErrorFrame(_Frame):
    """A refused frame; it names the application or topic it concerns, when there is one."""

    type: Literal["error"]
    code: str = Field(json_schema_extra={"enum": list(ERROR_CODES)})
    message: str
    application_id: str = MayBeAbsent
    topic: str = MayBeAbsent


CLIENT_FRAMES: tuple[type[_Frame], ...] = (
    SubscribeApplication,
    SubscribeMyApplications,
    SubscribeReviewQueue,
    UnsubscribeApplication,
    UnsubscribeMyApplications,
    UnsubscribeReviewQueue,
    Ping,
)
SERVER_FRAMES: tuple[type[_Frame], ...] = (
    SubscribedApplication,
    SubscribedMyApplications,
    SubscribedReviewQueue,
    UnsubscribedApplication,
    UnsubscribedMyApplications,
    UnsubscribedReviewQueue,
    Pong,
    EventsFrame,
    ErrorFrame,
)


def document() -> dict[str, Any]:
    """The whole AsyncAPI document."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for frame in CLIENT_FRAMES + SERVER_FRAMES:
        messages[frame.__name__] = _message(frame, schemas)
    actions = {frame.model_fields["action"].annotation.__args__[0] for frame in CLIENT_FRAMES}  # type: ignore[union-attr]
    if actions != set(ACTIONS):
        raise ValueError(f"client frames {sorted(actions)} do not cover the protocol's actions {sorted(ACTIONS)}")
    codes = "\n".join(f"- `{code}`: {meaning}" for code, meaning in ERROR_CODES.items())
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:account-opening:live-updates",
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": (
                "Live updates over the WebSocket API. Connect with `?token=<Cognito ID or access token>` "
                "(refused with HTTP 401 otherwise), send JSON text frames of at most "
                f"{MAX_FRAME_BYTES} bytes, receive JSON text frames. Every client frame gets exactly one reply "
                "frame; `events` frames arrive for what you watch. The REST API (/openapi.json) stays the "
                f"source of truth.\n\nError codes:\n{codes}"
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "websocket": {
                "url": "{domain}/{stage}",
                "protocol": "wss",
                "description": "API Gateway's WebSocket API (the local stack prints its ws:// URL)",
                "variables": {"domain": {"default": "localhost:8001"}, "stage": {"default": "api"}},
                "security": [{"token": []}],
            }
        },
        "channels": {
            "/": {
                "description": "The one WebSocket connection: commands in, replies and events out.",
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "properties": {"token": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN_CHARS}},
                            "required": ["token"],
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
                "publish": {
                    "operationId": "sendCommand",
                    "summary": "Frames a client sends",
                    "message": {"oneOf": [_ref(frame) for frame in CLIENT_FRAMES]},
                },
                "subscribe": {
                    "operationId": "receiveFrame",
                    "summary": "Frames a client receives",
                    "message": {"oneOf": [_ref(frame) for frame in SERVER_FRAMES]},
                },
            }
        },
        "components": {
            "messages": messages,
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "token": {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": "A Cognito ID or access token of the user pool, checked at $connect",
                }
            },
        },
    }


def _message(frame: type[_Frame], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = frame.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in {**schema.pop("$defs", {}), frame.__name__: schema}.items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are called {name!r}")
    doc = (frame.__doc__ or frame.__name__).strip()
    return {
        "name": frame.__name__,
        "title": frame.__name__,
        "summary": doc.splitlines()[0],
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{frame.__name__}"},
    }


def _ref(frame: type[_Frame]) -> dict[str, str]:
    return {"$ref": f"#/components/messages/{frame.__name__}"}
