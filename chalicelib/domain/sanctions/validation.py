"""Whether a freshly downloaded list may replace the last good one.

A truncated download, an error page served with status 200 or a format change
would otherwise silently empty the index, and every applicant would pass. So
a list that fails to parse, has no individuals, or shrank by more than a set
share against the last good list is refused; the caller keeps the last good
index and raises an alarm.
"""

from __future__ import annotations

from .model import ParsedList


class ListRefused(Exception):
    """The download must not be used; the message says why (for the operator)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def validate(parsed: ParsedList, last_good_count: int | None, max_shrink: float) -> None:
    """Raise ListRefused unless ``parsed`` is plausible next to the last good list.

    ``max_shrink`` is a share (0.1 = refuse a list more than 10 % smaller). Growth is
    always accepted: lists grow as designations are added.
    """
    if not 0 <= max_shrink < 1:
        raise ValueError("max_shrink must be in [0, 1)")
    if not parsed.entries:
        raise ListRefused(parsed.source, f"no individuals among {parsed.record_count} records")
    if last_good_count:
        floor = last_good_count * (1 - max_shrink)
        if parsed.record_count < floor:
            shrink = 1 - parsed.record_count / last_good_count
            raise ListRefused(
                parsed.source,
                f"{parsed.record_count} records against {last_good_count} last time "
                f"({shrink:.0%} smaller; at most {max_shrink:.0%} allowed)",
            )
