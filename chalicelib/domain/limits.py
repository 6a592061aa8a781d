"""Per-user limits on what one person can make the bank store, check and push.

Each application stores personal data and starts checks that cost money; each
WebSocket connection and subscription costs an item and a share of every
fan-out. One user (or a stolen token) must not be able to multiply them.
The daily application limit is a setting (``max_applications_per_day`` in
Parameter Store, see ``policy.Policy``); the connection limits are code.
"""

from __future__ import annotations

import datetime as dt

#: WebSocket connections one user may hold at once (a phone, a laptop, a few tabs).
MAX_CONNECTIONS_PER_USER = 5
#: Subscriptions per connection live in ``services.ports.MAX_SUBSCRIPTIONS`` (25): at most
#: 5 x 25 = 125 subscriptions per user.


def day_window(now: dt.datetime) -> tuple[str, int]:
    """The UTC day ``now`` falls in (its key) and the seconds until it ends (Retry-After)."""
    utc = now.astimezone(dt.UTC)
    tomorrow = dt.datetime.combine(utc.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return utc.date().isoformat(), max(1, int((tomorrow - utc).total_seconds()) + 1)


#: The window of the per-user request rate limits (``applicant_requests_per_minute``,
#: ``staff_requests_per_minute`` in Parameter Store).
REQUEST_WINDOW_SECONDS = 60


def request_window(now: dt.datetime, seconds: int = REQUEST_WINDOW_SECONDS) -> tuple[str, int]:
    """The fixed window ``now`` falls in (its key: the window's start, epoch seconds) and the whole seconds
    until it ends (Retry-After, at least 1)."""
    epoch = int(now.timestamp())
    start = epoch - epoch % seconds
    return str(start), max(1, start + seconds - epoch)
