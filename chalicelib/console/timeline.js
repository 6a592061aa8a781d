// The audit history as a timeline, with the hash chain's status: each event
// shows the start of its hash and of the previous one, so a reader sees the links.
import { h, time } from "./dom.js";

export function timeline(events, chainIntact) {
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
      h("div", { class: "timeline-meta" }, time(e.at), " · ", h("span", { class: "actor", title: e.actor }, e.actor_name || e.actor)),
      e.reason ? h("div", { class: "timeline-reason" }, e.reason) : null,
      h("div", { class: "hash mono", title: `hash ${e.hash}\nprevious ${e.prev_hash}` },
        `${e.prev_hash.slice(0, 10)}… → ${e.hash.slice(0, 10)}…`)))));
}
