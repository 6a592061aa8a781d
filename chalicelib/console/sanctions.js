// The reviewer's sanctions panel (issue 20), a module of its own: the check's
// matches (who on which list, how close, and why) beside the lists' freshness,
// and per match a form to clear it as "not this applicant" with a reason. The
// reason is kept in the history (screening.false_positive) and the applicant's
// next screening leaves that entry out while the list keeps it unchanged.
// Four eyes on sanctions (issue 18's second_review_for): one reviewer's word
// awaits a second, different reviewer's, who confirms it on the same row.
// Reviewers only: the applicant's view never carries any of it.
import { ApiError } from "./api.js";
import { announce, h, time } from "./dom.js";

export function sanctionsPanel(ctx, app, onChange) {
  const check = app.checks.sanctions;
  if (!check) return h("p", { id: "sanctions", class: "muted" }, "Not screened yet.");
  const details = check.details || {};
  const lists = Object.entries(details.lists || {}).map(([name, info], n) => [n ? "; " : "", h("strong", {}, name),
    `: ${info.individuals} individuals`, info.published ? [", published ", time(info.published)] : "",
    info.fetched_at ? [", fetched ", time(info.fetched_at)] : ""]);
  const about = h("p", { class: "hint", id: "sanctions-lists" },
    lists.length ? ["Screened against ", lists] : "", details.index_version ? ` (index ${details.index_version}).` : "");
  if (details.error) {
    return h("div", { id: "sanctions" }, h("p", { class: "error" }, `Not screened: ${details.error}. A person must screen this applicant.`));
  }
  const candidates = details.candidates || [];
  const cleared = clearedList(details.false_positives || []);
  if (candidates.length === 0) {
    return h("div", { id: "sanctions" },
      h("p", {}, `No listed person scored at or above the review threshold (${details.review_threshold ?? "?"}).`), cleared, about);
  }
  const records = new Map((details.false_positives || []).map((c) => [`${c.list}#${c.entry_id}`, c]));
  const listed = (c) => c.matched_name && c.matched_name !== c.listed_name
    ? [h("strong", {}, c.listed_name), h("br"), h("span", { class: "muted" }, `matched alias: ${c.matched_name}`)]
    : h("strong", {}, c.listed_name);
  const facts = (c) => [
    c.birth_dates && c.birth_dates.length ? `born ${c.birth_dates.join(", ")}` : "no birth date listed",
    c.nationalities && c.nationalities.length ? `nationality ${c.nationalities.join(", ")}` : null,
    c.sex ? `gender ${c.sex}` : null,
  ].filter(Boolean).join("; ");
  return h("div", { id: "sanctions" },
    h("table", { class: "table sanctions" },
      h("caption", {}, `Listed people scoring at or above the review threshold (${details.review_threshold ?? "?"}), best first`),
      h("thead", {}, h("tr", {}, ["Listed name", "List and entry", "Programmes", "Listed facts", "Score", "Why", "Not this person?"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, candidates.map((c) => h("tr", { class: "sanctions-match", dataset: { list: c.list, entry: c.entry_id } },
        h("td", { "data-label": "Listed name" }, listed(c)),
        h("td", { "data-label": "List and entry" }, `${c.list} `, h("span", { class: "mono" }, `#${c.entry_id}`)),
        h("td", { "data-label": "Programmes" }, (c.programmes || []).join(", ") || "—"),
        h("td", { "data-label": "Listed facts" }, facts(c)),
        h("td", { "data-label": "Score", class: "score" }, `${c.score}`, h("span", { class: "muted" }, ` (name ${c.name_score})`)),
        h("td", { "data-label": "Why" }, h("ul", { class: "reasons" }, (c.why || []).map((w) => h("li", {}, w)))),
        h("td", { "data-label": "Not this person?" }, clearCell(ctx, app, c, records.get(`${c.list}#${c.entry_id}`), onChange)))))),
    cleared, about);
}

// A candidate's "not this person" cell: a form; or, cleared by one reviewer under
// four eyes, who did and a form for a second reviewer to confirm; or cleared.
function clearCell(ctx, app, candidate, record, onChange) {
  if (!record) return clearForm(ctx, app, candidate, onChange, false);
  if (awaitsSecond(record)) {
    return h("div", { class: "awaiting-second" },
      h("span", { class: "badge four-eyes" }, `cleared by ${record.reviewer_email || "a reviewer"}; awaiting a second reviewer`),
      clearForm(ctx, app, candidate, onChange, true));
  }
  return h("span", { class: "badge cleared" }, record.confirmed_by ? "cleared by two reviewers" : "cleared");
}

const awaitsSecond = (record) => record.four_eyes && !record.confirmed_by;

function clearForm(ctx, app, candidate, onChange, confirming) {
  const id = `clear-${candidate.list}-${candidate.entry_id}`.replace(/[^A-Za-z0-9-]/g, "-");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: `clear-false-positive${confirming ? " confirm" : ""}`, id },
    h("label", { for: `${id}-reason` }, confirming
      ? "Second reviewer: why you agree this is not the listed person (kept in the history)"
      : "Why this is not the listed person (kept in the history)"),
    h("textarea", { id: `${id}-reason`, name: "reason", required: true, rows: 2, maxlength: 1000 }),
    h("button", { type: "submit", class: "secondary" }, confirming ? "Confirm: not this person" : "Clear as a false positive"),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = String(new FormData(form).get("reason") || "").trim();
    if (!reason) return;
    form.querySelector("button").disabled = true;
    try {
      await ctx.api.post(`review/applications/${app.id}/sanctions/false-positives`,
        { list: candidate.list, entry_id: candidate.entry_id, reason });
      announce(confirming ? `${candidate.listed_name}: false positive confirmed by a second reviewer.`
        : `${candidate.listed_name} cleared as a false positive.`);
      await onChange();
    } catch (e) {
      error.hidden = false;
      error.textContent = e instanceof ApiError ? e.message : String(e);
      form.querySelector("button").disabled = false;
    }
  });
  return h("details", { class: "clear" }, h("summary", {}, confirming ? "Confirm: not this person" : "Not this person"), form);
}

function clearedList(records) {
  if (!records.length) return null;
  return h("div", { id: "sanctions-cleared" },
    h("h3", {}, "Cleared as false positives"),
    h("ul", {}, records.map((c) => h("li", { dataset: { list: c.list, entry: c.entry_id } },
      h("strong", {}, c.listed_name || `${c.list} #${c.entry_id}`), ` (${c.list} #${c.entry_id}) — “${c.reason}”, `,
      c.reviewer_email || "a reviewer", ", ", time(c.at),
      c.confirmed_by ? ["; confirmed — “", c.confirm_reason || "", "”, ", c.confirmed_by_email || "a second reviewer", ", ", time(c.confirmed_at)]
        : awaitsSecond(c) ? h("span", { class: "muted" }, "; awaiting a second reviewer (four eyes)") : ""))));
}
