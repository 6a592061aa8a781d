"""Per-user request rate limits on the REST API (issue 18).

One signed-in user (or a stolen token) must not be able to make the API read, sign and audit without
bound: 300 GETs in two seconds, a hundred upload forms, a hundred audited reads each growing the history.
Each authenticated request takes one use of the user's counter for the current minute (a fixed window,
one conditional UpdateItem in the idempotency table, expiring with the window); past the limit the API
answers 429 ``too_many_requests`` with ``Retry-After`` (seconds to the window's end) and
``details.retry_after_seconds``, ``details.limit``, ``details.window_seconds``. The limits are settings
(``applicant_requests_per_minute``, ``staff_requests_per_minute``), read at most once a minute per
container. The counter is per user, not per container: every Lambda container shares it.

Fixed windows let a user make up to twice the limit across one window boundary; a sliding log would
cost a read per request more. API Gateway's stage throttling (``.chalice/throttling.json``) is the
coarse, per-stage bound in front of this one.

A request that commits (``api.middleware.COMMITTING_ROUTES``: the create, a withdrawal, the face check's
steps, a reviewer's decision) takes its use inside its own commit's transaction (issue 22: one call less
each): the middleware ``defer``s it, ``ApplicationService.commit`` carries it as one more conditional item
(past the limit the whole commit is refused: 429, nothing written), and ``settle`` takes it with the usual
UpdateItem after the view when no commit carried it -- the request was refused (404, 409, 422, the daily
quota, an idempotent replay) or changed nothing -- so every request is counted, committed or not. What that
leaves to a user over the limit on those routes: the view's reads before its commit is refused (never a
write, a signature or an audited read: GETs and the upload form are admitted before the view, as before).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from ..domain.limits import REQUEST_WINDOW_SECONDS, request_window
from ..domain.users import Identity
from .errors import RateLimited
from .ports import Quotas, QuotaUse, SettingsSource


@dataclass(frozen=True)
class RequestUse:
    """One request's use of its user's counter, and what refusing it answers."""

    use: QuotaUse
    refusal: RateLimited


class DeferredUses:
    """The use a request (this thread's) has deferred to its commit, until a commit carries it or it is settled."""

    def __init__(self) -> None:
        self._local = threading.local()

    def hold(self, use: Optional[RequestUse]) -> None:
        self._local.use = use

    def pending(self) -> Optional[RequestUse]:
        return getattr(self._local, "use", None)

    def carried(self) -> None:
        """A commit took the use in its transaction (or was refused by it): nothing is left to take."""
        self._local.use = None


class RequestRateLimiter:
    def __init__(
        self,
        quotas: Quotas,
        settings: SettingsSource,
        clock: Callable[[], dt.datetime],
        deferred: Optional[DeferredUses] = None,
    ):
        self.quotas = quotas
        self.settings = settings
        self.clock = clock
        self.deferred = deferred or DeferredUses()

    def limit_for(self, who: Identity) -> int:
        policy = self.settings.policy()
        return policy.staff_requests_per_minute if who.is_staff else policy.applicant_requests_per_minute

    def use_for(self, who: Identity) -> RequestUse:
        limit = self.limit_for(who)
        window, retry_after = request_window(self.clock(), REQUEST_WINDOW_SECONDS)
        use = QuotaUse(f"rate#{who.pool}#{who.sub}#{window}", limit, REQUEST_WINDOW_SECONDS * 2)
        return RequestUse(use, RateLimited(limit, REQUEST_WINDOW_SECONDS, retry_after))

    def admit(self, who: Identity) -> None:
        """Count one request of ``who``; RateLimited when the window's limit is spent."""
        self._take(self.use_for(who))

    def defer(self, who: Identity) -> None:
        """Count this request of ``who`` in its commit's transaction if it commits (``settle`` otherwise)."""
        self.deferred.hold(self.use_for(who))

    def settle(self) -> None:
        """After the view: take the deferred use if no commit carried it; RateLimited when the limit is spent."""
        pending = self.deferred.pending()
        self.deferred.carried()
        if pending is not None:
            self._take(pending)

    def _take(self, request: RequestUse) -> None:
        use = request.use
        if not self.quotas.take(use.key, use.limit, use.ttl_seconds):
            raise request.refusal
