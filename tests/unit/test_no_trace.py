"""Tipping off leaves no trace: an event that exists only because of a sanctions review -- a false-positive mark,
a customer's re-screening hit, a reviewer's read of it and its resolution, the four-eyes recommendation -- is not
only hidden from the applicant, it changes nothing they can read. Each scenario runs twice on the fakes, through the use cases and the
presenters the routes answer with: once with the review, once as a twin where it never happened (the same steps at
the same instants, the same applicant). The applicant's application, their list, every page of the history at
several page sizes, the subscribe ack and every WebSocket frame are the same in both, once the application's id
and the hashes (opaque ids, each run its own) are named by their order of appearance.
(What the words tell: tests/test_tipping_off.py; the rules: chalicelib/domain/disclosure.py.)"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Callable, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.api import presenters
from chalicelib.domain.checks import ADDRESS, FACE, IDENTITY, CheckResult
from chalicelib.domain.sanctions import OFAC_SDN
from chalicelib.domain.workflow.intake import receive_document, record_unexpected_document
from chalicelib.domain.workflow.states import State
from chalicelib.services.live_updates import MY_APPLICATIONS, applicant_topic
from tests.support.fakes import FakeClock, fake_services, identity, sanctions_lists, submit
from tests.support.fakes import screen as screen_queue
from tests.unit.test_customer_rescreening import CUSTOMER, list_names_the_customer, run_workers
from tests.unit.test_sanctions_false_positives import NEAR

APPLICANT = identity("the-applicant")  # the same person in both runs
FIRST, SECOND = identity("first-reviewer", "reviewers"), identity("second-reviewer", "reviewers")
#: Page sizes read at every snapshot (the property test below tries the others).
LIMITS = (1, 2, 3, 5, 100)
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


class Run:
    """One run of a scenario: the fakes, the applicant watching all their applications, and what they read."""

    def __init__(self, second_review_for: Optional[set[str]] = None, with_review: bool = True):
        self.with_review = with_review
        self.clock = FakeClock()
        self.svc = sanctions_lists(fake_services(self.clock))
        if second_review_for is not None:
            self.svc.settings.update(second_review_for=frozenset(second_review_for))
        self.app_id = ""
        self.relayed: dict[int, bool] = {}
        self.delivered = 0
        self.cid = "conn-the-applicant"
        assert self.svc.live_updates.connect(self.cid, {"token": self.svc.verifier.issue(APPLICANT)}) == 200
        self.svc.live_updates.command(self.cid, "subscribe", {"topic": MY_APPLICATIONS}, MY_APPLICATIONS)
        self.snapshots: list[Any] = []

    def step(self, action: Callable[[Run], Any], hidden: bool = False) -> None:
        """Do it, then what the history stream, the outbox and the fan-out do with its events. A shown step moves
        the clock a minute on; a hidden one does not (its twin skips it: the times after it are the same)."""
        action(self)
        self.deliver()
        if not hidden:
            self.clock.advance(minutes=1)

    def deliver(self) -> None:
        app = self.svc.repository.get(self.app_id)
        new = [e for e in self.svc.repository.history(self.app_id) if e.seq not in self.relayed]
        if new:
            records = [(f"{self.app_id}#{e.seq}", e, app.applicant_id, app.created_at) for e in new]
            assert self.svc.outbox.relay_batch(records)[1] is None
            self.relayed.update({e.seq: True for e in new})
        for message in self.svc.publisher.messages[self.delivered :]:
            self.svc.live_updates.fan_out(json.dumps(message))
        self.delivered = len(self.svc.publisher.messages)

    def history_pages(self, limit: int) -> list[dict[str, Any]]:
        pages, cursor = [], None
        while True:
            page = presenters.history(self.svc.applications.history(APPLICANT, self.app_id, limit, cursor))
            pages.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                return pages

    def snapshot(self) -> None:
        """Everything the applicant can read now."""
        svc = self.svc
        items, _ = svc.applications.list_own(APPLICANT, 50, None)
        ack = svc.live_updates.command(
            self.cid, "subscribe", {"application_id": self.app_id}, applicant_topic(APPLICANT.sub, self.app_id)
        )
        self.snapshots.append(
            {
                "application": presenters.application(svc.applications.get_own(APPLICANT, self.app_id)),
                "list": [presenters.summary(a) for a in items],
                "history": {limit: self.history_pages(limit) for limit in LIMITS},
                "ack": ack,
            }
        )

    def seen(self) -> Any:
        """All snapshots and frames, the application's id and the hashes named by their order of appearance."""
        return anonymous({"snapshots": self.snapshots, "frames": self.svc.sender.frames(self.cid)}, self.app_id)

    def recorded_types(self) -> list[str]:
        return [e.type.value for e in self.svc.repository.history(self.app_id)]


