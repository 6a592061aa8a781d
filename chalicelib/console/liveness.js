// The applicant's liveness step (issue 17): explicit consent to the current text
// version, a liveness session bound to the application, the capture, complete.
//
// The capture is chosen by config.json's liveness.provider, never by the page:
// "aws"   -> Rekognition Face Liveness through the Amplify FaceLivenessDetector
//            (liveness-aws.js, which loads the bundle built from npm);
// other   -> the local stand-in at liveness.endpoint: the session's challenge is
//            shown, the camera (getUserMedia) gives a short burst of frames, or
//            photos chosen as files do, and they are posted to the stand-in.
import { announce, h, replace } from "./dom.js";

const BURST_FRAMES = 8; // after the first one, which faces the camera (the stand-in takes 2-10)
const BURST_INTERVAL_MS = 350;
const FRAME_TYPES = ["image/jpeg", "image/png"];
let cameraOff = null; // stops the camera of the capture on the page, while one is on

/** The camera off, e.g. when the applicant leaves the page mid-capture (the light must not stay on). */
export function stopCamera() {
  if (cameraOff) cameraOff();
  cameraOff = null;
}

function describe(error) {
  return String(error.message || error); // the API's message is written for the applicant; its code is not
}

/** The step for an application that still takes evidence; ``onDone`` after the session is completed. */
export function livenessStep(ctx, app, onDone) {
  const body = h("div", { id: "liveness-body" });
  const section = h("section", { class: "panel", id: "liveness", "aria-labelledby": "liveness-title" },
    h("h2", { id: "liveness-title" }, "Selfie and liveness check"), body);
  renderConsent(ctx, app, body, onDone).catch((e) => replace(body, h("p", { class: "error" }, describe(e))));
  return section;
}

async function renderConsent(ctx, app, body, onDone) {
  // The current text and its version, from the API: the applicant accepts exactly what is shown.
  const consent = await ctx.api.get(`applications/${app.id}/biometric-consent`);
  const version = consent.text_version;
  const text = consent.text;
  const error = h("p", { class: "error", role: "alert", id: "consent-error" });
  const form = h("form", { id: "consent-form", class: "stack" },
    h("div", { class: "consent-text", id: "consent-text", tabindex: "0", role: "region", "aria-label": "Consent text" },
      consentParagraphs(text)),
    h("p", { class: "radio" },
      h("input", { type: "checkbox", id: "consent-accept", name: "accept", required: true }),
      h("label", { for: "consent-accept" }, `I consent to the processing of my biometric data as described (text ${version}).`)),
    h("button", { type: "submit", id: "consent-submit" }, "Give consent and start"), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await ctx.api.post(`applications/${app.id}/biometric-consent`, { text_version: version, accepted: true });
      announce("Consent recorded. Now the liveness check.");
      await startSession(ctx, app, body, onDone);
    } catch (e) {
      error.textContent = describe(e);
    }
  });
  replace(body, consent.given && consent.given.text_version === version ? h("p", {}, "Loading…") : form);
  if (consent.given && consent.given.text_version === version) await startSession(ctx, app, body, onDone);
}

async function startSession(ctx, app, body, onDone) {
  const session = await ctx.api.post(`applications/${app.id}/liveness-sessions`, {});
  await renderCapture(ctx, app, body, session, onDone);
}

async function renderCapture(ctx, app, body, session, onDone) {
  const config = ctx.config.liveness || {};
  // ``verdict``: what the capture was told (the local stand-in's status and reasons), kept on the page
  // after completion so the applicant sees why an attempt did not pass.
  const complete = async (verdict = null) => {
    const done = await ctx.api.post(`applications/${app.id}/liveness-sessions/${session.session_id}/complete`, {});
    if (done && done.retry_allowed) {
      announce("The liveness check did not succeed; you may try again.", "error");
      if (verdict) verdict.dataset.passed = "no";
      const why = done.status === "EXPIRED" ? "It took too long. " : "";
      replace(body, verdict, h("p", { id: "liveness-retry" }, `That attempt did not pass. ${why}`,
        `Attempts left: ${done.attempts_left}. `,
        h("button", { type: "button", id: "liveness-again", onclick: () => startSession(ctx, app, body, onDone).catch((e) => announce(describe(e), "error")) }, "Try again")));
      // The attempt is in the history now; the watcher is not pushed what this reply already says
      // (issue 23), so the page reads the history itself.
      if (onDone) onDone();
      return;
    }
    announce("Liveness check sent; the face check runs when your document has been read too.");
    replace(body, verdict, h("p", { id: "liveness-done" }, "Thank you: your selfie was taken. The face check is running."));
    if (onDone) onDone();
  };
  if (config.provider === "aws") {
    const holder = h("div", { id: "liveness-aws" }, h("p", {}, "Loading the liveness check…"));
    replace(body, holder);
    const aws = await import("./liveness-aws.js");
    await aws.mount(holder, {
      sessionId: session.session_id, region: session.region || config.region,
      identityPoolId: config.identity_pool_id, auth: ctx.auth,
      onComplete: () => complete().catch((e) => announce(describe(e), "error")),
      onError: (e) => replace(holder, h("p", { class: "error" }, `The liveness check failed: ${describe(e)}`)),
    });
    return;
  }
  await renderLocalCapture(ctx, body, session, config.endpoint, complete);
}

/** The consent text as paragraphs and lists (its line breaks are the file's, not sentences'). */
function consentParagraphs(text) {
  return String(text).split(/\n\s*\n/).map((block) => {
    const lines = block.split("\n");
    const items = [];
    const lead = [];
    for (const line of lines) {
      if (/^\s*- /.test(line)) items.push(line.replace(/^\s*- /, ""));
      else if (items.length && /^\s+\S/.test(line)) items[items.length - 1] += ` ${line.trim()}`;
      else lead.push(line.trim());
    }
    return [lead.length ? h("p", {}, lead.join(" ")) : null,
      items.length ? h("ul", {}, items.map((item) => h("li", {}, item))) : null];
  });
}

