// DOM helpers. Every string given to h() becomes a text node: data is never
// parsed as HTML, so an applicant's name like <img src=x onerror=...> shows as text.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h("td", {class: "x"}, "text", otherNode). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same contract. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function ageMs(iso, now = Date.now()) {
  return Math.max(0, now - Date.parse(iso));
}

/** "3 d 4 h", "5 h 2 m", "42 s": short, for badges and tables. */
export function formatAge(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} m`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

/** A <time> element with the machine-readable stamp and a readable text. */
export function time(iso) {
  return h("time", { datetime: iso || "" }, formatTime(iso));
}

/** A state as a coloured badge: its code (staff), or ``label``, the words an applicant reads. */
export function stateBadge(state, label = null) {
  return h("span", { class: `badge state-${String(state || "unknown").toLowerCase()}` }, label || state || "?");
}

/** The page's one polite status line (screen readers announce it). It belongs to the page it was said on:
 *  the next page change clears it ("The liveness check did not succeed" is not true of My applications).
 *  ``carry``: said for the page the caller is about to open ("Application submitted" before showing it),
 *  so it survives that one page change. */
export function announce(message, kind = "info", { carry = false } = {}) {
  const el = document.getElementById("status");
  if (!el) return;
  el.className = `status status-${kind}`;
  el.textContent = message;
  if (carry) el.dataset.carry = "yes";
  else delete el.dataset.carry;
}

/** A page change (the router calls it before the new page renders): the old page's status line goes. */
export function pageChanged() {
  const el = document.getElementById("status");
  if (!el) return;
  if (el.dataset.carry) {
    delete el.dataset.carry;
    return;
  }
  el.className = "status";
  el.textContent = "";
}
