// The applicant's page: the reference client of the public API. Create an
// application, upload the identity document with the presigned POST, watch
// the state change live, withdraw.
import { ApiError, uploadPresigned } from "./api.js";
import { announce, h, replace, stateBadge, time } from "./dom.js";
import { livenessStep, stopCamera } from "./liveness.js";
import { field } from "./signin.js";
import { timeline } from "./timeline.js";
import { checkInWords, outcomeInWords, stateInWords } from "./words.js";

const FINAL = new Set(["APPROVED", "REJECTED", "WITHDRAWN", "EXPIRED"]);
const TAKES_EVIDENCE = new Set(["AWAITING_DOCUMENTS", "VERIFYING"]); // issue 17: the selfie is evidence too
const livenessSteps = new Map(); // application id -> its liveness step, while it is shown
const DOCUMENT_TYPES = { "image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": "PDF" };
// The upload forms the create answered with, by application id: the document needs no second call.
const formsFromCreate = new Map();

export async function render(ctx, rest) {
  if (rest[0]) return renderOne(ctx, rest[0]);
  return renderList(ctx);
}

async function renderList(ctx) {
  const list = h("div", { id: "my-applications" }, h("p", {}, "Loading…"));
  const form = applicationForm(ctx);
  replace(ctx.view,
    h("section", { class: "panel", "aria-labelledby": "mine-title" },
      h("h1", { id: "mine-title" }, "My applications"), list),
    h("section", { class: "panel", "aria-labelledby": "new-title" },
      h("h2", { id: "new-title" }, "Open an account"), form));
  const page = await ctx.api.get("applications?limit=50");
  replace(list, page.items.length === 0 ? h("p", {}, "No applications yet.") : h("table", { class: "table" },
    h("caption", { class: "visually-hidden" }, "Your applications, newest first"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Application"), h("th", { scope: "col" }, "Status"),
      h("th", { scope: "col" }, "Created"))),
    h("tbody", {}, page.items.map((item) => h("tr", {},
      h("td", {}, h("a", { href: `#/applicant/${item.id}` }, item.id.slice(0, 8))),
      h("td", { "data-label": "Status" }, stateBadge(item.state, stateInWords(item.state))),
      h("td", { "data-label": "Created" }, time(item.created_at)))))));
}

function applicationForm(ctx) {
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { id: "application-form", class: "grid-form", novalidate: false },
    h("fieldset", {}, h("legend", {}, "You"),
      field("given-names", "Given names (if any)", { name: "given_names", maxlength: 200, autocomplete: "given-name" }),
      field("surname", "Surname (or your only name)", { name: "surname", required: true, maxlength: 200, autocomplete: "family-name" }),
      field("date-of-birth", "Date of birth", { name: "date_of_birth", type: "date", required: true, autocomplete: "bday" }),
      field("nationality", "Nationality (3 letters, as in the passport)", {
        name: "nationality", required: true, pattern: "[A-Z]{3}", maxlength: 3, placeholder: "GBR",
      }),
      field("email", "E-mail", { name: "email", type: "email", required: true, autocomplete: "email" }),
      field("phone", "Phone (international)", { name: "phone", type: "tel", required: true, placeholder: "+447700900123", autocomplete: "tel" })),
    h("fieldset", {}, h("legend", {}, "Home address"),
      field("country", "Country (2 letters)", { name: "country", required: true, pattern: "[A-Z]{2}", maxlength: 2, placeholder: "GB" }),
      field("street", "Street address", { name: "street", required: true, autocomplete: "address-line1" }),
      field("city", "City", { name: "city", autocomplete: "address-level2" }),
      field("postal-code", "Postal code", { name: "postal_code", autocomplete: "postal-code" })),
    h("fieldset", {}, h("legend", {}, "Identity document"),
      h("p", { class: "field" }, h("label", { for: "document-type" }, "Type"),
        h("select", { id: "document-type", name: "document_type" },
          h("option", { value: "passport" }, "Passport"), h("option", { value: "id_card" }, "Identity card"))),
      field("document-number", "Document number", { name: "document_number", required: true, pattern: "[A-Z0-9]{1,9}" }),
      field("issuing-country", "Issuing country (3 letters)", { name: "issuing_country", required: true, maxlength: 3 }),
      field("expiry-date", "Expiry date", { name: "expiry_date", type: "date", required: true })),
    h("p", { class: "actions" }, h("button", { type: "submit", id: "create-application" }, "Submit application")),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const d = Object.fromEntries(new FormData(form));
    const body = {
      full_name: { given_names: d.given_names, surname: d.surname },
      date_of_birth: d.date_of_birth,
      nationality: d.nationality.toUpperCase(),
      email: d.email,
      phone: d.phone,
      address: {
        country: d.country.toUpperCase(), street_address: [d.street],
        ...(d.city ? { city: d.city } : {}), ...(d.postal_code ? { postal_code: d.postal_code } : {}),
      },
      identity_document: {
        type: d.document_type, number: d.document_number.toUpperCase(),
        issuing_country: d.issuing_country.toUpperCase(), expiry_date: d.expiry_date,
      },
    };
    clearFieldErrors(form);
    try {
      const created = await ctx.api.post("applications", body);
      if (created.uploads) formsFromCreate.set(created.id, created.uploads);
      announce("Application submitted. Now upload your identity document.", "info", { carry: true });
      location.hash = `#/applicant/${created.id}`;
    } catch (e) {
      error.textContent = describeFields(form, e);
      markFieldErrors(form, e);
    }
  });
  return form;
}

