// The audit history as a timeline, with the hash chain's status. Staff: each event shows its recorded seq and the
// start of its hash and of the previous one, so a reader sees the links. The applicant: the API numbers only the
// events shown to them (#1..#n) and sends no previous hash (it may be that of an event they are not shown: tipping
// off, chalicelib/domain/disclosure.py), so each shows its number and the start of its hash.
import { h, time } from "./dom.js";
import { checkInWords, eventInWords, outcomeInWords, stateInWords, withCode } from "./words.js";

/** Who did it, in words: a named reviewer, "you" (the applicant reading their own history), a system part. */
function actorInWords(event, me) {
  if (event.actor_name) return event.actor_name;
  const actor = String(event.actor || "");
  const colon = actor.indexOf(":");
  const kind = colon < 0 ? actor : actor.slice(0, colon);
  const id = colon < 0 ? "" : actor.slice(colon + 1);
  if (kind === "applicant") return me && id === me ? "you" : "the applicant";
  if (kind === "system" && id) return `system (${id.replace(/[-_]/g, " ")})`;
  return actor;
}

const DECISIONS = {
  "application.approved": "All checks passed.",
  "application.flagged": "A person on our team will look at your application.",
};

/** The event's reason: staff read it as recorded; an applicant reads the checks and decisions in words (the
 *  recorded text names outcomes and reason codes, "sanctions check: REVIEW", "identity:NAME_MISMATCH"). */
function reasonFor(e, staff) {
  const d = e.details || {};
  if (e.type === "liveness.completed" && typeof d.passed === "boolean") return livenessInWords(d, staff);
  if (staff) return e.reason;
  if (e.type === "check.completed" && d.check && d.outcome) return `${checkInWords(d.check)}: ${outcomeInWords(d.outcome)}`;
  if (DECISIONS[e.type] && String(e.actor || "").startsWith("system")) return DECISIONS[e.type];
  if (e.type === "application.rejected" && String(e.actor || "").startsWith("system")) {
    const why = (d.reasons || []).map((r) => r.message).filter(Boolean);
    return why.length ? `The checks did not pass: ${why.join("; ")}` : "The checks did not pass.";
  }
  return e.reason;
}

/** A liveness attempt from what was recorded, whatever its text said: events before the fix read
 *  "liveness check 1: SUCCEEDED, another attempt allowed" for an attempt that failed. */
function livenessInWords(d, staff) {
  const outcome = d.passed ? "passed" : staff ? "failed" : "not passed";
  const confidence = typeof d.confidence === "number" ? `, confidence ${d.confidence.toFixed(1)}` : "";
  const why = staff ? ` (${d.status}${confidence})` : "";
  const next = d.passed ? "" : d.settled ? "; no attempt left" : staff ? "; another attempt allowed" : "; you may try again";
  return `Liveness check${d.attempt ? ` ${d.attempt}` : ""}: ${outcome}${why}${next}`;
}

function stateChange(e, staff) {
  const named = (state) => withCode(stateInWords(state), state, staff);
  return e.from_state && e.from_state !== e.to_state ? h("span", {}, named(e.from_state), " → ", named(e.to_state))
    : h("span", { class: "muted" }, named(e.to_state));
}

/** ``me``: the reader's sub, so their own actions read "you". ``staff``: the codes beside the words (event
 *  types and states as the API names them); applicants read the words alone. */
export function timeline(events, chainIntact, me = null, { staff = false } = {}) {
  return h("div", { class: "timeline-wrap" },
    h("p", { class: `chain ${chainIntact ? "chain-ok" : "chain-broken"}`, id: "chain-status" },
      staff ? (chainIntact ? "✓ Hash chain intact" : "✗ Hash chain BROKEN: the history was altered")
        : (chainIntact ? "✓ Sealed: nothing in this history has been changed" : "✗ This history was altered: please contact us"),
      ` (${events.length} event${events.length === 1 ? "" : "s"})`),
    h("ol", { class: "timeline" }, events.map((e) => h("li", { class: "timeline-item", dataset: { type: e.type } },
      h("div", { class: "timeline-head" },
        h("span", { class: "seq" }, `#${e.seq}`), " ",
        h("strong", {}, withCode(eventInWords(e.type), e.type, staff)), " ", stateChange(e, staff)),
      h("div", { class: "timeline-meta" }, time(e.at), " · ", h("span", { class: "actor", title: e.actor }, actorInWords(e, me))),
      reasonFor(e, staff) ? h("div", { class: "timeline-reason" }, reasonFor(e, staff)) : null,
      hashLine(e, staff)))));
}

/** Staff: "prev… → hash…" (the link); the applicant: the event's own hash, an id a reviewer can find it by. */
function hashLine(e, staff) {
  if (staff && e.prev_hash) {
    return h("div", { class: "hash mono", title: `hash ${e.hash}\nprevious ${e.prev_hash}` },
      `${e.prev_hash.slice(0, 10)}… → ${e.hash.slice(0, 10)}…`);
  }
  return h("div", { class: "hash mono", title: `hash ${e.hash}` }, `${e.hash.slice(0, 10)}…`);
}