// The local stand-in's reasons (CODE: detail) in the applicant's words; the detail stays for the curious.
const REASONS = {
  CHALLENGE_NOT_MET: "The challenge was not followed (turn your head, or blink, as asked).",
  FACE_CHANGED: "Another face appeared during the check.",
  FRAMES_COPIED: "Some pictures are copies of each other.",
  NOT_FACING_CAMERA: "The first picture must face the camera.",
  FLAT_PICTURE: "The face moved like a photo or a screen, not a person.",
  FACE_NOT_FOUND: "No face was found in some pictures.",
};

function reasonInWords(reason) {
  const words = REASONS[String(reason).split(":")[0].trim()];
  // the applicant reads the words; the stand-in's code and detail stay in the tooltip, for a developer
  return h("span", { title: String(reason) }, words || "The check did not pass.");
}

// --- the local stand-in --------------------------------------------------------------------------

async function standIn(url, init) {
  let response;
  try {
    response = await fetch(url, { ...init, credentials: "omit", cache: "no-store" });
  } catch {
    throw new Error("Cannot reach the liveness service");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${data.__type || response.status}: ${data.message || response.statusText}`);
  return data;
}

function blobToBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

async function renderLocalCapture(ctx, body, session, endpoint, complete) {
  if (!endpoint) throw new Error("the console has no liveness endpoint configured");
  const base = `${endpoint.replace(/\/$/, "")}/sessions/${encodeURIComponent(session.session_id)}`;
  const described = await standIn(base, { method: "GET" });
  const challenge = described.Challenge || {};
  const status = h("p", { class: "hint", role: "status", id: "liveness-status" });
  const result = h("div", { id: "liveness-result" });
  const video = h("video", { id: "liveness-video", class: "liveness-video", autoplay: true, muted: true, playsinline: true });
  const start = h("button", { type: "button", id: "liveness-start", disabled: true }, "Start");
  const files = h("input", { type: "file", id: "liveness-files", multiple: true, accept: FRAME_TYPES.join(",") });
  const sendFiles = h("button", { type: "button", class: "secondary", id: "liveness-send-files" }, "Send these photos");
  replace(body,
    h("p", { class: "challenge", id: "liveness-challenge", dataset: { challenge: challenge.Type || "" } },
      h("strong", {}, "Your challenge: "), challenge.Instructions || challenge.Type || "?"),
    h("div", { class: "liveness-camera" }, video, h("p", {}, start), status),
    h("details", { id: "liveness-fallback" },
      h("summary", {}, "No camera? Use photos instead"),
      h("p", { class: "hint" }, "Choose photos of yourself in order: the first facing the camera, then ones that show the challenge."),
      h("p", { class: "field" }, h("label", { for: "liveness-files" }, "Photos (JPEG or PNG)"), files),
      sendFiles),
    result);

  let stream = null;
  const stop = () => stream && stream.getTracks().forEach((track) => track.stop());
  stopCamera(); // an earlier attempt's camera, if it is still on
  cameraOff = stop;
  const post = async (frames) => {
    status.textContent = `Checking ${frames.length} frames…`;
    start.disabled = true;
    sendFiles.disabled = true;
    try {
      const verdict = await standIn(`${base}/frames`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ Frames: frames }),
      });
      stop();
      // The stand-in's Status says the session ran (SUCCEEDED, as in AWS); its reasons say whether it passed.
      const reasons = verdict.Reasons || [];
      const passed = verdict.Status === "SUCCEEDED" && reasons.length === 0;
      const shown = h("div", { id: "liveness-verdict", dataset: { status: verdict.Status, passed: passed ? "yes" : "no" } },
        h("p", {}, passed ? "Liveness check passed." : "Liveness check not passed."),
        reasons.length ? h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, reasonInWords(r)))) : null);
      replace(result, shown);
      status.textContent = "";
      await complete(shown);
    } catch (e) {
      status.textContent = describe(e);
      start.disabled = !stream;
      sendFiles.disabled = false;
    }
  };

  sendFiles.addEventListener("click", async () => {
    const chosen = [...files.files];
    if (chosen.length < 2) {
      status.textContent = "Choose at least two photos.";
      return;
    }
    if (chosen.some((file) => !FRAME_TYPES.includes(file.type))) {
      status.textContent = "Choose JPEG or PNG photos.";
      return;
    }
    await post(await Promise.all(chosen.map(blobToBase64)));
  });

  try {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("no camera API");
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: 640, height: 480 }, audio: false });
    video.srcObject = stream;
    start.disabled = false;
    status.textContent = "Look at the camera, then press Start and follow the challenge.";
  } catch (e) {
    status.textContent = `No camera (${e.message || e.name}): use photos instead.`;
    body.querySelector("#liveness-fallback").open = true;
  }

  start.addEventListener("click", async () => {
    start.disabled = true;
    const canvas = document.createElement("canvas");
    const grab = () => new Promise((resolve) => {
      canvas.width = video.videoWidth || 640;
      canvas.height = video.videoHeight || 480;
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height); // unmirrored, as the camera sees
      canvas.toBlob(resolve, "image/jpeg", 0.85);
    });
    const frames = [await blobToBase64(await grab())]; // the first faces the camera: the reference image
    status.textContent = `Now: ${challenge.Instructions || challenge.Type}`;
    for (let i = 0; i < BURST_FRAMES; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, BURST_INTERVAL_MS));
      frames.push(await blobToBase64(await grab()));
    }
    await post(frames);
  });
  return stop;
}
