"""The rule violations of the workflow: the API turns each into a 4xx answer (chalicelib/api/errors.py);
``NothingToDo`` (a replayed event) is success to its callers."""

from __future__ import annotations

from typing import Optional

from .states import EventType, State


class DomainError(Exception):
    """Base of the rule violations the API turns into 4xx answers."""

    code = "domain_error"


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, event_type: EventType, state: Optional[State]):
        self.event_type = event_type
        self.state = state
        super().__init__(f"{event_type.value} is not allowed from state {state.value if state else None}")


class NothingToDo(DomainError):
    """The change was already made (a replayed event): callers treat it as success."""

    code = "nothing_to_do"


class NoDocument(DomainError):
    """There is no identity document to show: never uploaded, or purged after retention."""

    code = "no_document"

    @property
    def purged(self) -> bool:
        return str(self) == "purged"


class NotAllowed(DomainError):
    code = "forbidden"


class SecondReviewerRequired(DomainError):
    """Four eyes: the reviewer who recommended cannot also confirm (nor anyone who may be them)."""

    code = "second_reviewer_required"


class ClaimedByAnother(DomainError):
    """The case is claimed by another reviewer until ``until``: they decide it, or the claim lapses."""

    code = "claimed_by_another"

    def __init__(self, until: str):
        super().__init__(f"claimed by another reviewer until {until}")
        self.until = until


class NoSuchCandidate(DomainError):
    """The sanctions check of this application names no such list entry."""

    code = "no_such_candidate"


class AlreadyCleared(DomainError):
    """Four eyes: this candidate was already cleared by two reviewers."""

    code = "already_cleared"


class CaseAlreadyResolved(DomainError):
    code = "case_already_resolved"