// The API's field paths (422 details.fields[].field) and the inputs they came from.
const FIELD_INPUTS = {
  "full_name.given_names": "given-names", "full_name.surname": "surname", full_name: "given-names",
  date_of_birth: "date-of-birth", nationality: "nationality", email: "email", phone: "phone",
  "address.country": "country", "address.street_address": "street", "address.city": "city",
  "address.postal_code": "postal-code", address: "street",
  "identity_document.type": "document-type", "identity_document.number": "document-number",
  "identity_document.issuing_country": "issuing-country", "identity_document.expiry_date": "expiry-date",
  identity_document: "document-number",
};

function inputFor(path) {
  const parts = String(path || "").replace(/\.\d+(?=\.|$)/g, "").split(".");
  for (let n = parts.length; n > 0; n -= 1) {
    const id = FIELD_INPUTS[parts.slice(0, n).join(".")];
    if (id) return id;
  }
  return null;
}

/** Each refused field's message beside its input, tied to it (aria-invalid, aria-describedby); focus the first. */
function markFieldErrors(form, error) {
  const fields = error instanceof ApiError && Array.isArray(error.details.fields) ? error.details.fields : [];
  let first = null;
  for (const f of fields) {
    const input = form.querySelector(`#${inputFor(f.field)}`);
    if (!input) continue;
    const noteId = `${input.id}-error`;
    let note = form.querySelector(`#${noteId}`);
    if (!note) {
      note = h("span", { class: "field-error error", id: noteId });
      input.after(note);
    }
    note.textContent = note.textContent ? `${note.textContent}; ${f.message}` : f.message;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", noteId);
    first = first || input;
  }
  if (first) first.focus();
}

function clearFieldErrors(form) {
  form.querySelectorAll(".field-error").forEach((note) => note.remove());
  form.querySelectorAll("[aria-invalid]").forEach((input) => {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  });
}

/** A refused form in words: each field by its label, not the API's path ("date_of_birth"). */
function describeFields(form, error) {
  const fields = error instanceof ApiError && Array.isArray(error.details.fields) ? error.details.fields : [];
  if (!fields.length) return describe(error);
  const named = fields.map((f) => {
    const label = form.querySelector(`label[for="${inputFor(f.field)}"]`);
    return `${label ? label.textContent : f.field}: ${f.message}`;
  });
  return `Please check ${fields.length === 1 ? "the marked field" : "the marked fields"}. ${named.join(". ")}.`
    .replace(/\.\./g, ".");
}

function describe(error) {
  if (error instanceof ApiError && error.details && Array.isArray(error.details.fields)) {
    return `${error.message}: ${error.details.fields.map((f) => `${f.field}: ${f.message}`).join("; ")}`;
  }
  return error.message;
}

