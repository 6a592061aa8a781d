// The reviewer's pages: the FLAGGED queue, oldest first and live; one
// application with the document itself, declared beside read, the checks,
// the history; approve or reject with a reason.
import { ApiError } from "./api.js";
import { ageMs, announce, formatAge, h, replace, stateBadge, time } from "./dom.js";
import * as face from "./face.js";
import { sanctionsPanel } from "./sanctions.js";
import { timeline } from "./timeline.js";

const PAGE_SIZE = 20;
const DUE_SOON = 0.75; // of the SLA

export async function render(ctx, rest) {
  if (rest[0]) return renderApplication(ctx, rest[0]);
  return renderQueue(ctx);
}

function slaBadge(item, slaHours) {
  const age = ageMs(item.flagged_at);
  const sla = slaHours * 3600_000;
  if (item.escalated_at || age >= sla) return h("span", { class: "badge sla-overdue" }, "SLA overdue");
  if (age >= sla * DUE_SOON) return h("span", { class: "badge sla-soon" }, `due in ${formatAge(sla - age)}`);
  return h("span", { class: "badge sla-ok" }, "within SLA");
}

const STATUSES = [
  ["all", "All cases"], ["unclaimed", "Not claimed"], ["mine", "Claimed by me"], ["claimed", "Claimed by anyone"],
  ["second_review", "Awaiting a second reviewer"], ["overdue", "Past the SLA"],
];

