// Customer screening cases (issue 20), the reviewers' page of their own: an
// approved customer whom a changed sanctions list entry may name. The open
// cases, oldest first; one case with the customer as screened beside the
// listed entry; a reviewer's word on it (not this customer / confirmed) with
// a reason, kept in the customer's history. Four eyes on sanctions (issue 18):
// the first word is a recommendation the case shows until a second, different
// reviewer confirms or overturns it. The customer is never told (tipping off).
import { ApiError } from "./api.js";
import { ageMs, announce, formatAge, h, replace, time } from "./dom.js";

const PAGE_SIZE = 20;

export async function render(ctx, rest) {
  if (rest[0]) return renderCase(ctx, rest[0]);
  return renderCases(ctx);
}

const names = (customer) => (customer.names || []).join(" / ") || "(no name)";
const born = (customer) => `${customer.date_of_birth || "—"} · ${customer.nationality || "—"}`;

function entryCell(candidate) {
  return [h("strong", {}, candidate.listed_name || "?"), h("br"),
    h("span", { class: "muted" }, `${candidate.list} `), h("span", { class: "mono" }, `#${candidate.entry_id}`)];
}

function recommendationBadge(rec) {
  if (!rec) return null;
  return h("span", { class: "badge four-eyes", title: "Four eyes: a second, different reviewer must confirm or overturn" },
    `Awaiting second reviewer (${rec.reviewer_email || "a reviewer"} recommended ${label(rec.decision)})`);
}

const label = (decision) => (decision === "false_positive" ? "not this customer" : decision === "confirmed" ? "confirmed" : decision);

async function renderCases(ctx) {
  const table = h("div", { id: "cases" }, h("p", {}, "Loading…"));
  const pager = h("nav", { class: "pager", "aria-label": "Case pages" });
  let cursors = [null];
  let page = 0;
  replace(ctx.view, h("section", { class: "panel", "aria-labelledby": "cases-title" },
    h("h1", { id: "cases-title", tabindex: "-1" }, "Customer screening"),
    h("p", { class: "hint" }, "Approved customers whom a changed sanctions list entry may name, oldest first. "
      + "Open one to compare the customer with the listed person and say whether it is them. The customer is never told."),
    table, pager));
  const load = async () => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursors[page]) query.set("cursor", cursors[page]);
    const data = await ctx.api.get(`review/screening-cases?${query}`);
    cursors[page + 1] = data.next_cursor || undefined;
    replace(table, data.items.length === 0 ? h("p", { id: "cases-empty" }, "No open case.") : h("table", { class: "table cases" },
      h("caption", { class: "visually-hidden" }, "Open customer screening cases"),
      h("thead", {}, h("tr", {}, ["Customer", "Born · nationality", "Listed entry", "Score", "Opened", "Four eyes"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.items.map((c) => h("tr", { class: "case-row", dataset: { id: c.case_id, application: c.application_id } },
        h("td", {}, h("a", { href: `#/screening/${encodeURIComponent(c.case_id)}`, class: "customer-name" }, names(c.customer)),
          h("div", { class: "muted mono" }, c.application_id.slice(0, 8))),
        h("td", { "data-label": "Born · nationality", class: "identifying" }, born(c.customer)),
        h("td", { "data-label": "Listed entry" }, entryCell(c.candidate)),
        h("td", { "data-label": "Score", class: "score" }, `${c.candidate.score ?? "?"}`),
        h("td", { "data-label": "Opened" }, time(c.opened_at), h("div", { class: "muted" }, formatAge(ageMs(c.opened_at)))),
        h("td", { "data-label": "Four eyes" }, recommendationBadge(c.recommendation) || "—"))))));
    replace(pager,
      h("button", { type: "button", class: "secondary", id: "cases-prev", disabled: page === 0, onclick: () => { page -= 1; load(); } }, "← Previous"),
      h("span", {}, ` Page ${page + 1} `),
      h("button", { type: "button", class: "secondary", id: "cases-next", disabled: !cursors[page + 1], onclick: () => { page += 1; load(); } }, "Next →"));
  };
  await load();
  return null;
}

function comparison(c) {
  const listed = c.candidate;
  const rows = [
    ["Name", names(c.customer), [listed.listed_name, listed.matched_name && listed.matched_name !== listed.listed_name ? ` (matched alias: ${listed.matched_name})` : ""].join("")],
    ["Date of birth", c.customer.date_of_birth || "—", (listed.birth_dates || []).join(", ") || "not listed"],
    ["Nationality", c.customer.nationality || "—", (listed.nationalities || []).join(", ") || "not listed"],
    ["Sex", c.customer.sex || "—", listed.sex || "not listed"],
  ];
  return h("table", { class: "table compare", id: "case-compare" },
    h("caption", {}, "The customer as screened, beside the listed person"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Customer"), h("th", { scope: "col" }, "Listed"))),
    h("tbody", {}, rows.map(([k, mine, theirs]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, mine), h("td", {}, theirs)))));
}