def anonymous(seen: Any, app_id: str) -> Any:
    """``seen`` with cursors decoded, the application id as APP and each hash as H<n> by first appearance."""

    def decode(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: decode_cursor(v) if k == "next_cursor" and v else decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    text = json.dumps(decode(seen), sort_keys=True).replace(app_id, "APP")
    names: dict[str, str] = {}
    return json.loads(HEX64.sub(lambda m: names.setdefault(m.group(0), f"H{len(names) + 1}"), text))


def decode_cursor(cursor: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


# --- the scenarios: each a list of (step, hidden); its twin leaves the hidden steps out -------------------


def submitted(**declared: Any) -> Callable[[Run], Any]:
    def act(run: Run) -> None:
        run.app_id = submit(run.svc, APPLICANT, **declared).application_id

    return act


def document(run: Run) -> None:
    key = f"applications/{run.app_id}/identity/doc"
    run.svc.applications.apply_with_retry(run.app_id, lambda a: receive_document(a, key, 2000, run.clock()))


def checks(*results: CheckResult) -> Callable[[Run], None]:
    def act(run: Run) -> None:
        for result in results:
            run.svc.check_recorder.record(run.app_id, result)

    return act


def screened(run: Run) -> None:
    screen_queue(run.svc, run.app_id)


def viewed_by(reviewer: Any) -> Callable[[Run], Any]:
    return lambda run: run.svc.review.detail(reviewer, run.app_id)


def approved_by(reviewer: Any) -> Callable[[Run], Any]:
    return lambda run: run.svc.review.decide(reviewer, run.app_id, True, "not the listed man: other town")


def claimed_by(reviewer: Any) -> Callable[[Run], Any]:
    return lambda run: run.svc.review.claim(reviewer, run.app_id)


def approved_by_the_last_reviewer(run: Run) -> None:
    """The second reviewer confirms the recommendation; in the twin (no four eyes) the first, who holds the claim,
    approves."""
    approved_by(SECOND if run.with_review else FIRST)(run)


def snapshot(run: Run) -> None:
    run.snapshot()


def false_positive(run: Run) -> None:
    run.svc.sanctions_reviews.clear_false_positive(FIRST, run.app_id, OFAC_SDN, "1001", "born in Leeds, other father")


def rescreening_hit(run: Run) -> None:
    list_names_the_customer(run.svc)
    run.svc.sanctions_refresh.refresh()
    run_workers(run.svc)


def case_read(run: Run) -> None:  # a reviewer opens the case: a read of the customer's data, audited
    (case,), _ = run.svc.screening_cases.open_cases(10, None)
    run.svc.screening_case_reviews.detail(FIRST, case.case_id)


def resolved(run: Run) -> None:
    (case,), _ = run.svc.screening_cases.open_cases(10, None)
    run.svc.screening_case_reviews.resolve(FIRST, case.case_id, "false_positive", "born in Lyon in 1988")
    run.svc.screening_case_reviews.resolve(SECOND, case.case_id, "false_positive", "agreed: born in Lyon")


def later_upload(run: Run) -> None:  # a shown event after the hidden ones (a further object, recorded)
    key = f"applications/{run.app_id}/identity/again"
    run.svc.applications.apply_with_retry(run.app_id, lambda a: record_unexpected_document(a, key, "v2", run.clock()))


def projected(run: Run) -> None:
    assert run.svc.repository.get(run.app_id).state is State.APPROVED
    event = {"application_id": run.app_id, "type": "application.approved"}
    run.svc.customer_projection.application_event(json.dumps(event))


IN_SANCTIONS_REVIEW = [
    (submitted(**NEAR), False),
    (screened, False),
    (document, False),
    (checks(CheckResult(ADDRESS), CheckResult(IDENTITY), CheckResult(FACE)), False),  # FLAGGED: a possible match
    (viewed_by(FIRST), False),
]
#: name: (steps, the policy's second_review_for with the hidden steps, and in the twin without them)
SCENARIOS: dict[str, tuple[list[tuple[Callable[[Run], Any], bool]], Optional[set[str]], Optional[set[str]]]] = {
    "false-positive-mark": (
        [*IN_SANCTIONS_REVIEW, (false_positive, True), (snapshot, False), (approved_by(FIRST), False)],
        {"IDENTITY"},  # one reviewer decides: the mark is the only hidden event of a review
        {"IDENTITY"},
    ),
    "four-eyes-recommendation": (
        [*IN_SANCTIONS_REVIEW, (approved_by(FIRST), True), (snapshot, False), (approved_by(SECOND), False)],
        None,  # four eyes on sanctions (the default): the first approval is a recommendation
        {"IDENTITY"},  # the twin: one reviewer approves
    ),
    # Four eyes against an ordinary review, as reviewers work (issue: staff work is never shown): the first
    # claims, reads and recommends; a second claims, reads and confirms. The twin is one reviewer's claim, read
    # and approval. The second reviewer's claim and read would tell as much as the recommendation.
    "four-eyes-claims-and-reads": (
        [
            *IN_SANCTIONS_REVIEW[:-1],
            (claimed_by(FIRST), False),
            (viewed_by(FIRST), False),
            (approved_by(FIRST), True),  # the recommendation (its claim ends with it)
            (claimed_by(SECOND), True),
            (snapshot, False),
            (viewed_by(SECOND), True),
            (viewed_by(SECOND), True),  # a second look: reads are many, and none of them counts
            (snapshot, False),
            (approved_by_the_last_reviewer, False),
        ],
        None,
        {"IDENTITY"},
    ),
    "customer-rescreening": (
        [
            (submitted(**CUSTOMER), False),
            (document, False),
            (checks(CheckResult(ADDRESS), CheckResult(IDENTITY), CheckResult(FACE)), False),
            (checks(CheckResult("sanctions")), False),  # APPROVED
            (projected, False),
            (snapshot, False),
            (rescreening_hit, True),  # customer.screening_hit on an APPROVED customer
            (snapshot, False),
            (case_read, True),  # review.viewed of the case: no reviewer reads an approved customer otherwise
            (resolved, True),  # four eyes: the recommendation and the resolution
            (snapshot, False),
            (later_upload, False),
        ],
        None,
        None,
    ),
}
HIDDEN_TYPES = {
    "false-positive-mark": {"screening.false_positive"},
    "four-eyes-recommendation": {"review.recommended"},
    "four-eyes-claims-and-reads": {"review.recommended"},  # the claims and reads are in both, more of them here
    "customer-rescreening": {
        "review.viewed",
        "customer.screening_hit",
        "customer.screening_recommended",
        "customer.screening_resolved",
    },
}


def play(name: str, with_review: bool) -> Run:
    steps, policy, twin_policy = SCENARIOS[name]
    run = Run(policy if with_review else twin_policy, with_review)
    for action, hidden in steps:
        if hidden and not with_review:
            continue
        run.step(action, hidden)
    run.snapshot()
    return run


@pytest.fixture(scope="module")
def played() -> dict[str, tuple[Run, Run]]:
    return {name: (play(name, True), play(name, False)) for name in SCENARIOS}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_review_of_the_applicant_changes_nothing_they_can_read(played, name):
    reviewed, twin = played[name]
    hidden = set(reviewed.recorded_types()) - set(twin.recorded_types())
    assert hidden == HIDDEN_TYPES[name]  # the review happened, and staff see it
    assert len(reviewed.svc.repository.history(reviewed.app_id)) > len(twin.svc.repository.history(twin.app_id))
    seen, twin_seen = reviewed.seen(), twin.seen()
    assert seen["frames"], "the applicant was sent frames"
    assert seen["snapshots"] == twin_seen["snapshots"]
    assert seen["frames"] == twin_seen["frames"]


def test_a_second_reviewers_claim_and_reads_are_not_told(played):
    """Staff work is recorded for staff (each read audited) and never told: the four-eyes case took more claims
    and reads than the ordinary review, and the applicant reads the same."""
    reviewed, twin = played["four-eyes-claims-and-reads"]

    def work(run: Run) -> list[str]:
        return [t for t in run.recorded_types() if t in ("review.claimed", "review.viewed")]

    assert len(work(reviewed)) > len(work(twin)) > 0
    assert reviewed.seen()["snapshots"] == twin.seen()["snapshots"]
    shown = {e["type"] for e in reviewed.snapshots[-1]["history"][100][0]["items"]}
    assert shown.isdisjoint({"review.claimed", "review.viewed", "review.recommended"})


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_applicants_numbering_counts_the_events_they_are_shown(played, name):
    """1..n, no gap, no prev_hash; pages of exactly ``limit`` but the last; the cursor names the place among the
    shown events and the page's last hash, never a recorded seq; frames and ack by the same numbering."""
    reviewed, _ = played[name]
    last = reviewed.snapshots[-1]
    whole = last["history"][100][0]["items"]
    assert [e["seq"] for e in whole] == list(range(1, len(whole) + 1))
    assert all("prev_hash" not in e for e in whole) and last["history"][100][0]["chain_intact"] is True
    recorded = {e.hash: e.seq for e in reviewed.svc.repository.history(reviewed.app_id)}
    assert all(e["hash"] in recorded for e in whole)  # the recorded hash: staff can find the event by it
    assert [recorded[e["hash"]] for e in whole] != [e["seq"] for e in whole]  # and the numbers are not the recorded
    for limit, pages in last["history"].items():
        assert [e for page in pages for e in page["items"]] == whole
        assert all(len(page["items"]) == limit for page in pages[:-1]) and 0 < len(pages[-1]["items"]) <= limit
        for page in pages[:-1]:
            named = decode_cursor(page["next_cursor"])
            assert {"n": named["n"], "h": named["h"]} == {"n": page["items"][-1]["seq"], "h": page["items"][-1]["hash"]}
            # its recorded seq encrypted (r - n would count the hidden events before it), all of it MACed
            assert set(named) == {"n", "h", "r", "t"} and HEX64.fullmatch(named["r"]) and HEX64.fullmatch(named["t"])
        assert all(page["chain_intact"] for page in pages)
    assert last["ack"]["seq"] == len(whole) and last["application"]["version"] < reviewed.svc.repository.get(
        reviewed.app_id
    ).version
    frames = [e for frame in reviewed.svc.sender.frames(reviewed.cid) for e in frame["events"]]
    by_seq = {e["seq"]: e for e in whole}
    for sent in frames:
        assert sent["event_id"] == f"{reviewed.app_id}#{sent['seq']}" and "shown_seq" not in sent
        assert by_seq[sent["seq"]]["type"] == sent["type"] and by_seq[sent["seq"]]["at"] == sent["at"]


@given(limit=st.integers(min_value=1, max_value=24), name=st.sampled_from(sorted(SCENARIOS)))
def test_every_page_size_reads_the_same_as_the_twin(played, limit, name):
    reviewed, twin = played[name]
    assert anonymous(reviewed.history_pages(limit), reviewed.app_id) == anonymous(twin.history_pages(limit), twin.app_id)


def test_staff_read_the_recorded_numbers(played):
    reviewed, _ = played["false-positive-mark"]
    detail = presenters.review_detail(
        reviewed.svc.review.detail(FIRST, reviewed.app_id), FIRST.sub, reviewed.clock(), reviewed.svc.settings.policy()
    )
    recorded = reviewed.svc.repository.history(reviewed.app_id)
    assert [e["seq"] for e in detail["history"]] == [e.seq for e in recorded]
    assert [e["prev_hash"] for e in detail["history"]] == [e.prev_hash for e in recorded]
    assert detail["version"] == reviewed.svc.repository.get(reviewed.app_id).version


def test_a_forged_or_stale_cursor(played):
    """A page reads on from the recorded event its cursor names, so the cursor is the server's word (MACed): one with
    another place, hash, recorded seq or application, a malformed one, or a recorded seq in the clear (the old
    cursor), is refused -- else a forged one would answer where the event of that hash was recorded: where hidden
    events are."""
    from chalicelib.services.ports import InvalidCursor

    reviewed, _ = played["false-positive-mark"]
    svc, app_id = reviewed.svc, reviewed.app_id
    page = svc.applications.history(APPLICANT, app_id, 2)
    issued = decode_cursor(page.next_cursor)
    assert svc.applications.history(APPLICANT, app_id, 2, page.next_cursor).intact is True

    def cursor(data: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    assert svc.applications.history(APPLICANT, app_id, 2, cursor(issued)).events  # the same cursor, re-encoded
    forgeries = (
        {**issued, "n": issued["n"] + 1},
        {**issued, "n": issued["n"] - 1},
        {**issued, "h": "0" * 64},
        {**issued, "r": f"{int(issued['r'], 16) ^ 1:064x}"},  # another recorded seq
        {k: v for k, v in issued.items() if k != "r"},
        {"n": 2, "h": "0" * 64},
        {"s": 2, "h": "0" * 64},
        {"n": 0, "h": ""},
        {"n": True, "h": ""},
        {"n": "2", "h": ""},
        [1],
    )
    for forged in forgeries:
        with pytest.raises(InvalidCursor):
            svc.applications.history(APPLICANT, app_id, 2, cursor(forged))
    other = played["four-eyes-recommendation"][0]
    with pytest.raises(InvalidCursor):  # pinned to its application
        other.svc.applications.history(APPLICANT, other.app_id, 2, page.next_cursor)


def test_an_application_recorded_before_the_numbering_was_kept(svc, applicant, clock):
    """Records without the applicant's numbering (written before it was kept): the history is numbered from the
    recorded events, the application shows its recorded version, the subscription's seq is 0 (read the history),
    and the notifier numbers a new event's frame from the history (no writer is asked to read it)."""
    import dataclasses

    app_id = submit(svc, applicant).application_id
    store = svc.repository
    legacy = dataclasses.replace(store.get(app_id), shown_seq=None, shown_version=None, shown_at=None)
    with store._lock:  # as the item and the event were stored before the change
        store._apps[app_id] = legacy
        store._history[app_id] = {s: dataclasses.replace(e, shown_seq=None) for s, e in store._history[app_id].items()}
    clock.advance(minutes=1)
    svc.applications.apply_with_retry(app_id, lambda a: receive_document(a, "k", 2048, clock()))
    after = store.get(app_id)
    assert after.shown_seq is None and (after.shown_version, after.shown_at) == (after.version, after.updated_at)
    assert presenters.application(after)["version"] == 2
    items = presenters.history(svc.applications.history(applicant, app_id))["items"]
    assert [e["seq"] for e in items] == [1, 2] and all("prev_hash" not in e for e in items)
    cid = "conn-legacy"
    assert svc.live_updates.connect(cid, {"token": svc.verifier.issue(applicant)}) == 200
    ack = svc.live_updates.command(
        cid, "subscribe", {"application_id": app_id}, applicant_topic(applicant.sub, app_id)
    )
    assert ack["seq"] == 0
    records = [(f"{app_id}#{e.seq}", e, applicant.sub, after.created_at) for e in store.history(app_id)[1:]]
    svc.outbox.relay_batch(records)
    [message] = svc.publisher.messages
    assert "shown_seq" not in message["events"][0]
    svc.live_updates.fan_out(json.dumps(message))
    [frame] = svc.sender.frames(cid)
    assert [(e["seq"], e["event_id"]) for e in frame["events"]] == [(2, f"{app_id}#2")]


def test_a_page_costs_the_page_not_the_history(svc, applicant, reviewer, clock):
    """Each page reads the recorded events from its cursor's on: the page, the hidden events among it and one
    more shown (is there more), counted as the events the repository hands back, whatever the history's length
    (on main: the whole history for every page, 87 events each here)."""
    from tests.unit.test_outbox_review_health import flagged

    app_id = flagged(svc, applicant, clock).application_id
    for n in range(40):  # a long history: shown events, each after a hidden one (a reviewer's audited read)
        svc.review.detail(reviewer, app_id)
        key = f"applications/{app_id}/identity/again-{n}"
        svc.applications.apply_with_retry(app_id, lambda a, k=key: record_unexpected_document(a, k, "v2", clock()))
    store, read = svc.repository, []
    recorded = len(store.history(app_id))
    for name in ("history", "history_after"):
        original = getattr(store, name)

        def counted(*args: Any, _original: Any = original) -> Any:
            found = _original(*args)
            read.append(len(found))
            return found

        setattr(store, name, counted)
    assert recorded > 80
    costs, cursor, seen = [], None, []
    while True:
        read.clear()
        page = svc.applications.history(applicant, app_id, 5, cursor)
        assert page.intact and len(page.events) <= 5
        costs.append(sum(read))
        seen += [e.shown_seq for e in page.events]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(range(1, len(seen) + 1)) and len(costs) > 8
    # a page: its cursor's event, five shown, the hidden among them (one before each here) and the next shown:
    # 13 events, two Queries of 7, on the last pages as on the second, however long the history
    assert max(costs) == 14 == costs[1] and all(cost <= 14 for cost in costs), costs
    assert sum(costs) <= recorded + 7 * len(costs)  # reading every page costs about the history once


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_backfill_leaves_what_the_commits_numbered(played, name):
    """An application numbered at each commit under today's rule needs nothing of the backfill
    (``ApplicationService.renumber_shown``, scripts/backfill_shown.py), with the review and without it."""
    for run in played[name]:
        before = run.svc.repository.get(run.app_id)
        assert run.svc.applications.renumber_shown(run.app_id) is False
        assert run.svc.repository.get(run.app_id) == before


@pytest.mark.parametrize("rule", ["legacy", "older-rule"])
def test_the_backfill_numbers_a_record_as_todays_rule_does(played, rule):
    """A record without the numbering, or numbered when staff work was shown (its reads counted), gets today's
    count and the last shown event's instant, the same with the review and without it; once."""
    import dataclasses

    heads = []
    for run in played["four-eyes-claims-and-reads"]:
        store, app_id = run.svc.repository, run.app_id
        app = store.get(app_id)
        if rule == "legacy":
            stale = dataclasses.replace(app, shown_seq=None, shown_version=None, shown_at=None)
        else:  # as the rule before kept it: every event but the screening's counted
            stale = dataclasses.replace(app, shown_seq=app.shown_seq + 4, shown_version=app.shown_version + 4)
        with store._lock:
            store._apps[app_id] = stale
        assert run.svc.applications.renumber_shown(app_id, dry_run=True) is True
        assert store.get(app_id) == stale  # a dry run changes nothing
        assert run.svc.applications.renumber_shown(app_id) is True
        fixed = store.get(app_id)
        assert (fixed.shown_seq, fixed.shown_at) == (app.shown_seq, app.shown_at) and fixed.version == app.version + 1
        assert run.svc.applications.renumber_shown(app_id) is False  # idempotent
        heads.append((fixed.shown_seq, fixed.shown_version, fixed.shown_at))
        with store._lock:  # the module's runs as they were, for the other tests
            store._apps[app_id] = app
    assert heads[0] == heads[1]