function filterForm(values, onApply) {
  const field = (id, label, input) => h("p", { class: "field" }, h("label", { for: id }, label), input);
  const form = h("form", { id: "queue-filters", class: "filters", role: "search", "aria-label": "Filter the queue" },
    field("filter-q", "Name or id", h("input", { id: "filter-q", name: "q", type: "search", maxlength: 100, value: values.q || "" })),
    field("filter-status", "Show", h("select", { id: "filter-status", name: "status" },
      STATUSES.map(([v, label]) => h("option", { value: v, selected: values.status === v }, label)))),
    field("filter-reason", "Reason (check or code)", h("input", { id: "filter-reason", name: "reason", value: values.reason || "",
      pattern: "[A-Za-z][A-Za-z0-9_]*", placeholder: "sanctions" })),
    field("filter-age", "Flagged at least (hours ago)", h("input", { id: "filter-age", name: "older_than_hours", type: "number", min: 0, max: 99999,
      value: values.older_than_hours ?? "" })),
    field("filter-order", "Order", h("select", { id: "filter-order", name: "order" },
      h("option", { value: "oldest", selected: values.order !== "newest" }, "Oldest first"),
      h("option", { value: "newest", selected: values.order === "newest" }, "Newest first"))),
    h("p", { class: "field actions" }, h("button", { type: "submit", id: "filter-apply" }, "Apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = {};
    for (const [k, v] of data.entries()) if (String(v).trim() !== "" && !(k === "status" && v === "all") && !(k === "order" && v === "oldest")) next[k] = String(v).trim();
    onApply(next);
  });
  return form;
}

function claimCell(item) {
  if (!item.claim) return h("span", { class: "muted" }, "nobody");
  return h("span", { class: `badge ${item.claim.mine ? "claim-mine" : "claim-other"}` },
    item.claim.mine ? "you" : item.claim.by || "another reviewer", " until ", time(item.claim.until));
}

function fourEyesBadge(item) {
  if (item.awaiting_second_review) {
    const rec = item.recommendation;
    return h("span", { class: "badge four-eyes", title: "Four eyes: a second, different reviewer must confirm or overturn" },
      `Awaiting second reviewer (${rec.mine ? "you" : rec.by || "a reviewer"} recommended ${rec.decision})`);
  }
  return item.needs_second_review ? h("span", { class: "badge four-eyes-needed" }, "Needs two reviewers") : null;
}

async function renderQueue(ctx) {
  const slaHours = ctx.config.review_sla_hours || 48;
  const table = h("div", { id: "queue" }, h("p", {}, "Loading…"));
  const pager = h("nav", { class: "pager", "aria-label": "Queue pages" });
  let filters = {};
  let cursors = [null]; // cursors[i] opens page i
  let page = 0;
  const summary = h("p", { class: "hint", id: "queue-summary" });
  replace(ctx.view, h("section", { class: "panel", "aria-labelledby": "queue-title" },
    h("h1", { id: "queue-title", tabindex: "-1" }, "Review queue"),
    h("p", { class: "hint" }, `Flagged applications. Review SLA: ${slaHours} h. Claim a case to work it: others then see it is yours. The list updates live.`),
    filterForm(filters, (next) => { filters = next; cursors = [null]; page = 0; load().catch((e) => announce(e.message, "error")); }),
    summary, table, pager));

  const load = async () => {
    const cursor = cursors[page];
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), ...filters });
    if (cursor) query.set("cursor", cursor);
    const data = await ctx.api.get(`review/queue?${query}`);
    cursors[page + 1] = data.next_cursor || undefined;
    const filtered = Object.keys(filters).length > 0;
    summary.textContent = filtered ? `Filtered: ${data.items.length} case(s) on this page${data.next_cursor ? "; more may follow" : ""}.` : "";
    replace(table, data.items.length === 0 ? h("p", { id: "queue-empty" }, filtered ? "No case matches these filters." : "The queue is empty.") : h("table", { class: "table queue" },
      h("caption", { class: "visually-hidden" }, "Flagged applications"),
      h("thead", {}, h("tr", {}, ["Applicant", "Born · nationality", "Why flagged", "Age", "SLA", "Claimed by", "Four eyes"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.items.map((item) => h("tr", { dataset: { id: item.id }, class: "queue-row" },
        h("td", {}, h("a", { href: `#/review/${item.id}`, class: "applicant-name" }, item.applicant_name || "(no name)"),
          h("div", { class: "muted mono" }, item.id.slice(0, 8))),
        h("td", { "data-label": "Born · nationality", class: "identifying" }, `${item.date_of_birth || "—"} · ${item.nationality || "—"}`),
        h("td", { "data-label": "Why flagged" }, h("ul", { class: "reasons" }, item.decision_reasons.filter((r) => r.outcome !== "PASS")
          .map((r) => h("li", {}, `${r.check}: ${r.code}`)))),
        h("td", { class: "age", "data-label": "Age" }, time(item.flagged_at), h("div", { class: "muted age-text" }, formatAge(ageMs(item.flagged_at)))),
        h("td", { "data-label": "SLA" }, slaBadge(item, slaHours)),
        h("td", { "data-label": "Claimed by", class: "claim" }, claimCell(item)),
        h("td", { "data-label": "Four eyes", class: "four-eyes-cell" }, fourEyesBadge(item) || "—"))))));
    replace(pager,
      h("button", { type: "button", class: "secondary", id: "queue-prev", disabled: page === 0, onclick: () => { page -= 1; load(); } }, "← Previous"),
      h("span", {}, ` Page ${page + 1} `),
      h("button", { type: "button", class: "secondary", id: "queue-next", disabled: !cursors[page + 1], onclick: () => { page += 1; load(); } }, "Next →"));
  };
  const off = ctx.live.onEvent((event) => {
    if (event.type === "subscribed") return; // the acknowledgement: nothing changed
    if (event.state === "FLAGGED" && event.from_state !== "FLAGGED") announce("A newly flagged application arrived in the queue.");
    if (event.from_state === "FLAGGED" && event.state !== "FLAGGED") announce("An application left the queue.");
    load().catch((e) => announce(e.message, "error"));
  });
  ctx.live.subscribe({ topic: "review-queue" });
  await load();
  const ticker = setInterval(() => table.querySelectorAll("tr.queue-row").forEach((row) => {
    const stamp = row.querySelector("time");
    if (stamp) row.querySelector(".age-text").textContent = formatAge(ageMs(stamp.getAttribute("datetime")));
  }), 30_000);
  return () => {
    off();
    clearInterval(ticker);
    ctx.live.unsubscribeAll();
  };
}

