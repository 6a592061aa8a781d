"""Sanctions screening: the check run for each submitted application, and the job that refreshes the lists.

The check loads the screening index once per container and reloads it when the
published version changes (it re-reads the small pointer at most once a
minute), so screening an applicant costs a few milliseconds and no download.

The job fetches each list from the URL in Parameter Store, parses and
validates it against the last good list, and publishes a new index version
only when the content changed. A refused list (download failed, does not
parse, shrank too much) is logged, counted (``SanctionsListRefused``, the
metric to alarm on) and replaced by its last good copy from the current index,
so a bad download never empties screening.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from ..domain.checks import SANCTIONS, CheckResult
from ..domain.sanctions import (
    OFAC_SDN,
    UN_SC,
    Applicant,
    IndexFormatError,
    ListFormatError,
    ListRefused,
    ParsedList,
    ScreeningIndex,
    ScreeningPolicy,
    parse_sdn,
    parse_un,
    screen,
    unavailable,
    validate,
)
from ..domain.sanctions.rescreening import document_sex
from ..domain.users import Identity
from ..domain.workflow import review, screening
from ..domain.workflow.application import Application
from ..observability import logger
from .applications import ApplicationService
from .checks import CheckRecorder
from .errors import NotFound
from .ports import Clock, DownloadFailed, ListDownloader, Metrics, SanctionsIndexStore, SettingsSource

if TYPE_CHECKING:
    from .rescreening import CustomerRescreening

JOB = "refresh_sanctions_lists"


class SanctionsIndexCache:
    """This container's index: loaded on first use, reloaded when the published version changes."""

    def __init__(
        self,
        store: SanctionsIndexStore,
        metrics: Metrics,
        check_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.metrics = metrics
        self.check_seconds = check_seconds
        self.monotonic = monotonic
        self.index: Optional[ScreeningIndex] = None
        self._checked_at: Optional[float] = None

    def get(self) -> Optional[ScreeningIndex]:
        """The index to screen with, or None when none was ever published."""
        now = self.monotonic()
        if self.index is not None and self._checked_at is not None and now - self._checked_at < self.check_seconds:
            return self.index
        pointer = self.store.current()
        self._checked_at = now
        if pointer is None or (self.index is not None and pointer["version"] == self.index.version):
            return self.index
        started = time.perf_counter()
        try:
            loaded = ScreeningIndex.loads(self.store.load(pointer["version"]))
        except IndexFormatError:
            # Keep screening with what we have; the operator sees the error and the metric.
            logger.exception("sanctions index not loadable", extra={"version": pointer["version"]})
            self.metrics.count("SanctionsIndexUnloadable")
            return self.index
        logger.info(
            "sanctions index loaded",
            extra={"version": loaded.version, "names": len(loaded.names), "seconds": time.perf_counter() - started},
        )
        self.metrics.count("SanctionsIndexLoaded")
        self.index = loaded
        return loaded


def applicant_from(declared: dict[str, Any], sex: Optional[str] = None) -> Applicant:
    """What screening reads from the declaration: the full name, birth date and nationality; and the sex the
    document states, when it was read by then (the declaration has none)."""
    name = declared.get("full_name") or {}
    full = " ".join(p for p in (name.get("given_names"), name.get("surname")) if p)
    try:
        born: Optional[dt.date] = dt.date.fromisoformat(str(declared.get("date_of_birth")))
    except ValueError:
        born = None
    return Applicant(
        names=(full,) if full else (), date_of_birth=born, nationality=declared.get("nationality"), sex=sex
    )


class SanctionsCheck:
    """The third data check, run for each ``application.submitted`` event on its own queue."""

    def __init__(
        self,
        applications: ApplicationService,
        settings: SettingsSource,
        recorder: CheckRecorder,
        index: SanctionsIndexCache,
        metrics: Metrics,
    ):
        self.applications = applications
        self.settings = settings
        self.recorder = recorder
        self.index = index
        self.metrics = metrics

    def screening_requested(self, body: str) -> dict[str, Any]:
        return self.recorder.run_requested(body, SANCTIONS, self.screen_application)

    def screen_application(self, app: Application) -> CheckResult:
        """Screen; when something is found, leave out what a reviewer cleared for this applicant before
        (one Query of the applicant's applications, only then: a clean applicant costs no extra call)."""
        sex = document_sex(app.checks)  # the passport's, when the identity check read it first
        result = self.screen(dict(app.declared), sex=sex)
        if result.details.get("candidates"):
            cleared = self.cleared_for(app.applicant_id)
            if cleared:
                result = self.screen(dict(app.declared), cleared, sex=sex)
        return result

    def cleared_for(self, applicant_id: str) -> dict[tuple[str, str], str]:
        """(list, entry id) -> entry hash of every candidate a reviewer cleared in this applicant's applications
        whose clearing stands: with four eyes on sanctions, only those a second reviewer confirmed."""
        second_review_for = self.settings.policy().second_review_for
        cleared: dict[tuple[str, str], str] = {}
        cursor: Optional[str] = None
        while True:
            apps, cursor = self.applications.repo.list_for_applicant(applicant_id, 50, cursor)
            for app in apps:
                details = (app.checks.get(SANCTIONS) or {}).get("details") or {}
                for record in details.get("false_positives") or ():
                    if not screening.false_positive_stands(record, second_review_for):
                        continue
                    cleared[(record["list"], record["entry_id"])] = record.get("entry_hash") or ""
            if not cursor:
                return cleared

    def screen(
        self,
        declared: dict[str, Any],
        cleared: Optional[dict[tuple[str, str], str]] = None,
        sex: Optional[str] = None,
    ) -> CheckResult:
        index = self.index.get()
        if index is None:
            self.metrics.count("SanctionsIndexMissing")
            return unavailable("no sanctions index has been published yet")
        policy = ScreeningPolicy(review_threshold=self.settings.policy().sanctions_review_threshold)
        started = time.perf_counter()
        result = screen(index, applicant_from(declared, sex), policy, cleared)
        logger.info(
            "applicant screened",
            extra={
                "outcome": result.outcome.value,
                "candidates": len(result.details.get("candidates", ())),
                "index_version": index.version,
                "milliseconds": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return result


class SanctionsReviews:
    """A reviewer clears a sanctions candidate as a false positive, with a reason kept in the history."""

    def __init__(self, applications: ApplicationService, metrics: Metrics):
        self.applications = applications
        self.metrics = metrics

    def clear_false_positive(
        self, reviewer: Identity, application_id: str, source: str, entry_id: str, reason: str
    ) -> Application:
        """Raises NotFound (unknown, or not one this reviewer may read), NotAllowed (their own application)
        or NoSuchCandidate (the check names no such entry); with four eyes on sanctions, SecondReviewerRequired
        (the reviewer who cleared it first) or AlreadyCleared (two reviewers did)."""
        second_review_for = self.applications.policy().second_review_for
        app = self.applications.get(application_id)
        if not review.may_review(app, self.applications.repo.history(application_id), reviewer.sub):
            raise NotFound(application_id)
        clock = self.applications.clock
        change = self.applications.apply_with_retry(
            application_id,
            lambda current: screening.clear_false_positive(
                current, reviewer.sub, reviewer.email, source, entry_id, reason, clock(), second_review_for
            ),
            app,
        )
        self.metrics.count("SanctionsFalsePositiveCleared")
        logger.info(
            "sanctions candidate cleared as a false positive",
            extra={"application_id": application_id, "list": source, "entry_id": entry_id, "reviewer": reviewer.sub},
        )
        return change.after if change else self.applications.get(application_id)


class SanctionsListRefresh:
    """The scheduled job: fetch, validate, and publish a new index version when the lists changed."""

    def __init__(
        self,
        downloader: ListDownloader,
        store: SanctionsIndexStore,
        settings: SettingsSource,
        metrics: Metrics,
        clock: Clock,
        rescreening: Optional[CustomerRescreening] = None,
    ):
        self.downloader = downloader
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.rescreening = rescreening

    def refresh(self) -> dict[str, Any]:
        # Fresh, not the container's cached copy: a run right after an operator changed a list URL
        # must fetch from the new one, not report success from the old one for up to a minute.
        policy = self.settings.fresh_policy()
        pointer = self.store.current()
        last_counts = {source: info.get("records") for source, info in ((pointer or {}).get("lists") or {}).items()}
        fetchers: dict[str, Callable[[], ParsedList]] = {
            OFAC_SDN: lambda: parse_sdn(
                _text(self.downloader.fetch(policy.sanctions_ofac_sdn_url)),
                _text(self.downloader.fetch(policy.sanctions_ofac_alt_url)),
            ),
            UN_SC: lambda: parse_un(self.downloader.fetch(policy.sanctions_un_url)),
        }
        fresh: list[ParsedList] = []
        refused: dict[str, str] = {}
        for source, fetch in fetchers.items():
            try:
                parsed = fetch()
                validate(parsed, last_counts.get(source), policy.sanctions_max_shrink)
            except (DownloadFailed, ListFormatError, ListRefused) as error:
                refused[source] = str(error)
                self.metrics.count("SanctionsListRefused")
                logger.error(
                    "sanctions list refused; the last good copy stays", extra={"list": source, "reason": str(error)}
                )
                continue
            if parsed.dropped_aliases:
                logger.warning(
                    "sanctions aliases naming no listed entry were dropped",
                    extra={"list": source, "dropped_aliases": parsed.dropped_aliases},
                )
            fresh.append(parsed)
        lists = fresh + self._last_good(pointer, refused)
        summary: dict[str, Any] = {"job": JOB, "changed": 0, "refused": refused, "failed": len(refused)}
        if not lists:
            return summary
        now = self.clock().isoformat()
        index = ScreeningIndex.build(lists, built_at=now, fetched_at=now)
        summary["version"] = index.version
        summary["lists"] = {source: info.to_dict() for source, info in index.lists.items()}
        if pointer is not None and pointer.get("version") == index.version:
            # Same content: no new version, but the pointer records that the lists were checked now.
            kept: dict[str, Any] = {
                k: pointer[k] for k in ("built_at", "bytes", "delta", "rescreening") if k in pointer
            }
            manifest: dict[str, Any] = {**kept, "checked_at": now, "lists": summary["lists"]}
            self.store.publish(index.version, None, manifest)
            # A re-screening that could not be started last time (the queue was down) is started now.
            self._rescreen(index.version, manifest, summary)
            return summary
        blob = index.dumps()
        delta = self._delta(pointer, index)
        manifest = {"built_at": now, "checked_at": now, "lists": summary["lists"], "bytes": len(blob)}
        if delta is not None:
            # What customers must be screened against again (docs/sanctions.md, re-screening): the entries
            # this version adds or changes, with the version they are measured from.
            manifest["delta"] = {"from_version": pointer["version"] if pointer else None, "entries": delta}
            summary["added_or_changed"] = len(delta)
        self.store.publish(index.version, blob, manifest)
        summary["changed"] = 1
        logger.info("sanctions index published", extra={"version": index.version, "bytes": len(blob)})
        self._rescreen(index.version, manifest, summary)
        return summary

    def _rescreen(self, version: str, manifest: dict[str, Any], summary: dict[str, Any]) -> None:
        """Start the customers' re-screening against this version's delta, once: the pointer records that it
        was started, so a run after a failed start (the queue down) starts it then, and never twice."""
        delta = manifest.get("delta") or {}
        if self.rescreening is None or not delta.get("entries") or not delta.get("from_version"):
            return
        if (manifest.get("rescreening") or {}).get("version") == version:
            return
        segments = self.rescreening.start(version, str(delta["from_version"]))
        manifest["rescreening"] = {"version": version, "segments": segments, "started_at": self.clock().isoformat()}
        self.store.publish(version, None, manifest)
        summary["rescreening_segments"] = segments

    def _delta(self, pointer: Optional[dict[str, Any]], index: ScreeningIndex) -> Optional[list[list[str]]]:
        """[list, entry id] of each entry new or changed since the current version (None: no current version
        to compare with, or it cannot be read)."""
        if pointer is None:
            return None
        try:
            previous = ScreeningIndex.loads(self.store.load(pointer["version"]))
        except (IndexFormatError, KeyError):
            logger.warning("current sanctions index not loadable; no delta recorded", exc_info=True)
            return None
        known = {e.fingerprint() for e in previous.entries}
        return [[e.source, e.entry_id] for e in index.entries if e.fingerprint() not in known]

    def _last_good(self, pointer: Optional[dict[str, Any]], refused: dict[str, str]) -> list[ParsedList]:
        """The refused lists' entries as the current index has them (none before the first index)."""
        if not refused or pointer is None:
            return []
        try:
            previous = ScreeningIndex.loads(self.store.load(pointer["version"]))
        except IndexFormatError:
            logger.exception("current sanctions index not loadable; refused lists are left out")
            return []
        kept = []
        for source in refused:
            info = previous.lists.get(source)
            if info is None:
                continue
            entries = tuple(e for e in previous.entries if e.source == source)
            kept.append(
                ParsedList(source, entries, info.records, info.published, info.fetched_at, info.dropped_aliases)
            )
        return kept


def _text(data: bytes) -> str:
    """OFAC publishes ASCII in practice; accept UTF-8 and fall back to Latin-1 rather than fail."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
