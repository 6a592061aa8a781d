// The reviewer's face panel (issue 17): the selfie beside the photo cropped from
// the document, the similarity, the liveness confidence, the quality findings and
// any application with the same face. Its own module: the reviewer page only
// gives it a holder, the review detail and the document's image once shown.
//
// The selfie is shown only when the reviewer asks (each view is a presigned,
// short-lived GET of the pinned reference image, recorded in the history by
// GET review/applications/{id}/selfie). The document's photo is a crop of the
// document image the page already shows: no second read, no second audit.
import { h, replace, time } from "./dom.js";

/** A field of the face findings whatever case the presenter uses (snake_case, or AWS's PascalCase). */
function pick(object, ...names) {
  for (const name of names) if (object && object[name] !== undefined && object[name] !== null) return object[name];
  return undefined;
}

function box(face) {
  const b = pick(face, "document_face_box", "document_bounding_box", "bounding_box", "BoundingBox");
  if (!b) return null;
  const n = (k) => Number(pick(b, k, k[0].toUpperCase() + k.slice(1)));
  const r = { left: n("left"), top: n("top"), width: n("width"), height: n("height") };
  return [r.left, r.top, r.width, r.height].every((v) => Number.isFinite(v)) && r.width > 0 && r.height > 0 ? r : null;
}

function percent(value) {
  return typeof value === "number" ? `${value.toFixed(1)} %` : "—";
}

/** The document photo, cropped by CSS from the image already on the page (same URL: no new request). */
export function documentCrop(imageUrl, b) {
  if (!imageUrl || !b) return h("p", { class: "hint", id: "face-document-none" }, "No face found on the document.");
  const width = 160;
  const img = h("img", { src: imageUrl, alt: "", class: "face-crop-img" });
  const frame = h("div", { class: "face-crop", id: "face-document-crop", role: "img", "aria-label": "The photo on the identity document" }, img);
  img.addEventListener("load", () => {
    const scale = width / (b.width * img.naturalWidth);
    const height = b.height * img.naturalHeight * scale;
    frame.style.width = `${width}px`;
    frame.style.height = `${Math.round(height)}px`;
    img.style.width = `${Math.round(img.naturalWidth * scale)}px`;
    img.style.marginLeft = `${-Math.round(b.left * img.naturalWidth * scale)}px`;
    img.style.marginTop = `${-Math.round(b.top * img.naturalHeight * scale)}px`;
  });
  return frame;
}

async function showSelfie(ctx, id, holder) {
  replace(holder, h("p", {}, "Loading the selfie…"));
  try {
    const selfie = await ctx.api.get(`review/applications/${id}/selfie`);
    replace(holder, h("img", { src: selfie.url, alt: "The applicant's selfie (liveness reference image)", class: "face-selfie", id: "face-selfie" }),
      h("p", { class: "hint" }, "Link valid until ", time(selfie.expires_at), ". Each view is recorded in the history."));
  } catch (e) {
    replace(holder, h("p", { class: "error", id: "face-selfie-error" }, e.message));
  }
}

/** Fill ``holder`` from the review detail; ``documentUrl`` is the document image the page shows (or null). */
const BANDS = {
  match: "the same person: at or above the match threshold",
  review: "a person decides: between the review and match thresholds",
  mismatch: "not the same person: below the review threshold",
};

/** What the similarity means under the thresholds the check used (reviewers read a band, not a bare number). */
function band(face) {
  const name = face.similarity_band;
  const t = face.thresholds;
  if (!name || !t) return null;
  return [h("dt", {}, "Meaning"), h("dd", { id: "face-similarity-band", dataset: { band: name } },
    `${BANDS[name] || name} (match ≥ ${t.match} %, review ≥ ${t.review} %; liveness passes ≥ ${t.liveness} %)`)];
}

export function render(ctx, id, detail, holder, documentUrl) {
  const face = detail.face || pick(detail.checks || {}, "FACE", "face");
  if (!face) {
    replace(holder, h("p", { id: "face-none" }, "No face check yet (no selfie, or the document has not been read)."));
    return;
  }
  const similarity = pick(face, "similarity", "Similarity");
  const liveness = pick(face, "liveness") || {};
  const confidence = pick(liveness, "confidence", "Confidence") ?? pick(face, "liveness_confidence");
  const livenessStatus = pick(liveness, "status", "Status") ?? pick(face, "liveness_status");
  const findings = pick(face, "quality_findings", "findings") || [];
  const duplicates = pick(face, "duplicates", "duplicate_applications") || [];
  const faces = pick(face, "selfie_face_count", "face_count");
  const selfieHolder = h("div", { class: "face-selfie-holder", id: "face-selfie-holder" });
  if (face.selfie_available === false) {
    replace(selfieHolder, h("p", { class: "hint", id: "face-selfie-none" }, face.purged_at ? "Deleted after the biometric retention period." : "No selfie."));
  } else {
    replace(selfieHolder,
      h("button", { type: "button", class: "secondary", id: "face-selfie-show", onclick: () => showSelfie(ctx, id, selfieHolder) }, "Show the selfie"),
      h("p", { class: "hint" }, "Viewing it is recorded in the history."));
  }
  replace(holder,
    h("div", { class: "face-pair" },
      h("figure", {}, selfieHolder, h("figcaption", {}, "Selfie (liveness reference)")),
      h("figure", {}, documentCrop(documentUrl, box(face)), h("figcaption", {}, "Photo on the document"))),
    h("dl", { class: "face-facts", id: "face-facts" },
      h("dt", {}, "Similarity"), h("dd", { id: "face-similarity" }, percent(similarity)),
      band(face),
      h("dt", {}, "Liveness"), h("dd", { id: "face-liveness" }, `${livenessStatus || "—"}, confidence ${percent(confidence)}`),
      faces !== undefined ? [h("dt", {}, "Faces in the selfie"), h("dd", { id: "face-count" }, String(faces))] : null,
      h("dt", {}, "Quality"), h("dd", { id: "face-quality" }, findings.length ? h("ul", { class: "reasons" }, findings.map((f) => h("li", {}, f))) : "no findings")),
    duplicates.length ? h("div", { class: "notice", id: "face-duplicates", role: "note" },
      h("strong", {}, "The same face is on other applications: "),
      h("ul", {}, duplicates.map((d) => {
        const other = typeof d === "string" ? d : pick(d, "application_id", "id");
        const score = typeof d === "string" ? undefined : pick(d, "similarity", "Similarity");
        return h("li", {}, h("a", { href: `#/review/${other}`, class: "mono" }, String(other)),
          score !== undefined ? ` (similarity ${percent(score)})` : "");
      }))) : null);
}