// Declared data beside what the identity check read from the document's MRZ.
const COMPARED = [
  ["Surname", (d) => d.full_name && d.full_name.surname, (m) => m.surname],
  ["Given names", (d) => d.full_name && d.full_name.given_names, (m) => m.given_names],
  ["Date of birth", (d) => d.date_of_birth, (m) => m.birth_date],
  ["Nationality", (d) => d.nationality, (m) => m.nationality],
  ["Document number", (d) => d.identity_document && d.identity_document.number, (m) => m.document_number],
  ["Issuing country", (d) => d.identity_document && d.identity_document.issuing_country, (m) => m.issuing_country],
  ["Expiry date", (d) => d.identity_document && d.identity_document.expiry_date, (m) => m.expiry_date],
];

const norm = (v) => String(v ?? "").toUpperCase().replace(/[^A-Z0-9]+/g, "");

function comparison(app) {
  const identity = app.checks.identity || {};
  const details = identity.details || {};
  const read = details.mrz || null;
  const ocrLines = (details.ocr && details.ocr.lines) || [];
  const caption = read ? "Declared by the applicant, and read from the document"
    : ocrLines.length ? `Declared by the applicant (the document was read, ${ocrLines.length} line(s), but no machine-readable zone was found in them: see "Text read" below)`
      : details.ocr && details.ocr.error ? `Declared by the applicant (the document could not be read: ${details.ocr.error})`
        : identity.outcome ? "Declared by the applicant (no text was read from the document)"
          : "Declared by the applicant (nothing read from the document yet)";
  return h("table", { class: "table compare", id: "compare" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Declared"),
      h("th", { scope: "col" }, "Read from document"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Agreement")))),
    h("tbody", {}, COMPARED.map(([label, declared, fromDoc]) => {
      const d = declared(app.declared);
      const r = read ? fromDoc(read) : null;
      const same = read && r != null && norm(d) === norm(r);
      return h("tr", { class: read && !same ? "mismatch" : null },
        h("th", { scope: "row" }, label), h("td", {}, d ?? "—"), h("td", {}, r ?? "—"),
        h("td", {}, read ? (same ? h("span", { class: "ok", "aria-label": "agrees" }, "✓") : h("span", { class: "bad", "aria-label": "differs" }, "✗")) : ""));
    })));
}

function declaredExtra(app) {
  const d = app.declared;
  const address = d.address || {};
  const rows = [
    ["E-mail", d.email], ["Phone", d.phone],
    ["Address", [...(address.street_address || []), address.city, address.postal_code, address.country].filter(Boolean).join(", ")],
    ["Document type", d.identity_document && d.identity_document.type],
    ["MRZ as read", ((((app.checks.identity || {}).details || {}).mrz || {}).lines || []).join("\n")],
    ["Text read", ((((app.checks.identity || {}).details || {}).ocr || {}).lines || []).join("\n")],
  ];
  return h("dl", { class: "pairs" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", { class: k.startsWith("MRZ") || k === "Text read" ? "mono pre" : null }, v || "—")]));
}

function checksList(app) {
  const entries = Object.entries(app.checks);
  if (entries.length === 0) return h("p", {}, "No check has finished.");
  return h("ul", { class: "checks", id: "checks" }, entries.map(([name, check]) => h("li", {},
    h("strong", {}, name), " ", h("span", { class: `outcome outcome-${check.outcome.toLowerCase()}` }, check.outcome),
    check.reasons.length ? h("ul", {}, check.reasons.map((r) => h("li", {},
      h("span", { class: `outcome outcome-${r.outcome.toLowerCase()}` }, r.outcome), " ", h("code", {}, r.code), ` ${r.message}`)))
      : h("p", { class: "muted" }, "No findings."))));
}

async function showDocument(ctx, id, holder) {
  replace(holder, h("p", {}, "Loading the document…"));
  let doc;
  try {
    doc = await ctx.api.get(`review/applications/${id}/document`);
  } catch (e) {
    replace(holder, h("p", { class: "error", id: "document-error" }, e.message));
    return null;
  }
  const viewer = doc.content_type === "application/pdf"
    ? h("iframe", { src: doc.url, title: "Identity document (PDF)", class: "document", id: "document-view" })
    : h("img", { src: doc.url, alt: "The uploaded identity document", class: "document", id: "document-view" });
  replace(holder, viewer,
    h("p", { class: "hint" }, `${doc.content_type}, link valid until `, time(doc.expires_at),
      ". Each view is recorded in the history. ",
      h("button", { type: "button", class: "secondary", id: "document-reload", onclick: () => showDocument(ctx, id, holder) }, "Load again")));
  return doc;
}

function lastDecision(detail) {
  return [...detail.history].reverse().find((e) => e.from_state === "FLAGGED" && e.to_state !== "FLAGGED");
}

async function renderApplication(ctx, id) {
  const header = h("div", { id: "review-header" });
  const left = h("div", { class: "col" });
  const documentHolder = h("div", { id: "document", class: "document-holder" });
  const sanctions = h("div", { id: "sanctions-holder" });
  const faceHolder = h("div", { id: "face-holder" });
  const decision = h("div", { id: "decision" });
  const history = h("div", { id: "review-history" });
  const reviewState = h("div", { id: "review-state" });
  // The decision controls come first, beside where the case stands (claim, four eyes): visible without
  // scrolling; the evidence follows.
  replace(ctx.view,
    h("p", {}, h("a", { href: "#/review" }, "← Review queue")),
    h("section", { class: "panel", "aria-labelledby": "review-title" }, header),
    h("div", { class: "columns decision-row" },
      h("section", { class: "panel", "aria-labelledby": "decision-title" }, h("h2", { id: "decision-title" }, "Decision"), decision),
      h("section", { class: "panel", "aria-labelledby": "review-state-title" }, h("h2", { id: "review-state-title" }, "Review"), reviewState)),
    h("div", { class: "columns" },
      h("section", { class: "panel", "aria-labelledby": "declared-title" }, h("h2", { id: "declared-title" }, "Declared and read"), left),
      h("section", { class: "panel", "aria-labelledby": "document-title" }, h("h2", { id: "document-title" }, "Document"), documentHolder)),
    h("section", { class: "panel", "aria-labelledby": "face-title" }, h("h2", { id: "face-title" }, "Face"), faceHolder),
    h("section", { class: "panel", "aria-labelledby": "sanctions-title" }, h("h2", { id: "sanctions-title" }, "Sanctions screening"), sanctions),
    h("section", { class: "panel", "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, "History"), history));

  let flaggedSince = null;
  const showReviewState = (review) => {
    if (!review) {
      replace(reviewState, h("p", { class: "muted" }, "Not in review."));
      return;
    }
    const claim = review.claim;
    // Whoever recommended has done their part: a claim of theirs would only keep the second reviewer out.
    const recommendedByMe = Boolean(review.recommendation && review.recommendation.mine);
    const claimText = claim ? (claim.mine ? ["Claimed by you until ", time(claim.until), "."]
      : ["Claimed by ", h("strong", {}, claim.by || "another reviewer"), " until ", time(claim.until), ": theirs to decide until then."])
      : recommendedByMe ? "Nobody has claimed this case; it waits for a second reviewer." : "Nobody has claimed this case.";
    const claimButton = (claim && !claim.mine) || (!claim && recommendedByMe) ? null : h("button", {
      type: "button", class: "secondary", id: claim ? "claim-release" : "claim-take",
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          const item = claim ? await ctx.api.del(`review/applications/${id}/claim`) : await ctx.api.post(`review/applications/${id}/claim`, {});
          showReviewState(item);
          announce(claim ? "Claim released." : "You have claimed this case.");
        } catch (e) {
          event.target.disabled = false;
          announce(e.message, "error");
        }
      },
    }, claim ? "Release claim" : "Claim this case");
    const rec = review.recommendation;
    const fourEyes = review.needs_second_review ? h("p", { id: "four-eyes", class: review.awaiting_second_review ? "notice" : "hint" },
      rec ? [rec.mine ? "You" : h("strong", {}, rec.by || "A reviewer"), ` recommended to ${rec.decision} at `, time(rec.at),
        rec.reason ? ` — “${rec.reason}”` : "", rec.mine ? ". A second, different reviewer must confirm or overturn it." : ". Your decision confirms or overturns it."]
        : "Four eyes: this case needs two different reviewers to approve. Your decision will be a recommendation.") : null;
    replace(reviewState, h("p", { id: "claim-status" }, claimText), claimButton, fourEyes,
      h("p", { class: "hint" }, `Flagged ${formatAge(ageMs(flaggedSince || new Date().toISOString()))} ago; review due by `, time(review.sla_due_at),
        review.overdue ? h("span", { class: "badge sla-overdue" }, " SLA overdue") : ""));
  };

  // A decision made elsewhere while this page showed the form (seen live, or
  // as a 409 on submit) is announced with who made it; our own is not.
  let sawFlagged = false;
  let decidedHere = false;
  let shownScreening = null;
  const refresh = async () => {
    const detail = await ctx.api.get(`review/applications/${id}`);
    const name = detail.declared.full_name || {};
    let notice = null;
    if (detail.state === "FLAGGED") {
      sawFlagged = true;
    } else if (sawFlagged && !decidedHere) {
      const last = lastDecision(detail);
      notice = h("p", { class: "notice", role: "alert", id: "conflict" }, last
        ? ["Someone decided first: ", h("strong", {}, last.to_state), " by ", who(ctx, last), " at ", time(last.at), "."]
        : `The application changed meanwhile; it is now ${detail.state}.`);
    }
    replace(header, h("h1", { id: "review-title" }, h("span", { class: "applicant-name" },
      [name.given_names, name.surname].filter(Boolean).join(" ") || "(no name)")),
    h("p", {}, stateBadge(detail.state), " since ", time(detail.state_since), " · ",
      h("span", { class: "mono" }, detail.id)),
    notice);
    header.dataset.state = detail.state;
    replace(left, comparison(detail), h("h3", {}, "Checks"), checksList(detail), h("h3", {}, "Also declared"), declaredExtra(detail));
    const screening = JSON.stringify(detail.checks.sanctions || null);
    if (screening !== shownScreening) { // keep a reason being typed while other parts change
      shownScreening = screening;
      replace(sanctions, sanctionsPanel(ctx, detail, refresh));
    }
    replace(history, timeline(detail.history, detail.chain_intact));
    flaggedSince = detail.state_since;
    showReviewState(detail.review);
    renderDecision(detail);
    return detail;
  };

  let renderedState = null;
  const renderDecision = (detail) => {
    const rec = detail.review && detail.review.recommendation;
    const key = `${detail.state}|${rec ? rec.at : ""}`;
    if (key === renderedState) return; // keep what the reviewer is typing
    renderedState = key;
    if (detail.state !== "FLAGGED") {
      const last = lastDecision(detail);
      replace(decision, h("p", { id: "decided" }, last
        ? [`Decided: ${last.to_state} by `, h("span", { class: "actor" }, who(ctx, last)), " at ", time(last.at), last.reason ? ` — “${last.reason}”` : ""]
        : `Not awaiting review (state ${detail.state}).`));
      return;
    }
    if (rec && rec.mine) {
      replace(decision, h("p", { id: "awaiting-second" }, `You recommended to ${rec.decision}. A second, different reviewer must confirm or overturn it.`));
      return;
    }
    const fourEyes = detail.review && detail.review.needs_second_review;
    const error = h("p", { class: "error", role: "alert", id: "decision-error" });
    const form = h("form", { id: "decision-form", class: "stack" },
      h("fieldset", {}, h("legend", {}, fourEyes && !rec ? "Your recommendation (four eyes: a second reviewer confirms)" : "Your decision"),
        h("p", { class: "radio" }, h("input", { type: "radio", name: "decision", value: "approve", id: "decision-approve", required: true }),
          h("label", { for: "decision-approve" }, "Approve")),
        h("p", { class: "radio" }, h("input", { type: "radio", name: "decision", value: "reject", id: "decision-reject" }),
          h("label", { for: "decision-reject" }, "Reject"))),
      h("p", { class: "field" }, h("label", { for: "decision-reason" }, "Reason (kept in the audit history)"),
        h("textarea", { id: "decision-reason", name: "reason", required: true, rows: 3, maxlength: 1000 })),
      h("button", { type: "submit", id: "decision-submit" }, fourEyes && !rec ? "Record recommendation" : "Record decision"), error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        const after = await ctx.api.post(`review/applications/${id}/decision`, { decision: data.get("decision"), reason: String(data.get("reason")).trim() });
        decidedHere = after.state !== "FLAGGED";
        announce(after.state === "FLAGGED" ? `Recommendation recorded: ${data.get("decision")}; awaiting a second reviewer.` : `Decision recorded: ${data.get("decision")}.`);
        await refresh();
      } catch (e) {
        submit.disabled = false;
        if (e instanceof ApiError && e.status === 409 && (e.code === "claimed_by_another" || e.code === "second_reviewer_required")) {
          error.textContent = e.message;
        } else if (e instanceof ApiError && e.status === 409) {
          await refresh().catch(() => {}); // shows who decided first, when still readable (else the live event does)
          announce("Someone else decided this application first.", "error");
        } else {
          error.textContent = e.message;
        }
      }
    });
    replace(decision, form);
  };

  // Once someone else decided, this reviewer may no longer read the application
  // (reads are limited to what is in review): the live event itself says who decided.
  const decidedElsewhere = (event) => {
    if (decidedHere || !sawFlagged || event.from_state !== "FLAGGED" || event.state === "FLAGGED") return;
    header.querySelector("#conflict")?.remove();
    header.append(h("p", { class: "notice", role: "alert", id: "conflict" },
      "Someone decided first: ", h("strong", {}, event.state), " by ", who(ctx, event), " at ", time(event.at), "."));
    header.dataset.state = event.state;
    renderedState = event.state;
    replace(decision, h("p", { id: "decided" }, `Decided: ${event.state} by `, h("span", { class: "actor" }, who(ctx, event)),
      " at ", time(event.at), event.reason ? ` — “${event.reason}”` : ""));
  };
  // One page view, one audited read: a read is itself an event, the subscription's acknowledgement changes
  // nothing, and a claim changes only who holds the case (said without reading again).
  const off = ctx.live.onEvent((event) => {
    if (event.application_id !== id || QUIET_EVENTS.has(event.type)) return;
    const mine = ctx.auth.user && event.actor === `reviewer:${ctx.auth.user.sub}`;
    if (mine) return; // this page already shows what its own action did
    if (event.type === "review.claimed" || event.type === "review.released") {
      announce(event.type === "review.claimed" ? "Another reviewer claimed this case." : "The claim on this case was released.");
      return;
    }
    refresh().catch(() => decidedElsewhere(event));
  });
  ctx.live.subscribe({ application_id: id });
  const detail = await refresh();
  let documentUrl = null;
  if (detail.document_received && !detail.purged_at) {
    const doc = await showDocument(ctx, id, documentHolder);
    documentUrl = doc && doc.content_type !== "application/pdf" ? doc.url : null;
  } else {
    replace(documentHolder, h("p", { id: "document-error" }, detail.purged_at ? "The document was purged after the retention period." : "No document was uploaded."));
  }
  face.render(ctx, id, detail, faceHolder, documentUrl);
  return () => {
    off();
    ctx.live.unsubscribeAll();
  };
}

const QUIET_EVENTS = new Set(["subscribed", "review.viewed", "document.viewed"]);

/** Who made a history event, in words: "you", the reviewer's verified e-mail, else the actor's kind. */
function who(ctx, event) {
  const [kind, id] = String(event.actor).split(":");
  if (ctx.auth.user && id === ctx.auth.user.sub) return "you";
  const email = event.actor_name || (event.details && event.details.reviewer_email);
  return email || (kind === "reviewer" ? "another reviewer" : kind);
}
