// The workflow's codes in plain words. Applicants see only the words (never AWAITING_DOCUMENTS or
// application.submitted); staff see the words with the code beside them, as the API and the logs name it.
// tests/test_console_words.py keeps these tables complete against the domain's State and EventType.
import { h } from "./dom.js";

/** Where an application stands, in words for applicants and staff alike. */
export const STATE_WORDS = {
  AWAITING_DOCUMENTS: "Waiting for the identity document",
  VERIFYING: "Being checked",
  FLAGGED: "Being reviewed by our team",
  APPROVED: "Approved",
  REJECTED: "Not approved",
  WITHDRAWN: "Withdrawn",
  EXPIRED: "Expired",
};

/** What happened, for the history. */
export const EVENT_WORDS = {
  "application.submitted": "Application submitted",
  "document.received": "Identity document received",
  "check.completed": "Check finished",
  "application.approved": "Application approved",
  "application.rejected": "Application not approved",
  "application.flagged": "Passed to our review team",
  "application.withdrawn": "Application withdrawn",
  "application.expired": "Application expired",
  "review.escalated": "Review escalated",
  "review.viewed": "Opened by a reviewer",
  "review.claimed": "Taken by a reviewer",
  "review.released": "Returned to the review queue",
  "review.recommended": "A reviewer's recommendation",
  "documents.purged": "Documents deleted",
  "document.unexpected": "Another document arrived",
  "document.replaced": "Identity document replaced",
  "document.viewed": "Document viewed by a reviewer",
  "screening.false_positive": "Screening match cleared",
  "customer.screening_hit": "Possible screening match",
  "customer.screening_recommended": "Screening match: a reviewer's recommendation",
  "customer.screening_resolved": "Screening match resolved",
  "biometric.consent_given": "Consent to biometric processing given",
  "liveness.session_created": "Liveness check started",
  "liveness.completed": "Liveness check finished",
  "face.requested": "Face comparison requested",
  "selfie.viewed": "Selfie viewed by a reviewer",
  "biometrics.purged": "Biometric data deleted",
};

/** A check's name and outcome. */
export const CHECK_WORDS = {
  identity: "Identity document",
  address: "Address",
  sanctions: "Sanctions screening",
  face: "Face comparison",
};
export const OUTCOME_WORDS = { PASS: "passed", REVIEW: "being reviewed", FAIL: "not passed" };

/** Words for a code the tables do not know yet: "some.new_event" -> "Some new event" (never the bare code). */
function fallback(code) {
  const text = String(code || "").replace(/[._]+/g, " ").trim().toLowerCase();
  return text ? text[0].toUpperCase() + text.slice(1) : "?";
}

export function stateInWords(state) {
  return STATE_WORDS[state] || fallback(state);
}

export function eventInWords(type) {
  return EVENT_WORDS[type] || fallback(type);
}

export function checkInWords(name) {
  return CHECK_WORDS[name] || fallback(name);
}

export function outcomeInWords(outcome) {
  return OUTCOME_WORDS[outcome] || fallback(outcome);
}

/** The words, and for staff the code beside them (small, monospaced). */
export function withCode(words, code, staff) {
  return staff ? [words, " ", h("code", { class: "code" }, code)] : words;
}