async function renderOne(ctx, id) {
  const state = h("p", { id: "application-state", "aria-live": "polite" });
  const actions = h("div", { id: "application-actions" });
  const checks = h("div", { id: "application-checks" });
  const history = h("div", { id: "application-history" });
  replace(ctx.view,
    h("p", {}, h("a", { href: "#/applicant" }, "← My applications")),
    h("section", { class: "panel", "aria-labelledby": "app-title" },
      h("h1", { id: "app-title" }, "Application ", h("span", { class: "mono" }, id.slice(0, 8))), state, actions),
    h("section", { class: "panel", "aria-labelledby": "checks-title" }, h("h2", { id: "checks-title" }, "Checks"), checks),
    h("section", { class: "panel", "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, "History"), history));

  let current = null;
  const refresh = async () => {
    const [app, events] = await Promise.all([ctx.api.get(`applications/${id}`), ctx.api.get(`applications/${id}/history`)]);
    const changed = !current || current.state !== app.state; // keep what the applicant is typing
    current = app;
    // Plain words (issue 18 follow-up): the applicant never reads AWAITING_DOCUMENTS or PASS.
    replace(state, "Status: ", stateBadge(app.state, stateInWords(app.state)), " since ", time(app.state_since));
    state.dataset.state = app.state;
    replace(checks, Object.keys(app.checks).length === 0 ? h("p", {}, "No check has finished yet.")
      : h("ul", {}, Object.entries(app.checks).map(([name, check]) => h("li", {},
        h("strong", {}, checkInWords(name)), " ",
        h("span", { class: `outcome outcome-${check.outcome.toLowerCase()}` }, outcomeInWords(check.outcome)),
        check.reasons.length ? h("ul", {}, check.reasons.map((r) => h("li", { title: r.code }, r.message))) : null))));
    replace(history, timeline(events.items, events.chain_intact, ctx.auth.user && ctx.auth.user.sub));
    if (changed) renderActions(ctx, app, actions, refresh);
  };
  // One refresh for a frame of several events (they arrive together), and once more when the
  // subscription is acknowledged, so nothing between the first read and the subscription is missed.
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      refresh().catch(() => {});
    });
  };
  const off = ctx.live.onEvent((event) => {
    if (event.application_id === id || (event.type === "subscribed" && event.topic === "my-applications")) soon();
  });
  ctx.live.subscribe({ topic: "my-applications" }); // all of mine: no subscription per application
  await refresh();
  return () => {
    off();
    ctx.live.unsubscribeAll();
    // Leaving the page: the camera off (a capture may be running) and no step kept to show stale next time.
    stopCamera();
    livenessSteps.clear();
  };
}

function renderActions(ctx, app, actions, refresh) {
  const parts = [];
  if (app.state === "AWAITING_DOCUMENTS") {
    const status = h("p", { class: "hint", role: "status" });
    const upload = h("form", { id: "upload-form", class: "stack" },
      h("p", { class: "field" }, h("label", { for: "document-file" }, "Identity document (JPEG, PNG or PDF)"),
        h("input", { id: "document-file", name: "file", type: "file", accept: Object.keys(DOCUMENT_TYPES).join(","), required: true })),
      h("button", { type: "submit", id: "upload-submit" }, "Upload"), status);
    upload.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = upload.querySelector("input[type=file]").files[0];
      if (!file) return;
      if (!DOCUMENT_TYPES[file.type]) {
        status.textContent = "Choose a JPEG, PNG or PDF file.";
        return;
      }
      try {
        status.textContent = "Uploading…";
        const kept = (formsFromCreate.get(app.id) || {})[file.type];
        formsFromCreate.delete(app.id);
        const fresh = kept && Date.parse(kept.expires_at) - Date.now() > 30_000;
        const presigned = fresh ? kept : await ctx.api.post(`applications/${app.id}/documents`, { content_type: file.type });
        if (file.size < presigned.min_bytes || file.size > presigned.max_bytes) {
          status.textContent = `The file must be between ${presigned.min_bytes} and ${presigned.max_bytes} bytes.`;
          return;
        }
        await uploadPresigned(presigned, file);
        status.textContent = "Uploaded. Checking your document…";
        announce("Document uploaded; the checks are running.");
      } catch (e) {
        status.textContent = describe(e);
      }
    });
    parts.push(upload);
  }
  if (TAKES_EVIDENCE.has(app.state) && !(app.face && app.face.liveness_completed)) {
    // kept across re-renders (the document read moves the state on): a capture in progress survives
    if (!livenessSteps.has(app.id)) livenessSteps.set(app.id, livenessStep(ctx, app, () => refresh().catch(() => {})));
    parts.push(livenessSteps.get(app.id));
  } else {
    livenessSteps.delete(app.id);
  }
  if (!FINAL.has(app.state)) {
    const withdraw = h("form", { id: "withdraw-form", class: "stack" },
      h("p", { class: "field" }, h("label", { for: "withdraw-reason" }, "Reason for withdrawing (optional)"),
        h("input", { id: "withdraw-reason", name: "reason", maxlength: 500 })),
      h("button", { type: "submit", class: "danger", id: "withdraw-submit" }, "Withdraw application"));
    withdraw.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = String(new FormData(withdraw).get("reason") || "").trim();
      try {
        await ctx.api.post(`applications/${app.id}/withdraw`, reason ? { reason } : {});
        announce("Application withdrawn.");
        await refresh();
      } catch (e) {
        announce(describe(e), "error");
      }
    });
    parts.push(withdraw);
  }
  replace(actions, parts.length ? parts : h("p", {}, "This application is closed."));
}
