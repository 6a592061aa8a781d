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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..domain.limits import REQUEST_WINDOW_SECONDS, request_window
from ..domain.users import Identity
from .errors import RateLimited
from .ports import Quotas, SettingsSource


class RequestRateLimiter:
    def __init__(self, quotas: Quotas, settings: SettingsSource, clock: Callable[[], dt.datetime]):
        self.quotas = quotas
        self.settings = settings
        self.clock = clock

    def limit_for(self, who: Identity) -> int:
        policy = self.settings.policy()
        return policy.staff_requests_per_minute if who.is_staff else policy.applicant_requests_per_minute

    def admit(self, who: Identity) -> None:
        """Count one request of ``who``; RateLimited when the window's limit is spent."""
        limit = self.limit_for(who)
        window, retry_after = request_window(self.clock(), REQUEST_WINDOW_SECONDS)
        key = f"rate#{who.pool}#{who.sub}#{window}"
        if not self.quotas.take(key, limit, REQUEST_WINDOW_SECONDS * 2):
            raise RateLimited(limit, REQUEST_WINDOW_SECONDS, retry_after)