function aboutEntry(c) {
  const listed = c.candidate;
  return h("dl", { class: "pairs", id: "case-entry" },
    h("dt", {}, "List and entry"), h("dd", {}, `${listed.list} `, h("span", { class: "mono" }, `#${listed.entry_id}`)),
    h("dt", {}, "Programmes"), h("dd", {}, (listed.programmes || []).join(", ") || "—"),
    h("dt", {}, "Score"), h("dd", {}, `${listed.score ?? "?"}`, listed.name_score != null ? h("span", { class: "muted" }, ` (name ${listed.name_score})`) : ""),
    h("dt", {}, "Why"), h("dd", {}, h("ul", { class: "reasons" }, (listed.why || []).map((w) => h("li", {}, w)))),
    h("dt", {}, "List version"), h("dd", { class: "mono" }, c.index_version || "—"),
    h("dt", {}, "Customer since"), h("dd", {}, c.customer.approved_at ? time(c.customer.approved_at) : "—"),
    h("dt", {}, "Application"), h("dd", {}, h("span", { class: "mono" }, c.application.id), ` (${c.application.state})`));
}

function standing(c, me) {
  if (c.resolution) {
    const r = c.resolution;
    return h("p", { id: "case-resolved", class: "notice" }, `${c.status === "CLEARED" ? "Cleared: not this customer" : "Confirmed: the listed person"}`,
      ` — “${r.reason || ""}”, ${r.reviewer_email || "a reviewer"}, `, r.at ? time(r.at) : "", ".");
  }
  if (c.recommendation) {
    const rec = c.recommendation;
    const mine = mineRecommendation(rec, me);
    return h("p", { id: "case-recommendation", class: "notice" }, `${mine ? "You" : rec.reviewer_email || "A reviewer"} recommended: ${label(rec.decision)}`,
      rec.reason ? ` — “${rec.reason}”` : "", rec.at ? [", ", time(rec.at)] : "",
      mine ? ". A second, different reviewer must confirm or overturn it." : ". Your decision confirms or overturns it.");
  }
  return null;
}

// The reviewer who recommended cannot also decide (the API says 409 second_reviewer_required): no form for them.
const mineRecommendation = (rec, me) => Boolean(rec && me && rec.reviewer_email && rec.reviewer_email.toLowerCase() === me.toLowerCase());

function resolutionForm(ctx, c, onDone) {
  const error = h("p", { class: "error", role: "alert", id: "case-error", hidden: true });
  const choice = (value, text) => h("p", { class: "radio" },
    h("input", { type: "radio", name: "decision", value, required: true, id: `case-${value}` }),
    h("label", { for: `case-${value}` }, text));
  const form = h("form", { id: "case-form", class: "stack" },
    h("fieldset", {}, h("legend", {}, c.recommendation ? "Your decision (confirms or overturns the recommendation)" : "Your word"),
      choice("false_positive", "Not this customer"), choice("confirmed", "Confirmed: the listed person")),
    h("p", { class: "field" }, h("label", { for: "case-reason" }, "Reason (kept in the customer's history; never shown to them)"),
      h("textarea", { id: "case-reason", name: "reason", required: true, rows: 3, maxlength: 1000 })),
    h("button", { type: "submit", id: "case-submit" }, c.recommendation ? "Record decision" : "Record"),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const reason = String(data.get("reason") || "").trim();
    if (!reason || !data.get("decision")) return;
    form.querySelector("button").disabled = true;
    try {
      const after = await ctx.api.post(`review/screening-cases/${encodeURIComponent(c.case_id)}/resolution`,
        { decision: data.get("decision"), reason });
      announce(after.status === "OPEN" ? "Recommendation recorded; awaiting a second reviewer." : `Case ${after.status.toLowerCase()}.`);
      onDone(after);
    } catch (e) {
      error.hidden = false;
      error.textContent = e instanceof ApiError ? e.message : String(e);
      form.querySelector("button").disabled = false;
    }
  });
  return form;
}

async function renderCase(ctx, caseId) {
  const holder = h("div", { id: "case" }, h("p", {}, "Loading…"));
  replace(ctx.view, h("section", { class: "panel", "aria-labelledby": "case-title" },
    h("p", {}, h("a", { href: "#/screening" }, "← Customer screening")),
    h("h1", { id: "case-title", tabindex: "-1" }, "Screening case"), holder));
  // Drawn from one read (each read is audited in the customer's history); after a word, from the answer.
  const me = ctx.auth.user && ctx.auth.user.email;
  const draw = (c) => {
    replace(holder,
      h("p", { class: "hint" }, `Opened `, time(c.opened_at), `: the list changed entry ${c.candidate.list} #${c.candidate.entry_id}, and it may name this customer.`),
      comparison(c), h("h2", {}, "The listed entry"), aboutEntry(c), standing(c, me),
      c.status === "OPEN" && !mineRecommendation(c.recommendation, me)
        ? resolutionForm(ctx, c, (after) => draw({ ...c, ...after, application: c.application })) : null);
    holder.dataset.status = c.status;
  };
  draw(await ctx.api.get(`review/screening-cases/${encodeURIComponent(caseId)}`));
  return null;
}
