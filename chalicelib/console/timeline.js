// The audit history as a timeline, with the hash chain's status: each event
// shows the start of its hash and of the previous one, so a reader sees the links.
import { h, time } from "./dom.js";

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

/** ``me``: the reader's sub, so their own actions read "you". */
export function timeline(events, chainIntact, me = null) {
  return h("div", { class: "timeline-wrap" },
    h("p", { class: `chain ${chainIntact ? "chain-ok" : "chain-broken"}`, id: "chain-status" },
      chainIntact ? "✓ Hash chain intact" : "✗ Hash chain BROKEN: the history was altered",
      ` (${events.length} event${events.length === 1 ? "" : "s"})`),
    h("ol", { class: "timeline" }, events.map((e) => h("li", { class: "timeline-item" },
      h("div", { class: "timeline-head" },
        h("span", { class: "seq" }, `#${e.seq}`), " ",
        h("strong", {}, e.type), " ",
        e.from_state && e.from_state !== e.to_state ? h("span", {}, `${e.from_state} → ${e.to_state}`)
          : h("span", { class: "muted" }, e.to_state)),
      h("div", { class: "timeline-meta" }, time(e.at), " · ", h("span", { class: "actor", title: e.actor }, actorInWords(e, me))),
      e.reason ? h("div", { class: "timeline-reason" }, e.reason) : null,
      h("div", { class: "hash mono", title: `hash ${e.hash}\nprevious ${e.prev_hash}` },
        `${e.prev_hash.slice(0, 10)}… → ${e.hash.slice(0, 10)}…`)))));
}
